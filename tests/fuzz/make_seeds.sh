#!/usr/bin/env bash
# Writes the serialized-request seeds of the ingest, query and completeness
# fuzz targets (corpus/<target>/<name>.pb) from the text protos in seeds/
# (<target>_<name>.txtpb), with protoc --encode. Run after changing a seed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
declare -A type=([ingest]=SubmitRequest [query]=QueryRequest
                 [completeness]=CompletenessRequest)
for seed in "$here"/seeds/*.txtpb; do
  base=$(basename "$seed" .txtpb)
  target=${base%%_*}
  name=${base#*_}
  mkdir -p "$here/corpus/$target"
  protoc -I"$root/proto" --encode="ohfed.v1.${type[$target]}" \
    ohfed/v1/ohfed.proto <"$seed" >"$here/corpus/$target/$name.pb"
done
