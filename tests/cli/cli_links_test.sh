#!/usr/bin/env bash
# The `ohfed` command loads only what a gRPC client needs (issue 14, figure
# 5: every shared library is paid at each command's start; cli/CMakeLists.txt).
#   cli_links_test.sh OHFED_BIN STATIC(ON|OFF)
# Fails naming each library the binary should not load.
set -euo pipefail
bin=$1
static=$2
needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
never=(librocksdb libspdlog libsystemd libfmt libcpp-httplib)
if [[ "$static" == ON ]]; then
  never+=(libgrpc libgpr libprotobuf libabsl libssl libcrypto libupb libre2)
fi
bad=0
for lib in $needed; do
  for n in "${never[@]}"; do
    if [[ "$lib" == "$n"* ]]; then
      echo "ohfed loads $lib (it must not: only what a gRPC client needs)"
      bad=1
    fi
  done
done
# And it still starts.
"$bin" --version >/dev/null || { echo "ohfed --version failed"; bad=1; }
exit $bad
