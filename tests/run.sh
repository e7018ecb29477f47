#!/usr/bin/env bash
# The whole test suite: unit and integration tests (with a valgrind pass) in a
# normal build, then everything again in an ASan+UBSan build. Installs what a
# fresh Debian 12 machine lacks first. Exit status 0 only if all passed.
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

echo "== sidecast test suite: both builds"
echo "${total_pass} passed, ${total_fail} failed"
exit $status
