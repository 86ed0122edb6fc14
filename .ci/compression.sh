#!/usr/bin/env bash
# Compression against the live server, with curl as a client uses it:
#
#   1. curl --compressed on a small /forward answer (encoded whole) and on a large one
#      (about 4 MB, streamed): Content-Encoding: gzip, Vary: Accept-Encoding, and the
#      inflated bytes are exactly those of the plain answer (curl without --compressed);
#   2. a gzip request body (gzip(1)) and a deflate one (Python's zlib) give the plain
#      body's answer; Content-Encoding: br is a 415 with Accept-Encoding: gzip, deflate;
#      a corrupt gzip body is a 400 problem;
#   3. an event stream (POST /train, Accept: text/event-stream) is not compressed
#      even with --compressed.
#
# Run from anywhere; exits non-zero if anything failed. Knobs (environment):
#   COMPRESSION_SCRATCH_PATH  swift build --scratch-path   (unset: .build)
#   COMPRESSION_SKIP_BUILD=1  use the already built binary
#   COMPRESSION_CONFIGURATION swift build -c               (release)
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib.sh  # free_port, stop_server, wait_for_health

build_flags=(-c "${COMPRESSION_CONFIGURATION:-release}")
if [[ -n ${COMPRESSION_SCRATCH_PATH:-} ]]; then
    build_flags+=(--scratch-path "$COMPRESSION_SCRATCH_PATH")
fi
if [[ ${COMPRESSION_SKIP_BUILD:-0} != 1 ]]; then
    swift build "${build_flags[@]}"
fi
BIN=$(swift build "${build_flags[@]}" --show-bin-path)/backprop
[[ -x $BIN ]] || { echo "compression: no server binary at $BIN" >&2; exit 1; }

WORK=$(mktemp -d)
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
trap 'stop_server; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
"$BIN" --host 127.0.0.1 --port "$PORT" --log-level warning >"$WORK/server.log" 2>&1 &
server_pid=$!
wait_for_health "$BASE" compression

failures=0
fail() { echo "compression: FAIL $*" >&2; failures=$((failures + 1)); }
pass() { echo "compression: ok   $*"; }
# The value of header $2 in the dumped headers $1 (lower-cased, without CR).
header() { tr -d '\r' <"$1" | awk -v name="$2" 'tolower($0) ~ "^" name ":" { sub(/^[^:]*: */, ""); print tolower($0) }'; }

# 100 samples through a 1→units layer: 100 × units numbers of answer.
python3 - "$WORK" <<'PYTHON'
import json, sys, zlib
work = sys.argv[1]
for name, units in (("small", 10), ("large", 2000)):
    body = {"network": {"inputs": 1, "layers": [{"units": units}], "seed": 3}, "input": [[i / 100] for i in range(100)]}
    open(f"{work}/{name}.json", "w").write(json.dumps(body))
seed = ('{"network": {"layers": [{"weights": [0.5, -0.5, 0.3, 0.1]}]}, '
        '"input": [1, 2, 3, 4], "target": 0.5, "learning_rate": 0.5}')
open(f"{work}/seed.json", "w").write(seed)
open(f"{work}/seed.deflate", "wb").write(zlib.compress(seed.encode()))
PYTHON

for name in small large; do
    curl -sS -o "$WORK/$name.plain" -D "$WORK/$name.plain.headers" -H 'Content-Type: application/json' \
        --data-binary @"$WORK/$name.json" "$BASE/forward"
    curl -sS --compressed -o "$WORK/$name.inflated" -D "$WORK/$name.gzip.headers" -H 'Content-Type: application/json' \
        --data-binary @"$WORK/$name.json" "$BASE/forward"
    size=$(wc -c <"$WORK/$name.plain")
    if [[ $(header "$WORK/$name.gzip.headers" content-encoding) != gzip ]]; then
        fail "$name answer ($size bytes): no Content-Encoding: gzip with --compressed"
    elif ! cmp -s "$WORK/$name.plain" "$WORK/$name.inflated"; then
        fail "$name answer ($size bytes): the inflated answer differs from the plain one"
    elif [[ $(header "$WORK/$name.gzip.headers" vary) != *accept-encoding* || $(header "$WORK/$name.plain.headers" vary) != *accept-encoding* ]]; then
        fail "$name answer: no Vary: Accept-Encoding"
    elif [[ -n $(header "$WORK/$name.plain.headers" content-encoding) ]]; then
        fail "$name answer: compressed without --compressed"
    else
        pass "$name answer ($size bytes): curl --compressed inflates it to the plain answer's bytes"
    fi
done

curl -sS -o "$WORK/seed.plain" -H 'Content-Type: application/json' --data-binary @"$WORK/seed.json" "$BASE/gradient"
gzip -c "$WORK/seed.json" >"$WORK/seed.gz"
for coding in gzip deflate; do
    file=$WORK/seed.gz
    [[ $coding == deflate ]] && file=$WORK/seed.deflate
    curl -sS -o "$WORK/seed.$coding.answer" -H 'Content-Type: application/json' -H "Content-Encoding: $coding" \
        --data-binary @"$file" "$BASE/gradient"
    if cmp -s "$WORK/seed.plain" "$WORK/seed.$coding.answer" && grep -q '"output":0.6899744811276125' "$WORK/seed.plain"; then
        pass "a $coding request body gives the plain body's answer"
    else
        fail "a $coding request body: $(head -c 300 "$WORK/seed.$coding.answer")"
    fi
done

status=$(curl -sS -o /dev/null -D "$WORK/br.headers" -w '%{http_code}' -H 'Content-Encoding: br' \
    --data-binary @"$WORK/seed.json" "$BASE/gradient")
if [[ $status == 415 && $(header "$WORK/br.headers" accept-encoding) == "gzip, deflate" ]]; then
    pass "Content-Encoding: br is a 415 with Accept-Encoding: gzip, deflate"
else
    fail "Content-Encoding: br gave $status, Accept-Encoding '$(header "$WORK/br.headers" accept-encoding)'"
fi
head -c 20 "$WORK/seed.gz" >"$WORK/corrupt.gz"
printf 'not gzip at all' >>"$WORK/corrupt.gz"
status=$(curl -sS -o "$WORK/corrupt.answer" -w '%{http_code}' -H 'Content-Encoding: gzip' \
    --data-binary @"$WORK/corrupt.gz" "$BASE/gradient")
if [[ $status == 400 ]] && grep -q '"title":"Unreadable body"' "$WORK/corrupt.answer"; then
    pass "a corrupt gzip body is a 400 problem"
else
    fail "a corrupt gzip body gave $status: $(head -c 300 "$WORK/corrupt.answer")"
fi

curl -sS --compressed -o "$WORK/stream.txt" -D "$WORK/stream.headers" -H 'Accept: text/event-stream' \
    --data-binary '{"network": {"inputs": 2, "layers": [{"units": 4}, {"units": 1}], "seed": 7}, "inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [0, 1, 1, 0], "epochs": 50}' \
    --max-time 60 "$BASE/train"
if [[ -z $(header "$WORK/stream.headers" content-encoding) ]] && grep -q '^event: done' "$WORK/stream.txt"; then
    pass "an event stream is not compressed, even with --compressed"
else
    fail "the event stream: Content-Encoding '$(header "$WORK/stream.headers" content-encoding)'"
fi

if ! kill -0 "$server_pid" 2>/dev/null; then
    fail "the server died; its log: $(tail -n 20 "$WORK/server.log")"
fi
echo "compression: $failures failed"
exit $((failures > 0))
