#!/usr/bin/env bash
# The benchmark suite of issue 14, in one command:
#
#   tests/bench/run.sh [--short|--full] [--profile] [--runs N] [--only LIST]
#
# --short (the default) takes a few minutes; --full uses the issue's sizes
# (1,000 streams, 1,000,000 events, 200 query repetitions; about half an
# hour on 2 cores). Installs the baselines (deploy/install-bench-deps.sh),
# builds the binaries it runs (in $OHFED_BUILD, default build/), then runs
# tests/bench/bench.py, which prints the table on stdout and its progress on
# stderr. --profile adds `perf record` of the aggregator under 100-stream
# ingest (--profile-out FILE, default bench-profile.txt).
# OHFED_BENCH_SKIP_DEPS=1 skips the install step.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${OHFED_BUILD:-$ROOT/build}

[ "${OHFED_BENCH_SKIP_DEPS:-0}" = 1 ] || bash "$ROOT/deploy/install-bench-deps.sh"
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD" -j"$(nproc)" --target ohfed-aggregator ohfed-agent ohfed \
  ohfed_bench_driver >&2
exec python3 "$HERE/bench.py" --build "$BUILD" "$@"
