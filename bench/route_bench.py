#!/usr/bin/env python3
"""What the embedded fast path buys over the out-of-process route (issue "Every Python environment").

Run through scripts/bench.sh, or: route_bench.py --binary B --pack P [--python312 PY] [--sizes 1,1000] [--repeat 5].
On one pack and the same generated stacks, interleaved (A, B, C, A, B, C, ...), the whole
`policy-host analyze --format json` process:
  * embedded   — `--runtime embedded` on the pack's 3.11 venv;
  * servicer   — `--runtime embedded` with POLICY_HOST_SDK_PATH=servicer: the SDK's own servicer called
                 in process (the path of the pulumi-policy releases the fast path is not proven on);
  * sdk-server — `--runtime sdk-server` on the same venv (the SDK's own analyzer, driven over gRPC: the
                 reference's cost, process and gRPC included);
  * 3.12       — `--runtime auto` on a copy of the pack whose venv is Python 3.12 (out of process), when
                 --python312 names an interpreter.
Start-up is the 1-resource run; per resource is (T(N) - T(1)) / (N - 1). Prints a Markdown table with the
ratios of this run.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def wall(argv, env=None):
    t = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    took = time.perf_counter() - t
    if p.returncode not in (0, 1):
        raise SystemExit(f"{argv} failed ({p.returncode}): {p.stderr.decode()[-2000:]}")
    return took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--pack", required=True, help="a pack whose venv is ready (Python 3.11)")
    ap.add_argument("--python312", help="a Python 3.12 interpreter for the other-version row")
    ap.add_argument("--sizes", default="1,1000")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tmp = tempfile.mkdtemp(prefix="route-bench-")
    try:
        stacks = {}
        for n in sizes:
            stacks[n] = os.path.join(tmp, f"stack-{n}.json")
            subprocess.run([sys.executable, os.path.join(HERE, "genstack.py"), str(n), stacks[n]], check=True)
        servicer = dict(os.environ, POLICY_HOST_SDK_PATH="servicer")
        routes = [("embedded", args.pack, ["--runtime", "embedded"], None),
                  ("servicer in process", args.pack, ["--runtime", "embedded"], servicer),
                  ("sdk-server", args.pack, ["--runtime", "sdk-server"], None)]
        if args.python312:
            other = os.path.join(tmp, "pack-312")
            shutil.copytree(args.pack, other, ignore=shutil.ignore_patterns("venv", "__pycache__"))
            with open(os.path.join(other, ".python-version"), "w") as f:
                f.write("3.12\n")
            env = dict(os.environ, PATH=os.path.dirname(args.python312) + ":" + os.environ.get("PATH", ""))
            subprocess.run([args.binary, "install", "-q", other], check=True, env=env)
            routes.append(("venv of 3.12 (auto)", other, [], None))
        times = {(name, n): [] for name, _, _, _ in routes for n in sizes}
        for _ in range(args.repeat):
            for n in sizes:
                for name, pack, flags, env in routes:
                    argv = [args.binary, "analyze", "-q", stacks[n], "--policy-pack", pack, "--format", "json"] + flags
                    times[(name, n)].append(wall(argv, env))
        med = {k: statistics.median(v) for k, v in times.items()}
        lo, hi = min(sizes), max(sizes)
        print(f"| route | start-up ({lo} resource) | per resource ({hi} resources) | whole run, {hi} | vs embedded, per resource |")
        print("|---|---|---|---|---|")
        base = (med[("embedded", hi)] - med[("embedded", lo)]) / (hi - lo)
        for name, _, _, _ in routes:
            per = (med[(name, hi)] - med[(name, lo)]) / (hi - lo)
            print(f"| {name} | {med[(name, lo)] * 1000:.0f} ms | {per * 1e6:.0f} µs | {med[(name, hi)]:.2f} s | {per / base:.1f}× |")
        print(f"\nmedians of {args.repeat} interleaved rounds")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
