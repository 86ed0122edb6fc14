#!/usr/bin/env bash
# Fuzzing: libFuzzer over request decoding and validation (TESTING.md, Fuzzing).
#
#   1. swift build of the BackpropFuzz product with libFuzzer and ASan (swiftc
#      -sanitize=fuzzer,address, clang -fsanitize=fuzzer-no-link,address) on this
#      package's own modules, into .build-fuzz (FUZZ_SCRATCH_PATH): the first build
#      there also builds the dependencies (in debug, not instrumented);
#   2. the seeds of Tests/Fuzz/corpus/ copied to a temporary folder (the committed
#      corpus never grows), then libFuzzer for FUZZ_SECONDS with the dictionary
#      Tests/Fuzz/backprop.dict;
#   3. libFuzzer's final figures: executions, executions per second, coverage.
#
# The target (Sources/BackpropFuzz/FuzzRequest.swift) sends each input through
# RequestReader.check, the service's own JSON parser and the reading and checking of
# /forward, /gradient and /train, computing /forward and /gradient. A crash, a
# sanitizer report, a 500 (a bug, API.md), an input slower than FUZZ_TIMEOUT or more
# than 2 GiB of memory is a finding: the input is saved under FUZZ_FINDINGS, its hex
# and libFuzzer's report are printed, and the script exits non-zero. Replay one with
#
#   .build-fuzz/debug/BackpropFuzz FILE                      # the report and stack
#   BACKPROP_FUZZ_PRINT=1 .build-fuzz/debug/BackpropFuzz FILE   # also the answer
#
# then add it to Tests/BackpropServerTests/FuzzRegressionTests.swift.
#
# The last line is `fuzz: 1 passed, 0 failed` (no finding) or `fuzz: 0 passed, 1 failed`.
#
# Knobs (environment):
#   FUZZ_SECONDS        how long libFuzzer runs                      (60)
#   FUZZ_TIMEOUT        seconds one input may take                   (30)
#   FUZZ_SCRATCH_PATH   swift build --scratch-path                   (.build-fuzz)
#   FUZZ_SKIP_BUILD=1   use the binary already built
#   CI_PREPARE_ONLY=1   only the build, then exit (.ci/prepare.sh)
#   FUZZ_CORPUS         a folder to keep the grown corpus in between runs (unset: a
#                       temporary copy of the seeds, deleted at the end)
#   FUZZ_FINDINGS       where findings are saved                     (.build-fuzz-findings)
#   FUZZ_LOG            libFuzzer's full output                      (.build-fuzz-findings/fuzz.log)
#   FUZZ_ARGS           more libFuzzer flags, e.g. "-seed=1 -use_value_profile=1" (not
#                       -jobs or -fork: the summary reads one process's output)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
timeout_s=${FUZZ_TIMEOUT:-30}
scratch=${FUZZ_SCRATCH_PATH:-.build-fuzz}
findings=${FUZZ_FINDINGS:-.build-fuzz-findings}
log=${FUZZ_LOG:-$findings/fuzz.log}
dict=Tests/Fuzz/backprop.dict
seeds=Tests/Fuzz/corpus

started=$(date +%s)
say() { printf '\n== fuzz: %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }

# BACKPROP_FUZZ=1 makes Package.swift give this package's own modules, Swift and C (the
# matrix kernels, the JSON numbers), libFuzzer's coverage and ASan, link BackpropFuzz
# with libFuzzer's main(), and turn on its LLVMFuzzerTestOneInput (without it,
# BackpropFuzz is a stub for the normal build). The dependencies are built as in any
# debug build: with FUZZ_SCRATCH_PATH=.build (as .ci/run does, after everything else
# used that debug build) the fuzzer's build reuses them and compiles only these
# modules again.
export BACKPROP_FUZZ=1
build_flags=(-c debug --product BackpropFuzz --scratch-path "$scratch")
if [[ ${FUZZ_SKIP_BUILD:-0} != 1 ]]; then
    say "swift build ${build_flags[*]} (the first build takes several minutes)"
    # gold warns about every ASan helper symbol it cannot export: thousands of lines.
    set +e
    swift build "${build_flags[@]}" 2>&1 | grep -v "Cannot export local symbol"
    build_status=${PIPESTATUS[0]}
    set -e
    if [[ $build_status -ne 0 ]]; then
        echo "fuzz: the build failed"
        echo "fuzz: 0 passed, 1 failed"
        exit 1
    fi
fi
bin="$(swift build "${build_flags[@]}" --show-bin-path)/BackpropFuzz"
[[ -x $bin ]] || { echo "fuzz: no binary at $bin"; echo "fuzz: 0 passed, 1 failed"; exit 1; }
[[ ${CI_PREPARE_ONLY:-0} == 1 ]] && { say "built"; exit 0; }

mkdir -p "$findings"
mkdir -p "$(dirname "$log")"
if [[ -n ${FUZZ_CORPUS:-} ]]; then
    corpus=$FUZZ_CORPUS
    mkdir -p "$corpus"
    cp -n "$seeds"/* "$corpus"/
else
    corpus=$(mktemp -d "${TMPDIR:-/tmp}/backprop-fuzz-corpus.XXXXXX")
    trap 'rm -rf "$corpus"' EXIT
    cp "$seeds"/* "$corpus"/
fi
before=$(find "$findings" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)

# LeakSanitizer is off: the Swift runtime keeps metadata and caches for the life of the
# process, which LSan would report. ASan still catches overflows and use-after-free.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}
flags=(-max_total_time="$seconds" -timeout="$timeout_s" -rss_limit_mb=2048 -max_len=65536
    -dict="$dict" -print_final_stats=1 -artifact_prefix="$findings/")
# shellcheck disable=SC2206  # FUZZ_ARGS is a list of flags on purpose
flags+=(${FUZZ_ARGS:-})
say "$bin ${flags[*]} $corpus ($(ls "$corpus" | wc -l) inputs); log in $log"
set +e
"$bin" "${flags[@]}" "$corpus" >"$log" 2>&1
status=$?
set -e

# The coverage lines (every power of two, and the last), then the final figures.
grep -E '^#[0-9]+[[:space:]]+(INITED|pulse|DONE)' "$log" | tail -n 12 || true
grep -E '^stat::' "$log" || true
executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
per_second=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
cov=$(sed -nE 's/.* cov: ([0-9]+) ft: ([0-9]+) corp: ([^ ]+) .*/cov \1, ft \2, corpus \3/p' <<<"$last")
say "${executions:-?} executions in ${seconds} s, ${per_second:-?} exec/s; ${cov:-no coverage line}"
# The seeds alone reach some 2,000 edges of Swift code; a few dozen means that only the
# C kernels were instrumented and libFuzzer was fuzzing blind.
edges=$(sed -nE 's/.* cov: ([0-9]+) .*/\1/p' <<<"$last")
if [[ $status -eq 0 && ${edges:-0} -lt 500 ]]; then
    say "FAILED: only ${edges:-no} coverage edges: the Swift modules were built without -sanitize=fuzzer"
    echo "fuzz: 0 passed, 1 failed"
    exit 1
fi

after=$(find "$findings" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
new=$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed '/^$/d')
if [[ $status -ne 0 || -n $new ]]; then
    say "FINDING: libFuzzer exited with status $status"
    # libFuzzer's report: the sanitizer or fatalError message and the stack.
    grep -nE '^==[0-9]+==|ERROR: libFuzzer|Fatal error|SUMMARY|deadly signal|Test unit written' "$log" | head -n 20 || true
    echo "--- the end of $log:"
    tail -n 80 "$log"
    for f in $new; do
        echo "--- $f ($(wc -c <"$f") bytes), first 512 bytes in hex:"
        head -c 512 "$f" | od -An -tx1 | tr -s ' '
    done
    echo "fuzz: 0 passed, 1 failed"
    exit 1
fi
echo "fuzz: 1 passed, 0 failed"
