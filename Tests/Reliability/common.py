"""Shared helpers for the reliability suites (python3 standard library only).

- `Server`: the `backprop` executable as a child process on 127.0.0.1 and a free
  port, with its RSS read from /proc, stopped by SIGTERM (then SIGKILL) on exit.
- `raw_request` / `read_response`: HTTP/1.1 over a plain socket, so that a test can
  send anything (broken bytes, huge headers, odd methods) and see exactly what comes
  back, including "the server closed the connection without an answer".
- `Results`: counts cases and prints the closing `N passed, M failed` line.

Every loop here is bounded in count or time, and only loopback addresses are used.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

HOST = "127.0.0.1"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def default_binary() -> str:
    """$BACKPROP_BIN, else the release binary of .build-reliability, else of .build."""
    explicit = os.environ.get("BACKPROP_BIN")
    if explicit:
        return explicit
    for scratch in (".build-reliability", ".build"):
        candidate = os.path.join(ROOT, scratch, "release", "backprop")
        if os.access(candidate, os.X_OK):
            return candidate
    return os.path.join(ROOT, ".build", "release", "backprop")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


_servers: list["Server"] = []


def _stop_all() -> None:
    for server in list(_servers):
        server.kill()


atexit.register(_stop_all)
for _signal in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_signal, lambda number, frame: sys.exit(128 + number))


def rss_kib(pid: int) -> int | None:
    """Resident set size (VmRSS) of process `pid` in KiB, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class Server:
    """One `backprop` process. `args` are extra flags (limits, timeouts...)."""

    def __init__(self, binary: str, args: list[str] | None = None, port: int | None = None,
                 log_path: str | None = None):
        self.binary = binary
        self.port = port or free_port()
        self.args = ["--host", HOST, "--port", str(self.port), "--log-level", "warning"] + (args or [])
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> "Server":
        if not os.access(self.binary, os.X_OK):
            raise SystemExit(f"no server binary at {self.binary}: build it first "
                             "(swift build -c release) or set BACKPROP_BIN")
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen([self.binary] + self.args, stdin=subprocess.DEVNULL,
                                        stdout=log, stderr=log)
        _servers.append(self)
        pid_file = os.environ.get("RELIABILITY_PID_FILE")
        if pid_file:  # .ci/reliability.sh stops what a killed suite left behind
            with open(pid_file, "a") as pids:
                pids.write(f"{self.process.pid}\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited with {self.process.returncode} before answering /health")
            if health_ok(self.port, timeout=1.0):
                return self
            time.sleep(0.1)
        self.kill()
        raise SystemExit(f"the server did not answer /health within {timeout:.0f} s")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def rss_kib(self) -> int | None:
        """Resident set size (VmRSS) in KiB, or None if the process is gone."""
        return rss_kib(self.pid)

    def terminate(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, then wait up to `timeout`; returns the exit code (None if it had to be killed)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        return self.process.returncode

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self in _servers:
            _servers.remove(self)


# --------------------------------------------------------------------------- HTTP


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    closed: bool = False  # the server closed the connection after this response

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def json(self):
        return json.loads(self.body)


class NoResponse(Exception):
    """The server closed the connection (or timed out) without a complete response."""


def _read_until(sock: socket.socket, buffer: bytearray, marker: bytes, deadline: float) -> int:
    while True:
        index = buffer.find(marker)
        if index >= 0:
            return index
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NoResponse("timed out waiting for the response head")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            raise NoResponse("timed out waiting for the response head") from None
        except ConnectionResetError:
            raise NoResponse("connection reset before a response") from None
        if not chunk:
            raise NoResponse("connection closed before a complete response" if buffer else
                             "connection closed without a response")
        buffer += chunk


def _read_exact(sock: socket.socket, buffer: bytearray, count: int, deadline: float) -> None:
    while len(buffer) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NoResponse("timed out reading the response body")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(max(65536, count - len(buffer)))
        except socket.timeout:
            raise NoResponse("timed out reading the response body") from None
        except ConnectionResetError:
            raise NoResponse("connection reset in the response body") from None
        if not chunk:
            raise NoResponse("connection closed in the response body")
        buffer += chunk


def read_response(sock: socket.socket, buffer: bytearray, timeout: float = 30.0,
                  head_request: bool = False) -> Response:
    """Reads one response from `sock` (bytes already received are in `buffer`, which
    keeps whatever follows the response)."""
    deadline = time.monotonic() + timeout
    end = _read_until(sock, buffer, b"\r\n\r\n", deadline)
    head = bytes(buffer[:end]).decode("latin-1")
    del buffer[:end + 4]
    lines = head.split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise NoResponse(f"not an HTTP response: {lines[0]!r}")
    status = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers = []
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers.append((key.strip(), value.strip()))
    response = Response(status, reason, headers)
    connection = (response.header("connection") or "").lower()
    if head_request or status in (204, 304) or 100 <= status < 200:
        return response
    if (response.header("transfer-encoding") or "").lower() == "chunked":
        body = bytearray()
        while True:
            line_end = _read_until(sock, buffer, b"\r\n", deadline)
            size = int(bytes(buffer[:line_end]).split(b";")[0], 16)
            del buffer[:line_end + 2]
            if size == 0:
                _read_until(sock, buffer, b"\r\n", deadline)  # trailers end with an empty line
                trailer_end = buffer.find(b"\r\n")
                while trailer_end != 0:
                    del buffer[:trailer_end + 2]
                    trailer_end = _read_until(sock, buffer, b"\r\n", deadline)
                del buffer[:2]
                break
            _read_exact(sock, buffer, size + 2, deadline)
            body += buffer[:size]
            del buffer[:size + 2]
        response.body = bytes(body)
    elif response.header("content-length") is not None:
        length = int(response.header("content-length"))
        _read_exact(sock, buffer, length, deadline)
        response.body = bytes(buffer[:length])
        del buffer[:length]
    else:  # until the server closes
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = sock.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            buffer += chunk
        response.body = bytes(buffer)
        buffer.clear()
        response.closed = True
    if connection == "close":
        response.closed = True
    return response


def connect(port: int, timeout: float = 10.0) -> socket.socket:
    sock = socket.create_connection((HOST, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def send_all(sock: socket.socket, data: bytes, timeout: float = 60.0) -> bool:
    """Sends `data`, but stops early if the server answers (or closes) before it has
    read everything, as it may for a 413 or a 404 on a large body. Returns True if
    everything was sent. Raises NoResponse on timeout."""
    deadline = time.monotonic() + timeout
    view = memoryview(data)
    sent = 0
    while sent < len(view):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NoResponse(f"timed out sending the request ({sent} of {len(view)} bytes sent)")
        readable, writable, _ = select.select([sock], [sock], [], min(remaining, 1.0))
        if readable:
            return False  # an answer (or a close) is waiting: read it
        if writable:
            try:
                sent += sock.send(view[sent:sent + 1024 * 1024])
            except (BrokenPipeError, ConnectionResetError):
                return False
    return True


def build_request(method: str, path: str, body: bytes | None = None,
                  headers: list[tuple[str, str]] | None = None, close: bool = True,
                  content_length: bool = True) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}"]
    if close:
        lines.append("Connection: close")
    for key, value in headers or []:
        lines.append(f"{key}: {value}")
    if body is not None and content_length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def raw_request(port: int, data: bytes, timeout: float = 30.0, head_request: bool = False) -> Response:
    """Sends raw bytes on a fresh connection and reads one response.
    Raises NoResponse if the server closes without answering."""
    with connect(port, timeout) as sock:
        send_all(sock, data, timeout)  # the server may answer (413, 400) before reading everything
        buffer = bytearray()
        return read_response(sock, buffer, timeout, head_request=head_request)


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: list[tuple[str, str]] | None = None, timeout: float = 30.0) -> Response:
    return raw_request(port, build_request(method, path, body, headers), timeout,
                       head_request=(method == "HEAD"))


def health_ok(port: int, timeout: float = 5.0) -> bool:
    try:
        response = request(port, "GET", "/health", timeout=timeout)
    except (OSError, NoResponse):
        return False
    if response.status != 200:
        return False
    try:
        return response.json().get("status") == "ok"
    except ValueError:
        return False


# --------------------------------------------------------------------------- results


class Results:
    def __init__(self, name: str):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.failures: list[str] = []

    def check(self, ok: bool, label: str, detail: str = "") -> bool:
        if ok:
            self.passed += 1
            print(f"  ok    {label}" + (f"  ({detail})" if detail else ""), flush=True)
        else:
            self.failed += 1
            self.failures.append(f"{label}: {detail}")
            print(f"  FAIL  {label}" + (f"  ({detail})" if detail else ""), flush=True)
        return ok

    def finish(self) -> int:
        if self.failures:
            print(f"\n{self.name}: failures:")
            for failure in self.failures:
                print(f"  - {failure}")
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(fraction * (len(ordered) - 1)))))
    return ordered[index]


def server_errors_in_metrics(metrics: str, prefix: str = "5") -> list[str]:
    """`hb_requests` counters of /metrics whose status starts with `prefix` and are not 0."""
    found = []
    for line in metrics.splitlines():
        if line.startswith("#") or "_bucket" in line or "duration" in line:
            continue
        match = re.search(r'status(?:_code)?="(\d{3})"', line)
        if match and match.group(1).startswith(prefix) and line.split()[-1] not in ("0", "0.0"):
            found.append(line)
    return found
