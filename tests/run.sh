#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/build.sh
cd build
ctest --output-on-failure --timeout 300 -j 2
