#!/usr/bin/env bash
# Bounded fuzz run: builds the libFuzzer targets in build-fuzz with clang,
# runs each for SECONDS (default 60), two targets at a time, and fails on
# any finding (crash, sanitizer report, leak, timeout, out-of-memory),
# printing the reproducer's path. Prints the executions per target.
#
#   bash tests/fuzz/run.sh [SECONDS] [TARGET...]
#
# Each target starts from its committed seeds (tests/fuzz/corpus/<t>) and
# regressions (tests/fuzz/regressions/<t>) plus what earlier runs found
# (tests/fuzz/corpus-<t>, not committed). A reproducer found here goes into
# tests/fuzz/regressions/<t>/ once the bug is fixed; the replay tests in the
# normal and ASan builds then run it forever.
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
shift || true
out=build-fuzz/fuzz-run
parallel=${SIDECAST_FUZZ_PARALLEL:-2}

echo "== build build-fuzz (clang, libFuzzer + ASan + UBSan)"
cc=$(command -v clang-14 || command -v clang) || { echo "fuzz: clang not found"; exit 1; }
mkdir -p build-fuzz
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER="$cc" -DSIDECAST_FUZZ=ON -DSIDECAST_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >build-fuzz/configure.log 2>&1 ||
  { tail -20 build-fuzz/configure.log; exit 1; }
cmake --build build-fuzz -j"$(nproc)" >build-fuzz/build.log 2>&1 ||
  { tail -50 build-fuzz/build.log; exit 1; }

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in build-fuzz/tests/fuzz/fuzz_*; do
    [ -x "$f" ] && targets+=("${f##*/fuzz_}")
  done
fi
rm -rf "$out"
mkdir -p "$out"

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

run_one() {
  local t=$1 dir=$out/$1
  mkdir -p "$dir" "tests/fuzz/corpus-$t" "tests/fuzz/regressions/$t"
  # -timeout: one input (milliseconds normally) running 120 s is a hang, not
  # a loaded machine; -rss_limit_mb: unbounded growth. Slow units are only
  # reported, never a failure: timing is not a test result.
  "build-fuzz/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=120 -rss_limit_mb=2048 \
    -report_slow_units=100000 \
    -print_final_stats=1 -artifact_prefix="$dir/" \
    "tests/fuzz/corpus-$t" "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t" \
    >"$dir/log" 2>&1
  echo $? >"$dir/rc"
}

echo "== fuzz ${targets[*]}: ${secs} s each, ${parallel} at a time"
running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

pass=0 fail=0
for t in "${targets[@]}"; do
  dir=$out/$t
  rc=$(cat "$dir/rc" 2>/dev/null || echo 1)
  execs=$(grep -E '^stat::number_of_executed_units:' "$dir/log" | tail -1 | awk '{print $2}')
  found=$(find "$dir" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) | head -1)
  if [ "$rc" = 0 ] && [ -z "$found" ]; then
    pass=$((pass + 1))
    printf 'fuzz %-9s passed: %s executions in %s s\n' "$t" "${execs:-?}" "$secs"
  else
    fail=$((fail + 1))
    printf 'fuzz %-9s FAILED (exit %s) after %s executions\n' "$t" "$rc" "${execs:-?}"
    grep -E 'ERROR:|runtime error:|invariant broken|SUMMARY' "$dir/log" | head -5 | sed 's/^/    /'
    echo "    reproducer: ${found:-none written, see $dir/log}"
    echo "    replay: build/tests/fuzz/fuzz_replay_$t ${found:-FILE}"
  fi
done
echo "fuzz: ${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ]
