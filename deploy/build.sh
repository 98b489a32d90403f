#!/usr/bin/env bash
# Installs what is missing, configures and builds ohfed into ./build.
#   deploy/build.sh              everything, tests included
#   deploy/build.sh TARGET...    only those targets (the demo builds its four)
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build build -j "$(nproc)" "${targets[@]}"
