#!/usr/bin/env bash
# Reproduces BENCHMARKS.md: builds release, prepares the bench pack's venv, runs bench/run.py.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh -c release
BIN=.build/release/policy-host
PACK=${PACK:-Fixtures/packs/aws-basics}
$BIN install -q "$PACK"
exec "$PACK/venv/bin/python" bench/run.py --binary "$BIN" --pack "$PACK" "$@"
