#!/bin/bash
# The long crash test (README "Reliability"): 1,000 cycles by default, at
# low priority. Extra arguments go to crash_test (e.g. --seed=S,
# --cycles=N, --check-every=K).
#   tests/chaos/run_long.sh [BUILD_DIR] [ARGS...]
set -euo pipefail
build=${1:-build}
shift || true
exec nice -n 10 "$build/tests/chaos/crash_test" "$@" --cycles=1000
