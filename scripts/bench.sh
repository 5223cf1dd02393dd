#!/usr/bin/env bash
# Reproduces BENCHMARKS.md: builds release, generates the bench packs (1, 5, 20 resource policies + 2 stack
# policies) and their venvs under .bench/, then runs
#   bench/run.py           analysis: policy-host vs the SDK's gRPC analyzer vs the floor, start-up, RSS
#   bench/venv_bench.py    venv: reuse check vs no-op pip, cold install pip vs uv
#   bench/serve_bench.py   serve: Analyze RPC latency, same client, vs python -m pulumi.policy
#   bench/serve_h2load.py  serve: Handshake and Analyze with a native HTTP/2 client (h2load), latency and CPU per call;
#                          Remediate + Analyze per resource over the 1 000-resource stack (bench/h2calls.c)
#   bench/multi_bench.sh   4 packs on 1 000 resources, in parallel vs one after another
#   bench/route_bench.py   the embedded fast path vs the SDK's servicer in process vs the out-of-process route
#                          (same venv, and a 3.12 venv)
# Arguments go to bench/run.py (default: --sizes 1000 --repeat 5; add 100000 for the large case).
# Not run here (it compares builds): bench/serve_ab.py --pack .bench/bench-5 BIN_BEFORE BIN_AFTER, the per-step
# serve CPU deltas in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh -c release
BIN=.build/release/policy-host
mkdir -p .bench
PACKS=""
for n in 1 5 20; do
  python3 bench/genpack.py $n .bench/bench-$n
  $BIN install -q .bench/bench-$n
  PACKS="$PACKS${PACKS:+,}.bench/bench-$n"
done
PY=.bench/bench-5/venv/bin/python
if [ $# -gt 0 ]; then
  "$PY" bench/run.py --binary "$BIN" --packs "$PACKS" "$@"
else
  "$PY" bench/run.py --binary "$BIN" --packs "$PACKS" --sizes 1000 --repeat 5
  echo
  "$PY" bench/run.py --binary "$BIN" --packs .bench/bench-5 --sizes 10000,100000 --repeat 1
fi
echo
"$PY" bench/venv_bench.py --binary "$BIN" --pack .bench/bench-5
echo
"$PY" bench/serve_bench.py --binary "$BIN" --pack .bench/bench-5
echo
"$PY" bench/serve_h2load.py --binary "$BIN" --pack .bench/bench-5
echo
bench/multi_bench.sh "$BIN"
echo
PY312=$(ls -d "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.12.*/bin/python3 2>/dev/null | tail -1 || true)
"$PY" bench/route_bench.py --binary "$BIN" --pack .bench/bench-5 ${PY312:+--python312 "$PY312"}
