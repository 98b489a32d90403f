#!/usr/bin/env bash
# Installs the Debian 12 packages ohfed needs to build, test and run the demo.
# Installs only what is missing; uses sudo when not root.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev librocksdb-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libpq-dev
  libcli11-dev nlohmann-json3-dev
  libssl-dev openssl libglpk-dev
  libsystemd-dev systemd dpkg-dev
  clang-format-14 git
  clang-14 libfuzzer-14-dev
  libcpp-httplib-dev prometheus
  libmstch-dev libspdlog-dev
  chromium chromium-driver python3-selenium
  sqlite3 time
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "ohfed: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
