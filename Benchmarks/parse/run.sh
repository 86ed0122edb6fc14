#!/usr/bin/env bash
# Checks bp_parse_decimal (Sources/CBackpropJSON/parse_number.c, Eisel–Lemire)
# against the C library's strtod on random and hard decimal texts (check.c says which).
# Built with the system's C compiler into $TMPDIR/bp-parse, not the package.
#
#   bash Benchmarks/parse/run.sh            # 2,000,000 rounds, ~10 M texts (CI)
#   bash Benchmarks/parse/run.sh 20000000   # more
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$here/../../Sources/CBackpropJSON
out=${PARSE_BUILD_DIR:-${TMPDIR:-/tmp}/bp-parse}
mkdir -p "$out"
cc -O2 -std=c11 -Wall -Wextra -Werror -I"$src/include" "$here/check.c" "$src/parse_number.c" "$src/parse_tables.c" \
    -lm -o "$out/check"
time "$out/check" "${1:-2000000}"
