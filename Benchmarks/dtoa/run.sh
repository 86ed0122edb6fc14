#!/usr/bin/env bash
# Checks and benchmarks bp_format_double (Sources/CBackpropJSON/dtoa*.c) against
# Swift's Double.description, and benchmarks bp_format_json_numbers (bench_json.c).
# Builds with clang + swiftc into a scratch directory (not the package's .build) and
# runs them; under a minute on two cores.
#
#   bash Benchmarks/dtoa/run.sh                # check (~37 M values) and benchmark
#   DTOA_CHECK=0 bash Benchmarks/dtoa/run.sh   # benchmark only
#   DTOA_BENCH=0 bash Benchmarks/dtoa/run.sh   # check only (CI)
#   DTOA_SCALAR=1 ...                          # the portable path other CPUs take (no SSE2 digits)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$here/../../Sources/CBackpropJSON
out=${DTOA_BUILD_DIR:-${TMPDIR:-/tmp}/bp-dtoa}
mkdir -p "$out"

for part in dtoa dtoa_general dtoa_tables; do
    clang -O2 -std=c11 -Wall -Wextra -Werror ${DTOA_SCALAR:+-U__SSE2__} -I"$src/include" -c "$src/$part.c" -o "$out/$part.o"
done
objects=("$out/dtoa.o" "$out/dtoa_general.o" "$out/dtoa_tables.o")
header=$src/include/CBackpropJSON.h
if [[ ${DTOA_CHECK:-1} == 1 ]]; then
    swiftc -O -import-objc-header "$header" "$here/check.swift" "${objects[@]}" -o "$out/check"
    time "$out/check"
fi
[[ ${DTOA_BENCH:-1} == 1 ]] || exit 0
swiftc -O -import-objc-header "$header" "$here/bench.swift" "${objects[@]}" -o "$out/bench"
"$out/bench"
clang -O2 -std=c11 -Wall -Wextra -I"$src/include" "$here/bench_json.c" "${objects[@]}" -lm -o "$out/bench_json"
"$out/bench_json"
