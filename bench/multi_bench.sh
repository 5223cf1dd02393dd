#!/usr/bin/env bash
# 4 packs on a 1 000-resource stack: in parallel (--jobs = cores) against one after another (--jobs 1).
set -euo pipefail
BIN=${1:-.build/release/policy-host}
STACK=$(mktemp --suffix=.json)
python3 "$(dirname "$0")/genstack.py" 1000 "$STACK"
ARGS=(analyze -q "$STACK" --policy-pack .bench/bench-1 --policy-pack .bench/bench-5 --policy-pack .bench/bench-20 --policy-pack Fixtures/packs/aws-basics --format json)
"$BIN" install -q Fixtures/packs/aws-basics
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run() { for i in 1 2 3; do s=$(date +%s.%N); "$BIN" "${ARGS[@]}" "$@" >/dev/null || true; e=$(date +%s.%N); python3 -c "print(round($e - $s, 2))"; done | median; }
par=$(run)
seq=$(run --jobs 1)
echo "| 4 packs, 1 000 resources | time |"
echo "|---|---|"
echo "| in parallel (--jobs $(nproc)) | ${par} s |"
echo "| one after another (--jobs 1) | ${seq} s |"
echo "| speed-up | $(python3 -c "print(round($seq / $par, 2))")× |"
rm -f "$STACK"
