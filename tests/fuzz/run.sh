#!/usr/bin/env bash
# The long fuzz run, on demand:
#
#   bash tests/fuzz/run.sh [SECONDS] [TARGET...]
#
# Configures build-fuzz/ (beside build/) with clang-14 and
# -fsanitize=fuzzer,address,undefined, builds the fuzz targets only, and runs
# each TARGET (default: all; names as in tests/fuzz/CMakeLists.txt, e.g.
# ingest, import_staffing) for SECONDS (default 60) on a scratch copy of its
# committed corpus (build-fuzz/fuzz-work/<target>/corpus; the committed one
# is never written). Prints per target the executions, exec/s, corpus size
# and any crash file (build-fuzz/fuzz-work/<target>/crash-*), then exits
# non-zero if any target found something. A crash file replays with
#   build-fuzz/tests/fuzz/fuzz_<target> CRASH_FILE
# and, once fixed, belongs in tests/fuzz/corpus/<target>/ so the replay test
# keeps it fixed. Needs clang-14 and libfuzzer-14-dev (deploy/install-deps.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-60}
shift || true
all=(period registry catalogue config import_staffing import_activity
     import_profile ingest query completeness)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
build=${OHFED_FUZZ_BUILD:-$root/build-fuzz}
jobs=${OHFED_FUZZ_JOBS:-2}

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
flags="-fsanitize=fuzzer-no-link,address,undefined"
flags+=" -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 "${launcher[@]}" \
  -DCMAKE_CXX_FLAGS="$flags" -DOHFED_FUZZ=ON -DOHFED_TCMALLOC=OFF >/dev/null
cmake --build "$build" -j"$jobs" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
found=0
printf '%-16s %12s %10s %8s  %s\n' target executions exec/s corpus finding
for t in "${targets[@]}"; do
  work=$build/fuzz-work/$t
  rm -rf "$work"
  mkdir -p "$work/corpus"
  cp -r "$root/tests/fuzz/corpus/$t/." "$work/corpus/"
  log=$work/fuzz.log
  status=0
  (cd "$work" && "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" \
     -timeout=10 -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 \
     -artifact_prefix="$work/" corpus >"$log" 2>&1) || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  size=$(find "$work/corpus" -type f | wc -l)
  crash=$(find "$work" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' \
            -o -name 'timeout-*' -o -name 'oom-*' \) | head -1)
  if [ "$status" -ne 0 ] || [ -n "$crash" ]; then
    found=1
    printf '%-16s %12s %10s %8s  %s (log %s)\n' "$t" "${execs:-?}" \
      "${rate:-?}" "$size" "${crash:-exit $status}" "$log"
  else
    printf '%-16s %12s %10s %8s  none\n' "$t" "$execs" "$rate" "$size"
  fi
done
exit $found
