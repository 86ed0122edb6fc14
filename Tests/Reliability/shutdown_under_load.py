#!/usr/bin/env python3
"""Graceful shutdown under load: on SIGTERM during load, every request already
accepted gets its full response, new connections are refused cleanly, and the exit
code is 0.

1. The server starts as a child process with --shutdown-grace GRACE;
   --connections (default 32) threads load it on keep-alive connections over raw
   sockets, one in four with POST /train runs of about 100 ms (so that some are in
   flight at any moment), the others with /gradient and /forward. Each request's
   "completely sent" time is recorded.
2. After --warmup seconds SIGTERM is sent. Then:
   - every request completely sent more than --margin ms before SIGTERM must get a
     complete 200 with the right bytes (the same as the request sent alone);
   - a request sent around or after SIGTERM on a kept-alive connection may get a
     complete answer (200 or 503) or a clean close before any byte of an answer;
   - no answer may ever be cut off (a head without its full body);
   - a prober opens new connections every 10 ms after SIGTERM: each must be
     refused (ECONNREFUSED), reset before any answer, or get a complete answer;
     none may hang.
3. The server must exit with code 0 within --grace + 15 seconds.

The last line is `N passed, M failed`; exit status 0 only if all passed.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import socket
import sys
import threading
import time

from common import (HOST, NoResponse, Results, Server, build_request, connect, default_binary, read_response,
                    request)

TRAIN = {"network": {"inputs": 2, "layers": [{"units": 8}, {"units": 1}], "seed": 7},
         "inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [0, 1, 1, 0], "epochs": 30_000,
         "learning_rate": 2, "optimizer": {"name": "sgd", "momentum": 0.9}, "seed": 7}
GRADIENT = {"network": {"layers": [{"weights": [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]}, {"weights": [0.1, -0.3]}]},
            "input": [0.5, 0.1, -0.2], "target": 0.6, "learning_rate": 0.5}
FORWARD = {"network": {"inputs": 8, "layers": [{"units": 16, "activation": "relu"}, {"units": 2, "activation": "softmax"}],
                       "seed": 3}, "input": [[0.1 * i] * 8 for i in range(16)], "trace": True}
DURATION_FIELD = re.compile(rb',"duration_ms":[-0-9.eE+]+')


def canonical(path: str, body: bytes) -> bytes:
    return DURATION_FIELD.sub(b"", body) if path == "/train" else body


class Outcome:
    def __init__(self, name: str, sent_at: float):
        self.name, self.sent_at = name, sent_at
        self.status: int | None = None
        self.correct = False
        self.error = ""  # "closed before an answer", "cut off", ...


class Worker(threading.Thread):
    def __init__(self, port: int, jobs, references, stop_sending: threading.Event, deadline: float):
        super().__init__(daemon=True)
        self.port, self.jobs, self.references = port, jobs, references
        self.stop_sending, self.deadline = stop_sending, deadline
        self.outcomes: list[Outcome] = []
        self.connect_failures: list[str] = []

    def run(self) -> None:
        sock, buffer = None, bytearray()
        for i in range(100_000):
            if self.stop_sending.is_set() or time.monotonic() > self.deadline:
                break
            name, path, payload = self.jobs[i % len(self.jobs)]
            if sock is None:
                try:
                    sock, buffer = connect(self.port, timeout=30), bytearray()
                except OSError as error:
                    self.connect_failures.append(f"{type(error).__name__}")
                    break  # after SIGTERM: refused, as it should be
            data = build_request("POST", path, payload, close=False)
            try:
                sock.settimeout(30)
                sock.sendall(data)
            except OSError as error:
                outcome = Outcome(name, time.monotonic())
                outcome.error = f"send failed: {type(error).__name__}"
                self.outcomes.append(outcome)
                sock.close()
                sock = None
                continue
            outcome = Outcome(name, time.monotonic())
            self.outcomes.append(outcome)
            try:
                response = read_response(sock, buffer, timeout=60)
                outcome.status = response.status
                outcome.correct = response.status == 200 and canonical(path, response.body) == self.references[name]
                if response.status != 200:
                    outcome.error = f"status {response.status}"
                if response.closed:
                    sock.close()
                    sock = None
            except NoResponse as error:
                text = str(error)
                outcome.error = ("cut off: " + text) if ("body" in text or "complete" in text) else text
                sock.close()
                sock = None
        if sock is not None:
            sock.close()


class Prober(threading.Thread):
    """New connections after SIGTERM: refused, reset before an answer, or a complete answer."""

    def __init__(self, port: int, until: float):
        super().__init__(daemon=True)
        self.port, self.until = port, until
        self.counts: dict[str, int] = {}
        self.bad: list[str] = []

    def note(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def run(self) -> None:
        for _ in range(10_000):
            if time.monotonic() > self.until:
                break
            try:
                sock = socket.create_connection((HOST, self.port), timeout=5)
            except ConnectionRefusedError:
                self.note("refused")
                time.sleep(0.01)
                continue
            except OSError as error:
                self.note(f"connect {type(error).__name__}")
                time.sleep(0.01)
                continue
            try:
                with sock:
                    sock.sendall(build_request("POST", "/gradient", json.dumps(GRADIENT).encode()))
                    response = read_response(sock, bytearray(), timeout=20)
                    self.note(f"answered {response.status}")
                    if response.status not in (200, 503):
                        self.bad.append(f"status {response.status}")
            except NoResponse as error:
                text = str(error)
                if "timed out" in text:
                    self.note("hung")
                    self.bad.append(text)
                elif "without a response" in text or "reset before" in text:
                    self.note("closed before an answer")
                else:
                    self.note("cut off")
                    self.bad.append(text)
            except OSError as error:
                self.note(f"closed before an answer ({type(error).__name__})")
            time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=default_binary())
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before SIGTERM")
    parser.add_argument("--margin", type=float, default=50.0,
                        help="ms before SIGTERM after which a request counts as racing with it")
    parser.add_argument("--grace", type=int, default=10, help="the server's --shutdown-grace")
    parser.add_argument("--log", help="server log file")
    options = parser.parse_args()

    server = Server(options.binary, ["--shutdown-grace", str(options.grace)], log_path=options.log).start()
    port = server.port
    print(f"shutdown: server pid {server.pid} on 127.0.0.1:{port}")
    results = Results("shutdown")

    jobs = [(name, path, json.dumps(body, separators=(",", ":")).encode())
            for name, path, body in [("train", "/train", TRAIN), ("gradient", "/gradient", GRADIENT),
                                     ("forward", "/forward", FORWARD)]]
    references = {}
    for name, path, payload in jobs:
        started = time.monotonic()
        response = request(port, "POST", path, payload, timeout=60)
        print(f"shutdown: reference {name}: {response.status} in {(time.monotonic() - started) * 1000:.0f} ms")
        references[name] = canonical(path, response.body)
        if response.status != 200:
            results.check(False, f"reference {name}", f"{response.status}: {response.body[:200]!r}")
            server.kill()
            return results.finish()

    stop_sending = threading.Event()
    deadline = time.monotonic() + options.warmup + options.grace + 30
    train_jobs = [jobs[0]]
    quick_jobs = [jobs[1], jobs[2]]
    workers = [Worker(port, train_jobs if i % 4 == 0 else quick_jobs, references, stop_sending, deadline)
               for i in range(options.connections)]
    for worker in workers:
        worker.start()
    time.sleep(options.warmup)

    in_flight_before = sum(1 for w in workers for o in w.outcomes if o.status is None and not o.error)
    sigterm_at = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    prober = Prober(port, sigterm_at + options.grace + 5)
    prober.start()
    # Keep sending for a moment after SIGTERM: those requests race with the shutdown.
    time.sleep(0.5)
    stop_sending.set()
    try:
        code = server.process.wait(timeout=options.grace + 15)
    except Exception:
        code = None
    exited_after = time.monotonic() - sigterm_at
    prober.until = time.monotonic()  # the server is gone: stop probing
    for worker in workers:
        worker.join(65)
    prober.join(30)

    outcomes = [o for w in workers for o in w.outcomes]
    margin = options.margin / 1000
    accepted = [o for o in outcomes if o.sent_at < sigterm_at - margin]
    racing = [o for o in outcomes if o.sent_at >= sigterm_at - margin]
    lost = [o for o in accepted if not o.correct]
    cut = [o for o in outcomes if o.error.startswith("cut off")]
    accepted_late = [o for o in accepted if o.sent_at >= sigterm_at - 2.0]
    print(f"shutdown: SIGTERM after {options.warmup:.0f} s with {in_flight_before} requests in flight; "
          f"{len(accepted)} requests sent before it ({len(accepted_late)} in its last 2 s), "
          f"{len(racing)} around or after it")
    for title, group in (("within the margin before", [o for o in racing if o.sent_at < sigterm_at]),
                         ("after", [o for o in racing if o.sent_at >= sigterm_at])):
        kinds: dict[str, int] = {}
        for o in group:
            kind = f"answered {o.status}" if o.status is not None else (o.error or "no answer")
            kinds[kind] = kinds.get(kind, 0) + 1
        print(f"shutdown: requests sent {title} SIGTERM: {kinds or 'none'}")
    print(f"shutdown: new connections after SIGTERM: {prober.counts}")

    results.check(in_flight_before > 0, "requests were in flight at SIGTERM", f"{in_flight_before} in flight")
    results.check(not lost, "every request sent before SIGTERM got its full, correct 200",
                  f"{len(accepted)} of {len(accepted)}" if not lost else
                  f"{len(lost)} of {len(accepted)} did not: " +
                  "; ".join(f"{o.name} sent {(sigterm_at - o.sent_at) * 1000:.0f} ms before: "
                            f"{o.error or o.status}" for o in lost[:5]))
    results.check(not cut, "no answer is cut off", "; ".join(f"{o.name}: {o.error}" for o in cut[:5]))
    bad_racing = [o for o in racing if o.status is not None and o.status not in (200, 503)]
    bad_racing += [o for o in racing if o.status == 200 and not o.correct]
    results.check(not bad_racing, "requests racing with SIGTERM: a complete 200/503 or a clean close",
                  "; ".join(f"{o.name}: {o.status} {o.error}" for o in bad_racing[:5]))
    results.check(not prober.bad and sum(prober.counts.values()) > 0,
                  "new connections after SIGTERM are refused cleanly (or answered in full), none hangs",
                  f"{prober.counts}" + (f"; {prober.bad[:3]}" if prober.bad else ""))
    results.check(code == 0, "the server exits 0", f"exit code {code} after {exited_after:.1f} s")
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
