#!/usr/bin/env bash
# Installs what tests/bench/run.sh needs beyond deploy/install-deps.sh: the
# baselines the end-to-end benchmarks measure ohfed against (PostgreSQL 15,
# sqlite3), GNU time for peak RSS, perf for the profile, and Python for the
# runner. Kept apart so that building and testing stay lean; run.sh calls
# it. Installs only what is missing; uses sudo when not root.
set -euo pipefail

PACKAGES=(
  postgresql sqlite3 time linux-perf python3 openssl libpq-dev
)

exec bash "$(dirname "$0")/apt-install.sh" "ohfed bench" "${PACKAGES[@]}"
