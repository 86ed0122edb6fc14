#!/bin/sh
# Builds the C kernels as the package does (no -march flags) with this harness and
# runs it: `./run.sh check`, `./run.sh time [rounds]` or `./run.sh` for both.
# The package is built with clang (SwiftPM), so clang is used when present; CC overrides.
# Single thread, pinned to CPU 1 when taskset exists.
set -e
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../../Sources/CBackpropKernels"
out=${TMPDIR:-/tmp}/bp-kernels-bench
${CC:-$(command -v clang || echo gcc)} ${OPT:--O2} $CFLAGS -std=gnu11 -Wall -Wextra -I "$src/include" -I "$src" "$src/kernels.c" "$src/kernels_x86.c" \
    "$src/kernels_avx2.c" "$src/kernels_avx2_pack.c" "$here/before_avx2.c" "$here/bench.c" -o "$out" -lm -lpthread
pin=""
command -v taskset >/dev/null 2>&1 && pin="taskset -c 1"
exec $pin "$out" "$@"
