#!/usr/bin/env python3
"""Memory under attack: with `--memory-budget` (default 512 MiB), clients that make
the server hold a lot of memory must not push its RSS far past the budget, and
must not cost a normal client its answers.

One fresh server per case (`--memory-budget 536870912`, otherwise default flags).
During every case three watchers run:

- the server's peak RSS (VmRSS of /proc/PID/status), sampled every 50 ms;
- a normal client: POST /gradient (a 2-2-1 network, one sample) one after another
  on its own keep-alive connection (reopened if closed), its statuses and latencies;
- a /health prober: GET /health every 100 ms on a fresh connection.

The cases (the attack clients):

1. uploads: 300 connections each POST /forward with `Content-Length: 15000000`,
   send 14 MB of a JSON prefix as fast as the socket takes it, then nothing more;
   each ends when the server answers or closes it (cap 45 s; the server's request
   timeout is 30 s). Accepted: a 4xx, a 503 with Retry-After, or a close (one
   still open at the cap is reported, not failed).
2. slow-readers: 100 connections each POST /forward with a small body whose answer
   is about 19 MB (one generated layer, 1 input and 10000 outputs, 86 samples),
   then read 16 KiB every 0.2 s with a small SO_RCVBUF for 30 s, then close.
   Accepted: 200, or 503 / 429 with Retry-After.
3. kept-jobs: 200 training jobs whose results are 1-million-parameter networks
   (1 -> 1000 -> 1000 -> 1 generated from a seed, one sample, one epoch); a 429 is
   retried after a short sleep. When all have finished, GET each: 200 with its
   result, 410 (a problem: the result was dropped to stay within the budget) or
   404 (forgotten beyond --jobs-kept, 100 by default); the newest must be 200 with
   its result.
4. stalled-streams: 4 jobs with 1M-parameter results (finished first), then 2 jobs
   that train for the whole case (1e9 epochs), then 100 GET /train/jobs/{id}/events
   connections with a small SO_RCVBUF that never read, held 30 s, then closed.
   Accepted: anything but a 5xx other than a 503 with Retry-After. Then a fresh
   client with `Last-Event-ID: 0` on a finished job must get its terminal event
   (`event: done`, or a dropped-result form) within 30 s, and the long jobs are
   cancelled (DELETE).

Pass criteria, per case: peak RSS < budget + 150 MiB; no 5xx anywhere but a 503
with Retry-After to an attack client (also none in /metrics); every GET /health a
200 within 250 ms; every normal /gradient a 200, p99 < 100 ms; and after the case
the server is alive and answers /health.

`--soak SECONDS` (default 300, not in CI) runs the four attacks at once, each in
rounds, against one server, with the same watchers and criteria (there, stalled-
streams starts one long job, not two, so kept-jobs gets the other job thread, and
its resume check passes on a 404 for a job that kept-jobs pushed out of --jobs-kept).

Usage:
    python3 Tests/Reliability/memory.py                   # the four cases (about 4 minutes)
    python3 Tests/Reliability/memory.py --case uploads    # one case
    python3 Tests/Reliability/memory.py --soak 300        # all attacks at once

Knobs (environment; defaults in brackets):
    MEMORY_BUDGET [536870912]  MEMORY_SLACK [157286400] (bytes over the budget the peak may reach)
    MEMORY_UPLOADS [300]  MEMORY_UPLOAD_BYTES [14000000]  MEMORY_UPLOAD_DECLARED [15000000]
    MEMORY_UPLOAD_CAP [45]
    MEMORY_SLOW_READERS [100]  MEMORY_SLOW_OUTPUTS [10000]  MEMORY_SLOW_SAMPLES [86]
    MEMORY_SLOW_HOLD [30]  MEMORY_SLOW_CHUNK [16384]  MEMORY_SLOW_EVERY [0.2]
    MEMORY_JOBS [200]  MEMORY_JOB_UNITS [1000]  MEMORY_JOBS_WAIT [90] (s to submit them and see them end)
    MEMORY_STREAMS [100]  MEMORY_STREAM_HOLD [30]  MEMORY_BIG_JOBS [4]  MEMORY_LONG_JOBS [2]
    MEMORY_RCVBUF [4096]  MEMORY_HEALTH_MS [250]  MEMORY_NORMAL_P99_MS [100]
    MEMORY_SUITE_NO_BUDGET_FLAG=1  start the server without --memory-budget (only to try
                                   the harness against a server that lacks the flag)

Exit status 0 only if every check passed; the last line is `N passed, M failed`.
"""

from __future__ import annotations

import argparse
import errno
import http.client
import json
import multiprocessing
import os
import re
import selectors
import socket
import sys
import threading
import time
import traceback
from collections import Counter

from common import (HOST, NoResponse, Results, Server, build_request, default_binary, health_ok, percentile,
                    request, rss_kib, server_errors_in_metrics)


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


BUDGET = env_int("MEMORY_BUDGET", 536870912)
SLACK = env_int("MEMORY_SLACK", 157286400)
HEALTH_LIMIT = env_float("MEMORY_HEALTH_MS", 250) / 1000
NORMAL_P99_LIMIT = env_float("MEMORY_NORMAL_P99_MS", 100) / 1000
RCVBUF = env_int("MEMORY_RCVBUF", 4096)
MIB = 1024 * 1024

GRADIENT = json.dumps({"network": {"layers": [{"weights": [[0.5, -0.6], [0.1, -0.2]]}, {"weights": [0.1, -0.3]}]},
                       "input": [0.5, 0.1], "target": 0.6}, separators=(",", ":")).encode()
JSON_HEADERS = [("Content-Type", "application/json")]


# --------------------------------------------------------------------------- watchers


class RSSSampler(threading.Thread):
    """The server's VmRSS every `interval` s until stopped (at most `limit` samples)."""

    def __init__(self, pid: int, interval: float = 0.05, limit: int = 200_000):
        super().__init__(daemon=True)
        self.pid, self.interval, self.limit = pid, interval, limit
        self.stop = threading.Event()
        self.peak_kib = 0
        self.peak_at = 0.0
        self.samples = 0
        self.started = time.monotonic()

    def run(self) -> None:
        for _ in range(self.limit):
            rss = rss_kib(self.pid)
            if rss is not None:
                self.samples += 1
                if rss > self.peak_kib:
                    self.peak_kib, self.peak_at = rss, time.monotonic() - self.started
            if self.stop.wait(self.interval):
                break


class NormalClient(threading.Thread):
    """POST /gradient one after another on one keep-alive connection (reopened if it
    closes), pausing `interval` s between requests, until stopped."""

    def __init__(self, port: int, interval: float = 0.01, limit: int = 1_000_000):
        super().__init__(daemon=True)
        self.port, self.interval, self.limit = port, interval, limit
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.statuses: Counter = Counter()
        self.errors: list[str] = []

    def run(self) -> None:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=10)
        for _ in range(self.limit):
            if self.stop.is_set():
                break
            started = time.monotonic()
            try:
                connection.request("POST", "/gradient", GRADIENT, dict(JSON_HEADERS))
                response = connection.getresponse()
                body = response.read()
                self.latencies.append(time.monotonic() - started)
                self.statuses[response.status] += 1
                if response.status != 200 and len(self.errors) < 20:
                    self.errors.append(f"status {response.status}: {body[:120]!r}")
                if response.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException) as error:
                self.statuses["no answer"] += 1
                if len(self.errors) < 20:
                    self.errors.append(f"{type(error).__name__}: {error}")
                connection.close()
                connection = http.client.HTTPConnection(HOST, self.port, timeout=10)
            self.stop.wait(self.interval)
        connection.close()


class HealthProber(threading.Thread):
    """GET /health every `interval` s on a fresh connection, until stopped."""

    def __init__(self, port: int, interval: float = 0.1, timeout: float = 2.0, limit: int = 100_000):
        super().__init__(daemon=True)
        self.port, self.interval, self.timeout, self.limit = port, interval, timeout, limit
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.probes = 0
        self.began = time.monotonic()

    def run(self) -> None:
        for _ in range(self.limit):
            if self.stop.is_set():
                break
            started = time.monotonic()
            self.probes += 1
            try:
                response = request(self.port, "GET", "/health", timeout=self.timeout)
                elapsed = time.monotonic() - started
                self.latencies.append(elapsed)
                if response.status != 200:
                    self.failures.append(f"status {response.status} after {elapsed * 1000:.0f} ms")
                elif elapsed > HEALTH_LIMIT:
                    self.failures.append(f"200 after {elapsed * 1000:.0f} ms at {started - self.began:.1f} s")
            except (OSError, NoResponse) as error:
                elapsed = time.monotonic() - started
                self.latencies.append(elapsed)
                self.failures.append(f"{type(error).__name__}: {error} after {elapsed * 1000:.0f} ms")
            self.stop.wait(max(0.0, self.interval - (time.monotonic() - started)))


def _watch_clients(port: int, pipe) -> None:
    """In a child process: the normal client and the /health prober until told to
    stop, then their figures sent back."""
    normal, health = NormalClient(port), HealthProber(port)
    normal.start()
    health.start()
    pipe.poll(3600)  # the stop message (bounded)
    for thread in (normal, health):
        thread.stop.set()
    for thread in (normal, health):
        thread.join(30)
    pipe.send((
        {"latencies": normal.latencies, "statuses": dict(normal.statuses), "errors": normal.errors},
        {"latencies": health.latencies, "failures": health.failures, "probes": health.probes},
    ))


class Watch:
    """The three watchers of a case. The normal client and the /health prober run in a
    process of their own: in the attack clients' process they would wait for its
    interpreter lock, and their latencies would be the clients' as much as the server's."""

    def __init__(self, port: int, pid: int):
        self.port = port
        self.rss = RSSSampler(pid)
        self.normal = NormalClient(port)  # replaced by the child's figures at stop
        self.health = HealthProber(port)

    def start(self) -> "Watch":
        self.rss.start()
        self.pipe, child = multiprocessing.get_context("fork").Pipe()
        self.process = multiprocessing.get_context("fork").Process(
            target=_watch_clients, args=(self.port, child), daemon=True)
        self.process.start()
        return self

    def stop(self) -> None:
        self.pipe.send("stop")
        if self.pipe.poll(90):
            normal, health = self.pipe.recv()
            self.normal.latencies, self.normal.errors = normal["latencies"], normal["errors"]
            self.normal.statuses = Counter(normal["statuses"])
            self.health.latencies, self.health.failures = health["latencies"], health["failures"]
            self.health.probes = health["probes"]
        else:
            self.health.failures.append("the watchers' process sent no figures")
        self.process.join(30)
        if self.process.is_alive():
            self.process.kill()
        self.rss.stop.set()
        self.rss.join(30)


# --------------------------------------------------------------------------- attack outcomes


class Outcomes:
    """What the attack clients saw: a count per outcome ("503", "closed", ...) and
    the unacceptable ones."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts: Counter = Counter()
        self.bad: list[str] = []
        self.bad_count = 0
        self.notes: list[str] = []

    def record(self, label: str, bad: str | None = None) -> None:
        with self.lock:
            self.counts[label] += 1
            if bad:
                self.bad_count += 1
                if len(self.bad) < 10:
                    self.bad.append(bad)

    def status(self, what: str, status: int, retry_after: str | None, allowed) -> None:
        """Records an answer; 5xx other than 503, 503/429 without Retry-After, and
        statuses not `allowed(status)` are unacceptable."""
        label = f"{what} {status}"
        bad = None
        if status >= 500 and status != 503:
            bad = f"{what}: {status}"
        elif status in (429, 503) and not retry_after:
            label += " without Retry-After"
            bad = f"{what}: {status} without Retry-After"
        elif not allowed(status):
            bad = f"{what}: unexpected {status}"
        self.record(label, bad)

    def summary(self) -> str:
        return ", ".join(f"{label}: {count}" for label, count in sorted(self.counts.items(), key=lambda kv: str(kv[0])))


def parse_head(buffer: bytes | bytearray):
    """(status, headers with lower-case names) once `buffer` holds a whole head, else None."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    try:
        status = int(parts[1])
    except (IndexError, ValueError):
        return (0, {})
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return status, headers


# --------------------------------------------------------------------------- 1. uploads

UPLOAD_PREFIX = b'{"network":{"inputs":1,"layers":[{"units":1}]},"input":['
_payloads: dict[int, bytes] = {}


def upload_payload(size: int) -> bytes:
    """`size` bytes of a JSON body that never ends: one object shared by every connection."""
    if size not in _payloads:
        unit = b"[0.123456],"
        _payloads[size] = (UPLOAD_PREFIX + unit * ((size - len(UPLOAD_PREFIX)) // len(unit) + 1))[:size]
    return _payloads[size]


def attack_uploads(port: int, out: Outcomes, stop: threading.Event, connections: int, size: int,
                   declared: int, cap: float) -> dict:
    payload = memoryview(upload_payload(size))
    head = (f"POST /forward HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {declared}\r\n\r\n").encode()
    selector = selectors.DefaultSelector()
    started = time.monotonic()
    deadline = started + cap
    figures = {"sent_bytes": 0, "fully_sent": 0, "ended_after": [], "open_at_cap": 0}

    def finish(sock: socket.socket, state: dict, label: str, bad: str | None = None, head_parsed=None) -> None:
        selector.unregister(sock)
        sock.close()
        figures["sent_bytes"] += state["sent"]
        figures["ended_after"].append(time.monotonic() - started)
        if head_parsed is not None:
            status, headers = head_parsed
            out.status("answer", status, headers.get("retry-after"),
                       lambda s: 400 <= s < 500 or s == 503)
        else:
            out.record(label, bad)

    for _ in range(connections):
        sock = socket.socket()
        sock.setblocking(False)
        code = sock.connect_ex((HOST, port))
        if code not in (0, errno.EINPROGRESS):
            sock.close()
            out.record("connect error", f"upload: connect: {os.strerror(code)}")
            continue
        selector.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE,
                          {"sent": 0, "head": 0, "buffer": bytearray(), "sending": True})
    for _ in range(int(cap * 1000) + 1000):  # each pass waits up to 0.5 s or does work: bounded by the cap
        if not selector.get_map() or time.monotonic() >= deadline or stop.is_set():
            break
        for key, mask in selector.select(0.5):
            sock, state = key.fileobj, key.data
            if mask & selectors.EVENT_READ:
                try:
                    data = sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    data = None
                except ConnectionResetError:
                    finish(sock, state, "reset (no answer)")
                    continue
                except OSError as error:
                    finish(sock, state, "connect error", f"upload: {error}")
                    continue
                if data == b"":
                    finish(sock, state, "closed (no answer)")
                    continue
                if data:
                    state["buffer"] += data
                    parsed = parse_head(state["buffer"])
                    if parsed is not None:
                        finish(sock, state, "", head_parsed=parsed)
                        continue
            if mask & selectors.EVENT_WRITE and state["sending"]:
                try:
                    if state["head"] < len(head):
                        state["head"] += sock.send(head[state["head"]:])
                    else:
                        state["sent"] += sock.send(payload[state["sent"]:state["sent"] + 262144])
                        if state["sent"] >= len(payload):
                            figures["fully_sent"] += 1
                            state["sending"] = False
                            selector.modify(sock, selectors.EVENT_READ, state)
                except (BlockingIOError, InterruptedError):
                    pass
                except (BrokenPipeError, ConnectionResetError):
                    # The server stopped reading: whatever it answered is still to be read.
                    state["sending"] = False
                    selector.modify(sock, selectors.EVENT_READ, state)
                except OSError as error:
                    finish(sock, state, "connect error", f"upload: {error}")
    for key in list(selector.get_map().values()):
        figures["open_at_cap"] += 1
        finish(key.fileobj, key.data, f"still open after {cap:.0f} s")
    selector.close()
    ended = figures.pop("ended_after")
    figures["last_end_s"] = round(max(ended), 1) if ended else None
    figures["median_end_s"] = round(percentile(ended, 0.5), 1) if ended else None
    return figures


def case_uploads(port: int, out: Outcomes, stop: threading.Event, cap: float | None = None) -> dict:
    cap = min(cap or 1e9, env_float("MEMORY_UPLOAD_CAP", 45))
    figures = attack_uploads(port, out, stop, env_int("MEMORY_UPLOADS", 300), env_int("MEMORY_UPLOAD_BYTES", 14_000_000),
                             env_int("MEMORY_UPLOAD_DECLARED", 15_000_000), cap)
    return figures


# --------------------------------------------------------------------------- 2. slow readers


def big_forward_body(outputs: int, samples: int) -> bytes:
    return json.dumps({"network": {"inputs": 1, "layers": [{"units": outputs, "activation": "linear"}], "seed": 7},
                       "input": [[round(0.01 * (i + 1), 2)] for i in range(samples)]}, separators=(",", ":")).encode()


def open_small_window(port: int, data: bytes) -> socket.socket:
    """A connection with a small receive buffer (set before connecting) that has sent `data`."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    sock.settimeout(5)
    sock.connect((HOST, port))
    sock.sendall(data)
    sock.setblocking(False)
    return sock


def attack_slow_readers(port: int, out: Outcomes, stop: threading.Event, connections: int, body: bytes,
                        hold: float, chunk: int, every: float) -> dict:
    data = build_request("POST", "/forward", body, JSON_HEADERS)
    states = []
    for _ in range(connections):
        if stop.is_set():
            break
        try:
            states.append({"sock": open_small_window(port, data), "buffer": bytearray(), "head": None, "read": 0,
                           "open": True})
        except OSError as error:
            out.record("connect error", f"slow reader: connect: {error}")
    deadline = time.monotonic() + hold
    closed_by_server = 0
    for _ in range(int(hold / every) + 2):
        if time.monotonic() >= deadline or stop.is_set() or not any(s["open"] for s in states):
            break
        for state in states:
            if not state["open"]:
                continue
            try:
                data = state["sock"].recv(chunk)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                state["open"] = False
                closed_by_server += 1
                continue
            state["read"] += len(data)
            if state["head"] is None:
                state["buffer"] += data
                state["head"] = parse_head(state["buffer"])
                if state["head"] is not None:
                    state["buffer"] = bytearray()
        stop.wait(every)
    read = 0
    for state in states:
        state["sock"].close()
        read += state["read"]
        if state["head"] is not None:
            status, headers = state["head"]
            out.status("answer", status, headers.get("retry-after"), lambda s: s in (200, 429, 503))
        elif state["open"]:
            out.record(f"no answer in {hold:.0f} s", f"slow reader: no answer in {hold:.0f} s")
        else:
            out.record("closed (no answer)", "slow reader: closed without an answer")
    return {"bytes_read": read, "closed_by_server": closed_by_server}


def case_slow_readers(port: int, out: Outcomes, stop: threading.Event, hold: float | None = None,
                      measure: bool = True) -> dict:
    body = big_forward_body(env_int("MEMORY_SLOW_OUTPUTS", 10000), env_int("MEMORY_SLOW_SAMPLES", 86))
    figures = {}
    if measure:
        try:
            answer = request(port, "POST", "/forward", body, JSON_HEADERS, timeout=60)
            figures["answer_bytes"] = len(answer.body)
            figures["answer_status"] = answer.status
            print(f"  slow-readers: one answer alone: {answer.status}, {len(answer.body) / 1e6:.1f} MB "
                  f"(request body {len(body)} bytes)", flush=True)
            del answer
        except (OSError, NoResponse) as error:
            print(f"  slow-readers: one answer alone failed: {error}", flush=True)
    hold = min(hold or 1e9, env_float("MEMORY_SLOW_HOLD", 30))
    figures.update(attack_slow_readers(port, out, stop, env_int("MEMORY_SLOW_READERS", 100), body, hold,
                                       env_int("MEMORY_SLOW_CHUNK", 16384), env_float("MEMORY_SLOW_EVERY", 0.2)))
    return figures


# --------------------------------------------------------------------------- jobs


def big_job_body(units: int, seed: int) -> bytes:
    """A job whose result is a network of about units² parameters: 1 -> units -> units -> 1."""
    return json.dumps({"network": {"inputs": 1, "layers": [{"units": units}, {"units": units}, {"units": 1}],
                                   "seed": seed},
                       "inputs": [[0.5]], "targets": [0.25], "epochs": 1, "seed": seed},
                      separators=(",", ":")).encode()


def long_job_body(seed: int) -> bytes:
    """A job that trains (XOR, a tiny network) until it is cancelled."""
    return json.dumps({"network": {"inputs": 2, "layers": [{"units": 4}, {"units": 1}], "seed": seed},
                       "inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [0, 1, 1, 0],
                       "epochs": 1_000_000_000, "learning_rate": 0.5, "seed": seed}, separators=(",", ":")).encode()


# In the soak, the other attacks may hold the whole budget for a while: a job refused
# until the deadline with 503s (Retry-After) is then the budget working, not a fault.
SOAK = False


def submit_job(port: int, body: bytes, out: Outcomes, deadline: float, stop: threading.Event) -> str | None:
    """POST /train/jobs until a 202 (a 429 or 503 is retried after a short sleep, until `deadline`)."""
    refused = False
    for _ in range(100_000):
        if stop.is_set():
            return None  # the case (or soak) is over: not a refusal
        if time.monotonic() >= deadline:
            if SOAK:
                # The other attacks hold the budget and the job queue: refusals (or no
                # time left in this round) are the bounds working, not a fault.
                out.record("submit refused (503/429) until the deadline" if refused else "submit: round deadline")
            else:
                out.record("submit gave up", "submit: no 202 before the deadline")
            return None
        try:
            response = request(port, "POST", "/train/jobs", body, JSON_HEADERS, timeout=30)
        except (OSError, NoResponse) as error:
            out.record("submit: no answer", f"submit: {error}")
            time.sleep(0.25)
            continue
        out.status("submit", response.status, response.header("retry-after"), lambda s: s in (202, 429, 503))
        if response.status == 202:
            return response.json()["id"]
        if response.status in (429, 503):
            refused = bool(response.header("retry-after"))
            stop.wait(0.25)
            continue
        return None
    return None


TERMINAL = ("succeeded", "failed", "cancelled")


def wait_finished(port: int, ids: list[str], deadline: float, stop: threading.Event) -> dict[str, str]:
    """Polls GET /train/jobs until every job in `ids` has ended or is no longer listed
    (forgotten); returns the last status of each ("forgotten" if not listed)."""
    last: dict[str, str] = {}
    for _ in range(100_000):
        try:
            response = request(port, "GET", "/train/jobs", timeout=30)
            if response.status == 200:
                listed = {job["id"]: job["status"] for job in response.json()["jobs"]}
                last = {job_id: listed.get(job_id, "forgotten") for job_id in ids}
                if all(status in TERMINAL or status == "forgotten" for status in last.values()):
                    return last
        except (OSError, NoResponse, ValueError):
            pass
        if time.monotonic() >= deadline or stop.wait(0.5):
            break
    return last


def case_kept_jobs(port: int, out: Outcomes, stop: threading.Event, seconds: float | None = None) -> dict:
    count = env_int("MEMORY_JOBS", 200)
    units = env_int("MEMORY_JOB_UNITS", 1000)
    deadline = time.monotonic() + min(seconds or 1e9, env_float("MEMORY_JOBS_WAIT", 90))
    ids = []
    for index in range(count):
        job_id = submit_job(port, big_job_body(units, 1000 + index), out, deadline, stop)
        if job_id is None:
            break
        ids.append(job_id)
    statuses = wait_finished(port, ids, deadline, stop)
    unfinished = [job_id for job_id in ids if statuses.get(job_id) not in TERMINAL + ("forgotten",)]
    figures = {"submitted": len(ids), "unfinished": len(unfinished)}
    if unfinished:
        # In the soak the round's time may run out with jobs still queued behind the
        # other attacks' jobs; in the case itself every job must end in time.
        out.record("job unfinished", None if SOAK else f"{len(unfinished)} jobs had not finished in time")
    kept = dropped = forgotten = 0
    newest_ok = False
    for index, job_id in enumerate(ids):
        if stop.is_set():
            break
        try:
            # A 503 with Retry-After (the memory budget has no room for the answer now)
            # is retried a few times, as a client would.
            for _ in range(10):
                response = request(port, "GET", f"/train/jobs/{job_id}", timeout=60)
                if response.status != 503 or not response.header("retry-after") or stop.is_set():
                    break
                out.record("get: 503 with Retry-After, retried")
                time.sleep(min(float(response.header("retry-after") or 1), 2.0))
        except (OSError, NoResponse) as error:
            out.record("get: no answer", f"GET job: {error}")
            continue
        body = response.body
        if response.status == 200:
            if b'"status":"succeeded"' in body and b'"result":{"network":' in body:
                kept += 1
                out.record("get: 200 with result")
                if index == len(ids) - 1:
                    try:
                        newest_ok = "layers" in json.loads(body)["result"]["network"]
                    except (ValueError, KeyError, TypeError):
                        newest_ok = False
            else:
                out.record("get: 200 without result", f"GET job: 200 without a result: {body[:200]!r}")
        elif response.status == 410:
            problem = (response.header("content-type") or "").startswith("application/problem+json")
            dropped += 1
            out.record("get: 410 dropped" if problem else "get: 410 not a problem",
                       None if problem else f"GET job: 410 that is not problem+json: {body[:200]!r}")
            if figures.get("dropped_example") is None:
                figures["dropped_example"] = body[:300].decode("utf-8", "replace")
        elif response.status == 404:
            forgotten += 1
            out.record("get: 404 forgotten (--jobs-kept)")
        else:
            out.status("GET job", response.status, response.header("retry-after"), lambda s: s == 503)
        del body, response
    if ids:
        # In the soak, other attacks' jobs may push even the newest result out (a 410).
        out.record("newest job 200 with result" if newest_ok else "newest job NOT 200 with result",
                   None if newest_ok or SOAK else "the newest job is not a 200 with its result")
    figures.update({"kept": kept, "dropped_410": dropped, "forgotten_404": forgotten, "newest_kept": newest_ok})
    return figures


# --------------------------------------------------------------------------- 4. stalled streams

TERMINAL_EVENT = re.compile(rb"(?:^|\n)event: (done|failed|cancelled)\n")


def read_terminal_event(port: int, job_id: str, timeout: float) -> tuple[bool, str]:
    """A fresh events client with Last-Event-ID: 0: (got a terminal event, what was seen)."""
    data = build_request("GET", f"/train/jobs/{job_id}/events", None,
                         [("Accept", "text/event-stream"), ("Last-Event-ID", "0")])
    deadline = time.monotonic() + timeout
    buffer = bytearray()
    head = None
    try:
        with socket.create_connection((HOST, port), timeout=5) as sock:
            sock.sendall(data)
            for _ in range(1_000_000):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False, f"no terminal event in {timeout:.0f} s ({len(buffer)} bytes)"
                sock.settimeout(remaining)
                try:
                    chunk = sock.recv(262144)
                except socket.timeout:
                    continue
                if not chunk:
                    return False, f"closed after {len(buffer)} bytes without a terminal event (head {head})"
                buffer += chunk
                if head is None:
                    head = parse_head(buffer)
                    if head is None:
                        continue
                    status, headers = head
                    if status != 200:
                        body = bytes(buffer[buffer.find(b"\r\n\r\n") + 4:])[:300]
                        if status == 404:
                            return False, f"forgotten: status 404: {body!r}"
                        dropped = status == 410 and (b"memory" in body.lower() or b"drop" in body.lower())
                        return dropped, f"status {status}: {body!r}"
                match = TERMINAL_EVENT.search(buffer)
                if match:
                    after = bytes(buffer[match.end():match.end() + 120])
                    if match.group(1) == b"done":
                        return True, f"event: done, data {after[:80]!r}..."
                    text = after.lower()
                    return (b"drop" in text or b"memory" in text), f"event: {match.group(1).decode()}, {after!r}"
                if len(buffer) > 1_000_000:  # keep only the tail: the terminal event is what matters
                    del buffer[:len(buffer) - 4096]
    except OSError as error:
        return False, f"{type(error).__name__}: {error}"
    return False, "no terminal event"


def attack_stalled_streams(port: int, out: Outcomes, stop: threading.Event, streams: int, hold: float,
                           big: int, long: int, units: int, seed: int = 0, forgotten_ok: bool = False) -> dict:
    """With `forgotten_ok` (the soak, where other jobs push these out of --jobs-kept),
    a finished job that is no longer kept (404) passes the resume check."""
    started = time.monotonic()
    big_ids = []
    for index in range(big):
        job_id = submit_job(port, big_job_body(units, 5000 + seed + index), out, started + 60, stop)
        if job_id:
            big_ids.append(job_id)
    statuses = wait_finished(port, big_ids, started + 60, stop)
    finished = [job_id for job_id in big_ids if statuses.get(job_id) == "succeeded"]
    long_ids = []
    for index in range(long):
        job_id = submit_job(port, long_job_body(9000 + seed + index), out, time.monotonic() + 30, stop)
        if job_id:
            long_ids.append(job_id)
    figures = {"big_jobs_finished": len(finished), "long_jobs": len(long_ids), "streams_opened": 0}
    # Three streams in four on a finished job with a large result, the rest on a long job.
    targets = []
    for index in range(streams):
        pool = long_ids if (index % 4 == 3 and long_ids) or not finished else finished
        if pool:
            targets.append(pool[index % len(pool)])
    socks = []
    for job_id in targets:
        if stop.is_set():
            break
        try:
            socks.append(open_small_window(port, build_request(
                "GET", f"/train/jobs/{job_id}/events", None, [("Accept", "text/event-stream")], close=False)))
        except OSError as error:
            out.record("connect error", f"stream: connect: {error}")
    figures["streams_opened"] = len(socks)
    stop.wait(hold)
    for sock in socks:
        try:
            data = sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            data = None
        except OSError:
            data = b""
        sock.close()
        parsed = parse_head(data) if data else None
        if parsed is not None:
            status, headers = parsed
            out.status("stream", status, headers.get("retry-after"), lambda s: True)
        elif data is None:
            out.record("stream: nothing received yet")
        elif data == b"":
            out.record("stream: closed by the server")
        else:
            out.record("stream: partial head")
    if finished and not stop.is_set():
        ok, seen = read_terminal_event(port, finished[0], 30)
        figures["resume"] = seen
        if not ok and forgotten_ok and seen.startswith("forgotten"):
            out.record("resume: job forgotten (404, --jobs-kept)")
        else:
            out.record("resume: terminal event" if ok else "resume: NO terminal event",
                       None if ok else f"Last-Event-ID: 0 on a finished job: {seen}")
    for job_id in long_ids:
        try:
            response = request(port, "DELETE", f"/train/jobs/{job_id}", timeout=30)
            out.status("DELETE long job", response.status, response.header("retry-after"), lambda s: s == 200)
        except (OSError, NoResponse) as error:
            out.record("delete: no answer", f"DELETE long job: {error}")
    return figures


def case_stalled_streams(port: int, out: Outcomes, stop: threading.Event, hold: float | None = None,
                         seed: int = 0, long: int | None = None, soak: bool = False) -> dict:
    return attack_stalled_streams(
        port, out, stop, env_int("MEMORY_STREAMS", 100), min(hold or 1e9, env_float("MEMORY_STREAM_HOLD", 30)),
        env_int("MEMORY_BIG_JOBS", 4), env_int("MEMORY_LONG_JOBS", 2) if long is None else long,
        env_int("MEMORY_JOB_UNITS", 1000), seed, forgotten_ok=soak)


CASES = {
    "uploads": case_uploads,
    "slow-readers": case_slow_readers,
    "kept-jobs": case_kept_jobs,
    "stalled-streams": case_stalled_streams,
}


# --------------------------------------------------------------------------- checks


def start_server(options) -> Server:
    args = list(options.server_arg)
    if os.environ.get("MEMORY_SUITE_NO_BUDGET_FLAG") != "1":
        args = ["--memory-budget", str(BUDGET)] + args
    server = Server(options.binary, args, log_path=options.log).start()
    print(f"memory: server pid {server.pid} on 127.0.0.1:{server.port} {' '.join(args)}", flush=True)
    return server


def check_all(results: Results, name: str, server: Server, watch: Watch, outcomes: dict[str, Outcomes],
              figures: dict) -> None:
    limit_kib = (BUDGET + SLACK) // 1024
    peak = watch.rss.peak_kib
    results.check(0 < peak < limit_kib, f"{name}: peak RSS < budget + {SLACK / MIB:.0f} MiB",
                  f"peak {peak / 1024:.0f} MiB at {watch.rss.peak_at:.1f} s, limit {limit_kib / 1024:.0f} MiB, "
                  f"{watch.rss.samples} samples")
    for attack, out in outcomes.items():
        results.check(out.bad_count == 0, f"{name}: {attack}: every answer acceptable (no 5xx but 503 with Retry-After)",
                      out.summary() + (f"; {out.bad_count} unacceptable, e.g. {out.bad[:3]}" if out.bad_count else ""))
    for attack, values in figures.items():
        print(f"  {name}: {attack}: " + ", ".join(f"{k} {v}" for k, v in values.items()), flush=True)
    health = watch.health
    results.check(not health.failures and health.probes > 0,
                  f"{name}: every GET /health a 200 within {HEALTH_LIMIT * 1000:.0f} ms",
                  f"{health.probes} probes, max {max(health.latencies or [0]) * 1000:.0f} ms, "
                  f"p99 {percentile(health.latencies, 0.99) * 1000:.0f} ms"
                  + (f"; {len(health.failures)} failed, e.g. {health.failures[:3]}" if health.failures else ""))
    normal = watch.normal
    total = sum(normal.statuses.values())
    ok200 = normal.statuses.get(200, 0)
    results.check(total > 0 and ok200 == total, f"{name}: every normal POST /gradient a 200",
                  f"{total} requests: " + ", ".join(f"{k}: {v}" for k, v in normal.statuses.items())
                  + (f"; e.g. {normal.errors[:3]}" if normal.errors else ""))
    p99 = percentile(normal.latencies, 0.99)
    results.check(p99 < NORMAL_P99_LIMIT, f"{name}: normal POST /gradient p99 < {NORMAL_P99_LIMIT * 1000:.0f} ms",
                  f"p50 {percentile(normal.latencies, 0.5) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
                  f"max {max(normal.latencies or [0]) * 1000:.0f} ms")
    alive = server.alive() and health_ok(server.port, timeout=5)
    results.check(alive, f"{name}: the server is alive and answers /health after it",
                  "" if alive else ("exited with " + str(server.process.returncode) if not server.alive()
                                    else "no 200 from /health"))
    if alive:
        try:
            metrics = request(server.port, "GET", "/metrics", timeout=10).body.decode()
            fives = [line for line in server_errors_in_metrics(metrics, "5") if '"503"' not in line]
            results.check(not fives, f"{name}: no 5xx but 503 counted in /metrics", "; ".join(fives[:3]))
        except (OSError, NoResponse) as error:
            results.check(False, f"{name}: GET /metrics", str(error))


def run_case(name: str, options, results: Results) -> None:
    print(f"\nmemory: case {name}", flush=True)
    started = time.monotonic()
    try:
        server = start_server(options)
    except SystemExit as error:  # e.g. a server without --memory-budget: the case fails, the others still run
        results.check(False, f"{name}: the server starts", str(error))
        return
    try:
        time.sleep(0.5)
        idle = server.rss_kib() or 0
        watch = Watch(server.port, server.pid).start()
        out = Outcomes()
        stop = threading.Event()
        attack_started = time.monotonic()
        try:
            figures = CASES[name](server.port, out, stop)
        except Exception as error:  # a harness fault (or an answer it cannot read) fails the case, not the suite
            figures = {}
            out.record("attack raised", f"the attack raised {type(error).__name__}: {error}")
            traceback.print_exc()
        finally:
            figures["attack_seconds"] = round(time.monotonic() - attack_started, 1)
            stop.set()
            time.sleep(1.0)  # the watchers see the server settle after the attack
            watch.stop()
        figures["idle_rss_mib"] = round(idle / 1024)
        figures["rss_after_mib"] = round((server.rss_kib() or 0) / 1024)
        check_all(results, name, server, watch, {name: out}, {name: figures})
    finally:
        code = server.terminate(timeout=20)
        print(f"memory: {name}: server exit code {code}; case took {time.monotonic() - started:.0f} s", flush=True)


def run_soak(seconds: float, options, results: Results) -> None:
    """The four attacks at once, each in rounds until `seconds` have passed."""
    print(f"\nmemory: soak, the four attacks at once for {seconds:.0f} s", flush=True)
    try:
        server = start_server(options)
    except SystemExit as error:
        results.check(False, "soak: the server starts", str(error))
        return
    try:
        watch = Watch(server.port, server.pid).start()
        stop = threading.Event()
        deadline = time.monotonic() + seconds
        outcomes = {name: Outcomes() for name in CASES}
        figures: dict[str, dict] = {name: {"rounds": 0} for name in CASES}

        def one_round(name: str, out: Outcomes, round_index: int, left: float) -> dict | None:
            """One round of an attack in at most `left` seconds; None if too little time is left."""
            if name == "uploads":
                if left < min(35.0, env_float("MEMORY_UPLOAD_CAP", 45)):
                    return None  # a round shorter than the server's request timeout shows little
                return case_uploads(server.port, out, stop, cap=left)
            if name == "slow-readers":
                return case_slow_readers(server.port, out, stop, hold=left, measure=round_index == 0)
            if name == "kept-jobs":
                return case_kept_jobs(server.port, out, stop, seconds=left)
            # One long job, so that the other job thread serves kept-jobs.
            return case_stalled_streams(server.port, out, stop, hold=min(left, 30), seed=round_index * 100,
                                        long=1, soak=True)

        def rounds(name: str) -> None:
            out = outcomes[name]
            for round_index in range(10_000):
                left = deadline - time.monotonic()
                if left < 5 or stop.is_set():
                    break
                try:
                    last = one_round(name, out, round_index, left)
                except Exception as error:  # noted as a failure of this attack; its rounds stop
                    out.record("attack raised", f"the attack raised {type(error).__name__}: {error}")
                    traceback.print_exc()
                    break
                if last is None:
                    break
                figures[name]["rounds"] += 1
                figures[name]["last round"] = last

        threads = [threading.Thread(target=rounds, args=(name,), daemon=True) for name in CASES]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(1.0, deadline - time.monotonic() + 150))
        stop.set()
        for thread in threads:
            thread.join(30)
        time.sleep(1.0)
        watch.stop()
        check_all(results, "soak", server, watch, outcomes, figures)
    finally:
        code = server.terminate(timeout=20)
        print(f"memory: soak: server exit code {code}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=default_binary())
    parser.add_argument("--case", choices=list(CASES), action="append",
                        help="run only this case (repeatable); default: all four")
    parser.add_argument("--soak", type=float, nargs="?", const=300.0, metavar="SECONDS",
                        help="run the four attacks at once for SECONDS (default 300) instead of the cases")
    parser.add_argument("--server-arg", action="append", default=[], help="an extra server flag (repeatable)")
    parser.add_argument("--log", help="server log file (appended to by every case's server)")
    options = parser.parse_args()

    budget = "no --memory-budget flag (MEMORY_SUITE_NO_BUDGET_FLAG=1)" \
        if os.environ.get("MEMORY_SUITE_NO_BUDGET_FLAG") == "1" else f"--memory-budget {BUDGET}"
    print(f"memory: {options.binary}, {budget}; peak RSS limit {(BUDGET + SLACK) / MIB:.0f} MiB", flush=True)
    results = Results("memory")
    started = time.monotonic()
    if options.soak is not None:
        global SOAK
        SOAK = True
        run_soak(options.soak, options, results)
    else:
        for name in options.case or list(CASES):
            run_case(name, options, results)
    print(f"\nmemory: {time.monotonic() - started:.0f} s in all", flush=True)
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
