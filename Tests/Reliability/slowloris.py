#!/usr/bin/env python3
"""Slow and idle clients: a few hundred slowloris connections holding request heads
open do not stop a normal client from being served, and idle connections are closed
after --idle-timeout.

What it does, against a server it starts with `--idle-timeout IDLE` and `--request-timeout IDLE` (default 5 s):

1. baseline: a normal client's POST /gradient latency on a quiet server;
2. attack, for --duration seconds (default 20): --connections (default 300) sockets
   each send a partial request line and then one more header byte every
   --trickle seconds, never finishing the head; a socket the server closes is
   reopened at once, so ~300 are open throughout. Meanwhile the normal client
   sends POST /gradient on a keep-alive connection every 20 ms: every answer must be
   a 200 with the expected bytes, with a p99 latency under --max-p99 ms;
3. how long the server keeps a partial head open: Hummingbird's idle timer only
   restarts on a complete HTTP part (head, body chunk, end), so a head trickled byte
   by byte must be closed about IDLE seconds after the connection opened;
4. idle keep-alive connections (after one answered request) and silent connections
   (connected, nothing sent) must be closed after about IDLE seconds, not before;
5. slow bodies: --slow-bodies (default 50) more connections send a complete head
   and then trickle the body during the attack (reported: how many the server
   closed); and one probe sends one body byte every IDLE/2 s, which must be cut
   off within --max-request-read seconds (default 3 x IDLE): a request-read timeout.

Usage:
    python3 Tests/Reliability/slowloris.py [--connections 300] [--duration 20] [--idle-timeout 5]

Exit status 0 only if every check passed; the last line is `N passed, M failed`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import select
import socket
import statistics
import sys
import threading
import time

from common import HOST, Results, Server, default_binary, health_ok, percentile

GRADIENT = json.dumps({
    "network": {"layers": [{"weights": [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]}, {"weights": [0.1, -0.3]}]},
    "input": [0.5, 0.1, -0.2], "target": 0.6, "learning_rate": 0.5}).encode()

PARTIAL_HEAD = b"POST /gradient HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Slow: "
SLOW_BODY_HEAD = b"POST /gradient HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n{"


class NormalClient(threading.Thread):
    """POST /gradient on one keep-alive connection every `interval` s until `stop` is set."""

    def __init__(self, port: int, stop: threading.Event, interval: float, expected: bytes | None,
                 limit: int = 100_000):
        super().__init__(daemon=True)
        self.port, self.stop, self.interval, self.expected, self.limit = port, stop, interval, expected, limit
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.body: bytes | None = None

    def run(self) -> None:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=10)
        for _ in range(self.limit):
            if self.stop.is_set():
                break
            started = time.monotonic()
            try:
                connection.request("POST", "/gradient", GRADIENT, {"Content-Type": "application/json"})
                response = connection.getresponse()
                body = response.read()
                elapsed = time.monotonic() - started
                if response.status != 200:
                    self.errors.append(f"status {response.status}: {body[:100]!r}")
                elif self.expected is not None and body != self.expected:
                    self.errors.append(f"different body: {body[:100]!r}")
                else:
                    self.body = body
                    self.latencies.append(elapsed)
            except (OSError, http.client.HTTPException) as error:
                self.errors.append(f"{type(error).__name__}: {error}")
                connection.close()
                connection = http.client.HTTPConnection(HOST, self.port, timeout=10)
            self.stop.wait(max(0.0, self.interval - (time.monotonic() - started)))
        connection.close()


class Slowloris:
    """Keeps `count` connections with unfinished request heads open until `until`;
    `bodies` more send a complete head and then trickle their body."""

    def __init__(self, port: int, count: int, trickle: float, bodies: int = 0):
        self.port, self.count, self.trickle, self.bodies = port, count, trickle, bodies
        self.sockets: dict[socket.socket, dict] = {}
        self.lifetimes: list[float] = []  # seconds from connect to the server's close (slow heads)
        self.body_lifetimes: list[float] = []  # the same for slow bodies
        self.opened = 0
        self.connect_errors = 0
        self.max_open = 0

    def _open(self, body: bool = False) -> None:
        try:
            sock = socket.create_connection((HOST, self.port), timeout=5)
        except OSError:
            self.connect_errors += 1
            return
        sock.setblocking(False)
        try:
            sock.send(SLOW_BODY_HEAD if body else PARTIAL_HEAD)
        except OSError:
            sock.close()
            self.connect_errors += 1
            return
        now = time.monotonic()
        self.sockets[sock] = {"opened": now, "next": now + self.trickle, "sent": 0, "body": body}
        self.opened += 1

    def _closed(self, sock: socket.socket, now: float) -> None:
        state = self.sockets.pop(sock)
        (self.body_lifetimes if state["body"] else self.lifetimes).append(now - state["opened"])
        sock.close()

    def open_bodies(self) -> int:
        return sum(1 for state in self.sockets.values() if state["body"])

    def run(self, until: float, reopen: bool = True) -> None:
        for _ in range(self.count):
            self._open()
        for _ in range(self.bodies):
            self._open(body=True)
        self.max_open = len(self.sockets)
        while time.monotonic() < until and self.sockets:
            readable, _, _ = select.select(list(self.sockets), [], [], 0.2)
            now = time.monotonic()
            for sock in readable:
                try:
                    data = sock.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:  # closed by the server (anything else it sent is ignored)
                    self._closed(sock, now)
            for sock, state in list(self.sockets.items()):
                if now >= state["next"]:
                    state["next"] = now + self.trickle
                    try:
                        sock.send(b" " if state["body"] else b"a")  # one more byte that never ends it
                        state["sent"] += 1
                    except OSError:
                        self._closed(sock, now)
            if reopen:
                for _ in range(self.count - (len(self.sockets) - self.open_bodies())):
                    if time.monotonic() >= until:
                        break
                    self._open()
            self.max_open = max(self.max_open, len(self.sockets))

    def close_all(self) -> None:
        for sock in list(self.sockets):
            sock.close()
        self.sockets.clear()


def wait_closed(sock: socket.socket, deadline: float) -> float | None:
    """Seconds until the server closes `sock` (reading and ignoring data), or None by `deadline`."""
    started = time.monotonic()
    sock.setblocking(False)
    while time.monotonic() < deadline:
        readable, _, _ = select.select([sock], [], [], max(0.0, min(0.5, deadline - time.monotonic())))
        if readable:
            try:
                if not sock.recv(65536):
                    return time.monotonic() - started
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                return time.monotonic() - started
    return None


def idle_checks(port: int, idle: float, results: Results, count: int = 50) -> None:
    """Keep-alive connections after one request, and silent connections: closed after ~idle s."""
    deadline_slack = idle * 3 + 5
    groups = {"idle keep-alive (after one answered request)": [], "silent (connected, nothing sent)": []}
    for _ in range(count):
        sock = socket.create_connection((HOST, port), timeout=5)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        groups["idle keep-alive (after one answered request)"].append((sock, time.monotonic()))
    for _ in range(count):
        sock = socket.create_connection((HOST, port), timeout=5)
        groups["silent (connected, nothing sent)"].append((sock, time.monotonic()))
    for name, sockets in groups.items():
        lifetimes, survivors = [], 0
        for sock, opened in sockets:
            closed_after = wait_closed(sock, opened + deadline_slack)
            if closed_after is None:
                survivors += 1
            else:
                lifetimes.append(time.monotonic() - opened)
            sock.close()
        if lifetimes:
            detail = (f"{len(lifetimes)}/{len(sockets)} closed after {min(lifetimes):.1f}-{max(lifetimes):.1f} s "
                      f"(median {statistics.median(lifetimes):.1f} s), idle timeout {idle:.0f} s")
        else:
            detail = "none closed"
        ok = survivors == 0 and lifetimes and min(lifetimes) >= idle - 0.5 and max(lifetimes) <= idle + 2.5
        results.check(bool(ok), f"{name} connections closed after the idle timeout", detail)


def slow_body(port: int, idle: float, bound: float, out: dict) -> None:
    """A complete head, then one body byte every idle/2 s: how long does the server wait?"""
    body = b"x" * 1000
    sock = socket.create_connection((HOST, port), timeout=5)
    sock.sendall(b"POST /gradient HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % len(body))
    opened = time.monotonic()
    deadline = opened + bound + idle
    sent = 0
    answer = b""
    sock.setblocking(False)
    while time.monotonic() < deadline and sent < len(body):
        readable, _, _ = select.select([sock], [], [], idle / 2)
        if readable:
            try:
                chunk = sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                out["closed_after"] = time.monotonic() - opened
                break
            answer += chunk
            continue
        try:
            sock.send(body[sent:sent + 1])
            sent += 1
        except OSError:
            out["closed_after"] = time.monotonic() - opened
            break
    out["bytes_sent"] = sent
    out["answer"] = answer[:80]
    out["held"] = time.monotonic() - opened
    sock.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=default_binary())
    parser.add_argument("--connections", type=int, default=300, help="slow-header connections")
    parser.add_argument("--slow-bodies", type=int, default=50, help="slow-body connections alongside them")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of attack")
    parser.add_argument("--idle-timeout", type=float, default=5.0, help="the server's --idle-timeout")
    parser.add_argument("--trickle", type=float, default=1.0, help="seconds between a slow client's bytes")
    parser.add_argument("--max-p99", type=float, default=500.0, help="ms a normal request may take (p99)")
    parser.add_argument("--max-request-read", type=float, help="seconds a slow body may hold a connection "
                        "(default 3 x idle timeout)")
    parser.add_argument("--log", help="server log file")
    options = parser.parse_args()
    idle = options.idle_timeout
    bound = options.max_request_read or 3 * idle

    server = Server(options.binary, ["--idle-timeout", str(int(idle)), "--request-timeout", str(int(idle))],
                    log_path=options.log).start()
    port = server.port
    print(f"slowloris: server pid {server.pid} on 127.0.0.1:{port}, --idle-timeout {idle:.0f}")
    results = Results("slowloris")

    # 1. Baseline.
    stop = threading.Event()
    baseline = NormalClient(port, stop, 0.0, None, limit=200)
    baseline.run()
    expected = baseline.body
    results.check(not baseline.errors and expected is not None, "baseline: 200 POST /gradient requests",
                  f"p50 {percentile(baseline.latencies, 0.5) * 1000:.1f} ms, "
                  f"p99 {percentile(baseline.latencies, 0.99) * 1000:.1f} ms" +
                  (f"; errors: {baseline.errors[:3]}" if baseline.errors else ""))

    # 2-3 and 5 run together: slowloris, the normal client, the slow body.
    attack = Slowloris(port, options.connections, options.trickle, options.slow_bodies)
    until = time.monotonic() + options.duration
    attacker = threading.Thread(target=attack.run, args=(until,), daemon=True)
    attacker.start()
    time.sleep(min(2.0, options.duration / 4))  # let the connections open first
    normal = NormalClient(port, stop, 0.02, expected)
    normal.start()
    slow: dict = {}
    slow_thread = threading.Thread(target=slow_body, args=(port, idle, bound, slow), daemon=True)
    slow_thread.start()
    attacker.join(options.duration + 30)
    stop.set()
    normal.join(30)
    rss = server.rss_kib()
    bodies_open = attack.open_bodies()
    attack.close_all()

    lat = normal.latencies
    p50, p99 = percentile(lat, 0.5) * 1000, percentile(lat, 0.99) * 1000
    results.check(attack.max_open >= 0.9 * (options.connections + options.slow_bodies),
                  f"{options.connections} slowloris connections (and {options.slow_bodies} slow bodies) held open",
                  f"up to {attack.max_open} open at once, {attack.opened} opened in {options.duration:.0f} s, "
                  f"{attack.connect_errors} connect errors")
    results.check(not normal.errors and len(lat) >= 10,
                  "a normal client is served during the attack",
                  f"{len(lat)} requests, all 200 with the same bytes" if not normal.errors else
                  f"{len(normal.errors)} errors, e.g. {normal.errors[:3]}")
    results.check(p99 <= options.max_p99, f"normal client latency p99 <= {options.max_p99:.0f} ms during the attack",
                  f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(lat) * 1000 if lat else float('nan'):.1f} ms")
    if attack.lifetimes:
        lo, med, hi = min(attack.lifetimes), statistics.median(attack.lifetimes), max(attack.lifetimes)
        ok = lo >= idle - 0.5 and hi <= idle + 2.5
        results.check(ok, "a partial request head is closed after the idle timeout",
                      f"{len(attack.lifetimes)} closed by the server after {lo:.1f}/{med:.1f}/{hi:.1f} s "
                      f"(min/median/max) while still trickling; idle timeout {idle:.0f} s")
    else:
        results.check(options.duration < idle, "a partial request head is closed after the idle timeout",
                      f"the server closed none in {options.duration:.0f} s")
    print(f"slowloris: server RSS with {attack.max_open} slow connections: {rss / 1024 if rss else 0:.1f} MiB")
    if options.slow_bodies:
        print(f"slowloris: slow bodies (a byte every {options.trickle:.0f} s): {bodies_open} of {options.slow_bodies} "
              f"still open after {options.duration:.0f} s; {len(attack.body_lifetimes)} closed by the server"
              + (f" after {min(attack.body_lifetimes):.1f}-{max(attack.body_lifetimes):.1f} s"
                 if attack.body_lifetimes else ""))

    slow_thread.join(bound + idle + 10)
    if "closed_after" in slow:
        results.check(slow["closed_after"] <= bound, f"a slow body is cut off within {bound:.0f} s",
                      f"closed after {slow['closed_after']:.1f} s, {slow['bytes_sent']} body bytes sent"
                      + (f", answer {slow['answer']!r}" if slow.get("answer") else ""))
    else:
        results.check(False, f"a slow body is cut off within {bound:.0f} s",
                      f"still open after {slow.get('held', 0):.1f} s with {slow.get('bytes_sent')} body bytes "
                      f"sent one every {idle / 2:.1f} s: the --request-timeout did not cut it off")

    # 4. Idle and silent connections.
    idle_checks(port, idle, results)

    results.check(health_ok(port) and server.alive(), "GET /health answers 200 after all of it")
    code = server.terminate()
    results.check(code == 0, "the server exits 0 on SIGTERM", f"exit code {code}")
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
