#!/usr/bin/env python3
"""Three `backprop` replicas sharing one PostgreSQL job store, behind nginx.

Run by .ci/cluster.sh, which builds the server, starts PostgreSQL (.ci/postgres.sh) and
nginx (.ci/nginx.sh, upstream = the three replica ports) and passes, in the environment:

  BACKPROP_BIN                 the release server binary
  BACKPROP_TEST_DATABASE_URL   postgres://backprop:PW@127.0.0.1:PORT/backprop?sslmode=disable
  CLUSTER_NGINX_URL            http://127.0.0.1:PORT (nginx)
  CLUSTER_REPLICA_PORTS        three ports, the replicas r1 r2 r3 (nginx's upstreams)
  CLUSTER_LOG_DIR              server logs (one file per replica, appended across restarts)
  CLUSTER_PID_FILE             every server pid, so that the shell can stop what is left
  CLUSTER_REPO_ROOT            for `restart_postgres` (case 7) and `pg_superuser_psql` (case 8)
                               from .ci/postgres.sh
  PG_BIN PG_DATA PG_PORT PG_TMP  (postgres.sh's, for those two)
  NGINX_DIR                    (nginx.sh's, for its error log on a failure)

Knobs: CLUSTER_CASES ("1 2 3 4 5 6 7 8"), CLUSTER_TARGET_SECONDS (10: how long the long
training runs uninterrupted; its epochs are calibrated on a memory-mode server),
CLUSTER_LONG_EPOCHS (skip the calibration), CLUSTER_SHORT_JOBS (200), CLUSTER_PG_DOWN_SECONDS
(5: how long PostgreSQL stays down in case 7), CLUSTER_DISK_FULL_SECONDS (12: how long the
disk stays full in case 8).

This script starts the replicas itself (it kills, terminates and restarts them) and a
memory-mode server (no --database-url) for the uninterrupted reference run, and stops
all of them on exit. Every loop is bounded in count and time; only 127.0.0.1 is used.
Python 3 standard library only, plus the psql client, mount and umount (case 8) through
subprocess. Each case
prints a PASS or FAIL line (with the new lines of the relevant logs on a FAIL); the
last line is `N passed, M failed`; the exit code is 1 if any case failed.
"""

from __future__ import annotations

import atexit
import concurrent.futures as futures
import errno
import hashlib
import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
import uuid

HOST = "127.0.0.1"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("CLUSTER_REPO_ROOT") or os.path.abspath(os.path.join(HERE, "..", ".."))
BIN = os.environ.get("BACKPROP_BIN", "")
DB_URL = os.environ.get("BACKPROP_TEST_DATABASE_URL", "")
NGINX = os.environ.get("CLUSTER_NGINX_URL", "")
PORTS = [int(p) for p in os.environ.get("CLUSTER_REPLICA_PORTS", "").split()]
LOG_DIR = os.environ.get("CLUSTER_LOG_DIR", os.path.join(ROOT, ".build-cluster-logs"))
PID_FILE = os.environ.get("CLUSTER_PID_FILE")
CASES = [int(c) for c in os.environ.get("CLUSTER_CASES", "1 2 3 4 5 6 7 8").split()]
TARGET_SECONDS = float(os.environ.get("CLUSTER_TARGET_SECONDS", "10"))
SHORT_JOBS = int(os.environ.get("CLUSTER_SHORT_JOBS", "200"))
PG_DOWN_SECONDS = float(os.environ.get("CLUSTER_PG_DOWN_SECONDS", "5"))
DISK_FULL_SECONDS = float(os.environ.get("CLUSTER_DISK_FULL_SECONDS", "12"))
RUN = uuid.uuid4().hex[:8]  # makes this run's Idempotency-Keys unique
TERMINAL = ("succeeded", "failed", "cancelled")
STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


# ---------------------------------------------------------------------------- HTTP

class Reply:
    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"HTTP {self.status} {self.body[:300]!r}"


def call(method: str, base: str, path: str, body=None, headers: dict | None = None,
         timeout: float = 15) -> Reply:
    """One request on a new connection; raises OSError/HTTPException on a broken one."""
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        sent = {"Connection": "close"}
        if body is not None:
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        payload = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, payload)
    finally:
        connection.close()


def retry_after(reply: Reply, cap: float = 2.0) -> float:
    try:
        return min(cap, max(0.1, float(reply.headers.get("retry-after", "0.5"))))
    except ValueError:
        return 0.5


def submit(base: str, body: bytes | dict, key: str | None = None, attempts: int = 40,
           statuses: list | None = None) -> str:
    """POST /train/jobs until a 202 (retrying 429/502/503 and broken connections, the
    latter only with an Idempotency-Key), and returns the job id."""
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    headers = {"Idempotency-Key": key} if key else {}
    last = None
    for _ in range(attempts):
        try:
            reply = call("POST", base, "/train/jobs", body, headers)
        except (OSError, http.client.HTTPException) as error:
            if statuses is not None:
                statuses.append(("POST /train/jobs", None, False, repr(error)))
            if not key:
                raise
            last = repr(error)
            time.sleep(0.3)
            continue
        if statuses is not None:
            statuses.append(("POST /train/jobs", reply.status, "retry-after" in reply.headers, ""))
        if reply.status in (200, 201, 202):
            return reply.json()["id"]
        last = repr(reply)
        if reply.status in (429, 503) or (reply.status in (502, 504) and key):
            time.sleep(retry_after(reply))
            continue
        raise RuntimeError(f"POST /train/jobs via {base}: {reply!r}")
    raise RuntimeError(f"POST /train/jobs via {base}: no 202 after {attempts} tries; last {last}")


def job(base: str, job_id: str, timeout: float = 10) -> dict | None:
    """GET /train/jobs/{id}, or None for a 5xx or a broken connection."""
    try:
        reply = call("GET", base, f"/train/jobs/{job_id}", timeout=timeout)
    except (OSError, http.client.HTTPException):
        return None
    if reply.status >= 500:
        return None
    if reply.status != 200:
        raise RuntimeError(f"GET /train/jobs/{job_id} via {base}: {reply!r}")
    return reply.json()


def wait_terminal(base: str, job_id: str, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        snapshot = job(base, job_id)
        if snapshot is not None:
            last = snapshot
            if snapshot.get("status") in TERMINAL:
                return snapshot
        time.sleep(0.2)
    raise RuntimeError(f"job {job_id} not finished after {seconds:.0f} s; last seen {json.dumps(last)[:300]}")


# ------------------------------------------------------------------------ networks

def network_values(network: dict) -> list[float]:
    """Every weight and bias in order: per layer, the weights row by row, then the biases."""
    values: list[float] = []

    def flatten(value) -> None:
        if isinstance(value, list):
            for item in value:
                flatten(item)
        elif value is not None:
            values.append(float(value))

    for layer in network["layers"]:
        flatten(layer.get("weights"))
        flatten(layer.get("biases"))
    return values


def network_hash(network: dict) -> str:
    """SHA-256 of struct.pack('<d') of every weight and bias (json parses the server's
    shortest round-trip doubles exactly)."""
    digest = hashlib.sha256()
    for value in network_values(network):
        digest.update(struct.pack("<d", value))
    return digest.hexdigest()


def long_request(epochs: int, seed: int = 1) -> dict:
    """A deterministic 8-64-64-1 training on 256 samples: adam, mini-batches of 32."""
    inputs, targets = [], []
    for i in range(256):
        row = [((i * 37 + j * 11 + i * j) % 97) / 97 - 0.5 for j in range(8)]
        inputs.append(row)
        targets.append(0.8 if sum(row[k] * (k - 3.5) for k in range(8)) > 0 else 0.2)
    return {
        "network": {"inputs": 8, "layers": [{"units": 64}, {"units": 64}, {"units": 1}], "seed": seed},
        "inputs": inputs, "targets": targets, "epochs": epochs, "learning_rate": 0.01,
        "batch_size": 32, "shuffle": True, "optimizer": "adam", "seed": seed,
    }


def short_request(seed: int, epochs: int = 100) -> dict:
    return {
        "network": {"inputs": 2, "layers": [{"units": 4}, {"units": 1}], "seed": seed},
        "inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [0, 1, 1, 0],
        "epochs": epochs, "learning_rate": 2, "optimizer": {"name": "sgd", "momentum": 0.9}, "seed": seed,
    }


FORWARD = {"network": {"layers": [{"weights": [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]}, {"weights": [0.1, -0.3]}]},
           "input": [0.5, 0.1, -0.2]}
GRADIENT = {"network": {"layers": [{"weights": [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]}, {"weights": [0.1, -0.3]}]},
            "input": [0.5, 0.1, -0.2], "target": 0.6, "learning_rate": 0.5}


# -------------------------------------------------------------------------- psql

PSQL = os.path.join(os.environ.get("PG_BIN", ""), "psql")
if not os.access(PSQL, os.X_OK):
    PSQL = "psql"


def psql(sql: str, timeout: float = 15) -> list[list[str]]:
    done = subprocess.run([PSQL, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", DB_URL, "-c", sql],
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"psql failed ({sql}): {done.stderr.strip()}")
    return [line.split("\t") for line in done.stdout.splitlines() if line]


def sql_ids(ids) -> str:
    for job_id in ids:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", job_id):
            raise RuntimeError(f"unexpected job id {job_id!r}")
    return ",".join(f"'{job_id}'" for job_id in ids)


def job_row(job_id: str) -> dict:
    """The job's row: state, lease_owner, attempt, whether it has a checkpoint, progress_epoch."""
    rows = psql(f"SELECT state, coalesce(lease_owner, ''), attempt, checkpoint IS NOT NULL "
                f"FROM jobs WHERE id = {sql_ids([job_id])}")
    if not rows:
        raise RuntimeError(f"no row for job {job_id} in jobs")
    state, owner, attempt, checkpoint = rows[0]
    return {"state": state, "owner": owner, "attempt": int(attempt), "checkpoint": checkpoint == "t"}


def restart_postgres(down_seconds: float) -> None:
    subprocess.run(["bash", "-c", f'. "$1/.ci/postgres.sh" && restart_postgres {down_seconds}', "bash", ROOT],
                   check=True, timeout=120)


# ------------------------------------------------------------------------- servers

_servers: list["Server"] = []


class Server:
    """One `backprop` process; `db` replicas share the job store."""

    def __init__(self, name: str, port: int, db: bool = True):
        self.name, self.port, self.db = name, port, db
        self.url = f"http://{HOST}:{port}"
        self.log_path = os.path.join(LOG_DIR, f"{name}.log")
        self.process: subprocess.Popen | None = None
        _servers.append(self)

    def arguments(self) -> list[str]:
        # --jobs-kept: case 6 counts its 200 finished jobs in the table, which retention
        # (default: the newest 100) would otherwise thin out.
        arguments = [BIN, "--host", HOST, "--port", str(self.port), "--shutdown-grace", "1", "--jobs-kept", "100000"]
        if self.db:
            arguments += ["--database-url", DB_URL, "--replica-id", self.name, "--lease-seconds", "3",
                          "--heartbeat-seconds", "1", "--checkpoint-seconds", "1"]
        return arguments

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            log.write(f"\n=== cluster.py: starting {self.name} on port {self.port} at {time.strftime('%H:%M:%S')} ===\n".encode())
            log.flush()
            self.process = subprocess.Popen(self.arguments(), stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT)
        if PID_FILE:
            with open(PID_FILE, "a") as pids:
                pids.write(f"{self.process.pid}\n")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, seconds: float = 60) -> None:
        """GET /health/ready (or /health where there is none) answers 200."""
        deadline = time.monotonic() + seconds
        path = "/health/ready" if self.db else "/health"
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}) before it was ready; "
                                   f"its log ends:\n{tail(self.log_path, 25)}")
            try:
                reply = call("GET", self.url, path, timeout=2)
                if reply.status == 200:
                    return
                if reply.status == 404 and path != "/health":
                    path = "/health"
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: {path} not 200 within {seconds:.0f} s")

    def signal(self, number: int) -> None:
        if self.alive():
            self.process.send_signal(number)

    def wait_exit(self, seconds: float) -> int | None:
        try:
            return self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            if self.wait_exit(10) is None:
                self.process.kill()
                self.wait_exit(5)


def _stop_all() -> None:
    for server in _servers:
        try:
            server.stop()
        except Exception:
            pass


def _on_signal(number, frame) -> None:
    # Once: a second signal must not interrupt the stopping of the servers (atexit).
    for other in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(other, signal.SIG_IGN)
    sys.exit(128 + number)


atexit.register(_stop_all)
for _number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_number, _on_signal)


def tail(path: str, lines: int, start: int = 0) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(start)
            text = handle.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def log_files() -> list[str]:
    paths = [os.path.join(LOG_DIR, name) for name in sorted(os.listdir(LOG_DIR)) if name.endswith(".log")]
    if os.environ.get("NGINX_DIR"):
        paths += [os.path.join(os.environ["NGINX_DIR"], "error.log"), os.path.join(os.environ["NGINX_DIR"], "access.log")]
    if os.environ.get("PG_TMP"):
        paths.append(os.path.join(os.environ["PG_TMP"], "postgres.log"))
    return paths


def log_marks() -> dict[str, int]:
    marks = {}
    for path in log_files():
        try:
            marks[path] = os.path.getsize(path)
        except OSError:
            marks[path] = 0
    return marks


# ------------------------------------------------------------------------ results

class Results:
    """Counts the cases; each PASS/FAIL line also goes to $CLUSTER_RESULTS_FILE (so that
    the shell can count them should this process be killed before its closing line)."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.file = os.environ.get("CLUSTER_RESULTS_FILE")

    def line(self, text: str) -> None:
        print(text, flush=True)
        if self.file:
            with open(self.file, "a") as results:
                results.write(text.splitlines()[0] + "\n")

    def run(self, number: int, title: str, body) -> None:
        say(f"case {number}: {title}")
        marks = log_marks()
        try:
            message = body()
        except Exception as error:  # a FAIL, with what the servers said meanwhile
            self.failed += 1
            detail = str(error) if isinstance(error, (RuntimeError, AssertionError)) else traceback.format_exc()
            self.line(f"FAIL {number}: {title}: {detail}")
            for path in log_files():
                text = tail(path, 30, marks.get(path, 0))
                if text.strip():
                    print(f"---- {os.path.relpath(path, ROOT) if path.startswith(ROOT) else path} (new lines, last 30) ----")
                    print(text)
            print("----", flush=True)
            return
        self.passed += 1
        self.line(f"PASS {number}: {title}: {message}")


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


# ------------------------------------------------------------------- event streams

class EventReader(threading.Thread):
    """Reads GET /train/jobs/{id}/events through `base`, reconnecting with Last-Event-ID
    whenever the stream drops before a done/failed/cancelled event (at most 60
    connections, at most `seconds`)."""

    def __init__(self, base: str, job_id: str, seconds: float = 240):
        super().__init__(daemon=True)
        self.base, self.job_id, self.seconds = base, job_id, seconds
        self.events: list[tuple[int, str, str]] = []
        self.connections = 0
        self.resumes: list[int] = []  # the Last-Event-ID of each reconnection
        self.errors: list[str] = []
        self.opened = threading.Event()
        self.finished = False

    def run(self) -> None:
        url = urllib.parse.urlsplit(self.base)
        deadline = time.monotonic() + self.seconds
        last: int | None = None
        while time.monotonic() < deadline and self.connections < 60 and not self.finished:
            self.connections += 1
            connection = http.client.HTTPConnection(url.hostname, url.port, timeout=20)
            try:
                headers = {"Accept": "text/event-stream"}
                if last is not None:
                    headers["Last-Event-ID"] = str(last)
                    self.resumes.append(last)
                connection.request("GET", f"/train/jobs/{self.job_id}/events", headers=headers)
                response = connection.getresponse()
                self.opened.set()
                if response.status != 200:
                    self.errors.append(f"HTTP {response.status} {response.read()[:200]!r}")
                    time.sleep(0.5)
                    continue
                event_id, kind, data = None, "message", []
                while time.monotonic() < deadline:
                    raw = response.readline()
                    if not raw:
                        self.errors.append("end of stream")
                        break
                    line = raw.decode().rstrip("\r\n")
                    if line == "":
                        if event_id is not None or data:
                            number = int(event_id) if event_id is not None else -1
                            self.events.append((number, kind, "\n".join(data)))
                            if event_id is not None:
                                last = number
                            if kind in ("done", "failed", "cancelled"):
                                self.finished = True
                                return
                        event_id, kind, data = None, "message", []
                        continue
                    if line.startswith(":"):
                        continue
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "id":
                        event_id = value
                    elif name == "event":
                        kind = value
                    elif name == "data":
                        data.append(value)
            except (OSError, http.client.HTTPException, ValueError) as error:
                self.errors.append(repr(error))
            finally:
                connection.close()
                self.opened.set()
            time.sleep(0.2)

    def problems(self) -> list[str]:
        """What is wrong with the events read: ids not 1..N, epochs not increasing, no done."""
        found = []
        ids = [event[0] for event in self.events]
        if ids != list(range(1, len(ids) + 1)):
            gaps = [(a, b) for a, b in zip(ids, ids[1:]) if b != a + 1]
            found.append(f"ids are not 1..{len(ids)} (first breaks: {gaps[:5]}, first ids {ids[:3]})")
        epochs = []
        for _, kind, data in self.events:
            if kind == "progress":
                try:
                    epochs.append(json.loads(data)["epoch"])
                except (ValueError, KeyError, TypeError):
                    found.append(f"a progress event without an epoch: {data[:100]}")
        backwards = [(a, b) for a, b in zip(epochs, epochs[1:]) if b <= a]
        if backwards:
            found.append(f"progress epochs do not strictly increase: {backwards[:5]}")
        if not self.events or self.events[-1][1] != "done":
            found.append(f"does not end with done (last: {self.events[-1][:2] if self.events else None}; "
                         f"errors {self.errors[-3:]})")
        if sum(1 for event in self.events if event[1] in ("done", "failed", "cancelled")) > 1:
            found.append("more than one terminal event")
        return found


# --------------------------------------------------------------------------- setup

class Cluster:
    def __init__(self):
        self.replicas = [Server(f"r{i + 1}", port) for i, port in enumerate(PORTS)]
        self.epochs = 0
        self.reference: dict | None = None  # the uninterrupted result of long_request(self.epochs)
        self.reference_hash = ""

    def by_owner(self, owner: str) -> Server | None:
        for replica in self.replicas:
            if owner == replica.name or re.match(re.escape(replica.name) + r"\b", owner):
                return replica
        return None

    def start_all(self) -> None:
        for replica in self.replicas:
            if not replica.alive():
                replica.start()
        for replica in self.replicas:
            replica.wait_ready()

    def calibrate_and_reference(self) -> None:
        """Picks the long training's epochs so that it runs ~TARGET_SECONDS in one
        process, and runs it there uninterrupted (memory mode: no --database-url)."""
        memory = Server("memory", free_port(), db=False)
        memory.start()
        try:
            memory.wait_ready()
            if os.environ.get("CLUSTER_LONG_EPOCHS"):
                self.epochs = int(os.environ["CLUSTER_LONG_EPOCHS"])
            else:
                probe_epochs = 200
                probe = wait_terminal(memory.url, submit(memory.url, long_request(probe_epochs)), 120)
                check(probe["status"] == "succeeded", f"calibration job: {json.dumps(probe)[:300]}")
                per_epoch_ms = max(probe["result"]["duration_ms"] / probe_epochs, 1e-3)
                self.epochs = max(300, min(1_000_000, int(TARGET_SECONDS * 1000 / per_epoch_ms) // 10 * 10))
                say(f"calibration: {per_epoch_ms:.3f} ms per epoch in memory mode -> {self.epochs} epochs")
            started = time.monotonic()
            done = wait_terminal(memory.url, submit(memory.url, long_request(self.epochs)), 300)
            check(done["status"] == "succeeded", f"reference job: {json.dumps(done)[:300]}")
            self.reference = done["result"]
            self.reference_hash = network_hash(done["result"]["network"])
            say(f"reference: {self.epochs} epochs in {time.monotonic() - started:.1f} s "
                f"(duration_ms {done['result']['duration_ms']:.0f}), loss {done['result']['loss']}, "
                f"network sha256 {self.reference_hash[:16]}…")
        finally:
            memory.stop()

    def wait_running(self, job_id: str, fraction: float, seconds: float = 90, want_checkpoint: bool = True) -> dict:
        """Waits until the job runs, has an owner, is `fraction` through its epochs and
        (if wanted) has a checkpoint, or is past twice that fraction. Returns its row."""
        deadline = time.monotonic() + seconds
        row: dict = {}
        snapshot: dict | None = None
        while time.monotonic() < deadline:
            row = job_row(job_id)
            snapshot = job(NGINX, job_id) or snapshot
            if row["state"] in TERMINAL:
                raise RuntimeError(f"job {job_id} ended ({row['state']}) before it could be interrupted "
                                   f"(raise CLUSTER_TARGET_SECONDS); {json.dumps(snapshot)[:200]}")
            progress = (snapshot or {}).get("progress") or {}
            done = progress.get("epoch", 0) / max(1, progress.get("epochs", 1))
            if row["state"] == "running" and row["owner"] and done >= fraction and (
                    row["checkpoint"] or not want_checkpoint or done >= 2 * fraction):
                row["progress"] = done
                return row
            time.sleep(0.2)
        raise RuntimeError(f"job {job_id} did not reach {fraction:.0%} running within {seconds:.0f} s: "
                           f"row {row}, last snapshot {json.dumps(snapshot)[:300]}")

    def follow_handover(self, job_id: str, old_owner: str, seconds: float) -> tuple[dict, float | None, list[str], list[str]]:
        """After the owner went away: polls until the job ends; returns the final snapshot,
        the seconds until another replica held its lease, the states and the owners seen."""
        started = time.monotonic()
        deadline = started + seconds
        taken = None
        states: list[str] = []
        owners: list[str] = []
        while time.monotonic() < deadline:
            try:
                row = job_row(job_id)
            except RuntimeError:
                row = None
            if row:
                if not states or states[-1] != row["state"]:
                    states.append(row["state"])
                if row["owner"] and (not owners or owners[-1] != row["owner"]):
                    owners.append(row["owner"])
                if taken is None and row["owner"] and row["owner"] != old_owner and row["state"] == "running":
                    taken = time.monotonic() - started
                if row["state"] in TERMINAL:
                    snapshot = job(NGINX, job_id)
                    if snapshot and snapshot.get("status") in TERMINAL:
                        return snapshot, taken, states, owners
            time.sleep(0.2)
        raise RuntimeError(f"job {job_id} did not end within {seconds:.0f} s after its owner went away; "
                           f"states seen {states}")


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- cases

def case_kill(cluster: Cluster, shared: dict) -> str:
    """1. kill -9 of the owner of a running job: it finishes elsewhere, bit-identical."""
    check(cluster.reference is not None, "no reference run")
    job_id = submit(NGINX, long_request(cluster.epochs))
    # Case 2's readers: three streams through nginx opened one after another, so that
    # round robin gives (at least) one to each replica, and so one to the owner.
    readers = []
    for _ in range(3):
        reader = EventReader(NGINX, job_id)
        reader.start()
        reader.opened.wait(10)
        readers.append(reader)
    shared["readers"] = readers
    row = cluster.wait_running(job_id, 0.3)
    owner = cluster.by_owner(row["owner"])
    check(owner is not None, f"lease_owner {row['owner']!r} is none of the replicas")
    say(f"job {job_id} runs on {owner.name} ({row['progress']:.0%}, checkpoint: {row['checkpoint']}, "
        f"attempt {row['attempt']}): kill -9 {owner.process.pid}")
    owner.signal(signal.SIGKILL)
    owner.wait_exit(10)
    snapshot, taken, states, owners = cluster.follow_handover(job_id, owner.name, 180)
    final = job_row(job_id)
    say(f"restarting {owner.name}")
    owner.start()
    owner.wait_ready()
    check(snapshot["status"] == "succeeded", f"job ended {snapshot['status']}: {json.dumps(snapshot)[:400]}")
    got = network_hash(snapshot["result"]["network"])
    check(taken is not None or final["attempt"] > row["attempt"],
          f"no other replica was seen taking the job over (states {states}, row {final})")
    check(got == cluster.reference_hash,
          f"network sha256 {got} != uninterrupted {cluster.reference_hash} (loss {snapshot['result']['loss']} "
          f"vs {cluster.reference['loss']})")
    return (f"job {job_id} ({cluster.epochs} epochs) killed on {owner.name} at {row['progress']:.0%} "
            f"(checkpoint stored: {row['checkpoint']}), taken over after "
            f"{'%.1f s' % taken if taken is not None else '?'}, finished on {'/'.join(o for o in owners if o != owner.name) or '?'} "
            f"(attempt {final['attempt']}), network sha256 {got[:16]}… = uninterrupted run")


def case_stream(cluster: Cluster, shared: dict) -> str:
    """2. The event streams read through nginx across case 1's kill."""
    readers: list[EventReader] = shared.get("readers") or []
    check(readers, "case 1 opened no streams")
    for reader in readers:
        reader.join(60)
    report = []
    problems = []
    for number, reader in enumerate(readers, 1):
        found = reader.problems()
        if reader.is_alive():
            found.append("still reading after 60 s")
        if reader.events and reader.events[-1][1] == "done":
            try:
                streamed = network_hash(json.loads(reader.events[-1][2])["network"])
                if streamed != cluster.reference_hash:
                    found.append(f"the done event's network sha256 {streamed[:16]}… is not the uninterrupted one")
            except (ValueError, KeyError) as error:
                found.append(f"done event without a network: {error!r}")
        report.append(f"stream {number}: {len(reader.events)} events, {reader.connections} connection(s)"
                      + (f" resumed after ids {reader.resumes}" if reader.resumes else ""))
        problems += [f"stream {number}: {problem}" for problem in found]
    check(not problems, "; ".join(problems) + " [" + "; ".join(report) + "]")
    check(any(reader.resumes for reader in readers),
          "no stream dropped at the kill (none was served by the killed replica?): " + "; ".join(report))
    return "; ".join(report) + ": ids 1..N without gaps or repeats, epochs increasing, ending with done"


def case_cancel(cluster: Cluster, shared: dict) -> str:
    """3. DELETE through a replica that does not own the running job."""
    job_id = submit(NGINX, long_request(max(cluster.epochs, 300) * 3, seed=3))
    row = cluster.wait_running(job_id, 0.02, want_checkpoint=False)
    owner = cluster.by_owner(row["owner"])
    check(owner is not None, f"lease_owner {row['owner']!r} is none of the replicas")
    other = next(replica for replica in cluster.replicas if replica is not owner)
    started = time.monotonic()
    reply = call("DELETE", other.url, f"/train/jobs/{job_id}")
    check(200 <= reply.status < 300, f"DELETE via {other.name}: {reply!r}")
    seen = None
    elapsed = None
    while time.monotonic() - started < 3:
        snapshot = job(other.url, job_id)
        if snapshot:
            seen = snapshot.get("status")
            if seen in TERMINAL:
                elapsed = time.monotonic() - started
                break
        time.sleep(0.05)
    check(seen == "cancelled", f"after DELETE via {other.name} (owner {owner.name}) the job is {seen!r}, "
          f"DELETE answered {reply!r}")
    check(elapsed is not None and elapsed <= 1.0, f"cancelled only after {elapsed:.2f} s")
    time.sleep(1.5)
    later = job(NGINX, job_id) or {}
    final = job_row(job_id)
    check(later.get("status") == "cancelled" and final["state"] == "cancelled",
          f"1.5 s later: GET says {later.get('status')!r}, the row says {final['state']!r}")
    return (f"job {job_id} on {owner.name}, DELETE via {other.name} answered {reply.status}; "
            f"GET cancelled after {elapsed:.2f} s, still cancelled 1.5 s later")


def case_idempotency(cluster: Cluster, shared: dict) -> str:
    """4. Same Idempotency-Key: same body → same job; other body → 422."""
    r1, r2, r3 = cluster.replicas
    body = json.dumps(short_request(seed=41, epochs=500)).encode()
    key = f"cluster-{RUN}-idem-1"
    first = call("POST", r1.url, "/train/jobs", body, {"Idempotency-Key": key})
    check(first.status == 202, f"first POST via r1: {first!r}")
    again = call("POST", r2.url, "/train/jobs", body, {"Idempotency-Key": key})
    check(200 <= again.status < 300, f"same key, same body via r2: {again!r}")
    check(again.json()["id"] == first.json()["id"],
          f"same key, same body: ids {first.json()['id']} (r1) and {again.json()['id']} (r2)")
    other = json.dumps(short_request(seed=41, epochs=501)).encode()
    conflict = call("POST", r3.url, "/train/jobs", other, {"Idempotency-Key": key})
    check(conflict.status == 422, f"same key, another body via r3: {conflict!r}")
    # Two at once through two replicas: one job.
    key2 = f"cluster-{RUN}-idem-2"
    body2 = json.dumps(short_request(seed=42, epochs=500)).encode()
    with futures.ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda replica: call("POST", replica.url, "/train/jobs", body2,
                                                     {"Idempotency-Key": key2}), (r2, r3)))
    check(all(200 <= reply.status < 300 for reply in replies), f"concurrent same key: {replies}")
    ids = {reply.json()["id"] for reply in replies}
    check(len(ids) == 1, f"concurrent same key via r2 and r3: ids {ids}")
    count = psql(f"SELECT count(*) FROM jobs WHERE idempotency_key IN ('{key}', '{key2}')")[0][0]
    check(count == "2", f"{count} rows hold the two keys")
    for job_id in (first.json()["id"], ids.pop()):
        done = wait_terminal(NGINX, job_id, 60)
        check(done["status"] == "succeeded", f"job {job_id}: {done['status']}")
    return (f"same key + body via r1, r2 -> one id ({first.status}, {again.status}); other body via r3 -> 422 "
            f"({conflict.headers.get('content-type')}); concurrent via r2 and r3 -> one id "
            f"({replies[0].status}, {replies[1].status})")


def case_sigterm(cluster: Cluster, shared: dict) -> str:
    """5. SIGTERM to the owner (--shutdown-grace 1): handed over, bit-identical."""
    check(cluster.reference is not None, "no reference run")
    job_id = submit(NGINX, long_request(cluster.epochs))
    row = cluster.wait_running(job_id, 0.3)
    owner = cluster.by_owner(row["owner"])
    check(owner is not None, f"lease_owner {row['owner']!r} is none of the replicas")
    say(f"job {job_id} runs on {owner.name} ({row['progress']:.0%}): SIGTERM {owner.process.pid}")
    exit_seen: list[float] = []
    process = owner.process
    sent = time.monotonic()
    owner.signal(signal.SIGTERM)

    def watch_exit() -> None:
        try:
            process.wait(timeout=60)
            exit_seen.append(time.monotonic() - sent)
        except subprocess.TimeoutExpired:
            pass

    watcher = threading.Thread(target=watch_exit, daemon=True)
    watcher.start()
    snapshot, taken, states, owners = cluster.follow_handover(job_id, owner.name, 180)
    code = owner.wait_exit(30)
    watcher.join(5)
    exited = exit_seen[0] if exit_seen else float("nan")
    final = job_row(job_id)
    say(f"restarting {owner.name}")
    if code is None:
        owner.stop()
    owner.start()
    owner.wait_ready()
    check(code is not None, f"{owner.name} still running 30 s after SIGTERM")
    check("cancelled" not in states, f"the job was cancelled on the way (states {states})")
    check(snapshot["status"] == "succeeded", f"job ended {snapshot['status']}: {json.dumps(snapshot)[:400]}")
    check(taken is not None, f"no other replica was seen taking the job over (states {states}, row {final})")
    got = network_hash(snapshot["result"]["network"])
    check(got == cluster.reference_hash,
          f"network sha256 {got} != uninterrupted {cluster.reference_hash} (loss {snapshot['result']['loss']} "
          f"vs {cluster.reference['loss']})")
    return (f"job {job_id} on {owner.name} at {row['progress']:.0%}: SIGTERM; {owner.name} exited {code} "
            f"(within {exited:.1f} s of the signal), another replica held the job after {taken:.1f} s, "
            f"finished on {'/'.join(o for o in owners if o != owner.name) or '?'} (attempt {final['attempt']}), "
            f"network sha256 = uninterrupted run")


def case_many(cluster: Cluster, shared: dict) -> str:
    """6. 200 short jobs through nginx: all succeed, each ran exactly once."""
    count = SHORT_JOBS
    marks = {replica.name: os.path.getsize(replica.log_path) for replica in cluster.replicas}
    bodies = [json.dumps(short_request(seed=1000 + i, epochs=200)).encode() for i in range(count)]
    started = time.monotonic()
    with futures.ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda i: submit(NGINX, bodies[i], key=f"cluster-{RUN}-many-{i}"), range(count)))
    check(len(set(ids)) == count, f"{len(set(ids))} distinct ids for {count} jobs")
    submitted = time.monotonic() - started
    listed = sql_ids(ids)
    deadline = time.monotonic() + 240
    finished = 0
    while time.monotonic() < deadline:
        finished = int(psql(f"SELECT count(*) FROM jobs WHERE id IN ({listed}) "
                            f"AND state IN ('succeeded', 'failed', 'cancelled')")[0][0])
        if finished == count:
            break
        time.sleep(0.3)
    check(finished == count, f"only {finished} of {count} jobs ended within 240 s")
    elapsed = time.monotonic() - started
    with futures.ThreadPoolExecutor(8) as pool:
        snapshots = list(pool.map(lambda job_id: job(NGINX, job_id), ids))
    bad = [(job_id, (snapshot or {}).get("status")) for job_id, snapshot in zip(ids, snapshots)
           if not snapshot or snapshot.get("status") != "succeeded" or "result" not in snapshot]
    check(not bad, f"{len(bad)} jobs not succeeded via GET: {bad[:5]}")
    attempts = psql(f"SELECT attempt, count(*) FROM jobs WHERE id IN ({listed}) GROUP BY attempt ORDER BY attempt")
    check(attempts == [["1", str(count)]], f"attempts (attempt, jobs): {attempts}")
    done = dict(psql(f"SELECT job_id, count(*) FROM job_events WHERE job_id IN ({listed}) AND kind = 'done' "
                     f"GROUP BY job_id"))
    wrong = [(job_id, done.get(job_id, "0")) for job_id in ids if done.get(job_id) != "1"]
    check(not wrong, f"{len(wrong)} jobs without exactly one done event: {wrong[:5]}")
    # Who ran them, from the replicas' "claimed job" log lines (informational).
    wanted = set(ids)
    claims: dict[str, int] = {}
    claimed: dict[str, int] = {}
    for replica in cluster.replicas:
        with open(replica.log_path, "rb") as log:
            log.seek(marks[replica.name])
            for line in log.read().decode(errors="replace").splitlines():
                found = re.search(r"job=([A-Za-z0-9_-]+).*claimed job", line)
                if found and found.group(1) in wanted:
                    claims[replica.name] = claims.get(replica.name, 0) + 1
                    claimed[found.group(1)] = claimed.get(found.group(1), 0) + 1
    twice = [job_id for job_id, number in claimed.items() if number > 1]
    check(not twice, f"{len(twice)} jobs claimed more than once (replica logs): {twice[:5]}")
    return (f"{count} jobs submitted in {submitted:.1f} s, all succeeded within {elapsed:.1f} s; attempt = 1 and "
            f"one done event each; claimed (replica logs): "
            f"{', '.join(f'{n} {c}' for n, c in sorted(claims.items())) or 'no claim lines'}"
            f"{f', {count - len(claimed)} jobs without a claim line' if claims and len(claimed) != count else ''}")


class Record:
    """One request of case 7: what, its status (None: no answer), Retry-After, error, when, how long."""

    def __init__(self, what: str, reply: Reply | None, error: str, started: float, seconds: float):
        self.what, self.error, self.started, self.seconds = what, error, started, seconds
        self.status = reply.status if reply else None
        self.retry_after = bool(reply and "retry-after" in reply.headers)

    def __repr__(self) -> str:
        return f"({self.what} -> {self.status or self.error} at +{self.started:.1f} s, {self.seconds:.2f} s)"


def case_postgres_restart(cluster: Cluster, shared: dict) -> str:
    """7. PostgreSQL restarted under load: no 500, no job lost, ready again."""
    records: list[Record] = []
    lock = threading.Lock()
    origin = time.monotonic()
    medium_epochs = max(100, cluster.epochs // 15) if cluster.epochs else 600
    medium = {}  # job id -> its request, for the bit-identity check of rescued jobs
    accepted: list[str] = []
    unaccepted: dict[str, bytes] = {}  # Idempotency-Key -> body of a POST that got no 202 (yet)

    def timed(what: str, method: str, path: str, body=None, headers=None) -> Reply | None:
        began = time.monotonic()
        reply, error = None, ""
        try:
            reply = call(method, NGINX, path, body, headers, timeout=60)
        except (OSError, http.client.HTTPException) as failure:
            error = repr(failure)
        with lock:
            records.append(Record(what, reply, error, began - origin, time.monotonic() - began))
        return reply

    def post_job(key: str, body: bytes) -> str | None:
        reply = timed("POST /train/jobs", "POST", "/train/jobs", body, {"Idempotency-Key": key})
        if reply is not None and reply.status in (200, 201, 202):
            job_id = reply.json()["id"]
            with lock:
                accepted.append(job_id)
                unaccepted.pop(key, None)
            return job_id
        with lock:
            unaccepted[key] = body
        return None

    # Jobs that run through the outage: 24 of ~1/15 of the long training each.
    for i in range(24):
        body = json.dumps(long_request(medium_epochs, seed=700 + i)).encode()
        key = f"cluster-{RUN}-pg-{i}"
        for _ in range(40):
            job_id = post_job(key, body)
            if job_id:
                medium[job_id] = body
                break
            time.sleep(0.3)
    check(len(medium) == 24, f"only {len(medium)} of 24 jobs accepted before the restart: {records[-3:]}")

    stop = threading.Event()
    counter = [0]

    def load(worker: int) -> None:
        rng = random.Random(worker)
        deadline = time.monotonic() + 90
        while not stop.is_set() and time.monotonic() < deadline:
            choice = rng.randrange(6)
            if choice == 0:
                with lock:
                    job_id = rng.choice(accepted)
                timed("GET /train/jobs/{id}", "GET", f"/train/jobs/{job_id}")
            elif choice == 1:
                with lock:
                    counter[0] += 1
                    number = counter[0]
                post_job(f"cluster-{RUN}-pgload-{number}",
                         json.dumps(short_request(seed=5000 + number, epochs=300)).encode())
            elif choice == 2:
                timed("GET /train/jobs", "GET", "/train/jobs")
            elif choice == 3:
                timed("POST /forward", "POST", "/forward", FORWARD)
            elif choice == 4:
                timed("POST /gradient", "POST", "/gradient", GRADIENT)
            else:
                timed("GET /health/ready", "GET", "/health/ready")
            time.sleep(0.02)

    # Each replica's /health/ready, directly, every 0.25 s until all are 200 again.
    readiness: dict[str, list[tuple[float, int | None]]] = {replica.name: [] for replica in cluster.replicas}
    back_at = [None]

    def monitor() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            for replica in cluster.replicas:
                try:
                    status = call("GET", replica.url, "/health/ready", timeout=2).status
                except (OSError, http.client.HTTPException):
                    status = None
                readiness[replica.name].append((time.monotonic() - origin, status))
            if back_at[0] is not None and time.monotonic() - origin > back_at[0] + 1 and all(
                    samples and samples[-1][1] == 200 for samples in readiness.values()):
                return
            if back_at[0] is not None and time.monotonic() - origin > back_at[0] + 30:
                return
            time.sleep(0.25)

    workers = [threading.Thread(target=load, args=(n,), daemon=True) for n in range(4)]
    watcher = threading.Thread(target=monitor, daemon=True)
    for thread in workers + [watcher]:
        thread.start()
    time.sleep(1.5)
    in_flight = psql("SELECT state, count(*) FROM jobs WHERE state IN ('queued', 'running') GROUP BY 1 ORDER BY 1")
    say(f"restart_postgres ({PG_DOWN_SECONDS:g} s down); jobs now: {in_flight}")
    down_at = time.monotonic() - origin
    restart_postgres(PG_DOWN_SECONDS)
    back_at[0] = time.monotonic() - origin
    say(f"PostgreSQL back after {back_at[0] - down_at:.1f} s")
    time.sleep(5)
    stop.set()
    for thread in workers:
        thread.join(90)
    watcher.join(60)

    # Refused submissions: retried with their key now (a 503 must not have made a job twice).
    for key, body in list(unaccepted.items()):
        for _ in range(20):
            if post_job(key, body):
                break
            time.sleep(0.5)
    # Every accepted job ends, succeeded.
    outcomes: dict[str, str] = {}
    pending = list(dict.fromkeys(accepted))
    deadline = time.monotonic() + 180
    while pending and time.monotonic() < deadline:
        still = []
        for job_id in pending:
            reply = timed("GET /train/jobs/{id} (after)", "GET", f"/train/jobs/{job_id}")
            if reply is not None and reply.status == 200 and reply.json()["status"] in TERMINAL:
                outcomes[job_id] = reply.json()["status"]
            else:
                still.append(job_id)
        pending = still
        if pending:
            time.sleep(0.5)

    # What the clients saw.
    def summary(chosen: list[Record]) -> str:
        counts: dict[str, dict] = {}
        slowest: dict[str, float] = {}
        for record in chosen:
            key = str(record.status or "no answer")
            counts.setdefault(record.what, {})[key] = counts.setdefault(record.what, {}).get(key, 0) + 1
            slowest[record.what] = max(slowest.get(record.what, 0), record.seconds)
        return "; ".join(f"{what}: {counts[what]} (slowest {slowest[what]:.2f} s)" for what in sorted(counts))

    outage = [r for r in records if r.started < back_at[0] and r.started + r.seconds > down_at]
    say(f"requests overlapping the outage (+{down_at:.1f}..+{back_at[0]:.1f} s): {summary(outage) or 'none'}")
    problems = []
    server_errors = [r for r in records if r.status is not None and r.status >= 500 and r.status != 503]
    if server_errors:
        problems.append(f"{len(server_errors)} 5xx other than 503: {server_errors[:5]}")
    # Job routes promise Retry-After with a 503; the readiness probe only its 503.
    no_retry_after = [r for r in records if r.status == 503 and not r.retry_after and r.what != "GET /health/ready"]
    if no_retry_after:
        problems.append(f"{len(no_retry_after)} 503 without Retry-After: {no_retry_after[:3]}")
    broken = [r for r in records if r.status is None]
    if broken:
        problems.append(f"{len(broken)} requests without an answer: {broken[:3]} {broken[0].error}")
    compute = [r for r in records if r.what in ("POST /forward", "POST /gradient") and r.status != 200]
    if compute:
        problems.append(f"{len(compute)} /forward or /gradient not 200: {compute[:3]}")
    if unaccepted:
        problems.append(f"{len(unaccepted)} submissions never accepted, even after the outage")
    if pending:
        problems.append(f"{len(pending)} of {len(set(accepted))} accepted jobs not ended within 180 s: {pending[:5]}")
    not_succeeded = {job_id: status for job_id, status in outcomes.items() if status != "succeeded"}
    if not_succeeded:
        problems.append(f"jobs not succeeded: {list(not_succeeded.items())[:5]}")
    ready_again = {}
    for name, samples in readiness.items():
        after = [(t, status) for t, status in samples if t >= back_at[0]]
        bad = [t for t, status in after if status != 200]
        if not after or after[-1][1] != 200:
            problems.append(f"{name}: /health/ready not 200 within 30 s of PostgreSQL being back "
                            f"(last samples {after[-3:]})")
        else:
            ready_again[name] = (max(bad) + 0.25 - back_at[0]) if bad else 0.0
    # When each replica said it was not ready, in seconds from the moment PostgreSQL went down.
    not_ready = {}
    for name, samples in readiness.items():
        spans, begun, previous = [], None, None
        for t, status in samples:
            if status != 200 and begun is None:
                begun = t
            if status == 200 and begun is not None:
                spans.append(f"{begun - down_at:+.1f}..{previous - down_at:+.1f}")
                begun = None
            previous = t
        if begun is not None:
            spans.append(f"{begun - down_at:+.1f}..")
        not_ready[name] = ", ".join(spans) or "never"
    check(not problems, "; ".join(problems) + f" [during the outage: {summary(outage)}]")

    # Jobs rescued after losing their lease in the outage end with the uninterrupted bits.
    rows = psql(f"SELECT id, attempt FROM jobs WHERE id IN ({sql_ids(set(accepted))})")
    attempts: dict[int, int] = {}
    for _, attempt in rows:
        attempts[int(attempt)] = attempts.get(int(attempt), 0) + 1
    rescued = [job_id for job_id, attempt in rows if int(attempt) > 1 and job_id in medium][:8]
    if rescued:
        memory = Server("memory", free_port(), db=False)
        memory.start()
        try:
            memory.wait_ready()
            for job_id in rescued:
                expected = wait_terminal(memory.url, submit(memory.url, medium[job_id]), 120)
                got = job(NGINX, job_id) or {}
                check(network_hash(got["result"]["network"]) == network_hash(expected["result"]["network"]),
                      f"job {job_id}, rescued after the outage, ended with another network than an "
                      f"uninterrupted run (loss {got['result']['loss']} vs {expected['result']['loss']})")
        finally:
            memory.stop()
    return (f"{len(records)} requests through nginx; overlapping the {back_at[0] - down_at:.1f} s outage: {summary(outage) or 'none'}; "
            f"every 503 with Retry-After; {len(set(accepted))} accepted jobs all succeeded (attempts: "
            f"{', '.join(f'{a}x{n}' for a, n in sorted(attempts.items()))}; {len(rescued)} rescued jobs = "
            f"uninterrupted bits); PostgreSQL down +0.0..+{back_at[0] - down_at:.1f} s, /health/ready not 200 (s): "
            f"{'; '.join(f'{n} {v}' for n, v in not_ready.items())}; ready again "
            f"{', '.join(f'{n} {t:.1f} s' for n, t in ready_again.items())} after PostgreSQL was back")


def superuser_sql(sql: str) -> None:
    """One statement as PostgreSQL's superuser (.ci/postgres.sh's pg_superuser_psql)."""
    database = urllib.parse.urlparse(DB_URL).path.lstrip("/")
    done = subprocess.run(["bash", "-c", '. "$1/.ci/postgres.sh" && pg_superuser_psql "$2" -c "$3"', "bash", ROOT,
                           database, sql], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"superuser psql failed ({sql}): {done.stderr.strip()}")


def case_disk_full(cluster: Cluster, shared: dict) -> str:
    """8. The job tables' disk full: their tablespace on a 64 MiB tmpfs, filled by a
    file for DISK_FULL_SECONDS (12: four lease periods) while a long job runs and jobs
    are submitted. The job's writes are refused (SQLSTATE 53100); it keeps its lease
    while the heartbeats still renew it, else it is rescued from its checkpoint."""
    check(cluster.reference is not None, "no reference run")
    small = os.path.join(os.environ.get("PG_TMP", ""), "small")
    check(os.path.isdir(os.path.dirname(small)), "PG_TMP is not set (run .ci/cluster.sh)")
    os.makedirs(small, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=700", "tmpfs", small],
                             capture_output=True, text=True)
    check(mounted.returncode == 0, f"mount -t tmpfs failed (this case needs root): {mounted.stderr.strip()}")
    filler = os.path.join(small, "filler")
    moved = False
    try:
        if os.geteuid() == 0:
            shutil.chown(small, "postgres", "postgres")
        superuser_sql(f"CREATE TABLESPACE bp_small LOCATION '{small}'")
        superuser_sql("ALTER TABLE jobs SET TABLESPACE bp_small")
        moved = True
        superuser_sql("ALTER TABLE job_events SET TABLESPACE bp_small")

        job_id = submit(NGINX, long_request(cluster.epochs))
        row = cluster.wait_running(job_id, 0.2)
        with open(filler, "wb") as out:
            chunk = b"\0" * (1 << 20)
            try:
                for _ in range(128):
                    out.write(chunk)
                    out.flush()
            except OSError as error:
                check(error.errno == errno.ENOSPC, f"filling the tmpfs: {error!r}")
        say(f"job {job_id} runs on {row['owner']} ({row['progress']:.0%}, attempt {row['attempt']}); "
            f"the tablespace's tmpfs is full ({os.path.getsize(filler) >> 20} MiB of filler)")

        statuses: dict[str, dict[str, int]] = {}
        problems: list[str] = []
        accepted: list[str] = []

        def note(what: str, reply: Reply | None, allowed: tuple) -> None:
            key = "no answer" if reply is None else str(reply.status)
            statuses.setdefault(what, {}).setdefault(key, 0)
            statuses[what][key] += 1
            if reply is None or reply.status not in allowed:
                problems.append(f"{what}: {reply!r}")
            elif reply.status in (429, 503) and "retry-after" not in reply.headers:
                problems.append(f"{what}: {reply.status} without Retry-After")

        marks = log_marks()
        deadline = time.monotonic() + DISK_FULL_SECONDS
        number = 0
        while time.monotonic() < deadline and len(problems) < 5:
            number += 1
            try:
                reply = call("POST", NGINX, "/train/jobs", short_request(seed=9000 + number, epochs=200), timeout=30)
            except (OSError, http.client.HTTPException):
                reply = None
            note("POST /train/jobs", reply, (202, 429, 503))
            if reply is not None and reply.status == 202:
                accepted.append(reply.json()["id"])
            for what, method, path, body in (("GET /train/jobs/{id}", "GET", f"/train/jobs/{job_id}", None),
                                             ("POST /gradient", "POST", "/gradient", GRADIENT)):
                try:
                    reply = call(method, NGINX, path, body, timeout=30)
                except (OSError, http.client.HTTPException):
                    reply = None
                note(what, reply, (200, 503) if what.startswith("GET") else (200,))
            time.sleep(0.05)
        os.remove(filler)
        check(not problems, "; ".join(problems[:5]) + f" [{statuses}]")
        # The fault happened: PostgreSQL refused the replicas' writes for want of space.
        refused = sum(tail(path, 100000, marks.get(path, 0)).count("53100") for path in log_files()
                      if os.path.basename(path).startswith("r"))
        check(refused > 0, f"no replica logged SQLSTATE 53100 (disk full): the fault did not happen [{statuses}]")

        snapshot = wait_terminal(NGINX, job_id, 240)
        final = job_row(job_id)
        check(snapshot["status"] == "succeeded", f"the long job ended {snapshot['status']}: {json.dumps(snapshot)[:400]}")
        got = network_hash(snapshot["result"]["network"])
        check(got == cluster.reference_hash, f"the long job's network sha256 {got} != uninterrupted {cluster.reference_hash}")
        ended = {}
        for accepted_id in accepted:
            status = wait_terminal(NGINX, accepted_id, 120)["status"]
            ended[status] = ended.get(status, 0) + 1
        check(set(ended) <= {"succeeded"}, f"jobs accepted while the disk was full ended {ended}")
        return (f"{number} rounds in {DISK_FULL_SECONDS:.0f} s of a full disk ({refused} writes refused with 53100 in the replicas' "
                f"logs): {statuses}, every 429 and 503 with Retry-After; the running job "
                f"finished (attempt {final['attempt']}) with the uninterrupted network ({got[:16]}…); "
                f"the {len(accepted)} jobs accepted meanwhile all succeeded")
    finally:
        if os.path.exists(filler):
            os.remove(filler)
        if moved:
            for table in ("jobs", "job_events"):
                try:
                    superuser_sql(f"ALTER TABLE {table} SET TABLESPACE pg_default")
                except Exception as error:
                    print(f"cluster.py: moving {table} back: {error}", flush=True)
        try:
            superuser_sql("DROP TABLESPACE IF EXISTS bp_small")
        except Exception as error:
            print(f"cluster.py: dropping the tablespace: {error}", flush=True)
        subprocess.run(["umount", small], capture_output=True)


def main() -> int:
    for name, value in (("BACKPROP_BIN", BIN), ("BACKPROP_TEST_DATABASE_URL", DB_URL),
                        ("CLUSTER_NGINX_URL", NGINX)):
        if not value:
            print(f"cluster.py: {name} is not set (run .ci/cluster.sh)", file=sys.stderr)
            return 2
    if len(PORTS) != 3:
        print("cluster.py: CLUSTER_REPLICA_PORTS must name three ports", file=sys.stderr)
        return 2
    os.makedirs(LOG_DIR, exist_ok=True)
    results = Results()
    cluster = Cluster()
    shared: dict = {}
    cases = [
        (1, "kill -9 of the owner of a running job: finished elsewhere, same network as one process", case_kill),
        (2, "event stream through nginx across the kill, resumed with Last-Event-ID", case_stream),
        (3, "DELETE via a replica that does not own the running job: cancelled within 1 s", case_cancel),
        (4, "Idempotency-Key across replicas: same body -> same job, other body -> 422", case_idempotency),
        (5, "SIGTERM to the owner (--shutdown-grace 1): handed over, same network as one process", case_sigterm),
        (6, f"{SHORT_JOBS} short jobs through nginx: all succeed, each ran exactly once", case_many),
        (7, "PostgreSQL restarted under load: no 500, no job lost, ready again", case_postgres_restart),
        (8, "the job tables' disk full: no 500, the running job and every accepted one finish", case_disk_full),
    ]
    setup_error = None
    try:
        if any(number in CASES for number in (1, 2, 5, 7, 8)):
            say("memory-mode server: calibration and the uninterrupted reference run")
            cluster.calibrate_and_reference()
        say(f"starting replicas r1 r2 r3 on ports {PORTS} behind nginx at {NGINX}")
        cluster.start_all()
    except Exception as error:
        setup_error = f"setup failed: {error}"
        print(setup_error, flush=True)
        traceback.print_exc()
    for number, title, body in cases:
        if number not in CASES:
            continue
        if setup_error:
            results.failed += 1
            results.line(f"FAIL {number}: {title}: not run, {setup_error.splitlines()[0]}")
            continue
        results.run(number, title, lambda body=body: body(cluster, shared))
        # The next case needs three live replicas.
        for replica in cluster.replicas:
            if not replica.alive():
                say(f"{replica.name} is down after case {number}: restarting it")
                try:
                    replica.start()
                    replica.wait_ready()
                except Exception as error:
                    print(f"cluster.py: could not restart {replica.name}: {error}", flush=True)
    _stop_all()
    print(f"{results.passed} passed, {results.failed} failed", flush=True)
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
