#!/usr/bin/env bash
# Installs the Debian 12 packages ohfed needs to build, test and run the demo.
# Installs only what is missing; uses sudo when not root.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev librocksdb-dev libgoogle-perftools-dev liblz4-dev
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

exec bash "$(dirname "$0")/apt-install.sh" "ohfed" "${PACKAGES[@]}"
