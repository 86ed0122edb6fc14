#!/usr/bin/env python3
"""Load and soak: --duration seconds (default 60) at --connections keep-alive
connections (default 64), mixing POST /forward, /gradient and /train, with zero
errors, zero 5xx, bounded memory, and every response bit-identical to the same
request sent alone.

1. reference: every distinct request is sent once, one after another, on one
   connection; the exact response bytes are kept (for /train without the
   `duration_ms` field, the only one that may differ). Each is sent a second time,
   which must give the same bytes too.
2. load: --connections threads, each with its own keep-alive connection
   (http.client), send the requests round-robin (each thread from its own offset)
   until the time is up. Every answer must be a 200 whose bytes equal the
   reference. A 429 counts as an error: at most one request per connection is in
   flight, so with 64 connections at most 64 computations wait, which the default
   --compute-queue (64, beyond those running) holds; pass --compute-queue to the
   server (via --server-arg) when running more connections.
3. memory: the server's VmRSS (/proc/PID/status) is sampled every second: idle
   (before the load), peak, and over the last 20 s of the load the growth must stay
   under --rss-tolerance MiB (default max(8 MiB, 5% of the peak)).

Prints requests/s, p50/p99/max latency, RSS figures, and closes with
`N passed, M failed`; exit status 0 only if all passed.

Usage:
    python3 Tests/Reliability/soak.py [--duration 60] [--connections 64]
    python3 Tests/Reliability/soak.py --port 18100 --pid 1234   # a running server
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import sys
import threading
import time

from common import (HOST, Results, Server, default_binary, health_ok, percentile, request, rss_kib,
                    server_errors_in_metrics)

SEED_TWO_LAYER = {"layers": [{"weights": [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]}, {"weights": [0.1, -0.3]}]}
XOR = {"inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [0, 1, 1, 0]}


def wide_network(seed: int, activation: str = "relu") -> dict:
    return {"inputs": 16, "layers": [{"units": 32, "activation": activation}, {"units": 32, "activation": "tanh"},
                                      {"units": 4, "activation": "softmax"}], "init": "auto", "seed": seed}


def batch(rows: int, width: int, scale: float = 0.1) -> list[list[float]]:
    return [[round(((r * 31 + c * 17) % 23 - 11) * scale, 3) for c in range(width)] for r in range(rows)]


def one_hot(rows: int, classes: int) -> list[list[int]]:
    return [[1 if c == r % classes else 0 for c in range(classes)] for r in range(rows)]


REQUESTS: list[tuple[str, str, dict]] = [
    ("forward seed, trace", "/forward", {"network": SEED_TWO_LAYER, "input": [0.5, 0.1, -0.2], "trace": True}),
    ("forward generated batch", "/forward", {"network": wide_network(11), "input": batch(32, 16), "trace": True}),
    ("forward elu/softplus", "/forward", {"network": {"inputs": 3, "layers": [
        {"units": 5, "activation": "elu"}, {"units": 3, "activation": "softplus"}, {"units": 1, "activation": "linear"}],
        "init": "he_normal", "seed": 5}, "input": batch(8, 3)}),
    ("gradient seed neuron", "/gradient", {"network": {"layers": [{"weights": [0.5, -0.5, 0.3, 0.1]}]},
                                           "input": [1, 2, 3, 4], "target": 0.5, "learning_rate": 0.5}),
    ("gradient seed two-layer", "/gradient", {"network": SEED_TWO_LAYER, "input": [0.5, 0.1, -0.2],
                                              "target": 0.6, "learning_rate": 0.5}),
    ("gradient softmax cross-entropy batch", "/gradient", {
        "network": wide_network(12, "leaky_relu"), "input": batch(64, 16), "target": one_hot(64, 4),
        "loss": "cross_entropy", "learning_rate": 0.05}),
    ("gradient sigmoid cross-entropy", "/gradient", {
        "network": {"inputs": 4, "layers": [{"units": 6, "activation": "tanh"}, {"units": 1}], "seed": 3},
        "input": batch(16, 4), "target": [r % 2 for r in range(16)], "loss": "cross_entropy"}),
    ("train XOR sgd momentum", "/train", {
        "network": {"inputs": 2, "layers": [{"units": 4}, {"units": 1}], "seed": 7}, **XOR, "epochs": 300,
        "learning_rate": 2, "optimizer": {"name": "sgd", "momentum": 0.9}, "seed": 7}),
    ("train adam mini-batch, validation, early stopping", "/train", {
        "network": wide_network(13), "inputs": batch(48, 16), "targets": one_hot(48, 4), "epochs": 40,
        "batch_size": 8, "shuffle": True, "seed": 21, "loss": "cross_entropy", "learning_rate": 0.01,
        "optimizer": {"name": "adam"}, "validation": {"inputs": batch(8, 16, 0.05), "targets": one_hot(8, 4)},
        "early_stopping": {"patience": 5}}),
    ("train nesterov l1 l2 online", "/train", {
        "network": {"layers": [{"weights": [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]], "biases": [0, 0]},
                               {"weights": [0.1, -0.3], "biases": 0.0}]},
        "inputs": batch(12, 3), "targets": [0.1 * (r % 7) for r in range(12)], "epochs": 60, "batch_size": 1,
        "learning_rate": 0.3, "optimizer": {"name": "sgd", "momentum": 0.5, "nesterov": True}, "l1": 1e-4,
        "l2": 1e-3, "seed": 99}),
]

DURATION_FIELD = re.compile(rb',"duration_ms":[-0-9.eE+]+')


def canonical(path: str, body: bytes) -> bytes:
    """The bytes to compare: a /train answer without its duration_ms."""
    return DURATION_FIELD.sub(b"", body) if path == "/train" else body


class Loader(threading.Thread):
    def __init__(self, index: int, port: int, payloads, references, deadline: float, max_requests: int):
        super().__init__(daemon=True)
        self.index, self.port, self.payloads, self.references = index, port, payloads, references
        self.deadline, self.max_requests = deadline, max_requests
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.mismatches: list[str] = []
        self.errors: list[str] = []

    def run(self) -> None:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
        count = len(self.payloads)
        for i in range(self.max_requests):
            if time.monotonic() >= self.deadline:
                break
            name, path, payload = self.payloads[(self.index + i) % count]
            started = time.monotonic()
            try:
                connection.request("POST", path, payload, {"Content-Type": "application/json"})
                response = connection.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as error:
                self.errors.append(f"{name}: {type(error).__name__}: {error}")
                connection.close()
                connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
                continue
            self.latencies.append(time.monotonic() - started)
            self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
            if response.status != 200:
                self.errors.append(f"{name}: status {response.status}: {body[:120]!r}")
            elif canonical(path, body) != self.references[name]:
                self.mismatches.append(f"{name}: {body[:120]!r}")
        connection.close()


class RSSSampler(threading.Thread):
    def __init__(self, read_rss, deadline: float, interval: float = 1.0):
        super().__init__(daemon=True)
        self.read_rss, self.deadline, self.interval = read_rss, deadline, interval
        self.samples: list[tuple[float, int]] = []  # (seconds since start, KiB)
        self.stop = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        for _ in range(int((self.deadline - started) / self.interval) + 10):
            if self.stop.is_set() or time.monotonic() >= self.deadline:
                break
            rss = self.read_rss()
            if rss is not None:
                self.samples.append((time.monotonic() - started, rss))
            self.stop.wait(self.interval)



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--binary", default=default_binary())
    parser.add_argument("--server-arg", action="append", default=[], help="an extra server flag (repeatable)")
    parser.add_argument("--port", type=int, help="use a running server (then --pid for its RSS)")
    parser.add_argument("--pid", type=int, help="the running server's pid, for RSS")
    parser.add_argument("--rss-tolerance", type=float, help="MiB the RSS may grow over the last 20 s")
    parser.add_argument("--log", help="server log file")
    options = parser.parse_args()

    server = None
    if options.port:
        port, pid = options.port, options.pid
    else:
        server = Server(options.binary, options.server_arg, log_path=options.log).start()
        port, pid = server.port, server.pid
        print(f"soak: server pid {pid} on 127.0.0.1:{port} {' '.join(options.server_arg)}")
    read_rss = (lambda: rss_kib(pid)) if pid else (lambda: None)
    results = Results("soak")

    # 1. References, sent one after another.
    payloads = [(name, path, json.dumps(body, separators=(",", ":")).encode()) for name, path, body in REQUESTS]
    references: dict[str, bytes] = {}
    for name, path, payload in payloads:
        first = request(port, "POST", path, payload, timeout=60)
        second = request(port, "POST", path, payload, timeout=60)
        ok = first.status == 200 and second.status == 200 and canonical(path, first.body) == canonical(path, second.body)
        results.check(ok, f"reference: {name}", f"{first.status}, {len(first.body)} bytes"
                      if ok else f"{first.status}/{second.status}: {first.body[:160]!r}")
        references[name] = canonical(path, first.body)
    if results.failed:
        return results.finish()
    time.sleep(1.0)
    idle_rss = read_rss()

    # 2. Load, 3. memory.
    started = time.monotonic()
    deadline = started + options.duration
    sampler = RSSSampler(read_rss, deadline + 1)
    sampler.start()
    loaders = [Loader(i, port, payloads, references, deadline, 10_000_000) for i in range(options.connections)]
    for loader in loaders:
        loader.start()
    for loader in loaders:
        loader.join(options.duration + 120)
    elapsed = time.monotonic() - started
    sampler.stop.set()
    sampler.join(5)
    stuck = sum(loader.is_alive() for loader in loaders)

    latencies = [value for loader in loaders for value in loader.latencies]
    statuses: dict[int, int] = {}
    for loader in loaders:
        for status, count in loader.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    errors = [error for loader in loaders for error in loader.errors]
    mismatches = [mismatch for loader in loaders for mismatch in loader.mismatches]
    total = len(latencies)
    print(f"soak: {total} requests in {elapsed:.1f} s at {options.connections} connections: "
          f"{total / elapsed:.0f} requests/s; latency p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
          f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, max {max(latencies or [0]) * 1000:.1f} ms; "
          f"statuses {dict(sorted(statuses.items()))}")
    results.check(stuck == 0, "every load thread finished", f"{stuck} still waiting for an answer" if stuck else "")
    results.check(total > 0 and statuses.get(200, 0) == total and not errors,
                  "zero errors: every answer is a 200",
                  f"{total} answers" if not errors else f"{len(errors)} errors, e.g. {errors[:3]}")
    results.check(not any(status >= 500 for status in statuses), "zero 5xx",
                  f"{sum(c for s, c in statuses.items() if s >= 500)} 5xx" if any(s >= 500 for s in statuses) else "")
    results.check(not mismatches, "every answer is bit-identical to the sequential one",
                  f"{total - len(mismatches)} of {total} identical" if not mismatches else
                  f"{len(mismatches)} differ, e.g. {mismatches[:2]}")

    samples = sampler.samples
    if samples and idle_rss:
        peak = max(rss for _, rss in samples)
        end = samples[-1][0]
        window = [rss for t, rss in samples if t >= end - 20]
        head, tail = sorted(window[:5]), sorted(window[-5:])
        growth = (tail[len(tail) // 2] - head[len(head) // 2]) / 1024 if window else 0.0
        tolerance = options.rss_tolerance or max(8.0, 0.05 * peak / 1024)
        time.sleep(3.0)
        after = read_rss()
        print(f"soak: RSS idle {idle_rss / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, "
              f"end of load {samples[-1][1] / 1024:.1f} MiB, 3 s after {after / 1024 if after else 0:.1f} MiB; "
              f"over the last 20 s {growth:+.1f} MiB (tolerance {tolerance:.1f} MiB); {len(samples)} samples")
        results.check(growth <= tolerance, "memory is bounded: no growth over the last 20 s",
                      f"{growth:+.1f} MiB, peak {peak / 1024:.1f} MiB")
    else:
        results.check(False, "memory is bounded: no growth over the last 20 s", "no RSS samples (no --pid?)")

    results.check(health_ok(port), "GET /health answers 200 after the load")
    try:
        metrics = request(port, "GET", "/metrics", timeout=10).body.decode()
        fives = server_errors_in_metrics(metrics, "5")
        results.check(not fives, "no 5xx counted in /metrics", "; ".join(fives[:3]))
    except OSError as error:
        results.check(False, "GET /metrics after the load", str(error))
    if server is not None:
        code = server.terminate()
        results.check(code == 0, "the server exits 0 on SIGTERM", f"exit code {code}")
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
