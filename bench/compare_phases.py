#!/usr/bin/env python3
"""Compares two policy-host binaries phase by phase (`POLICY_HOST_TIMINGS=1`): the Python-side phases
"remediate + analyze" and "analyze stack", medians over interleaved runs (A, B, B, A, …), and the
difference per resource. Start-up is left out: it varies more between runs than what is measured.

    python3 bench/compare_phases.py --before OLD_BINARY --after NEW_BINARY \\
        --packs .bench/bench-1,.bench/bench-5,.bench/bench-20 --size 1000 --rounds 9
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PHASES = ("remediate + analyze", "analyze stack")


def phases(binary, pack, stack):
    r = subprocess.run([binary, "analyze", "-q", stack, "--policy-pack", pack, "--format", "json"],
                       env=dict(os.environ, POLICY_HOST_TIMINGS="1"), capture_output=True, text=True)
    if r.returncode not in (0, 1):
        sys.exit(f"{binary} failed: {r.stderr}")
    found = dict(re.findall(r"timing: (.*?)\s+([0-9.]+) ms", r.stderr))
    return [float(found.get(p, "nan")) for p in PHASES]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--packs", required=True)
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=9)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stack = os.path.join(tmp, "stack.json")
        subprocess.run([sys.executable, os.path.join(HERE, "genstack.py"), str(a.size), stack], check=True)
        print("| pack | phase | before | after | after − before, per resource |")
        print("|---|---|---|---|---|")
        for pack in a.packs.split(","):
            runs = {a.before: [], a.after: []}
            for i in range(a.rounds):
                for b in ((a.before, a.after) if i % 2 == 0 else (a.after, a.before)):
                    runs[b].append(phases(b, pack, stack))
            for k, name in enumerate(PHASES):
                before = statistics.median(r[k] for r in runs[a.before])
                after = statistics.median(r[k] for r in runs[a.after])
                print(f"| {os.path.basename(pack)} | {name} | {before:.1f} ms | {after:.1f} ms | "
                      f"{(after - before) / a.size * 1000:+.1f} µs |", flush=True)


if __name__ == "__main__":
    main()
