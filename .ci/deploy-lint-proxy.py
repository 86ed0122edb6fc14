"""What deploy/nginx.conf does with requests, checked against stub replicas.

Run by .ci/deploy-lint.sh, which starts nginx on 127.0.0.1:NGINX_PORT with a loopback
copy of deploy/nginx.conf whose three upstream servers are 127.0.0.1:PORT1..PORT3. This
script serves those three ports itself (stub replicas, standard library only), sends
requests through nginx, and checks:

  - event streams (GET /train/jobs/{id}/events, and POST /train with
    Accept: text/event-stream) are not buffered: a replica that streams to a client
    that reads nothing is held back after a few MiB (nginx passes the data through
    instead of reading all of it into its buffers and temp files, which it does, at
    once, with proxy_buffering on); and the first event arrives while the replica still
    holds the stream open; the replica sees POST /train with its query;
  - a plain POST /train is proxied as usual (buffered is fine);
  - Last-Event-ID, X-Forwarded-For, X-Forwarded-Proto and Host reach the replica, over
    HTTP/1.1 without `Connection: close` (keep-alive to the upstream);
  - a GET whose replica drops the connection, or answers 503, is retried on another
    replica and succeeds; a POST in the same two cases is sent exactly once;
  - a 15 MiB body is passed on; a body over 16 MiB is refused with 413 by nginx itself.

Usage: deploy-lint-proxy.py NGINX_PORT PORT1 PORT2 PORT3
Prints one line per case and exits 1 if any failed.
"""

import http.client
import http.server
import socket
import sys
import threading
import time

NGINX_PORT = int(sys.argv[1])
REPLICA_PORTS = [int(port) for port in sys.argv[2:5]]

# How long a stub replica holds an event stream open between its first and its last
# event. The first event must arrive well before this has passed.
STREAM_HOLD = 2.0
# What a stub replica tries to write to a client that reads nothing. Buffered, nginx
# takes all of it within a second (memory, then a temp file); unbuffered, the replica is
# held back after what the socket buffers hold on the way (4 MiB seen here; at most
# about 40 MiB with Linux's largest autotuned loopback buffers).
FLOOD_BYTES = 128 << 20
FLOOD_LIMIT = 64 << 20

lock = threading.Lock()
seen = []  # (replica index, method, path, headers, request version, body length)
counters = {}  # path -> requests seen, across all replicas
flooded = {}  # path -> bytes a replica wrote to a flooded stream


def count(path):
    with lock:
        counters[path] = counters.get(path, 0) + 1
        return counters[path]


class Replica(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    index = 0

    def log_message(self, *args):
        pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
        return length

    def _record(self, body_length):
        with lock:
            seen.append((self.index, self.command, self.path, self.headers,
                         self.request_version, body_length))

    def _send(self, status, body=b"{}", content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drop(self):
        # Close without answering: nginx sees an upstream error.
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        info = "last-event-id=%s xff=%s proto=%s path=%s" % (
            self.headers.get("Last-Event-ID", "-"), self.headers.get("X-Forwarded-For", "-"),
            self.headers.get("X-Forwarded-Proto", "-"), self.path)

        def chunk(text):
            data = text.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        chunk("id: 1\nevent: first\ndata: %s\n\n" % info)
        time.sleep(STREAM_HOLD)
        chunk("id: 2\nevent: last\ndata: done\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _flood(self):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        event = b"data: " + b"x" * 65000 + b"\n\n"
        chunk = b"%x\r\n%s\r\n" % (len(event), event)
        try:
            while flooded.get(self.path, 0) < FLOOD_BYTES:
                self.wfile.write(chunk)
                with lock:
                    flooded[self.path] = flooded.get(self.path, 0) + len(event)
            self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client, and so nginx, closed the stream
            self.close_connection = True

    def _handle(self):
        body_length = self._body()
        self._record(body_length)
        path = self.path.split("?")[0]
        if "flood" in self.path:
            return self._flood()
        if path.endswith("/events") or (path == "/train" and
                                         "text/event-stream" in self.headers.get("Accept", "")):
            return self._stream()
        if path in ("/retry/drop-get", "/retry/drop-post"):
            if count(path) == 1:
                return self._drop()
        if path in ("/retry/503-get", "/retry/503-post"):
            if count(path) == 1:
                return self._send(503, b'{"status":503}')
        self._send(200, b'{"replica":%d,"length":%d,"path":"%s"}' % (
            self.index, body_length, self.path.encode()))

    do_GET = _handle
    do_POST = _handle


class ReplicaServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # nginx closing or resetting a connection (a stream it gave up, a connection it
        # dropped) is expected here; anything else is printed as usual.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def start_replicas():
    for index, port in enumerate(REPLICA_PORTS, 1):
        handler = type("Replica%d" % index, (Replica,), {"index": index})
        server = ReplicaServer(("127.0.0.1", port), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()


def request(method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", NGINX_PORT, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def stream(method, path, headers):
    """Sends a request on a raw socket; returns (seconds to the first event, whole reply)."""
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: backprop.test", "Connection: close"]
    lines += ["%s: %s" % item for item in headers.items()]
    body = b""
    if method == "POST":
        body = b'{"epochs": 1}'
        lines += ["Content-Type: application/json", "Content-Length: %d" % len(body)]
    with socket.create_connection(("127.0.0.1", NGINX_PORT), timeout=30) as sock:
        start = time.monotonic()
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        received, first = b"", None
        while True:
            data = sock.recv(65536)
            if not data:
                break
            received += data
            if first is None and b"event: first" in received:
                first = time.monotonic() - start
    return first, received


def flood(method, path, headers):
    """Opens a stream and reads nothing for a second; returns the bytes the replica wrote."""
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: backprop.test", "Connection: close"]
    lines += ["%s: %s" % item for item in headers.items()]
    if method == "POST":
        lines += ["Content-Type: application/json", "Content-Length: 2"]
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    sock.settimeout(30)
    try:
        sock.connect(("127.0.0.1", NGINX_PORT))
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + (b"{}" if method == "POST" else b""))
        sock.recv(1024)  # the status line: the replica is streaming
        time.sleep(1.0)
        with lock:
            return flooded.get(path, 0)
    finally:
        sock.close()


def requests_to(path):
    with lock:
        return [entry for entry in seen if entry[2].split("?")[0] == path]


results = []


def case(name, ok, detail=""):
    results.append(ok)
    print("%s  %s%s" % ("ok  " if ok else "FAIL", name, "" if ok else ": " + detail), flush=True)


def wait_for_nginx():
    deadline = time.monotonic() + 15
    while True:
        try:
            status, _ = request("GET", "/health/live")
            if status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit("deploy-lint-proxy: nginx did not answer GET /health/live through the stubs within 15 s")
        time.sleep(0.1)


def main():
    start_replicas()
    wait_for_nginx()

    written = flood("GET", "/train/jobs/flood/events", {"Accept": "text/event-stream"})
    case("GET events: not buffered (the replica is held back by a client that reads nothing)",
         written < FLOOD_LIMIT, "the replica wrote %d MiB, nginx buffered it" % (written >> 20))
    written = flood("POST", "/train?flood", {"Accept": "text/event-stream"})
    case("POST /train with Accept: text/event-stream: not buffered (likewise)",
         written < FLOOD_LIMIT, "the replica wrote %d MiB, nginx buffered it" % (written >> 20))

    first, reply = stream("GET", "/train/jobs/job-1/events",
                          {"Accept": "text/event-stream", "Last-Event-ID": "41"})
    case("GET events: first event arrives while the stream is open",
         first is not None and first < STREAM_HOLD / 2,
         "first event after %s s, stream held %s s" % (first, STREAM_HOLD))
    case("GET events: whole stream delivered", b"event: last" in reply, reply[-200:].decode(errors="replace"))
    case("GET events: Last-Event-ID passed on", b"last-event-id=41 " in reply, reply[:600].decode(errors="replace"))
    case("GET events: X-Forwarded-For and X-Forwarded-Proto set",
         b"xff=127.0.0.1 " in reply and b"proto=http " in reply, reply[:600].decode(errors="replace"))

    first, reply = stream("POST", "/train?pretty=true", {"Accept": "text/event-stream"})
    case("POST /train with Accept: text/event-stream: first event arrives while the stream is open",
         first is not None and first < STREAM_HOLD / 2,
         "first event after %s s, stream held %s s" % (first, STREAM_HOLD))
    case("POST /train streaming: the replica sees /train with its query",
         b"path=/train?pretty=true\n" in reply, reply[:600].decode(errors="replace"))

    status, body = request("POST", "/train?pretty=true", b'{"epochs": 1}', {"Content-Type": "application/json"})
    case("POST /train without streaming: proxied to /train", status == 200 and b'"path":"/train?pretty=true"' in body,
         "%s %r" % (status, body[:200]))

    status, _ = request("GET", "/headers", headers={"Host": "backprop.test"})
    entries = requests_to("/headers")
    ok = status == 200 and len(entries) == 1
    if ok:
        _, _, _, headers, version, _ = entries[0]
        ok = (version == "HTTP/1.1" and "close" not in (headers.get("Connection") or "").lower()
              and headers.get("Host") == "backprop.test")
    case("upstream request is HTTP/1.1 keep-alive with the client's Host", ok,
         "%s %r" % (status, [(e[4], dict(e[3])) for e in entries]))

    status, _ = request("GET", "/retry/drop-get")
    case("GET whose replica drops the connection: retried, 200", status == 200 and counters.get("/retry/drop-get") == 2,
         "status %s after %s tries" % (status, counters.get("/retry/drop-get")))
    status, _ = request("GET", "/retry/503-get")
    case("GET answered 503: retried on another replica, 200", status == 200 and counters.get("/retry/503-get") == 2,
         "status %s after %s tries" % (status, counters.get("/retry/503-get")))
    status, _ = request("POST", "/retry/drop-post", b"{}", {"Content-Type": "application/json"})
    case("POST whose replica drops the connection: not retried (502)",
         status == 502 and counters.get("/retry/drop-post") == 1,
         "status %s after %s tries" % (status, counters.get("/retry/drop-post")))
    status, _ = request("POST", "/retry/503-post", b"{}", {"Content-Type": "application/json"})
    case("POST answered 503: not retried (503)", status == 503 and counters.get("/retry/503-post") == 1,
         "status %s after %s tries" % (status, counters.get("/retry/503-post")))

    size = 15 * 1024 * 1024
    status, body = request("POST", "/gradient", b"x" * size, {"Content-Type": "application/json"})
    case("15 MiB body passed on", status == 200 and (b'"length":%d' % size) in body, "%s %r" % (status, body[:200]))
    before = len(requests_to("/gradient"))
    try:
        status, _ = request("POST", "/gradient", b"x" * (16 * 1024 * 1024 + 1), {"Content-Type": "application/json"})
    except OSError as error:  # nginx may answer and close before the whole body is sent
        status = "connection error: %s" % error
    case("body over 16 MiB: 413 from nginx, never reaching a replica",
         status == 413 and len(requests_to("/gradient")) == before, "status %s" % status)

    print("%d of %d proxy cases passed" % (sum(results), len(results)))
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
