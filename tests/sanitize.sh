#!/usr/bin/env bash
# Builds the whole project and test suite with a sanitizer in its own build
# directory and runs the CTest suite under it (README "Sanitizers").
#   bash tests/sanitize.sh asan   ASan+UBSan, build-asan/, every test
#   bash tests/sanitize.sh tsan   ThreadSanitizer, build-tsan/, the racy-canary
#                                 check and every test folder
# Under a sanitizer the code runs several times slower: explicit test
# timeouts are scaled (OHFED_TEST_TIMEOUT_SCALE) and tests read
# OHFED_SANITIZE to run fewer generated cases (tests/testing/sanitizer_run.h;
# they say so in a skip message). The normal build is unchanged.
# Builds and tests one test folder at a time (tests/<folder>/all, then
# ctest in it), most threaded first, so a partial run still says something.
# Extra arguments go to each ctest (e.g. -R Forwarder);
# OHFED_SANITIZE_FOLDERS="service wire" runs only those test folders.
# Builds with nice -n 10 and -j2 (OHFED_SANITIZE_JOBS; ctest -j OHFED_SANITIZE_TEST_JOBS, 2) because
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
    -DOHFED_TEST_TIMEOUT_SCALE="$timeout_scale" -DOHFED_TCMALLOC=OFF \
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
# reports nothing at all for the same data ordered by each absl primitive;
# and reports those as races with the absl::Mutex shim turned off (so the
# shim is what makes them clean, and the library is invisible to TSan).
check_canary() {
  local bin=$1 mode
  local modes=(mutex reader trylock condvar condvar_timeout await
    await_timeout lockwhen notification)
  canary "$bin" race
  grep -q "WARNING: ThreadSanitizer: data race" "$canary_out" || {
    echo "sanitize: FAIL: TSan did not report the canary's race" >&2
    return 1
  }
  for mode in "${modes[@]}"; do
    canary "$bin" "$mode"
    if [ "$canary_rc" -ne 0 ]; then
      echo "sanitize: FAIL: canary '$mode' reported by TSan:" >&2
      cat "$canary_out" >&2
      return 1
    fi
    OHFED_TSAN_SHIM=off canary "$bin" "$mode"
    grep -q "WARNING: ThreadSanitizer: data race" "$canary_out" || {
      echo "sanitize: FAIL: canary '$mode' not reported without the shim" >&2
      return 1
    }
  done
  echo "sanitize: canary: race on a plain int reported; ${modes[*]}:" \
    "not reported (and reported with OHFED_TSAN_SHIM=off)"
}

# canary BINARY MODE: runs it; sets canary_rc (66: TSan reported), output
# in $canary_out.
canary_out=$(mktemp)
builder=
trap 'rm -f "$canary_out"; [ -z "$builder" ] || kill "$builder" 2>/dev/null' EXIT
canary() {
  canary_rc=0
  TSAN_OPTIONS="$base:exitcode=66" "$1" "$2" >"$canary_out" 2>&1 ||
    canary_rc=$?
  if [ $canary_rc -ne 0 ] && [ $canary_rc -ne 66 ]; then
    echo "sanitize: canary '$2' failed with exit code $canary_rc:" >&2
    cat "$canary_out" >&2
    exit 1
  fi
}

# run_folders BUILD FOLDER...: builds tests/FOLDER/all (with what it
# needs) for each folder in order in the background, and runs each
# folder's ctest tests as soon as its build is done, while the next folder
# builds (the build is as long as the tests on 2 cores); sets `status`.
run_folders() {
  local build=$1 folder marks=$1/sanitize-build
  shift
  rm -rf "$marks" && mkdir -p "$marks"
  (
    for folder in "$@"; do
      if nice -n 10 cmake --build "$build" -j "$jobs" \
        --target "tests/$folder/all" >"$marks/$folder.log" 2>&1; then
        touch "$marks/$folder.ok"
      else
        touch "$marks/$folder.failed"
        exit 1
      fi
    done
  ) &
  builder=$!
  for folder in "$@"; do
    while [ ! -e "$marks/$folder.ok" ] && [ ! -e "$marks/$folder.failed" ]; do
      sleep 5
    done
    if [ -e "$marks/$folder.failed" ]; then
      cat "$marks/$folder.log" >&2
      echo "sanitize: FAIL: building tests/$folder" >&2
      status=1
      break
    fi
    echo "sanitize: tests/$folder built ($(($(date +%s) - start_s)) s)"
    ctest --test-dir "$build/tests/$folder" --output-on-failure \
      --timeout $((300 * timeout_scale)) \
      -j "$test_jobs" -E "$exclude" "${ctest_args[@]}" || status=1
    echo "sanitize: tests/$folder done ($(($(date +%s) - start_s)) s)"
  done
  wait "$builder" || status=1
  builder=
}

ctest_args=("$@")
all_folders="aggregator agent integration chaos service wire cli common \
dashboard fuzz bench"
export OHFED_SANITIZE=$mode
timeout_scale=5
echo "sanitize: OHFED_SANITIZE=$mode: test timeouts x$timeout_scale;" \
  "Seeds/DisclosureAuditTest runs seed 1 only (2-4 are skipped)"
status=0
start_s=$(date +%s)
case "$mode" in
  asan)
    build=build-asan
    logs=$src/$build/sanitizer-logs
    # -O1: compiles only about 15% slower than -O0 (measured on
    # aggregator/query_engine.cc) and runs the tests several times faster.
    configure "$build" \
      "-O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined"
    rm -rf "$logs" && mkdir -p "$logs"
    export ASAN_OPTIONS="detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1:strict_string_checks=1:abort_on_error=0:log_path=$logs/asan"
    export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp:log_path=$logs/ubsan"
    exclude='^$'
    # gtest_discover_tests runs each test binary at build time, under the
    # same options: a finding at static initialisation fails the build.
    run_folders "$build" ${OHFED_SANITIZE_FOLDERS:-$all_folders}
    # Everything else (tools, packaging inputs) and the tree's own checks.
    nice -n 10 cmake --build "$build" -j "$jobs"
    ctest --test-dir "$build" --output-on-failure -R '^format_check$' \
      "${ctest_args[@]}" || status=1
    ;;
  tsan)
    build=build-tsan
    logs=$src/$build/sanitizer-logs
    # -O1: TSan at -O0 is several times slower to run.
    # The shim defines absl::Mutex's symbols over Debian's shared abseil; the
    # ohfed command's static abseil (OHFED_STATIC_CLI) would define them twice.
    configure "$build" "-O1 -fsanitize=thread" -DOHFED_TSAN=ON \
      -DOHFED_STATIC_CLI=OFF
    # ignore_noninstrumented_modules: gRPC, protobuf and RocksDB hand
    # buffers between their own threads with synchronisation TSan cannot
    # see (their atomics are not instrumented); without it TSan reports
    # their memcpy/sendmsg/free as racing with our code that filled the
    # buffer. Our code's own accesses are all still checked.
    base="second_deadlock_stack=1:halt_on_error=0:ignore_noninstrumented_modules=1"
    rm -rf "$logs" && mkdir -p "$logs"
    export TSAN_OPTIONS="$base:suppressions=$supp/tsan.supp:log_path=$logs/tsan"
    nice -n 10 cmake --build "$build" -j "$jobs" --target tsan_canary
    check_canary "$build/tests/sanitizers/tsan_canary" || exit 1
    # Every folder; the tests that start the real daemons start the TSan
    # builds of them. prometheus_alert_rules runs promtool, none of our code.
    exclude='^prometheus_alert_rules$'
    run_folders "$build" ${OHFED_SANITIZE_FOLDERS:-$all_folders}
    ;;
  *)
    echo "usage: bash tests/sanitize.sh asan|tsan [ctest args]" >&2
    exit 2
    ;;
esac
echo "sanitize: $mode: $(($(date +%s) - start_s)) s wall, build and tests"
check_logs "$logs" || status=1
exit $status
