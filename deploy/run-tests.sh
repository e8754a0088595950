#!/usr/bin/env bash
# Builds everything and runs every test through CTest. Exits non-zero on the
# first failure; on success the output ends with CTest's summary.
#
#   bash deploy/run-tests.sh         # CI (.ci/run): plain, then asan
#   bash deploy/run-tests.sh plain   # build/: unit, integration, benchmark smoke runs
#   bash deploy/run-tests.sh asan    # build-asan/ (clang, ASan+UBSan): the same suite
#                                    #   plus a short run of each libFuzzer target
#   bash deploy/run-tests.sh tsan    # build-tsan/ (clang, TSan): the same suite
#
# Sanitizer reports of every process, including the gateway and feed that the
# integration tests start, go to <build>/sanitizer-logs/; any report there fails
# the run and is printed. BUILD_DIR, ASAN_BUILD_DIR, TSAN_BUILD_DIR override
# the build directories; OBGW_FUZZ_SECONDS (default 20) the fuzz run length.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

run_plain() {
  bash deploy/build.sh
  (cd "${BUILD_DIR:-build}" && ctest --output-on-failure --timeout 300 -j2)
}

# run_sanitized asan|tsan
run_sanitized() {
  local kind=$1 dir sanitize fuzz
  case $kind in
    asan) dir=${ASAN_BUILD_DIR:-build-asan} sanitize=address,undefined fuzz=ON ;;
    tsan) dir=${TSAN_BUILD_DIR:-build-tsan} sanitize=thread fuzz=OFF ;;
  esac
  # -O1 with line tables: readable stacks at a fraction of -O2 -g's build time;
  # assertions stay on (no NDEBUG).
  CMAKE_ARGS="-DCMAKE_CXX_COMPILER=clang++ -DOBGW_SANITIZE=$sanitize -DOBGW_FUZZ=$fuzz \
-DOBGW_FUZZ_SECONDS=${OBGW_FUZZ_SECONDS:-20} \
-DCMAKE_CXX_FLAGS=-gline-tables-only -DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1" \
    BUILD_DIR=$dir BUILD_TYPE=RelWithDebInfo bash deploy/build.sh

  local logs=$ROOT/$dir/sanitizer-logs
  rm -rf "$logs"
  mkdir -p "$logs"
  # Every report ends the process with a non-zero status and lands in $logs.
  export ASAN_OPTIONS="detect_leaks=1:check_initialization_order=1:strict_init_order=1:log_path=$logs/report"
  export LSAN_OPTIONS="suppressions=$ROOT/tests/sanitizers/lsan.supp"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/report"
  # TSan slows everything 5-15x: latency comparisons mean nothing there.
  [ "$kind" = tsan ] && export OBGW_NO_LATENCY_ASSERTS=1
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/tests/sanitizers/tsan.supp:log_path=$logs/report"
  command -v llvm-symbolizer >/dev/null && export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer)}

  echo "run-tests.sh: $kind suite in $dir/ (sanitizer reports: $logs/)"
  local rc=0
  (cd "$dir" && ctest --output-on-failure --timeout 600 -j2) || rc=$?
  # A file that holds nothing but the runtime's notes about its own
  # symbolizer ("WARNING: Symbolizer buffer too small", a long C++ name) is
  # not a report; anything else in a file is.
  local reports=0
  for report in "$logs"/*; do
    [ -e "$report" ] || continue
    if grep -qv 'WARNING: Symbolizer buffer too small' "$report"; then
      echo "===== $report"
      cat "$report"
      reports=$((reports + 1))
    fi
  done
  if [ "$reports" -gt 0 ]; then
    echo "run-tests.sh: FAIL: $kind reports above ($logs/)" >&2
    return 1
  fi
  return "$rc"
}

case ${1:-ci} in
  ci) run_plain && run_sanitized asan ;;
  plain) run_plain ;;
  asan | tsan) run_sanitized "$1" ;;
  *) echo "usage: run-tests.sh [plain|asan|tsan]" >&2; exit 2 ;;
esac
