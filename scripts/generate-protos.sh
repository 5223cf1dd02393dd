#!/usr/bin/env bash
# Regenerates Sources/PolicyServer/Generated from the `pulumi` package installed in a venv.
# Run it by hand when moving to another pulumi release; the output is committed, and a normal
# build never runs protoc or its plugins.
#
#   scripts/generate-protos.sh [VENV_PYTHON]    (default: the aws-basics fixture venv)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-Fixtures/packs/aws-basics/venv/bin/python}
command -v protoc >/dev/null || { apt-get update -q && apt-get install -y -q protobuf-compiler; }
(cd scripts/protoc-plugins && swift build --scratch-path ../../.build-protoc --product protoc-gen-swift >/dev/null \
  && swift build --scratch-path ../../.build-protoc --product protoc-gen-grpc-swift-2 >/dev/null)
BIN=$(cd scripts/protoc-plugins && swift build --scratch-path ../../.build-protoc --show-bin-path)
OUT=Sources/PolicyServer/Generated
mkdir -p "$OUT" Protos
"$PY" scripts/descriptor_set.py Protos/pulumi-analyzer.pb
VERSION=$("$PY" -c 'import importlib.metadata as m; print(m.version("pulumi"))')
rm -f "$OUT"/*.swift
protoc --descriptor_set_in=Protos/pulumi-analyzer.pb \
  --plugin=protoc-gen-swift="$BIN/protoc-gen-swift" --swift_out="$OUT" --swift_opt=Visibility=Internal \
  --plugin=protoc-gen-grpc-swift-2="$BIN/protoc-gen-grpc-swift-2" --grpc-swift-2_out="$OUT" \
  --grpc-swift-2_opt=Visibility=Internal,Client=true,Server=true \
  pulumi/analyzer.proto pulumi/plugin.proto
echo "pulumi $VERSION" > Protos/PROTOCOL_VERSION
ls "$OUT"
