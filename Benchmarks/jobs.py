#!/usr/bin/env python3
"""The job store, in memory beside PostgreSQL, in one run (Python 3 standard library only).

1. Tiny jobs per second: N XOR 2-4-1 jobs of one epoch, submitted by C client threads
   over keep-alive connections; jobs/s = N / (first submit .. last job seen terminal).
   Memory (one server), PostgreSQL with one replica, and with two (submissions
   alternating between them).
2. Progress-event latency from the replica that runs a job to a stream on the other
   one: two PostgreSQL replicas with --compute-threads 1, a ~10 s job of 1,000 epochs
   submitted to A, its events streamed from A and from B at once; afterwards the
   owner (jobs.lease_owner) is read from the table, and each progress event's
   latency is its receive time on the client minus job_events.created_at.

It starts and stops the servers itself (on free ports on 127.0.0.1, their logs in a
temp dir); PostgreSQL must be running already (Benchmarks/jobs.sh starts a throw-away
one). Every request loop is bounded in count and time.

    python3 Benchmarks/jobs.py --bin .build/release/backprop --database-url postgres://…
"""

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HOST = "127.0.0.1"

TINY_JOB = json.dumps({
    "network": {"inputs": 2, "layers": [{"units": 4}, {"units": 1}], "seed": 7},
    "inputs": [[0, 0], [0, 1], [1, 0], [1, 1]],
    "targets": [0, 1, 1, 0],
    "epochs": 1, "learning_rate": 2, "seed": 7,
}).encode()


class BenchError(Exception):
    pass


# --- processes ---------------------------------------------------------------------

SERVERS = []  # every server started, stopped at exit whatever happens


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, name, logdir, database_url=None, extra=()):
        self.name = name
        self.port = free_port()
        self.log_path = os.path.join(logdir, f"{name}.log")
        args = [binary, "--host", HOST, "--port", str(self.port), "--log-level", "warning",
                "--job-queue", "10000", "--jobs-kept", "100000", "--shutdown-grace", "1", *extra]
        env = dict(os.environ)
        env.pop("BACKPROP_DATABASE_URL", None)
        if database_url:
            # The variable rather than the flag: flags show in the process list.
            env["BACKPROP_DATABASE_URL"] = database_url
            args += ["--replica-id", name]
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                        stdin=subprocess.DEVNULL)
        SERVERS.append(self)

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.process.returncode}: {self.tail()}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/health/ready")
                response = conn.getresponse()
                response.read()
                if response.status == 404:  # a server from before /health/ready
                    conn.request("GET", "/health")
                    response = conn.getresponse()
                    response.read()
                conn.close()
                if response.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise BenchError(f"{self.name} not ready after {timeout} s: {self.tail()}")

    def tail(self, lines=20):
        try:
            with open(self.log_path, "rb") as f:
                return "\n".join(f.read().decode(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()
        if self in SERVERS:
            SERVERS.remove(self)

    def warnings(self):
        """Lines of the server's log (it runs at --log-level warning)."""
        try:
            with open(self.log_path, "rb") as f:
                return [line for line in f.read().decode(errors="replace").splitlines() if line.strip()]
        except OSError:
            return []


def stop_all():
    for server in list(SERVERS):
        try:
            server.stop()
        except Exception as error:  # keep stopping the others
            print(f"stopping {server.name}: {error}", file=sys.stderr)


def psql(url, sql, timeout=30):
    # The connection in libpq's variables, so that the password is not in the process list.
    parts = urllib.parse.urlsplit(url)
    env = dict(os.environ, PGHOST=parts.hostname or HOST, PGPORT=str(parts.port or 5432),
               PGUSER=urllib.parse.unquote(parts.username or ""), PGPASSWORD=urllib.parse.unquote(parts.password or ""),
               PGDATABASE=parts.path.lstrip("/"),
               PGSSLMODE=urllib.parse.parse_qs(parts.query).get("sslmode", ["prefer"])[0])
    done = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0:
        raise BenchError(f"psql failed: {done.stderr.strip()}")
    return [line.split("\t") for line in done.stdout.splitlines() if line]


def fresh_database(base_url, name):
    """A new, empty database next to the one in base_url (the user may CREATEDB)."""
    psql(base_url, f"DROP DATABASE IF EXISTS {name}")
    psql(base_url, f"CREATE DATABASE {name}")
    parts = urllib.parse.urlsplit(base_url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


# --- HTTP --------------------------------------------------------------------------

class Client:
    """A keep-alive connection to one server; reconnects once on a dropped connection."""

    def __init__(self, port, timeout=30):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status, dict(response.getheaders()), data
            except (http.client.HTTPException, ConnectionError, socket.timeout):
                self.close()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


TERMINAL = {"succeeded", "failed", "cancelled"}


def tiny_jobs(servers, n, concurrency, deadline_s):
    """Submits n tiny jobs (job i to servers[i % len]) from `concurrency` threads and,
    once all are accepted, reads the job list until it shows every one terminal.
    Returns the figures.

    The list (every job kept) costs the server and the database, so it is not read
    while submitting, and then every 2% of the time elapsed so far (at least every
    5 ms): the end is known to about 2%, and the reads take little from the jobs."""
    lock = threading.Lock()
    next_index = [0]
    ids = []
    post_seconds = []
    counts = {"429": 0, "5xx": 0, "other": 0, "connection_errors": 0}
    errors = []
    first_submit = [None]
    start = time.monotonic()
    hard_deadline = start + deadline_s

    def worker():
        clients = [Client(server.port) for server in servers]
        try:
            while time.monotonic() < hard_deadline:
                with lock:
                    i = next_index[0]
                    if i >= n:
                        return
                    next_index[0] += 1
                    if first_submit[0] is None:
                        first_submit[0] = time.time()
                client = clients[i % len(clients)]
                for _ in range(50):  # bounded retries of a 429 or a 5xx
                    t0 = time.perf_counter()
                    try:
                        status, headers, data = client.request(
                            "POST", "/train/jobs", TINY_JOB, {"Content-Type": "application/json"})
                    except (OSError, http.client.HTTPException) as error:
                        with lock:
                            counts["connection_errors"] += 1
                            errors.append(f"POST: {error!r}")
                        time.sleep(0.1)
                        continue
                    elapsed = time.perf_counter() - t0
                    if status == 202:
                        with lock:
                            ids.append(json.loads(data)["id"])
                            post_seconds.append(elapsed)
                        break
                    with lock:
                        if status == 429:
                            counts["429"] += 1
                        elif status >= 500:
                            counts["5xx"] += 1
                            errors.append(f"POST {status}: {data[:200]!r}")
                        else:
                            counts["other"] += 1
                            errors.append(f"POST {status}: {data[:200]!r}")
                    if status not in (429,) and status < 500:
                        break
                    time.sleep(min(float(headers.get("Retry-After", "0.1") or 0.1), 1.0))
        finally:
            for client in clients:
                client.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()

    # The watcher: the job list (every job, without results) from the first server.
    for thread in threads:
        thread.join(timeout=max(0.0, hard_deadline - time.monotonic()))
    submitted_at = time.time()
    watcher = Client(servers[0].port, timeout=60)
    polls = 0
    list_errors = 0
    last_terminal = None
    statuses = {}
    try:
        while time.monotonic() < hard_deadline and len(ids) == n:
            status, _, data = watcher.request("GET", "/train/jobs")
            seen_at = time.time()
            polls += 1
            if status != 200:
                list_errors += 1
                errors.append(f"GET /train/jobs {status}: {data[:200]!r}")
                time.sleep(0.1)
                continue
            listed = {job["id"]: job["status"] for job in json.loads(data)["jobs"]}
            statuses = {}
            for job_id in ids:
                statuses[listed.get(job_id, "missing")] = statuses.get(listed.get(job_id, "missing"), 0) + 1
            if all(listed.get(job_id) in TERMINAL for job_id in ids):
                last_terminal = seen_at
                break
            time.sleep(max(0.005, 0.02 * (time.time() - first_submit[0])))
    finally:
        watcher.close()
    for thread in threads:
        thread.join(timeout=5)
    if last_terminal is None:
        raise BenchError(f"not every job ended within {deadline_s} s: {len(ids)} of {n} accepted, "
                         f"statuses {statuses}, errors {errors[:5]}")
    seconds = last_terminal - first_submit[0]
    return {
        "jobs": n, "seconds": seconds, "jobs_per_s": n / seconds, "first_submit": first_submit[0], "ids": ids,
        "submit_seconds": submitted_at - first_submit[0],
        "post_p50_ms": percentile(post_seconds, 50) * 1e3, "post_p99_ms": percentile(post_seconds, 99) * 1e3,
        "statuses": statuses, "list_polls": polls, "list_errors": list_errors, **counts,
        "errors": errors[:10],
    }


# --- the latency job -----------------------------------------------------------------

def latency_body(samples, epochs=1000, seed=11):
    rng = random.Random(seed)
    inputs = [[round(rng.uniform(-1, 1), 6) for _ in range(8)] for _ in range(samples)]
    targets = [1.0 if sum(x) > 0 else 0.0 for x in inputs]
    return {
        "network": {"inputs": 8, "layers": [{"units": 32, "activation": "tanh"}, {"units": 32, "activation": "tanh"},
                                            {"units": 1}], "seed": seed},
        "inputs": inputs, "targets": targets, "epochs": epochs, "learning_rate": 0.1,
        "batch_size": 32, "seed": seed,
    }


def calibrate(port, target_epoch_s):
    """Samples for an epoch of about target_epoch_s, from a synchronous POST /train."""
    samples = 256
    client = Client(port, timeout=120)
    try:
        for _ in range(4):
            body = latency_body(samples, epochs=20)
            status, _, data = client.request("POST", "/train", json.dumps(body).encode(),
                                             {"Content-Type": "application/json"})
            if status != 200:
                raise BenchError(f"calibration POST /train: {status} {data[:300]!r}")
            per_epoch = json.loads(data)["duration_ms"] / 1e3 / 20
            scaled = int(samples * target_epoch_s / max(per_epoch, 1e-6))
            scaled = max(32, min(scaled, 65536))
            if abs(scaled - samples) <= samples * 0.1:
                return samples, per_epoch
            samples = scaled
        return samples, per_epoch
    finally:
        client.close()


class StreamReader(threading.Thread):
    """Reads GET /train/jobs/{id}/events, recording each event's receive time."""

    def __init__(self, port, job_id, deadline_s):
        super().__init__(daemon=True)
        self.port, self.job_id, self.deadline_s = port, job_id, deadline_s
        self.opened_at = None
        self.events = []  # (receive time, id, event, data)
        self.error = None
        self.ready = threading.Event()

    def run(self):
        conn = http.client.HTTPConnection(HOST, self.port, timeout=self.deadline_s)
        try:
            conn.request("GET", f"/train/jobs/{self.job_id}/events", headers={"Accept": "text/event-stream"})
            response = conn.getresponse()
            self.opened_at = time.time()
            self.ready.set()
            if response.status != 200:
                self.error = f"status {response.status}: {response.read()[:200]!r}"
                return
            end = time.monotonic() + self.deadline_s
            event = {}
            while time.monotonic() < end:
                line = response.readline()
                if not line:
                    break
                now = time.time()
                line = line.decode().rstrip("\r\n")
                if line == "":
                    if "event" in event:
                        self.events.append((now, int(event.get("id", "0")), event["event"], event.get("data", "")))
                        if event["event"] in ("done", "failed", "cancelled"):
                            return
                    elif "retry" in event:
                        self.error = "the stream ended with retry: (replica stopping)"
                        return
                    event = {}
                    continue
                key, _, value = line.partition(":")
                event[key] = value[1:] if value.startswith(" ") else value
            else:
                self.error = f"no terminal event within {self.deadline_s} s"
        except Exception as error:
            self.error = repr(error)
        finally:
            self.ready.set()
            conn.close()


def latency_run(binary, base_url, logdir, min_jobs, max_jobs, min_samples, target_epoch_s):
    url = fresh_database(base_url, f"bench_latency_{os.getpid()}")
    a = Server(binary, "bench-a", logdir, url, ["--compute-threads", "1"])
    b = Server(binary, "bench-b", logdir, url, ["--compute-threads", "1"])
    by_name = {a.name: a, b.name: b}
    a.wait_ready()
    b.wait_ready()
    samples, per_epoch = calibrate(a.port, target_epoch_s)
    body = json.dumps(latency_body(samples)).encode()
    results = {"samples_per_job": samples, "calibrated_epoch_ms": per_epoch * 1e3, "jobs": [],
               "remote": [], "local": [], "samples": [], "replayed": 0, "errors": []}
    client = Client(a.port)
    try:
        for _ in range(max_jobs):
            status, _, data = client.request("POST", "/train/jobs", body, {"Content-Type": "application/json"})
            if status != 202:
                raise BenchError(f"POST /train/jobs to A: {status} {data[:300]!r}")
            job_id = json.loads(data)["id"]
            readers = {name: StreamReader(server.port, job_id, 120) for name, server in by_name.items()}
            for reader in readers.values():
                reader.start()
            # The owner, while it runs (the lease is cleared when the job ends).
            owner = None
            for _ in range(200):
                state, lease_owner = psql(url, f"SELECT state, coalesce(lease_owner, '') FROM jobs WHERE id = '{job_id}'")[0]
                if state != "queued":
                    owner = lease_owner or None
                    break
                time.sleep(0.05)
            for reader in readers.values():
                reader.join(timeout=130)
            attempt, state, run_s = psql(url, f"SELECT attempt, state, extract(epoch from finished_at - started_at) "
                                              f"FROM jobs WHERE id = '{job_id}'")[0]
            if owner is None:
                raise BenchError(f"job {job_id}: could not read its owner while it ran (state {state})")
            if int(attempt) != 1:
                results["errors"].append(f"{job_id} ran {attempt} attempts: the owner may have changed")
            created = {int(seq): (kind, float(at)) for seq, kind, at in
                       psql(url, f"SELECT seq, kind, extract(epoch from created_at) FROM job_events "
                                 f"WHERE job_id = '{job_id}' ORDER BY seq")}
            job = {"id": job_id, "owner": owner, "attempt": int(attempt), "state": state,
                   "train_s": float(run_s or 0), "events_in_table": len(created)}
            for name, reader in readers.items():
                if reader.error:
                    results["errors"].append(f"{job_id} stream on {name}: {reader.error}")
                side = "local" if name == owner else "remote"
                count = 0
                for received, seq, kind, _ in reader.events:
                    if kind != "progress" or seq not in created:
                        continue
                    at = created[seq][1]
                    if at < reader.opened_at:  # written before the stream opened: a replay, not a live event
                        results["replayed"] += 1
                        continue
                    results[side].append(received - at)
                    results["samples"].append({"job": job_id, "seq": seq, "side": side, "created_at": at,
                                               "latency_ms": (received - at) * 1e3})
                    count += 1
                job[f"{side}_samples"] = count
            results["jobs"].append(job)
            if len(results["jobs"]) >= min_jobs and len(results["remote"]) >= min_samples:
                break
    finally:
        client.close()
        for server in (a, b):
            server.stop()
        results["server_log_lines"] = {s.name: s.warnings()[:20] for s in (a, b)}
    return results


# --- CPU accounting --------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid, children=False):
    """User + system seconds of a process (with its waited-for children's)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)
    return ticks / TICK


def postgres_cpu():
    """CPU seconds of the PostgreSQL server of $PG_DATA: the postmaster, its live
    backends and the ones that have exited. None if unknown."""
    try:
        with open(os.path.join(os.environ["PG_DATA"], "postmaster.pid")) as f:
            postmaster = int(f.readline())
    except (KeyError, OSError, ValueError):
        return None
    total = process_cpu(postmaster, children=True)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == postmaster:
                        total += process_cpu(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return total


def machine_cpu():
    """(busy, total) seconds of every core since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICK, sum(values[:8]) / TICK


class CPUWindow:
    """CPU used by the servers, PostgreSQL, this client and the whole machine meanwhile."""

    def __init__(self, servers):
        self.servers = servers
        self.start = self.snapshot()

    def snapshot(self):
        return {"servers": sum(process_cpu(s.process.pid) for s in self.servers), "postgres": postgres_cpu(),
                "client": sum(os.times()[:2]), "machine": machine_cpu(), "wall": time.monotonic()}

    def end(self):
        now = self.snapshot()
        wall = now["wall"] - self.start["wall"]
        busy = now["machine"][0] - self.start["machine"][0]
        total = now["machine"][1] - self.start["machine"][1]
        ours = {
            "servers_cpu_s": now["servers"] - self.start["servers"],
            "postgres_cpu_s": None if now["postgres"] is None else now["postgres"] - self.start["postgres"],
            "client_cpu_s": now["client"] - self.start["client"],
        }
        return {
            **ours,
            "others_cpu_s": busy - sum(v or 0 for v in ours.values()),  # other processes of the machine
            "machine_busy": busy / total if total else float("nan"),
            "window_s": wall,
        }


# --- main --------------------------------------------------------------------------

def cpu():
    model, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model == "unknown":
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return {"model": model, "cores": os.cpu_count(), "avx512f": "avx512f" in flags, "avx2": "avx2" in flags}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.environ.get("BACKPROP_BIN", ".build/release/backprop"))
    parser.add_argument("--database-url", default=os.environ.get("BACKPROP_TEST_DATABASE_URL"),
                        help="a PostgreSQL URL whose user may CREATEDB (default $BACKPROP_TEST_DATABASE_URL)")
    parser.add_argument("--jobs", type=int, default=1000, help="tiny jobs per store (default 1000)")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads submitting (default 16)")
    parser.add_argument("--deadline", type=float, default=300, help="seconds a throughput run may take")
    parser.add_argument("--latency-jobs", type=int, default=3, help="long jobs at least (default 3)")
    parser.add_argument("--latency-max-jobs", type=int, default=8)
    parser.add_argument("--latency-samples", type=int, default=100, help="remote samples at least (default 100)")
    parser.add_argument("--epoch-ms", type=float, default=10, help="target epoch time of the long job")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("no PostgreSQL: --database-url or BACKPROP_TEST_DATABASE_URL (bash Benchmarks/jobs.sh starts one)")
    if not os.access(args.bin, os.X_OK):
        parser.error(f"no server binary at {args.bin}")
    if shutil.which("psql") is None:
        parser.error("psql is needed")

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    logdir = tempfile.mkdtemp(prefix="backprop-jobs-bench.")
    out = {"cpu": cpu(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "jobs": args.jobs, "concurrency": args.concurrency, "logs": logdir}
    try:
        print(f"# {out['date']}; CPU: {out['cpu']['model']} ({out['cpu']['cores']} cores), "
              f"avx512f: {'yes' if out['cpu']['avx512f'] else 'no'}, avx2: {'yes' if out['cpu']['avx2'] else 'no'}")
        print(f"# {args.jobs} tiny jobs (XOR 2-4-1, 1 epoch) per store, {args.concurrency} client threads; "
              f"server logs in {logdir}", flush=True)

        runs = {}
        # Memory: one server.
        server = Server(args.bin, "memory", logdir)
        server.wait_ready()
        tiny_jobs([server], 32, 8, 60)  # warm-up, not counted
        window = CPUWindow([server])
        runs["memory"] = tiny_jobs([server], args.jobs, args.concurrency, args.deadline)
        runs["memory"]["cpu"] = window.end()
        runs["memory"]["log"] = server.warnings()[:10]
        del runs["memory"]["ids"]
        server.stop()
        print(f"memory:              {runs['memory']['jobs_per_s']:8.1f} jobs/s", flush=True)

        for replicas in (1, 2):
            key = f"postgres_{replicas}"
            url = fresh_database(args.database_url, f"bench_tiny{replicas}_{os.getpid()}")
            servers = [Server(args.bin, f"pg{replicas}-{chr(97 + i)}", logdir, url) for i in range(replicas)]
            for s in servers:
                s.wait_ready()
            tiny_jobs(servers, 32, 8, 60)  # warm-up, not counted
            window = CPUWindow(servers)
            runs[key] = tiny_jobs(servers, args.jobs, args.concurrency, args.deadline)
            runs[key]["cpu"] = window.end()
            # Cross-checks from the table: the last finished_at of the measured jobs, and the attempts.
            r = runs[key]
            id_list = ",".join(f"'{i}'" for i in r.pop("ids"))
            (last_finished, max_attempt, not_succeeded, events), = psql(
                url, f"SELECT extract(epoch from max(finished_at)), max(attempt), "
                     f"count(*) FILTER (WHERE state <> 'succeeded'), "
                     f"(SELECT count(*) FROM job_events WHERE job_id IN ({id_list})) FROM jobs WHERE id IN ({id_list})")
            r["db_events_per_job"] = int(events) / args.jobs
            r["db_seconds"] = float(last_finished) - r["first_submit"]
            r["max_attempt"] = int(max_attempt)
            r["db_not_succeeded"] = int(not_succeeded)
            runs[key]["log"] = [line for s in servers for line in s.warnings()[:10]]
            for s in servers:
                s.stop()
            print(f"postgres, {replicas} replica{'s' if replicas > 1 else ' '}: {runs[key]['jobs_per_s']:8.1f} jobs/s",
                  flush=True)
        out["tiny"] = runs

        latency = latency_run(args.bin, args.database_url, logdir, args.latency_jobs, args.latency_max_jobs,
                              args.latency_samples, args.epoch_ms / 1e3)
        out["latency"] = latency
    finally:
        stop_all()

    # --- the table ---
    memory = runs["memory"]["jobs_per_s"]
    print()
    print("## Tiny jobs per second (submit → every job terminal)")
    print()
    print("| store | jobs/s | seconds to all accepted / to all terminal (last finished_at in the table) | / memory | POST p50 / p99 | 429 / 5xx / conn. errors | statuses |")
    print("|---|---|---|---|---|---|---|")
    for key, label in (("memory", "memory, 1 server"), ("postgres_1", "PostgreSQL, 1 replica"),
                       ("postgres_2", "PostgreSQL, 2 replicas")):
        r = runs[key]
        db = f" (table: {r['db_seconds']:.2f})" if "db_seconds" in r else ""
        print(f"| {label} | {r['jobs_per_s']:.1f} | {r['submit_seconds']:.2f} / {r['seconds']:.2f}{db} | "
              f"{r['jobs_per_s'] / memory:.3f} | "
              f"{r['post_p50_ms']:.1f} / {r['post_p99_ms']:.1f} ms | {r['429']} / {r['5xx']} / "
              f"{r['connection_errors']} | {r['statuses']} |")
    print()
    print(f"CPU seconds in each run ({os.cpu_count()} cores; the machine's busy share includes anything else running):")
    print()
    print("| store | servers | PostgreSQL | client (this script) | everything else | machine busy |")
    print("|---|---|---|---|---|---|")
    for key, label in (("memory", "memory, 1 server"), ("postgres_1", "PostgreSQL, 1 replica"),
                       ("postgres_2", "PostgreSQL, 2 replicas")):
        c = runs[key]["cpu"]
        pg = "—" if key == "memory" or c["postgres_cpu_s"] is None else f"{c['postgres_cpu_s']:.2f}"
        print(f"| {label} | {c['servers_cpu_s']:.2f} | {pg} | {c['client_cpu_s']:.2f} | {c['others_cpu_s']:.2f} | "
              f"{c['machine_busy'] * 100:.0f}% "
              f"of {c['window_s']:.2f} s |")
    print()
    print("Per tiny job, the PostgreSQL store wrote " + ", ".join(
        f"{runs[key]['db_events_per_job']:.2f} events" for key in ("postgres_1", "postgres_2")) +
        " (1 replica, 2 replicas) to job_events, and its servers and PostgreSQL used " + ", ".join(
        f"{(runs[key]['cpu']['servers_cpu_s'] + (runs[key]['cpu']['postgres_cpu_s'] or 0)) / args.jobs * 1e3:.2f} ms"
        for key in ("postgres_1", "postgres_2")) +
        f" of CPU (in memory: {runs['memory']['cpu']['servers_cpu_s'] / args.jobs * 1e3:.2f} ms).")
    print()
    print("## Progress event latency, job_events.created_at → client receive (ms)")
    print()
    print("| stream on | samples | p50 | p99 | max |")
    print("|---|---|---|---|---|")
    for side, label in (("remote", "the other replica (not the owner)"), ("local", "the owner")):
        values = [v * 1e3 for v in latency[side]]
        print(f"| {label} | {len(values)} | {percentile(values, 50):.2f} | {percentile(values, 99):.2f} | "
              f"{max(values) if values else float('nan'):.2f} |")
    print()
    jobs = latency["jobs"]
    print(f"{len(jobs)} jobs of 1,000 epochs × {latency['samples_per_job']} samples (8-32-32-1, batch 32), "
          f"trained {', '.join('%.1f' % j['train_s'] for j in jobs)} s, owners "
          f"{', '.join(j['owner'] for j in jobs)}, attempts {', '.join(str(j['attempt']) for j in jobs)}; "
          f"{latency['replayed']} events written before a stream opened were left out. created_at is the "
          f"inserting transaction's start, so the latency is slightly over-stated (by the insert's own time).")
    problems = [e for key in runs for e in runs[key]["errors"]] + latency["errors"]
    logs = {key: runs[key]["log"] for key in runs if runs[key]["log"]}
    logs.update({k: v for k, v in latency["server_log_lines"].items() if v})
    if problems:
        print("errors: " + "; ".join(problems[:10]))
    if logs:
        print("server log lines (warning and above): " + json.dumps(logs)[:2000])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        stop_all()
        print(f"jobs.py: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        stop_all()
        sys.exit(130)
