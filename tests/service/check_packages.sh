#!/usr/bin/env bash
# ctest service_packages: cpack builds ohfed-agent and ohfed-aggregator .deb
# packages from the built tree; dpkg-deb shows they hold the binaries, the
# units, the example configurations, the reference data and the maintainer
# scripts, and that the packaged binaries run.
# Usage: check_packages.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 source=$2
for tool in cpack dpkg-deb dpkg-shlibdeps; do
  if ! command -v $tool >/dev/null; then
    echo "SKIPPED: $tool not found (deploy/install-deps.sh installs dpkg-dev)"
    exit 77
  fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work" >"$work/cpack.log" 2>&1 \
  || { cat "$work/cpack.log"; exit 1; }

fail() { echo "$*"; exit 1; }

# check PACKAGE FILE...: the package exists and holds every FILE.
check() {
  local package=$1; shift
  local deb
  deb=$(ls "$work"/"$package"_*.deb 2>/dev/null) || fail "no $package .deb built"
  local contents info
  contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
  info=$(dpkg-deb -I "$deb")
  for f in "$@"; do
    grep -qx "\./$f" <<<"$contents" || fail "$package lacks /$f; it holds:
$contents"
  done
  grep -q "^ Package: $package$" <<<"$info" || fail "$package: wrong name: $info"
  grep -q "^ Depends:.*libsystemd0" <<<"$info" || fail "$package: no libsystemd0 dependency"
  for script in postinst prerm; do
    grep -q " $script " <<<"$info" || fail "$package: no $script"
    dpkg-deb -I "$deb" $script >"$work/$script"
    sh -n "$work/$script" || fail "$package: $script is not valid sh"
  done
  grep -q "useradd --system" "$work/postinst" \
    || fail "$package: postinst does not create the ohfed user"
  mkdir -p "$work/x/$package"
  dpkg-deb -x "$deb" "$work/x/$package"
  cmp "$work/x/$package/usr/lib/systemd/system/$package.service" \
    "$source/deploy/systemd/$package.service" || fail "$package: unit differs"
  "$work/x/$package/usr/bin/$package" --version >/dev/null \
    || fail "$package: packaged binary does not run"
  # Full RELRO (CMakeLists.txt): bound at start, GOT read-only after.
  local binary=$work/x/$package/usr/bin/$package dynamic segments
  dynamic=$(readelf -d "$binary")
  grep -q "BIND_NOW" <<<"$dynamic" || fail "$package: not linked -z now"
  segments=$(readelf -lW "$binary")  # whole first: see pipefail below
  grep -q GNU_RELRO <<<"$segments" || fail "$package: no RELRO segment"
  echo "$package: $(wc -l <<<"$contents") entries, ok"
}

check ohfed-agent usr/bin/ohfed-agent usr/bin/ohfed usr/bin/ohfed-sample-data \
  usr/lib/systemd/system/ohfed-agent.service \
  usr/share/ohfed-agent/examples/agent.conf \
  usr/share/ohfed-agent/catalogue.csv usr/share/ohfed-agent/england_orgs.csv \
  usr/share/doc/ohfed-agent/README.md
check ohfed-aggregator usr/bin/ohfed-aggregator \
  usr/lib/systemd/system/ohfed-aggregator.service \
  usr/share/ohfed-aggregator/examples/regional.conf \
  usr/share/ohfed-aggregator/examples/national.conf \
  usr/share/ohfed-aggregator/catalogue.csv \
  usr/share/ohfed-aggregator/england_orgs.csv \
  usr/share/doc/ohfed-aggregator/README.md

# The aggregator's allocator (aggregator/CMakeLists.txt, OHFED_TCMALLOC) is
# a dependency of its package, found by dpkg-shlibdeps.
# (Read whole first: grep -q stops reading early, and under pipefail the
# writer's SIGPIPE would fail the pipeline.)
libraries=$(ldd "$build/bin/ohfed-aggregator")
if grep -q libtcmalloc_minimal <<<"$libraries"; then
  info=$(dpkg-deb -I "$work"/ohfed-aggregator_*.deb)
  grep -q "^ Depends:.*libtcmalloc-minimal4" <<<"$info" ||
    fail "ohfed-aggregator: no libtcmalloc-minimal4 dependency"
  echo "ohfed-aggregator: depends on libtcmalloc-minimal4, ok"
fi
