#!/usr/bin/env bash
# ctest service_units: every unit in deploy/systemd passes
# `systemd-analyze verify` without a warning and rates "OK" or better
# (exposure <= 4.0) in `systemd-analyze security --offline=yes`.
# Usage: check_units.sh UNIT_DIR BIN_DIR. Exits 77 (skipped) without
# systemd-analyze (Debian package systemd, deploy/install-deps.sh).
set -euo pipefail
unit_dir=$1 bin_dir=$2
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIPPED: systemd-analyze not found (install Debian's systemd package)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for unit in "$unit_dir"/*.service; do
  name=$(basename "$unit")
  # verify checks that ExecStart= exists: point it at the built binaries.
  sed "s|/usr/bin/ohfed|$bin_dir/ohfed|g" "$unit" > "$work/$name"
  if ! out=$(systemd-analyze verify "$work/$name" 2>&1) || [ -n "$out" ]; then
    echo "$name: systemd-analyze verify: $out"
    status=1
  fi
  report=$(systemd-analyze security --offline=yes "$work/$name" 2>&1) || true
  level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' \
    <<<"$report")
  if [ -z "$level" ]; then
    echo "$name: no exposure level in: $report"
    status=1
  elif awk -v l="$level" 'BEGIN { exit !(l > 4.0) }'; then
    echo "$name: exposure $level is above 4.0 (\"OK\"):"
    grep '✗' <<<"$report" || true
    status=1
  else
    echo "$name: verify clean, exposure $level"
  fi
done
exit $status
