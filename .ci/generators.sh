#!/usr/bin/env bash
# The spec against the client generators that integrators use (issue 13): each must
# generate from openapi.yaml with no warning and no error, and the generated Python
# client must then call every operation against a live server, the seed's figures
# exact.
#
#   1. a venv with pinned openapi-python-client and datamodel-code-generator;
#   2. openapi-python-client generate (no post hooks, so no ruff; application/yaml is
#      read as text, which is what it is), failing on any line beyond "Generating";
#   3. datamodel-codegen on the spec, failing on any output at all (warnings included);
#   4. swift-openapi-generator 1.14.3 (.ci/generate-client.sh --check): cloned (from
#      /opt/swift-packages offline, as git's url.insteadOf says, or from GitHub), its
#      CLI built in debug once per clone, then types and client generated with
#      .ci/swift-openapi-generator.yaml, failing on any line that says warning or
#      error, and failing if the output differs from the BackpropClient library's
#      committed Sources/BackpropClient/Generated (regenerate: bash .ci/generate-client.sh);
#   5. the server (debug build) on 127.0.0.1 on a free port, and .ci/generated_client.py
#      driving the generated Python client against it.
#
# Knobs (environment):
#   GENERATORS_DIR         where the venv, the generator's clone and the output go (.build-generators)
#   GENERATORS_SKIP_BUILD=1  use the already built debug server
#   CI_PREPARE_ONLY=1        only the venv, then exit (.ci/prepare.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib.sh  # free_port, stop_server, wait_for_health

readonly SPEC=Sources/BackpropServer/Resources/openapi.yaml
readonly DIR=${GENERATORS_DIR:-.build-generators}
readonly VENV=$DIR/venv
readonly PIP_PACKAGES=(openapi-python-client==0.29.1 datamodel-code-generator==0.89.0)

started=$(date +%s)
log() { printf '\n== generators: %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }
fail() { echo "generators: $*" >&2; exit 1; }
mkdir -p "$DIR"

# Fails, showing the output, if it has a line the caller did not allow ($2: an ERE of
# allowed lines; every other line counts as a warning).
only_allowed_lines() {
    local output=$1 allowed=$2 extra
    extra=$(grep -v -E "$allowed" <<<"$output" || true)
    if [[ -n $extra ]]; then
        echo "$output" >&2
        fail "unexpected output (a warning or an error):"$'\n'"$extra"
    fi
}

log "python venv in $VENV"
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PIP_PACKAGES[@]}"
PY=$VENV/bin/python
[[ ${CI_PREPARE_ONLY:-0} == 1 ]] && { log "prepared"; exit 0; }

log "openapi-python-client"
rm -rf "$DIR/python-client"
cat >"$DIR/openapi-python-client.yaml" <<'EOF'
post_hooks: []
content_type_overrides:
  application/yaml: text/plain
EOF
output=$("$VENV/bin/openapi-python-client" generate --path "$SPEC" --output-path "$DIR/python-client" \
    --config "$DIR/openapi-python-client.yaml" 2>&1) || { echo "$output" >&2; fail "openapi-python-client failed"; }
only_allowed_lines "$output" '^Generating '
echo "$output"

log "datamodel-codegen"
output=$("$VENV/bin/datamodel-codegen" --input "$SPEC" --input-file-type openapi --formatters builtin \
    --output "$DIR/models.py" 2>&1) || { echo "$output" >&2; fail "datamodel-codegen failed"; }
only_allowed_lines "$output" '^$'
"$PY" -c "import ast, sys; ast.parse(open(sys.argv[1]).read())" "$DIR/models.py"
echo "models.py: $(grep -c '^class ' "$DIR/models.py") classes"

log "swift-openapi-generator 1.14.3, and Sources/BackpropClient/Generated up to date"
GENERATORS_DIR=$DIR bash .ci/generate-client.sh --check

if [[ ${GENERATORS_SKIP_BUILD:-0} != 1 ]]; then
    log "swift build --product backprop (debug)"
    swift build --product backprop
fi
BIN=$(swift build --show-bin-path)/backprop
[[ -x $BIN ]] || fail "no server binary at $BIN"
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
trap stop_server EXIT
trap 'exit 130' INT TERM
log "the generated Python client against $BASE"
env -u BACKPROP_API_KEY -u BACKPROP_DATABASE_URL "$BIN" --host 127.0.0.1 --port "$PORT" --log-level warning \
    >"$DIR/server.log" 2>&1 &
server_pid=$!
wait_for_health "$BASE" generators
timeout 300 "$PY" .ci/generated_client.py "$DIR/python-client" "$BASE"
kill -0 "$server_pid" 2>/dev/null || fail "the server died during the run"
stop_server
log "done"
