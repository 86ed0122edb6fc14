#!/usr/bin/env bash
# Reliability suites against live servers built from this tree (Tests/Reliability/):
#
#   1. hostile.py             malformed, oversized and absurd requests: each gets its
#                             documented 4xx, and GET /health answers after each;
#   2. slowloris.py           300 slow-header connections do not stop a normal client;
#                             idle connections close after --idle-timeout;
#   3. soak.py                60 s at 64 connections mixing /forward, /gradient, /train:
#                             no errors, no 5xx, bit-identical answers, bounded RSS;
#   4. shutdown_under_load.py SIGTERM under load: accepted requests answered in full,
#                             new connections refused cleanly, exit code 0;
#   5. memory.py              with --memory-budget 512 MiB, four attacks (300 huge
#                             uploads, 100 slow readers of ~19 MB answers, 200 jobs with
#                             1M-parameter results, 100 stalled event streams), one
#                             fresh server each: peak RSS under budget + 150 MiB, no
#                             5xx but 503 with Retry-After, /health within 250 ms and
#                             a normal client's /gradient all 200 (p99 < 100 ms).
#
# Each suite starts its own server (127.0.0.1, a free port) and stops it; the trap
# below kills any that is left. Python 3 standard library only. About 6 minutes after
# the build (memory.py alone about 2.5). Exits non-zero if any suite failed; the last line is `N passed, M failed`
# summed over the suites.
#
# Knobs (environment):
#   RELIABILITY_SCRATCH_PATH  swift build --scratch-path (unset: .build)
#   RELIABILITY_SKIP_BUILD=1  use the already built binary
#   RELIABILITY_SOAK_SECONDS  soak duration (60)
#   RELIABILITY_LOG_DIR       server logs and suite outputs (.build-reliability-logs)
#   RELIABILITY_ONLY          a space-separated subset: "hostile slowloris soak shutdown memory"
#   MEMORY_*                  memory.py's own knobs (counts, durations; see its docstring)
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
log() { printf '\n== reliability: %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }

build_flags=(-c release)
product_flags=(--product backprop)  # only the server: the suites need nothing else
if [[ -n ${RELIABILITY_SCRATCH_PATH:-} ]]; then
    build_flags+=(--scratch-path "$RELIABILITY_SCRATCH_PATH")
fi
if [[ ${RELIABILITY_SKIP_BUILD:-0} != 1 ]]; then
    log "swift build ${build_flags[*]} ${product_flags[*]}"
    swift build "${build_flags[@]}" "${product_flags[@]}"
fi
BACKPROP_BIN=$(swift build "${build_flags[@]}" --show-bin-path)/backprop
export BACKPROP_BIN
[[ -x $BACKPROP_BIN ]] || { echo "reliability: no server binary at $BACKPROP_BIN" >&2; exit 1; }

LOG_DIR=${RELIABILITY_LOG_DIR:-.build-reliability-logs}
mkdir -p "$LOG_DIR"
SOAK_SECONDS=${RELIABILITY_SOAK_SECONDS:-60}
ONLY=${RELIABILITY_ONLY:-hostile slowloris soak shutdown memory}

# Every server is a child of a python suite, which stops it on exit. Each suite also
# writes its servers' pids to $RELIABILITY_PID_FILE, so that if a suite is killed,
# its server is stopped here by pid (checked to be this binary), never by name.
export RELIABILITY_PID_FILE=$LOG_DIR/servers.pids
: >"$RELIABILITY_PID_FILE"
suite_pid=
cleanup() {
    if [[ -n $suite_pid ]] && kill -0 "$suite_pid" 2>/dev/null; then
        kill -TERM "$suite_pid" 2>/dev/null || true
        sleep 1
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
    done <"$RELIABILITY_PID_FILE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

total_passed=0
total_failed=0
failed_suites=()

# run NAME TIMEOUT_SECONDS SCRIPT ARGS...
run() {
    local name=$1 limit=$2 script=$3
    shift 3
    [[ " $ONLY " == *" $name "* ]] || return 0
    log "$name: python3 Tests/Reliability/$script $*"
    local out=$LOG_DIR/$name.out status=0
    rm -f "$LOG_DIR/$name-server.log"
    timeout --signal=TERM --kill-after=20 "$limit" \
        python3 -u "Tests/Reliability/$script" --log "$LOG_DIR/$name-server.log" "$@" >"$out" 2>&1 &
    suite_pid=$!
    wait "$suite_pid" || status=$?
    suite_pid=
    cat "$out"
    local line passed failed
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1 || true)
    if [[ -n $line ]]; then
        passed=${line%% passed*}
        failed=${line#*, }
        failed=${failed%% failed*}
    else
        passed=0
        failed=1
        echo "reliability: $name printed no result line (exit status $status)"
    fi
    if [[ $status != 0 && $failed == 0 ]]; then
        failed=1
        echo "reliability: $name exited with $status"
    fi
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
    if [[ $failed != 0 ]]; then
        failed_suites+=("$name")
        if [[ -s $LOG_DIR/$name-server.log ]]; then
            echo "reliability: the last lines of the $name server's log:"
            tail -n 20 "$LOG_DIR/$name-server.log"
        fi
    fi
}

run hostile 240 hostile.py
run slowloris 150 slowloris.py --connections 300 --duration 20 --idle-timeout 5
run soak $((SOAK_SECONDS + 120)) soak.py --duration "$SOAK_SECONDS" --connections 64
run shutdown 120 shutdown_under_load.py --connections 32
run memory 480 memory.py

log "done"
if ((${#failed_suites[@]})); then
    echo "reliability: failing suites: ${failed_suites[*]}"
fi
echo "$total_passed passed, $total_failed failed"
((total_failed == 0))
