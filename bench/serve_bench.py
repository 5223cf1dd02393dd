#!/usr/bin/env python3
"""Analyze RPC latency: the same gRPC client (the `pulumi` package's stubs) sends the engine's sequence to
`python -m pulumi.policy` and to `policy-host serve`; reports the median Remediate+Analyze round trip per
resource and the time until the port is printed.

    <venv>/bin/python serve_bench.py --binary BIN --pack PACK [--resources N]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Tests", "Differential"))
import conformance  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--pack", required=True)
    ap.add_argument("--resources", type=int, default=1000)
    a = ap.parse_args()
    pack = os.path.abspath(a.pack)
    binary = os.path.abspath(a.binary)
    tmp = tempfile.mkdtemp()
    stack = os.path.join(tmp, "stack.json")
    subprocess.run([sys.executable, os.path.join(HERE, "genstack.py"), str(a.resources), stack], check=True)
    req_file = os.path.join(tmp, "req.json")
    subprocess.run([binary, "analyze", "-q", stack, "--policy-pack", pack, "--format", "json", "--emit-requests", req_file],
                   stdout=subprocess.DEVNULL, check=False)
    req = json.load(open(req_file))
    rows = []
    for label, argv in (("python -m pulumi.policy", [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", pack]),
                        ("policy-host serve", [binary, "serve", "127.0.0.1:1", pack])):
        t = time.perf_counter()
        proc, _ = conformance.start(argv, pack, req)
        started = time.perf_counter() - t
        proc.kill()
        proc.wait()
        _, lat, _ = conformance.session(argv, pack, req)
        rows.append((label, started, statistics.median(lat), sum(lat)))
    ref, ours = rows
    print("| server | port printed | Remediate+Analyze per resource (median) | all resources |")
    print("|---|---|---|---|")
    for label, started, med, total in rows:
        print(f"| {label} | {started*1000:.0f} ms | {med*1e6:.0f} µs | {total:.2f} s |")
    print(f"| ratio (reference / policy-host) | {ref[1]/ours[1]:.2f}× | {ref[2]/ours[2]:.2f}× | {ref[3]/ours[3]:.2f}× |")


if __name__ == "__main__":
    main()
