"""Issue 12's fifth target, against a running server on 127.0.0.1:

1. /gradient (the seed's second example, small enough to be served inline) while
   two long POST /train requests hold both compute threads: its p50 and p99.
2. Overload: wrk's 48 clients send /forward requests too large to be served
   inline, so the pool's threads and queue fill and the rest get 429; a probe
   client, one request at a time, times the 429 answers it gets (p50, p99; the
   target is p99 ≤ 10 ms).

Start the server with a small queue so that the overload is reached, e.g.

    .build/release/backprop --port 18321 --compute-threads 2 --compute-queue 4 --log-level warning &
    python3 Benchmarks/overload.py --port 18321

Every loop is bounded (a fixed count of requests). Prints one JSON line.
"""
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 18321
GRADIENT = json.dumps({"network": {"layers": [{"weights": [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]},
                                             {"weights": [0.1, -0.3]}]},
                       "input": [0.5, 0.1, -0.2], "target": 0.6, "learning_rate": 0.5})
# About 2 s of training on one thread: 32-32-1, 64 samples, 36,000 epochs (1.7 s for 30,000
# on the 2-core Xeon of BENCHMARKS.md, 2026-12-07; 3,000 took 0.17 s, too short to overlap).
TRAIN = json.dumps({"network": {"inputs": 32, "layers": [{"units": 32}, {"units": 1}], "seed": 1},
                    "inputs": [[(i * 7 + j) % 10 / 10 for j in range(32)] for i in range(64)],
                    "targets": [i % 2 for i in range(64)], "epochs": 36000, "learning_rate": 0.01})
# A /forward over the inline bounds (a 64-64 layer, 16 samples): it goes to the pool.
FORWARD = json.dumps({"network": {"layers": [{"weights": [[0.01 * ((i + j) % 7) for j in range(64)] for i in range(64)]}]},
                      "input": [[0.5] * 64 for _ in range(16)]})


def post(connection, path, body):
    start = time.perf_counter()
    connection.request("POST", path, body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    return response.status, time.perf_counter() - start


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def trainings(count):
    done = []

    def one():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        done.append(post(connection, "/train", TRAIN))
    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, done


def gradient_during_training():
    threads, done = trainings(2)
    time.sleep(0.3)  # both are on the compute threads
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, statuses = [], []
    for _ in range(1000):
        if not any(thread.is_alive() for thread in threads):
            break
        status, seconds = post(connection, "/gradient", GRADIENT)
        statuses.append(status)
        latencies.append(seconds)
    for thread in threads:
        thread.join()
    return {"gradient_requests": len(latencies), "gradient_ok": statuses.count(200),
            "gradient_p50_ms": percentile(latencies, 0.5) * 1e3, "gradient_p99_ms": percentile(latencies, 0.99) * 1e3,
            "trainings": [status for status, _ in done]}


def overload(seconds=8, connections=48, probes=400):
    """wrk keeps `connections` clients sending /forward (Benchmarks/http_forward.lua, with
    this body); meanwhile one probe client sends /forward one request at a time and
    times the answers that are 429s, so the client's own overhead stays out of them."""
    path = tempfile.mktemp(suffix=".json")
    with open(path, "w") as file:
        file.write(FORWARD)
    environment = dict(os.environ, BACKPROP_FORWARD_BODY=path)
    load = subprocess.Popen(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", "Benchmarks/http_forward.lua",
         f"http://127.0.0.1:{port}/forward"], env=environment, stdout=subprocess.PIPE, text=True)
    time.sleep(1)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    rejected, served = [], 0
    deadline = time.monotonic() + seconds - 2
    for _ in range(probes):
        if time.monotonic() > deadline:
            break
        status, elapsed = post(connection, "/forward", FORWARD)
        if status == 429:
            rejected.append(elapsed)
        else:
            served += 1
    output = load.communicate()[0]
    os.unlink(path)
    non_2xx = [line for line in output.splitlines() if "Non-2xx" in line]
    return {"probe_requests": len(rejected) + served, "probe_rejected_429": len(rejected),
            "rejected_p50_ms": percentile(rejected, 0.5) * 1e3, "rejected_p99_ms": percentile(rejected, 0.99) * 1e3,
            "wrk": (non_2xx[0].strip() if non_2xx else "no non-2xx answers")}


if __name__ == "__main__":
    result = gradient_during_training()
    result.update(overload())
    print(json.dumps(result))
