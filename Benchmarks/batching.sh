#!/usr/bin/env bash
# Dynamic batching under load: 64 concurrent clients (wrk, 2 threads, 10 s each) each
# POSTing one sample to /forward of a 784-128-10 network (ReLU, softmax): the network
# sent inline in every request, then stored (PUT /networks/mnist) and named by
# {"name": "mnist"}, with batching off, on (--batch-max-size 64, no wait), and on
# with a 200 µs wait. Requests/s and p99 from wrk. Run on a quiet machine:
#
#   bash Benchmarks/batching.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build-bench
mkdir -p "$out"

# SCRATCH=path builds in that directory instead of .build.
swift build -c release --product backprop ${SCRATCH:+--scratch-path "$SCRATCH"} >/dev/null
bin=$(swift build -c release ${SCRATCH:+--scratch-path "$SCRATCH"} --show-bin-path)
echo "# $(date -u +%FT%TZ) $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# git $(git rev-parse --short HEAD), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"

# The network (seeded normal weights, 17 significant digits as a client would send
# them), the stored and inline bodies with one sample (784 pixels in [0, 1], 3 digits).
python3 - "$out" <<'PY'
import json, random, sys
out = sys.argv[1]
rng = random.Random(784)
def matrix(rows, columns, scale):
    return [[rng.gauss(0, scale) for _ in range(columns)] for _ in range(rows)]
network = {"layers": [
    {"weights": matrix(784, 128, 0.05), "biases": [rng.gauss(0, 0.01) for _ in range(128)], "activation": "relu"},
    {"weights": matrix(128, 10, 0.1), "biases": [0.0] * 10, "activation": "softmax"},
]}
sample = [round(rng.random(), 3) for _ in range(784)]
with open(f"{out}/batching-network.json", "w") as f: json.dump(network, f)
with open(f"{out}/batching-stored.json", "w") as f: json.dump({"network": {"name": "mnist"}, "input": sample}, f)
with open(f"{out}/batching-inline.json", "w") as f: json.dump({"network": network, "input": sample}, f)
PY

port=18321
server=
stop() { if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=; fi; }
trap stop EXIT
start() {  # flags…: a server on $port with the network stored
    stop
    "$bin/backprop" --port $port --log-level warning --compute-queue 256 "$@" & server=$!
    for _ in $(seq 100); do curl -sf --max-time 1 localhost:$port/health >/dev/null && break; sleep 0.1; done
    curl -sf --max-time 10 -X PUT --data-binary @"$out/batching-network.json" -H 'Content-Type: application/json' \
        localhost:$port/networks/mnist >/dev/null
}
bench() {  # body file → "requests/s p99 non-2xx"
    local result
    result=$(BACKPROP_FORWARD_BODY=$1 wrk -t2 -c64 -d10s --timeout 5s --latency -s Benchmarks/http_forward.lua \
        http://127.0.0.1:$port/forward)
    echo "$(echo "$result" | awk '/Requests\/sec/ {print $2}') $(echo "$result" | awk '$1 == "99%" {print $2}') $(echo "$result" | awk '/Non-2xx/ {print $5}' | grep . || echo 0)"
}
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.1f}')" "$1" "$2"; }

start
curl -sf --max-time 10 -X POST --data-binary @"$out/batching-stored.json" localhost:$port/forward | head -c 300; echo
read -r inline_rps inline_p99 inline_bad < <(bench "$out/batching-inline.json")
read -r off_rps off_p99 off_bad < <(bench "$out/batching-stored.json")
start --batch-max-size 64 --batch-max-wait-us 0
read -r on_rps on_p99 on_bad < <(bench "$out/batching-stored.json")
start --batch-max-size 64 --batch-max-wait-us 200
read -r wait_rps wait_p99 wait_bad < <(bench "$out/batching-stored.json")
stop

echo "inline network, $(wc -c < "$out/batching-inline.json") bytes: $inline_rps req/s, p99 $inline_p99 ($inline_bad non-2xx)"
echo "stored, batching off, $(wc -c < "$out/batching-stored.json") bytes: $off_rps req/s, p99 $off_p99 ($off_bad non-2xx)"
echo "stored, batching on (64, wait 0):   $on_rps req/s, p99 $on_p99 ($on_bad non-2xx)"
echo "stored, batching on (64, 200 µs):   $wait_rps req/s, p99 $wait_p99 ($wait_bad non-2xx)"
echo "stored and batched / inline: $(ratio "$on_rps" "$inline_rps") (wait 0), $(ratio "$wait_rps" "$inline_rps") (200 µs) (≥ 5 is the target); stored unbatched / inline: $(ratio "$off_rps" "$inline_rps")"
