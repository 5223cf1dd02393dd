#!/usr/bin/env bash
# Reproduces BENCHMARKS.md: builds release, prepares the bench pack's venv, then runs
#   bench/run.py        analysis: policy-host vs the SDK's gRPC analyzer (and start-up)
#   bench/venv_bench.py venv: reuse check vs no-op pip, cold install pip vs uv
# Extra arguments go to bench/run.py (e.g. --sizes 1000,100000 --repeat 5).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh -c release
BIN=.build/release/policy-host
PACK=${PACK:-Fixtures/packs/aws-basics}
$BIN install -q "$PACK"
"$PACK/venv/bin/python" bench/run.py --binary "$BIN" --pack "$PACK" "$@"
echo
"$PACK/venv/bin/python" bench/venv_bench.py --binary "$BIN" --pack "$PACK"
