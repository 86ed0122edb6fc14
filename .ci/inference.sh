#!/usr/bin/env bash
# The Open Inference Protocol routes (/v2) against clients that nobody here wrote,
# from PyPI: tritonclient[http]'s InferenceServerClient and the kserve SDK's
# InferenceRESTClient (Tests/Inference/test_clients.py, pytest). Each infers on a
# stored network, in JSON and with binary tensor data, and compares the outputs with
# /forward's on the same network exactly (bitwise for FP64).
#
#   1. a venv with pinned tritonclient[http], kserve, numpy and pytest;
#   2. the server (debug build) on 127.0.0.1 on a free port;
#   3. pytest on Tests/Inference; a skipped test fails the run, as one that fails.
#
# Knobs (environment):
#   INFERENCE_VENV         the venv folder                  (.build-inference-venv)
#   INFERENCE_SKIP_BUILD=1 use the already built debug server
#   CI_PREPARE_ONLY=1      only the venv, then exit (.ci/prepare.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib.sh  # free_port, stop_server, wait_for_health

readonly VENV=${INFERENCE_VENV:-.build-inference-venv}
# Versions known to work together with Python 3.11.
readonly PIP_PACKAGES=('tritonclient[http]==2.73.0' kserve==0.21.0 pytest==9.2.0)

started=$(date +%s)
log() { printf '\n== inference: %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }
fail() { echo "inference: $*" >&2; exit 1; }

log "python venv in $VENV"
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV" || fail "python3 -m venv failed; install python3-venv"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PIP_PACKAGES[@]}" \
    || fail "pip could not install ${PIP_PACKAGES[*]}"
PY=$VENV/bin/python
[[ ${CI_PREPARE_ONLY:-0} == 1 ]] && { log "prepared"; exit 0; }

if [[ ${INFERENCE_SKIP_BUILD:-0} != 1 ]]; then
    log "swift build --product backprop (debug)"
    swift build --product backprop
fi
BIN=$(swift build --show-bin-path)/backprop
[[ -x $BIN ]] || fail "no server binary at $BIN"

PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
LOG=$(mktemp)
trap 'stop_server; rm -f "$LOG"' EXIT
trap 'exit 130' INT TERM
log "start $BIN on $BASE"
env -u BACKPROP_API_KEY -u BACKPROP_DATABASE_URL "$BIN" --host 127.0.0.1 --port "$PORT" --log-level warning \
    >"$LOG" 2>&1 &
server_pid=$!
wait_for_health "$BASE" inference

log "pytest Tests/Inference"
status=0
INFERENCE_BASE_URL=$BASE "$PY" -m pytest -p no:cacheprovider -rs -v Tests/Inference | tee "$LOG.pytest" || status=$?
if grep -qE '[0-9]+ skipped' "$LOG.pytest"; then
    echo "inference: a test was skipped: the suite must run whole" >&2
    status=1
fi
rm -f "$LOG.pytest"
if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "inference: the server died during the run; its log:" >&2
    tail -n 50 "$LOG" >&2 || true
    status=1
fi
log "done, status $status"
exit "$status"
