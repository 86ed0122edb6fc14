#!/bin/sh
# Builds the C kernels as the package does (no -march flags) with this harness and
# runs it: `./run.sh check`, `./run.sh time [rounds]` or `./run.sh` for both;
# `./run.sh ceiling [rounds]` measures the FMA ceiling of CPUs 0 and 1, alone and together;
# `./run.sh compare [REV]` times the AVX-512 kernel at git REV against the working tree's.
# The package is built with clang (SwiftPM), so clang is used when present; CC overrides.
# Single thread, pinned to CPU 1 when taskset exists.
set -e
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../../Sources/CBackpropKernels"
out=${TMPDIR:-/tmp}/bp-kernels-bench
pin=""
command -v taskset >/dev/null 2>&1 && pin="taskset -c 1"
cc=${CC:-$(command -v clang || echo gcc)}
if [ "$1" = ceiling ]; then
    $cc -O2 -std=gnu11 -Wall -Wextra "$here/fma_ceiling.c" -o "$out-ceiling" -lpthread
    exec "$out-ceiling" "${2:-6}"
fi
if [ "$1" = compare ]; then
    git -C "$here" show "${2:-HEAD}:Sources/CBackpropKernels/kernels_x86.c" > "$out-old.c"
    $cc ${OPT:--O2} $CFLAGS -std=gnu11 -I "$src/include" -I "$src" -Dgemm_avx512=old_gemm_avx512 \
        -Dgemm_avx2=old_gemm_avx2 -c "$out-old.c" -o "$out-old.o"
    $cc ${OPT:--O2} $CFLAGS -std=gnu11 -Wall -Wextra -I "$src/include" -I "$src" "$src/kernels.c" "$src/kernels_x86.c" \
        "$src/kernels_avx2.c" "$src/kernels_avx2_pack.c" "$here/compare.c" "$out-old.o" -o "$out-compare" -lm -lpthread
    exec $pin "$out-compare"
fi
$cc ${OPT:--O2} $CFLAGS -std=gnu11 -Wall -Wextra -I "$src/include" -I "$src" "$src/kernels.c" "$src/kernels_x86.c" \
    "$src/kernels_avx2.c" "$src/kernels_avx2_pack.c" "$here/before_avx2.c" "$here/bench.c" -o "$out" -lm -lpthread
exec $pin "$out" "$@"
