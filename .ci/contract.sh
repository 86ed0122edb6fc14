#!/usr/bin/env bash
# The API contract check: the OpenAPI spec is valid, and the server built from this
# tree answers what the spec says.
#
#   1. a venv with pinned openapi-spec-validator and schemathesis;
#   2. openapi-spec-validator on the spec;
#   3. swift build -c release, then the server on 127.0.0.1 on a free port;
#   4. GET /openapi.yaml must serve the spec byte for byte (the bundled resource);
#   5. .ci/examples.py: every request example in the spec gets its paired response
#      example, exactly; .ci/readme.py: every curl example in the README prints what
#      the README shows (both say what they strip or skip, and why);
#   6. schemathesis against the server with a bounded number of examples, checking
#      that no request gets a 5xx, that every status code, content type, header and
#      body is the one the spec documents, that a wrong method is a 405 whose Allow
#      header lists the right ones, and that data the spec forbids is refused with a
#      4xx (negative_data_rejection: the spec's constraints are the server's).
#
# Bad input must be a 4xx, never a 500 (API.md). Many schema-valid bodies are a 422
# by design (mismatched shapes), so positive_data_acceptance is not checked.
#
# The spec describes event streams and GET /openapi.yaml as text (type: string), as
# generated clients read them; schemathesis would parse them (into events, into YAML)
# before validating, so the hooks hand it their text. The events' data is checked
# against its named schemas by .ci/generated_client.py.
#
# The server runs with a small synchronous training budget (--train-budget), so that
# no generated /train request can keep a compute thread for minutes: the contract is
# about shapes and statuses, and a 422 over the budget is one of them. Training jobs
# have no budget, so a schemathesis hook caps the epochs of the jobs it starts (and of
# streamed /train requests) at 100: a job of a billion epochs would hold a thread, and
# its event stream would stay open, for the rest of the run.
#
# schemathesis runs with one worker: with several, Hypothesis parses lambda sources in
# parallel threads, which CPython 3.11 cannot do safely ("SystemError: AST constructor
# recursion depth mismatch", python/cpython#106905).
#
# Run from anywhere; exits non-zero if anything failed. Knobs (environment):
#   CONTRACT_VENV          the venv folder               (.build-contract-venv)
#   CONTRACT_SCRATCH_PATH  swift build --scratch-path     (unset: .build)
#   CONTRACT_SKIP_BUILD=1  use the already built binary
#   CONTRACT_CONFIGURATION swift build -c                (release; .ci/run uses its debug build)
#   CI_PREPARE_ONLY=1      only the venv, then exit (.ci/prepare.sh)
#   CONTRACT_MAX_EXAMPLES  schemathesis examples per operation and phase (300)
#   CONTRACT_SEED          schemathesis seed, for reproducible runs (20261129)
#   CONTRACT_REPORT_DIR    where the JUnit report goes     (.build-contract-report)
#   CONTRACT_TRAIN_BUDGET  the server's --train-budget     (10000000)
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib.sh  # free_port, stop_server, wait_for_health

readonly SPEC=Sources/BackpropServer/Resources/openapi.yaml
readonly VENV=${CONTRACT_VENV:-.build-contract-venv}
readonly MAX_EXAMPLES=${CONTRACT_MAX_EXAMPLES:-300}
readonly SEED=${CONTRACT_SEED:-20261129}
readonly REPORT_DIR=${CONTRACT_REPORT_DIR:-.build-contract-report}
# Work units (epochs × samples × parameters) /train may do synchronously: seconds at most.
readonly TRAIN_BUDGET=${CONTRACT_TRAIN_BUDGET:-10000000}
# Versions known to work together with Python 3.11.
readonly PIP_PACKAGES=(openapi-spec-validator==0.9.0 schemathesis==4.32.5)

started=$(date +%s)
log() { printf '\n== contract: %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }

log "python venv in $VENV"
if [[ ! -x $VENV/bin/python ]]; then
    if ! python3 -m venv "$VENV"; then
        # Debian's python3 has no venv module until python3-venv is installed.
        rm -rf "$VENV"
        if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
            python3 -m venv "$VENV"
        else
            echo "contract: python3 -m venv failed; install python3-venv" >&2
            exit 1
        fi
    fi
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PIP_PACKAGES[@]}"
PY=$VENV/bin/python
echo "schemathesis $("$VENV/bin/st" --version | awk '{print $NF}'), openapi-spec-validator $("$PY" -m pip show openapi-spec-validator | awk '/^Version:/{print $2}')"
[[ ${CI_PREPARE_ONLY:-0} == 1 ]] && { log "prepared"; exit 0; }

log "validate $SPEC"
"$VENV/bin/openapi-spec-validator" "$SPEC"

build_flags=(-c "${CONTRACT_CONFIGURATION:-release}")
if [[ -n ${CONTRACT_SCRATCH_PATH:-} ]]; then
    build_flags+=(--scratch-path "$CONTRACT_SCRATCH_PATH")
fi
if [[ ${CONTRACT_SKIP_BUILD:-0} != 1 ]]; then
    # Only the server: the clients, benchmarks and fuzzer are not needed here.
    log "swift build ${build_flags[*]} --product backprop"
    swift build "${build_flags[@]}" --product backprop
fi
BIN=$(swift build "${build_flags[@]}" --show-bin-path)/backprop
[[ -x $BIN ]] || { echo "contract: no server binary at $BIN" >&2; exit 1; }

PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
mkdir -p "$REPORT_DIR"
REPORT_DIR_ABS=$(cd "$REPORT_DIR" && pwd)
rm -f "$REPORT_DIR/junit.xml"
SERVER_LOG=$REPORT_DIR/server.log
trap stop_server EXIT
trap 'exit 130' INT TERM

log "start $BIN on $BASE"
# Without an API key, whatever the environment says: the check covers the API itself.
env -u BACKPROP_API_KEY "$BIN" --host 127.0.0.1 --port "$PORT" --log-level warning \
    --train-budget "$TRAIN_BUDGET" >"$SERVER_LOG" 2>&1 &
server_pid=$!

# Waits for GET /health (up to 60 s), then checks the served spec is this one.
wait_for_health "$BASE" contract
"$PY" - "$BASE" "$SPEC" <<'EOF'
import sys, urllib.request
base, spec = sys.argv[1], sys.argv[2]
with urllib.request.urlopen(base + "/openapi.yaml", timeout=10) as response:
    served = response.read()
with open(spec, "rb") as file:
    if served != file.read():
        sys.exit("contract: GET /openapi.yaml does not serve " + spec + " (stale resource bundle?)")
print("the server is up and serves " + spec)
EOF

log "the spec's examples and the README's, against the live server"
"$PY" .ci/examples.py "$SPEC" "$BASE"
"$PY" .ci/readme.py README.md "$BASE"

# Hypothesis and schemathesis keep their caches in the report folder, not in the tree.
export HYPOTHESIS_STORAGE_DIRECTORY=$REPORT_DIR_ABS/hypothesis
printf '[cache]\ndirectory = "%s/cache"\n' "$REPORT_DIR_ABS" >"$REPORT_DIR/schemathesis.toml"
cat >"$REPORT_DIR/hooks.py" <<'EOF'
# Written by .ci/contract.sh: keeps the training jobs that schemathesis starts short.
import schemathesis

MAX_JOB_EPOCHS = 100


# The spec says these bodies are text (type: string); validate them as the text they
# are. Every YAML media type, or schemathesis's own YAML reader (registered first for
# the family) would still parse GET /openapi.yaml.
@schemathesis.deserializer(
    "text/event-stream", "application/yaml", "text/yaml", "text/x-yaml", "application/x-yaml", "text/vnd.yaml")
def as_text(ctx, response):
    return response.content.decode("utf-8")


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.method.upper() != "POST" or not isinstance(case.body, dict):
        return
    path = case.operation.path
    accept = {str(k).lower(): str(v) for k, v in (case.headers or {}).items()}.get("accept", "")
    if path == "/train/jobs" or (path == "/train" and "event-stream" in accept):
        epochs = case.body.get("epochs")
        if type(epochs) is int and epochs > MAX_JOB_EPOCHS:
            case.body["epochs"] = MAX_JOB_EPOCHS
EOF
export SCHEMATHESIS_HOOKS=$REPORT_DIR_ABS/hooks.py

CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,unsupported_method,allow_header_conformance,negative_data_rejection
st_command=(
    "$VENV/bin/st" --config-file "$REPORT_DIR/schemathesis.toml" run "$SPEC"
    --url "$BASE"
    --checks "$CHECKS"
    --phases examples,coverage,fuzzing
    --max-examples "$MAX_EXAMPLES"
    --seed "$SEED"
    --generation-database none
    --workers 1
    --request-timeout 60
    --suppress-health-check all
    --report junit --report-junit-path "$REPORT_DIR/junit.xml"
    --no-color
)
log "schemathesis: ${st_command[*]}"
st_status=0
"${st_command[@]}" || st_status=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "contract: the server died during the run; its log:" >&2
    tail -n 50 "$SERVER_LOG" >&2 || true
    st_status=1
fi
stop_server

# One closing line for CI, counted from the JUnit report.
"$PY" - "$REPORT_DIR/junit.xml" "$st_status" <<'EOF' || true
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    sys.exit(0)
cases = root.iter("testcase")
passed = failed = skipped = 0
for case in cases:
    if case.find("failure") is not None or case.find("error") is not None:
        failed += 1
    elif case.find("skipped") is not None:
        skipped += 1
    else:
        passed += 1
if sys.argv[2] != "0" and failed == 0:
    failed = 1
print(f"contract: {passed} passed, {failed} failed, {skipped} skipped")
EOF
log "done, schemathesis exit status $st_status"
exit "$st_status"
