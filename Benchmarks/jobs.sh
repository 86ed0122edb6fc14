#!/usr/bin/env bash
# The job store benchmark (Benchmarks/jobs.py): tiny jobs per second in memory and on
# PostgreSQL (one and two replicas), and the latency of progress events from the
# replica running a job to a stream on another one. Starts a throw-away PostgreSQL
# (.ci/postgres.sh) and stops it, and every server, on exit. Run on a quiet machine:
#
#   bash Benchmarks/jobs.sh                                # builds the release server first
#   BACKPROP_BIN=/path/to/backprop bash Benchmarks/jobs.sh # an existing release binary, no build
#   PG_SCRIPT=/elsewhere/postgres.sh bash Benchmarks/jobs.sh
#   bash Benchmarks/jobs.sh --jobs 1000 --concurrency 32   # arguments go to jobs.py (--help)
#
# Results go to stdout, .build-bench/jobs.txt and .build-bench/jobs.json.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build-bench
mkdir -p "$out"
exec > >(tee "$out/jobs.txt") 2>&1

pg_script=${PG_SCRIPT:-.ci/postgres.sh}
[[ -f $pg_script ]] || {
    echo "jobs.sh: no $pg_script; set PG_SCRIPT to a copy of .ci/postgres.sh" >&2
    exit 1
}
# shellcheck source=/dev/null
source "$pg_script"

if [[ -z ${BACKPROP_BIN:-} ]]; then
    swift build -c release --product backprop >/dev/null
    BACKPROP_BIN=$(swift build -c release --show-bin-path)/backprop
fi

py=
cleanup() {
    trap - EXIT INT TERM HUP
    if [[ -n $py ]]; then
        kill -TERM "$py" 2>/dev/null || true
        wait "$py" 2>/dev/null || true
    fi
    stop_postgres
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM HUP

start_postgres
echo "# git $(git rev-parse --short HEAD 2>/dev/null || echo '?'), server $BACKPROP_BIN, $(psql --version | head -1)"
# The URL (with its password) reaches jobs.py and the servers in the environment, not in argv.
python3 Benchmarks/jobs.py --bin "$BACKPROP_BIN" --json "$out/jobs.json" "$@" &
py=$!
rc=0
wait "$py" || rc=$?
py=
exit "$rc"
