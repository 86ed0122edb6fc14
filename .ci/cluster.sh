#!/usr/bin/env bash
# Three replicas sharing a PostgreSQL job store, behind nginx (Tests/Cluster/cluster.py):
#
#   1. kill -9 of the replica that owns a running job: the job finishes on another one,
#      with the same network (SHA-256 of its doubles) as one uninterrupted process;
#   2. an event stream read through nginx across that kill, resumed with Last-Event-ID:
#      ids 1..N without gaps or repeats, epochs increasing, ending with done;
#   3. DELETE through a replica that does not own the running job: cancelled within 1 s;
#   4. Idempotency-Key across replicas: same body -> same job, another body -> 422;
#   5. SIGTERM to the owner (--shutdown-grace 1): handed over, same network;
#   6. 200 short jobs through nginx: all succeed, each ran once (attempt 1, one done event);
#   7. PostgreSQL stopped for 5 s under load: no 500 (503 with Retry-After allowed), no job
#      lost (rescued ones end with the uninterrupted bits), every replica ready again;
#   8. the job tables' disk full for 12 s (their tablespace on a 64 MiB tmpfs, filled: so
#      this script needs root, as CI is): no 500, the running job ends with the
#      uninterrupted bits, every job accepted meanwhile succeeds.
#
# Starts PostgreSQL (.ci/postgres.sh; apt-get installs it if missing), nginx
# (.ci/nginx.sh; likewise) on free 127.0.0.1 ports; cluster.py starts the replicas
# (`--database-url`, `--replica-id r1|r2|r3`, `--lease-seconds 3 --heartbeat-seconds 1
# --checkpoint-seconds 1 --shutdown-grace 1`) and a memory-mode server for the
# reference run. The trap stops everything this script started. About 70 s (2 cores)
# after the release build. The last line is `N passed, M failed`; non-zero exit on any failure.
#
# Knobs (environment):
#   CLUSTER_SKIP_BUILD=1     use the already built release binary
#   CLUSTER_SCRATCH_PATH     swift build --scratch-path (unset: .build)
#   CLUSTER_LOG_DIR          server, nginx and PostgreSQL logs (.build-cluster-logs)
#   CLUSTER_TIMEOUT          seconds the suite may take (540)
#   CLUSTER_CASES, CLUSTER_TARGET_SECONDS, CLUSTER_LONG_EPOCHS, CLUSTER_SHORT_JOBS,
#   CLUSTER_PG_DOWN_SECONDS, CLUSTER_DISK_FULL_SECONDS: cluster.py's (its docstring)
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
log() { printf '\n== cluster: %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }

build_flags=(-c release)
if [[ -n ${CLUSTER_SCRATCH_PATH:-} ]]; then
    build_flags+=(--scratch-path "$CLUSTER_SCRATCH_PATH")
fi
if [[ ${CLUSTER_SKIP_BUILD:-0} != 1 ]]; then
    log "swift build ${build_flags[*]} --product backprop"
    swift build "${build_flags[@]}" --product backprop
fi
BACKPROP_BIN=$(swift build "${build_flags[@]}" --show-bin-path)/backprop
export BACKPROP_BIN
[[ -x $BACKPROP_BIN ]] || { echo "cluster: no server binary at $BACKPROP_BIN" >&2; exit 1; }

LOG_DIR=${CLUSTER_LOG_DIR:-.build-cluster-logs}
mkdir -p "$LOG_DIR"
rm -rf "${LOG_DIR:?}"/*.log "$LOG_DIR/nginx" "$LOG_DIR/servers.pids" "$LOG_DIR/results.txt"
LOG_DIR=$(cd "$LOG_DIR" && pwd)

# shellcheck source=.ci/lib.sh
. .ci/lib.sh
# shellcheck source=.ci/postgres.sh
. .ci/postgres.sh
# shellcheck source=.ci/nginx.sh
. .ci/nginx.sh

# cluster.py stops its servers on exit; it also writes their pids here, so that if it
# is killed they are stopped by pid (checked to be this binary), never by name.
export CLUSTER_PID_FILE=$LOG_DIR/servers.pids
: >"$CLUSTER_PID_FILE"
export PG_LOG_COPY=$LOG_DIR/postgres.log
export NGINX_LOG_COPY_DIR=$LOG_DIR/nginx
suite_pid=
cleanup() {
    if [[ -n $suite_pid ]] && kill -0 "$suite_pid" 2>/dev/null; then
        kill -TERM "$suite_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$suite_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$suite_pid" 2>/dev/null || true
    fi
    local bin pid
    bin=$(readlink -f "$BACKPROP_BIN")
    while read -r pid; do
        [[ -n $pid ]] || continue
        if [[ $(readlink -f "/proc/$pid/exe" 2>/dev/null) == "$bin" ]]; then
            kill -TERM "$pid" 2>/dev/null || true
            sleep 0.5
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done <"$CLUSTER_PID_FILE"
    stop_nginx
    stop_postgres
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "PostgreSQL"
start_postgres
echo "PostgreSQL ${PG_BIN%/bin} on 127.0.0.1:$PG_PORT, data in $PG_DATA"

ports=()
for _ in 1 2 3; do
    ports+=("$(free_port)")
done
log "nginx"
start_nginx "$(free_port)" "${ports[@]}"
echo "nginx at $NGINX_URL -> 127.0.0.1:{${ports[0]},${ports[1]},${ports[2]}}"

export CLUSTER_NGINX_URL=$NGINX_URL
export CLUSTER_REPLICA_PORTS="${ports[*]}"
export CLUSTER_LOG_DIR=$LOG_DIR
CLUSTER_REPO_ROOT=$(pwd)
export CLUSTER_REPO_ROOT

log "cases (Tests/Cluster/cluster.py; logs in $LOG_DIR)"
limit=${CLUSTER_TIMEOUT:-540}
export CLUSTER_RESULTS_FILE=$LOG_DIR/results.txt
: >"$CLUSTER_RESULTS_FILE"
set +e
timeout -k 10 "$limit" "${PY:-python3}" -u Tests/Cluster/cluster.py &
suite_pid=$!
wait "$suite_pid"
status=$?
suite_pid=
set -e
if ((status == 124 || status == 137)); then
    # Killed before its closing line: count what it reported, and the rest as one failure.
    echo "cluster: the suite did not finish within $limit s (exit $status)"
    echo "$(grep -c '^PASS' "$CLUSTER_RESULTS_FILE") passed, $(($(grep -c '^FAIL' "$CLUSTER_RESULTS_FILE") + 1)) failed"
fi
exit "$status"
