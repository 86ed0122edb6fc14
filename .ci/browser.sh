#!/usr/bin/env bash
# The playground in a real browser: headless Chromium (Debian's chromium and
# chromium-driver) driven by Selenium from PyPI, against a live server.
#
#   1. apt-get install chromium chromium-driver (when missing, and when root);
#   2. a Python venv with a pinned selenium (Tests/Browser/requirements.txt);
#   3. swift build, then the server on 127.0.0.1 on a free port, until /health answers;
#   4. Tests/Browser/test_playground.py against it: the seed's gradient step and its
#      figures, XOR training with a falling loss curve, cancelling, the URL, keyboard
#      and phone width; screenshots go to .ci/artifacts/ (playground.png).
#
# Run from anywhere; exits non-zero if anything failed. Knobs (environment):
#   BROWSER_VENV          the venv folder                    (.build-browser-venv)
#   BROWSER_SCRATCH_PATH  swift build --scratch-path          (unset: .build)
#   BROWSER_SKIP_BUILD=1  use the already built binary
#   CI_PREPARE_ONLY=1     only Chromium and the venv, then exit (.ci/prepare.sh)
#   BROWSER_ARTIFACTS     where screenshots and the server log go (.ci/artifacts)
#   BROWSER_TESTS         run only the tests whose name contains this
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib.sh  # free_port, stop_server, wait_for_health

readonly VENV=${BROWSER_VENV:-.build-browser-venv}
readonly ARTIFACTS=${BROWSER_ARTIFACTS:-.ci/artifacts}

started=$(date +%s)
log() { printf '\n== browser: %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    log "apt-get install chromium chromium-driver"
    if [[ $(id -u) -ne 0 ]]; then
        echo "browser: chromium and chromedriver are missing, and only root can install them" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # Another step may hold the package lock (.ci/run prepares beside its builds): wait for it.
    apt-get -o DPkg::Lock::Timeout=900 update -q
    apt-get -o DPkg::Lock::Timeout=900 install -y -q chromium chromium-driver fonts-dejavu-core
fi
echo "$(chromium --version 2>/dev/null | head -n 1); $(chromedriver --version | head -n 1)"

log "python venv in $VENV"
if [[ ! -x $VENV/bin/python ]]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r Tests/Browser/requirements.txt
PY=$VENV/bin/python
echo "selenium $("$PY" -c 'import selenium; print(selenium.__version__)')"
[[ ${CI_PREPARE_ONLY:-0} == 1 ]] && { log "prepared"; exit 0; }

build_flags=()
if [[ -n ${BROWSER_SCRATCH_PATH:-} ]]; then
    build_flags+=(--scratch-path "$BROWSER_SCRATCH_PATH")
fi
if [[ ${BROWSER_SKIP_BUILD:-0} != 1 ]]; then
    log "swift build ${build_flags[*]}"
    swift build "${build_flags[@]}"
fi
BIN=$(swift build "${build_flags[@]}" --show-bin-path)/backprop
[[ -x $BIN ]] || { echo "browser: no server binary at $BIN" >&2; exit 1; }

PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
mkdir -p "$ARTIFACTS"
rm -f "$ARTIFACTS"/*.png
SERVER_LOG=$ARTIFACTS/server.log
trap stop_server EXIT
trap 'exit 130' INT TERM

log "start $BIN on $BASE"
"$BIN" --host 127.0.0.1 --port "$PORT" --log-level warning --shutdown-grace 1 >"$SERVER_LOG" 2>&1 &
server_pid=$!

wait_for_health "$BASE" browser
"$PY" - "$BASE" <<'EOF'
import sys, urllib.request
base = sys.argv[1]
with urllib.request.urlopen(base + "/", timeout=10) as response:
    if b"/playground/app.js" not in response.read():
        sys.exit("browser: GET / does not serve the playground (stale resource bundle?)")
print("the server is up and serves the playground")
EOF

log "Tests/Browser/test_playground.py against $BASE"
test_args=("$BASE" --artifacts "$ARTIFACTS")
if [[ -n ${BROWSER_TESTS:-} ]]; then
    test_args+=(-k "$BROWSER_TESTS")
fi
status=0
"$PY" Tests/Browser/test_playground.py "${test_args[@]}" || status=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "browser: the server died during the run; its log:" >&2
    tail -n 50 "$SERVER_LOG" >&2 || true
    status=1
fi
stop_server
log "done, exit status $status; screenshots in $ARTIFACTS"
exit "$status"
