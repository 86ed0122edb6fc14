#!/usr/bin/env bash
# Backprop's benchmarks, each beside its peer in the same run (figures are medians;
# compare the ratios, since machines are noisy). Results go to stdout and to
# .build-bench/results.txt. Run on a quiet machine:
#
#   bash Benchmarks/run.sh            # core, JSON and HTTP
#   BENCH_HTTP=0 bash Benchmarks/run.sh      # skip the HTTP part
#   BENCH_OPENBLAS=1 bash Benchmarks/run.sh  # also the OpenBLAS trait build (needs libopenblas-dev)
#   BENCH_SOAK=60 bash Benchmarks/run.sh     # seconds of /gradient load for the memory figures
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build-bench
mkdir -p "$out"
exec > >(tee "$out/results.txt") 2>&1

venv=$out/venv
if [[ ! -x $venv/bin/python ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "numpy>=2" "orjson>=3.9" "fastapi>=0.110" "uvicorn>=0.29" "jax[cpu]>=0.4"
fi
py=$venv/bin/python
if ! command -v wrk >/dev/null && [[ ${BENCH_HTTP:-1} == 1 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

swift build -c release --product BackpropBenchmarks >/dev/null
swift build -c release --product backprop >/dev/null
bin=$(swift build -c release --show-bin-path)
echo "# $(date -u +%FT%TZ) $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# git $(git rev-parse --short HEAD), Swift $(swift --version 2>/dev/null | head -1 | grep -o '[0-9]\.[0-9.]*' | head -1)"

field() { $py -c "import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], \"n/a\"))" "$1" "$2"; }
ratio() { $py -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }

echo; echo "## 1. Core: small gradient, MLP epoch"
small=$("$bin/BackpropBenchmarks" small)
echo "backprop seed 3-2-1 gradient (reused workspace): $(field "$small" nanoseconds) ns; with allocated results: $(field "$small" allocating_nanoseconds) ns"
kernels=$("$bin/BackpropBenchmarks" kernels)
echo "matrix products 64×784×128, one thread, GFLOP/s forward / gradient: portable $(field "$kernels" portable_forward_gflops) / $(field "$kernels" portable_gradient_gflops), avx2 $(field "$kernels" avx2_forward_gflops) / $(field "$kernels" avx2_gradient_gflops), avx-512 $(field "$kernels" avx512_forward_gflops) / $(field "$kernels" avx512_gradient_gflops)"
# Each of mlp_data.py's shapes against both peers, then with every side held to AVX2.
for shape in mnist narrow wide; do
    echo "### MLP epoch, shape $shape (Benchmarks/peers/mlp_data.py)"
    swift_mlp=$("$bin/BackpropBenchmarks" mlp --shape $shape --repetitions 5)
    numpy_mlp=$($py Benchmarks/peers/numpy_mlp.py --shape $shape --repetitions 5)
    jax_mlp=$($py Benchmarks/peers/jax_mlp.py --shape $shape --repetitions 5)
    echo "backprop ($(field "$swift_mlp" kernel)): $(field "$swift_mlp" seconds) s/epoch, $(field "$swift_mlp" gflops) GFLOP/s, loss $(field "$swift_mlp" loss)"
    echo "numpy ($(field "$numpy_mlp" peer), OpenBLAS threads: ${OPENBLAS_NUM_THREADS:-default}): $(field "$numpy_mlp" seconds) s/epoch, $(field "$numpy_mlp" gflops) GFLOP/s, loss $(field "$numpy_mlp" loss)"
    echo "$(field "$jax_mlp" peer): $(field "$jax_mlp" seconds) s/epoch, $(field "$jax_mlp" gflops) GFLOP/s, loss $(field "$jax_mlp" loss)"
    echo "epoch time backprop / numpy: $(ratio "$(field "$swift_mlp" seconds)" "$(field "$numpy_mlp" seconds)"), / jax: $(ratio "$(field "$swift_mlp" seconds)" "$(field "$jax_mlp" seconds)") (≤ 0.8 of the faster is the target)"
    avx2_mlp=$(BACKPROP_KERNELS=avx2 "$bin/BackpropBenchmarks" mlp --shape $shape --repetitions 5)
    numpy_haswell=$(OPENBLAS_CORETYPE=Haswell $py Benchmarks/peers/numpy_mlp.py --shape $shape --repetitions 5)
    jax_avx2=$(XLA_FLAGS=--xla_cpu_max_isa=AVX2 $py Benchmarks/peers/jax_mlp.py --shape $shape --repetitions 5)
    echo "held to AVX2: backprop $(field "$avx2_mlp" seconds) s, numpy (OPENBLAS_CORETYPE=Haswell) $(field "$numpy_haswell" seconds) s, jax (--xla_cpu_max_isa=AVX2) $(field "$jax_avx2" seconds) s; backprop / numpy $(ratio "$(field "$avx2_mlp" seconds)" "$(field "$numpy_haswell" seconds)"), / jax $(ratio "$(field "$avx2_mlp" seconds)" "$(field "$jax_avx2" seconds)")"
done
if [[ ${BENCH_OPENBLAS:-0} == 1 ]]; then
    swift build -c release --product BackpropBenchmarks --traits OpenBLAS --scratch-path .build-openblas >/dev/null
    blas_mlp=$(OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} .build-openblas/release/BackpropBenchmarks mlp --repetitions 5)
    numpy_mlp=$($py Benchmarks/peers/numpy_mlp.py --repetitions 5)
    echo "backprop --traits OpenBLAS (mnist): $(field "$blas_mlp" seconds) s/epoch, $(field "$blas_mlp" gflops) GFLOP/s; / numpy: $(ratio "$(field "$blas_mlp" seconds)" "$(field "$numpy_mlp" seconds)")"
fi

echo; echo "## 3. JSON: a /forward body with a 1000×1000 input (≈20 MB)"
swift_json=$("$bin/BackpropBenchmarks" json --repetitions 5)
peer_json=$($py Benchmarks/peers/orjson_json.py "$(field "$swift_json" body)" --repetitions 5)
echo "backprop: decode $(field "$swift_json" decode_mb_s) MB/s, encode $(field "$swift_json" encode_mb_s) MB/s"
echo "$(field "$peer_json" peer): decode $(field "$peer_json" decode_mb_s) MB/s, encode $(field "$peer_json" encode_mb_s) MB/s"
echo "backprop / peer: decode $(ratio "$(field "$swift_json" decode_mb_s)" "$(field "$peer_json" decode_mb_s)"), encode $(ratio "$(field "$swift_json" encode_mb_s)" "$(field "$peer_json" encode_mb_s)") (≥ 1 is the target)"

forward_body=$out/forward-237k.json
$py Benchmarks/peers/forward_body.py > "$forward_body"
swift_forward=$(BACKPROP_FORWARD_BODY=$forward_body "$bin/BackpropBenchmarks" forward-json --repetitions 7)
peer_forward=$($py Benchmarks/peers/orjson_json.py --forward "$forward_body" --repetitions 7)
echo "the /forward body of issue 12 ($(field "$swift_forward" bytes) bytes, 17 digits): backprop decode $(field "$swift_forward" decode_mb_s) MB/s, $(field "$peer_forward" peer) $(field "$peer_forward" decode_mb_s) MB/s; ratio $(ratio "$(field "$swift_forward" decode_mb_s)" "$(field "$peer_forward" decode_mb_s)")"

[[ ${BENCH_HTTP:-1} == 1 ]] || exit 0
echo; echo "## 2 and 4. HTTP under wrk (2 threads, 32 connections, 10 s), and memory"
wire=$("$bin/BackpropBenchmarks" wire)
echo "one /gradient body without HTTP (on a pool thread): parse $(field "$wire" parse_ns) ns, read and compute $(field "$wire" respond_ns) ns, encode $(field "$wire" encode_ns) ns"
port=18311; peer_port=18312
"$bin/backprop" --port $port --log-level warning --compute-queue 256 & server=$!
$venv/bin/uvicorn --app-dir Benchmarks/peers fastapi_gradient:app --port $peer_port --workers 1 --log-level warning & peer=$!
trap 'kill $server $peer 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf localhost:$port/health >/dev/null && curl -sf localhost:$peer_port/health >/dev/null && break; sleep 0.1; done
rss() { awk '/VmRSS/ {print $2 / 1024 " MiB"}' /proc/$server/status; }
echo "backprop idle RSS: $(rss)"
bench() {  # url [script] → "requests/s p99"
    local result
    result=$(wrk -t2 -c32 -d10s --latency ${2:+-s $2} "$1")
    echo "$(echo "$result" | awk '/Requests\/sec/ {print $2}') $(echo "$result" | awk '$1 == "99%" {print $2}')"
}
read -r health_rps health_p99 < <(bench http://127.0.0.1:$port/health)
read -r grad_rps grad_p99 < <(bench http://127.0.0.1:$port/gradient Benchmarks/http_gradient.lua)
echo "backprop RSS under load: $(rss)"
read -r peer_rps peer_p99 < <(bench http://127.0.0.1:$peer_port/gradient Benchmarks/http_gradient.lua)
echo "backprop GET /health:     $health_rps req/s, p99 $health_p99"
echo "backprop POST /gradient:  $grad_rps req/s, p99 $grad_p99"
echo "FastAPI POST /gradient:   $peer_rps req/s, p99 $peer_p99"
echo "/gradient / /health: $(ratio "$grad_rps" "$health_rps") (≥ 0.85 is the target); backprop / FastAPI: $(ratio "$grad_rps" "$peer_rps") (≥ 8 is the target)"
export BACKPROP_FORWARD_BODY=$forward_body
read -r fwd_rps fwd_p99 < <(bench http://127.0.0.1:$port/forward Benchmarks/http_forward.lua)
read -r peer_fwd_rps peer_fwd_p99 < <(bench http://127.0.0.1:$peer_port/forward Benchmarks/http_forward.lua)
echo "backprop POST /forward (64-128-10, batch 32, $(wc -c < "$forward_body") bytes): $fwd_rps req/s, p99 $fwd_p99"
echo "FastAPI POST /forward:    $peer_fwd_rps req/s, p99 $peer_fwd_p99"
echo "/forward backprop / FastAPI: $(ratio "$fwd_rps" "$peer_fwd_rps") (≥ 5 is the target)"
soak=${BENCH_SOAK:-60}
wrk -t2 -c32 -d"${soak}s" -s Benchmarks/http_gradient.lua http://127.0.0.1:$port/gradient >/dev/null & load=$!
for second in $(seq 10 10 "$soak"); do sleep 10; echo "  after ${second} s of load: RSS $(rss)"; done
wait $load || true
echo "backprop RSS after the load: $(rss)"

echo; echo "## 5. Overload: /gradient beside two /train, and the time to a 429"
kill $server 2>/dev/null || true; wait $server 2>/dev/null || true
"$bin/backprop" --port $port --log-level warning --compute-threads 2 --compute-queue 4 & server=$!
for _ in $(seq 100); do curl -sf localhost:$port/health >/dev/null && break; sleep 0.1; done
overload=$($py Benchmarks/overload.py --port $port)
echo "/gradient while two /train run: p50 $(field "$overload" gradient_p50_ms) ms, p99 $(field "$overload" gradient_p99_ms) ms ($(field "$overload" gradient_ok) of $(field "$overload" gradient_requests) answered 200)"
echo "429 under overload (probe): p50 $(field "$overload" rejected_p50_ms) ms, p99 $(field "$overload" rejected_p99_ms) ms (≤ 10 ms p99 is the target); $(field "$overload" probe_rejected_429) of $(field "$overload" probe_requests) probes refused"
