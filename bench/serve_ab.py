#!/usr/bin/env python3
"""Server CPU and latency per sequential call for several `policy-host` builds, A/B (issue 18).

All builds serve the same pack at once; h2load (`-c 1 -m 1`) sends ROUNDS rounds of CALLS calls to
each in turn, alternating the order every round, so that the machine's slower and faster stretches
fall on every build alike. Per build: the mean and median over the rounds of the server's CPU per
call (/proc/<pid>/stat, all threads) and the mean latency. Used for the per-step deltas in
BENCHMARKS.md; `serve_h2load.py` gives the headline against the SDK's server.

    <venv>/bin/python serve_ab.py --pack PACK [--method Analyze|Handshake] [--rounds 20] [--calls 1000] BIN...
"""
import argparse
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import serve_h2load as sh  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pack", required=True)
    ap.add_argument("--method", choices=("Analyze", "Handshake"), default="Analyze")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("binaries", nargs="+")
    a = ap.parse_args()
    pack = os.path.abspath(a.pack)
    tmp = tempfile.mkdtemp(prefix="serve-ab-")
    body = sh.body_files(pack, tmp)[a.method]
    log = os.path.join(tmp, "log")
    servers = []
    try:
        for binary in a.binaries:
            proc, port = sh.start([os.path.abspath(binary), "serve", "127.0.0.1:1", pack], pack, {})
            servers.append((binary, proc, port))
            sh.h2load(port, a.method, body, 1000, 1, 1, log)  # warm up (loads the pack)
        cpu = {b: [] for b in a.binaries}
        latency = {b: [] for b in a.binaries}
        for r in range(a.rounds):
            for binary, proc, port in (servers if r % 2 == 0 else servers[::-1]):
                before = sh.cpu_seconds(proc.pid)
                _, durations = sh.h2load(port, a.method, body, a.calls, 1, 1, log)
                cpu[binary].append((sh.cpu_seconds(proc.pid) - before) / a.calls * 1e6)
                latency[binary].append(statistics.mean(durations))
    finally:
        for _, proc, _ in servers:
            proc.kill()
            proc.wait()
    print(f"| build | server CPU per {a.method}, mean | median | latency, mean |")
    print("|---|---|---|---|")
    for binary in a.binaries:
        print(f"| {binary} | {statistics.mean(cpu[binary]):.1f} µs | {statistics.median(cpu[binary]):.1f} µs | "
              f"{statistics.mean(latency[binary]):.0f} µs |")
    print(f"\n{a.rounds} rounds of {a.calls} sequential calls per build, order alternating")


if __name__ == "__main__":
    main()
