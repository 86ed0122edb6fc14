#!/usr/bin/env bash
# BackpropClient's generated code (issue 13): swift-openapi-generator 1.14.3 on
# openapi.yaml, types and client, with .ci/swift-openapi-generator.yaml. The output is
# committed in Sources/BackpropClient/Generated, so no build of the package runs the
# generator (the swift-protobuf practice); this script makes it, and checks it.
#
#   bash .ci/generate-client.sh           regenerate Sources/BackpropClient/Generated
#   bash .ci/generate-client.sh --check   generate into $GENERATORS_DIR/swift-client and
#                                         fail if it differs from the committed files
#
# Either way it fails on any warning or error from the generator. The generator is
# cloned (from /opt/swift-packages offline, as git's url.insteadOf says, or from
# GitHub) and its CLI built in debug once per clone, in $GENERATORS_DIR
# (.build-generators; about 4 minutes on 2 cores the first time).
set -euo pipefail
cd "$(dirname "$0")/.."

readonly SPEC=Sources/BackpropServer/Resources/openapi.yaml
readonly CONFIG=.ci/swift-openapi-generator.yaml
readonly COMMITTED=Sources/BackpropClient/Generated
readonly DIR=${GENERATORS_DIR:-.build-generators}
readonly SOG_VERSION=1.14.3
readonly SOG=$DIR/swift-openapi-generator-$SOG_VERSION

fail() { echo "generate-client: $*" >&2; exit 1; }

check=0
case ${1:-} in
    --check) check=1 ;;
    "") ;;
    *) fail "unknown argument $1 (usage: generate-client.sh [--check])" ;;
esac

mkdir -p "$DIR"
if [[ ! -d $SOG/.git ]]; then
    rm -rf "$SOG"
    git -c advice.detachedHead=false clone --quiet --branch "$SOG_VERSION" \
        https://github.com/apple/swift-openapi-generator.git "$SOG"
fi
SOG_BIN=$SOG/.build/debug/swift-openapi-generator
if [[ ! -x $SOG_BIN ]]; then
    build_started=$(date +%s)
    (cd "$SOG" && swift build --product swift-openapi-generator)
    echo "swift-openapi-generator built in $(($(date +%s) - build_started)) s"
fi

out=$DIR/swift-client
rm -rf "$out" && mkdir -p "$out"
output=$("$SOG_BIN" generate --config "$CONFIG" --output-directory "$out" "$SPEC" 2>&1) \
    || { echo "$output" >&2; fail "swift-openapi-generator failed"; }
# Its configuration lines can run into a diagnostic without a line break, so look
# for the words anywhere.
if grep -i -E 'warning|error' <<<"$output" >&2; then
    fail "swift-openapi-generator printed a warning or an error"
fi
echo "generated: $(cd "$out" && ls | tr '\n' ' ')"

if [[ $check == 1 ]]; then
    if ! diff -r "$out" "$COMMITTED"; then
        fail "$COMMITTED is not what swift-openapi-generator $SOG_VERSION makes of $SPEC;" \
            "regenerate it with: bash .ci/generate-client.sh"
    fi
    echo "$COMMITTED is up to date"
else
    rm -rf "$COMMITTED" && mkdir -p "$COMMITTED"
    cp "$out"/*.swift "$COMMITTED"/
    echo "wrote $COMMITTED"
fi
