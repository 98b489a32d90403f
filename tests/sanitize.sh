#!/usr/bin/env bash
# Builds the whole project and test suite with a sanitizer in its own build
# directory and runs the CTest suite under it (README "Sanitizers").
#   bash tests/sanitize.sh asan   ASan+UBSan, build-asan/, every test
#   bash tests/sanitize.sh tsan   ThreadSanitizer, build-tsan/, the racy-canary
#                                 check and the multi-threaded suites
# Extra arguments go to ctest (e.g. -R aggregator_). Builds with nice -n 10
# and -j2 (OHFED_SANITIZE_JOBS; ctest -j OHFED_SANITIZE_TEST_JOBS, 2) because
# the build machine is shared.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
mode=${1:-}
[ $# -gt 0 ] && shift
jobs=${OHFED_SANITIZE_JOBS:-2}
test_jobs=${OHFED_SANITIZE_TEST_JOBS:-2}
supp=$src/tests/sanitizers

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

# configure BUILD_DIR FLAGS [CMAKE ARGS]: Debian's clang-14, which
# compiles this code base about three times faster than g++ -O1 -g at
# the optimisation level given in FLAGS; -g1 gives reports file:line.
configure() {
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${@:3}" \
    -DCMAKE_CXX_COMPILER=clang++-14 "${launcher[@]}" \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-g1 -fno-omit-frame-pointer $2" \
    "-DCMAKE_EXE_LINKER_FLAGS=$2" "-DCMAKE_SHARED_LINKER_FLAGS=$2" >/dev/null
}

# Reports go to files (log_path) as well as failing the process, so a
# finding in a daemon a test started (whose stderr the test may discard)
# still fails the run: check_logs prints them and fails.
check_logs() {
  local dir=$1
  if compgen -G "$dir/*" >/dev/null; then
    echo "sanitize: findings in $dir:" >&2
    for f in "$dir"/*; do echo "== $f" >&2; cat "$f" >&2; done
    return 1
  fi
  echo "sanitize: no sanitizer reports in $dir"
}

# check_canary BINARY: the TSan set-up reports a race on a plain int;
# reports nothing for the same data ordered by each absl primitive; and
# does report those with the absl::Mutex shim turned off (so the shim is
# what makes them clean, and the library is indeed invisible to TSan).
check_canary() {
  local bin=$1 mode
  local modes=(mutex reader trylock condvar await lockwhen notification)
  canary_reports "$bin" race || {
    echo "sanitize: FAIL: TSan did not report the canary's race" >&2
    return 1
  }
  for mode in "${modes[@]}"; do
    if canary_reports "$bin" "$mode"; then
      echo "sanitize: FAIL: canary '$mode' reported by TSan:" >&2
      cat "$canary_out" >&2
      return 1
    fi
    OHFED_TSAN_SHIM=off canary_reports "$bin" "$mode" || {
      echo "sanitize: FAIL: canary '$mode' not reported without the shim" >&2
      return 1
    }
  done
  echo "sanitize: canary: race on a plain int reported; ${modes[*]}:" \
    "not reported (and reported with OHFED_TSAN_SHIM=off)"
}

# canary_reports BINARY MODE: whether TSan reports a data race in MODE.
canary_out=$(mktemp)
trap 'rm -f "$canary_out"' EXIT
canary_reports() {
  local rc=0
  TSAN_OPTIONS="$base:exitcode=66" "$1" "$2" >"$canary_out" 2>&1 || rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 66 ]; then
    echo "sanitize: canary '$2' failed with exit code $rc:" >&2
    cat "$canary_out" >&2
    exit 1
  fi
  grep -q "WARNING: ThreadSanitizer: data race" "$canary_out"
}

case "$mode" in
  asan)
    build=build-asan
    logs=$src/$build/sanitizer-logs
    # -O0: the build is the long part on a shared machine; -O1 would double
    # the compile time for no extra finding.
    configure "$build" \
      "-O0 -fsanitize=address,undefined -fno-sanitize-recover=undefined"
    rm -rf "$logs" && mkdir -p "$logs"
    export ASAN_OPTIONS="detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1:strict_string_checks=1:abort_on_error=0:log_path=$logs/asan"
    export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp:log_path=$logs/ubsan"
    start=$(date +%s)
    # gtest_discover_tests runs each test binary at build time: under the
    # same options, so a finding at static initialisation fails the build.
    nice -n 10 cmake --build "$build" -j "$jobs"
    echo "sanitize: build took $(($(date +%s) - start)) s"
    rm -rf "$logs" && mkdir -p "$logs"
    # Excluded: dashboard_browser_* drive Debian's chromium, whose own
    # sandbox and allocator do not run under our ASAN_OPTIONS environment
    # (see README "Sanitizers").
    start=$(date +%s)
    status=0
    ctest --test-dir "$build" --output-on-failure --timeout 900 -j "$test_jobs" \
      -E '^dashboard_browser_' "$@" || status=$?
    echo "sanitize: ctest took $(($(date +%s) - start)) s"
    check_logs "$logs" || status=1
    exit $status
    ;;
  tsan)
    build=build-tsan
    logs=$src/$build/sanitizer-logs
    # -O1: TSan at -O0 is several times slower to run.
    configure "$build" "-O1 -fsanitize=thread" -DOHFED_TSAN=ON
    base="second_deadlock_stack=1:halt_on_error=0"
    export TSAN_OPTIONS="$base:suppressions=$supp/tsan.supp:log_path=$logs/tsan"
    # The multi-threaded suites: the daemons (run by the integration and
    # binary tests) and every agent, aggregator and integration test.
    targets=(tsan_canary ohfed-agent ohfed-aggregator ohfed)
    for t in $(ninja -C "$build" -t targets all | sed -n \
        's/^\(\(agent\|aggregator\|integration\)_[a-z_]*_test\): .*/\1/p' |
        sort -u); do
      targets+=("$t")
    done
    rm -rf "$logs" && mkdir -p "$logs"
    start=$(date +%s)
    nice -n 10 cmake --build "$build" -j "$jobs" --target "${targets[@]}"
    echo "sanitize: build took $(($(date +%s) - start)) s"
    rm -rf "$logs" && mkdir -p "$logs"
    check_canary "$build/tests/sanitizers/tsan_canary" || exit 1
    start=$(date +%s)
    status=0
    # prometheus_alert_rules runs promtool, none of our code.
    for dir in agent aggregator integration; do
      ctest --test-dir "$build/tests/$dir" --output-on-failure --timeout 900 \
        -j "$test_jobs" -E '^prometheus_alert_rules$' "$@" || status=$?
    done
    echo "sanitize: ctest took $(($(date +%s) - start)) s"
    check_logs "$logs" || status=1
    exit $status
    ;;
  *)
    echo "usage: bash tests/sanitize.sh asan|tsan [ctest args]" >&2
    exit 2
    ;;
esac
