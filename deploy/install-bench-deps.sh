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

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "ohfed bench: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
