#!/usr/bin/env bash
# The whole test suite: unit, integration (with a valgrind pass), Node.js and
# socket.io, browser, package and soak tests in a normal build, then the unit,
# integration and Node.js tests again in an ASan+UBSan build, then a bounded
# fuzz run (tests/fuzz/run.sh: each libFuzzer target for
# SIDECAST_FUZZ_SECONDS, default 60, two at a time; each target counts as a
# test). Installs what a fresh Debian 12 machine lacks first. Exit status 0
# only if all passed.
set -uo pipefail
cd "$(dirname "$0")/.."

bash packaging/deps.sh || { echo "dependency installation failed"; exit 1; }
JOBS=$(nproc)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

total_pass=0 total_fail=0 status=0
run_suite() {
  local dir=$1; shift
  echo "== build $dir ($*)"
  cmake -S . -B "$dir" "$@" >/dev/null || return 1
  cmake --build "$dir" -j"$JOBS" >"$dir/build.log" 2>&1 || { tail -50 "$dir/build.log"; return 1; }
  echo "== test $dir"
  (cd "$dir" && ctest --output-on-failure -j"$JOBS" --timeout 600) | tee "$dir/test.log"
  local rc=${PIPESTATUS[0]}
  local line
  line=$(grep -E '^[0-9]+% tests passed' "$dir/test.log" | tail -1)
  local fail total
  fail=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
  if [[ "$total" =~ ^[0-9]+$ ]]; then
    total_pass=$((total_pass + total - fail)); total_fail=$((total_fail + fail))
  fi
  if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$dir/test.log"; then
    echo "sanitizer report found in $dir tests"; return 1
  fi
  return "$rc"
}

run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo || status=1
run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DSIDECAST_SANITIZE=ON || status=1

run_fuzz() {
  mkdir -p build-fuzz
  bash tests/fuzz/run.sh "${SIDECAST_FUZZ_SECONDS:-60}" | tee build-fuzz/fuzz.log
  local rc=${PIPESTATUS[0]}
  local line p f
  line=$(grep -E '^fuzz: [0-9]+ passed, [0-9]+ failed' build-fuzz/fuzz.log | tail -1)
  p=$(sed -E 's/^fuzz: ([0-9]+) passed.*/\1/' <<<"$line")
  f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
  if [[ "$p" =~ ^[0-9]+$ && "$f" =~ ^[0-9]+$ ]]; then
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  else
    total_fail=$((total_fail + 1)) # the fuzz build itself failed
  fi
  return "$rc"
}
run_fuzz || status=1

echo "== sidecast test suite: both builds and the fuzz run"
echo "${total_pass} passed, ${total_fail} failed"
exit $status
