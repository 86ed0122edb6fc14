#!/usr/bin/env bash
# The Open Inference Protocol benchmark (Benchmarks/inference.py): a 1000x784 FP64
# input to a stored 784-128-10 network, binary tensor data against JSON, side by side
# in one run. Run on a quiet machine:
#
#   bash Benchmarks/inference.sh                                 # builds the release server first
#   BACKPROP_BIN=/path/to/backprop bash Benchmarks/inference.sh  # an existing binary, no build
#   bash Benchmarks/inference.sh --rounds 50                     # arguments go to inference.py
#
# Needs numpy (a venv: BENCH_PYTHON=/path/to/python). Results go to stdout and
# .build-bench/inference.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib.sh  # free_port, stop_server, wait_for_health
out=.build-bench
mkdir -p "$out"
exec > >(tee "$out/inference.txt") 2>&1

if [[ -z ${BACKPROP_BIN:-} ]]; then
    swift build -c release --product backprop >/dev/null
    BACKPROP_BIN=$(swift build -c release --show-bin-path)/backprop
fi
PY=${BENCH_PYTHON:-python3}
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
trap stop_server EXIT
"$BACKPROP_BIN" --host 127.0.0.1 --port "$PORT" --log-level warning --max-body-size 64000000 &
server_pid=$!
wait_for_health "$BASE" inference-bench
echo "server: $BACKPROP_BIN; $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2}'), $(nproc) cores"
"$PY" Benchmarks/inference.py --base "$BASE" "$@"
