#!/usr/bin/env python3
"""Benchmarks policy-host against the reference analyzer, in one run, on the same inputs.

Run through scripts/bench.sh (which builds release and prepares the venv). For each stack size:
  * policy-host: `analyze --format json` as a whole process, median of --repeat runs, peak RSS;
    per resource = (T(N) - T(1)) / (N - 1), i.e. without start-up;
  * reference: `python -m pulumi.policy` from the same venv, driven over gRPC with the engine's call
    sequence (Remediate + Analyze per resource, then AnalyzeStack) using the `pulumi` package's stubs;
    per resource = time of the per-resource calls / N; whole session = start + all calls;
  * start-up: policy-host on a 1-resource stack vs the reference until its port is printed, and vs
    `python -c "import pulumi_policy"`.
Prints a Markdown table; ratios are reference / policy-host measured in this run.
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
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "Tests", "Differential"))
import reference_driver  # noqa: E402


def timed(argv, repeat, env=None):
    """Median wall time and max peak RSS (KiB, /usr/bin/time) of a command."""
    walls, rss = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        walls.append(time.perf_counter() - t)
        if p.returncode not in (0, 1):
            raise SystemExit(f"{argv} failed ({p.returncode}): {p.stderr.decode()[-2000:]}")
        rss.append(int(p.stderr.decode().strip().splitlines()[-1]))
    return statistics.median(walls), max(rss)


def reference_rss(python, pack, req_file):
    """Peak RSS of the reference analyzer process over one session (VmHWM just before it is killed)."""
    req = json.load(open(req_file))
    peak = [0]
    orig_kill = subprocess.Popen.kill

    def kill(self):
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak[0] = int(line.split()[1])
        except OSError:
            pass
        orig_kill(self)

    subprocess.Popen.kill = kill
    try:
        reference_driver.drive(pack, req)
    finally:
        subprocess.Popen.kill = orig_kill
    return peak[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--pack", required=True)
    ap.add_argument("--sizes", default="1000")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    pack = os.path.abspath(args.pack)
    python = os.path.join(pack, "venv", "bin", "python")
    tmp = tempfile.mkdtemp(prefix="policy-host-bench-")
    rows = []

    one = os.path.join(tmp, "stack-1.json")
    subprocess.run([sys.executable, os.path.join(HERE, "genstack.py"), "1", one], check=True)
    host_cmd = lambda stack: [args.binary, "analyze", "-q", stack, "--policy-pack", pack, "--format", "json"]
    t1, rss1 = timed(host_cmd(one), args.repeat)
    imp, _ = timed([python, "-c", "import pulumi_policy"], args.repeat)
    ref_start = []
    req1 = os.path.join(tmp, "req-1.json")
    subprocess.run(host_cmd(one) + ["--emit-requests", req1], stdout=subprocess.DEVNULL, check=False)
    for _ in range(args.repeat):
        _, tm = reference_driver.drive(pack, json.load(open(req1)))
        ref_start.append(tm["start"])
    rows.append(("start to first result (1 resource)", f"{t1*1000:.0f} ms",
                 f"{statistics.median(ref_start)*1000:.0f} ms (port printed)",
                 f"{statistics.median(ref_start)/t1:.2f}×"))
    rows.append(("`python -c \"import pulumi_policy\"`", "", f"{imp*1000:.0f} ms", f"policy-host = {t1/imp:.2f}× of it"))

    for n in [int(s) for s in args.sizes.split(",")]:
        stack = os.path.join(tmp, f"stack-{n}.json")
        subprocess.run([sys.executable, os.path.join(HERE, "genstack.py"), str(n), stack], check=True)
        req = os.path.join(tmp, f"req-{n}.json")
        subprocess.run(host_cmd(stack) + ["--emit-requests", req], stdout=subprocess.DEVNULL, check=False)
        tn, rssn = timed(host_cmd(stack), args.repeat)
        per_host = (tn - t1) / (n - 1)
        ref_per, ref_total = [], []
        for _ in range(max(1, args.repeat // 2)):
            _, tm = reference_driver.drive(pack, json.load(open(req)))
            ref_per.append(tm["resources"] / n)
            ref_total.append(tm["total"])
        rp = statistics.median(ref_per)
        rt = statistics.median(ref_total)
        rrss = reference_rss(python, pack, req)
        rows.append((f"Analyze per resource, {n} resources", f"{per_host*1e6:.0f} µs", f"{rp*1e6:.0f} µs", f"{rp/per_host:.1f}×"))
        rows.append((f"whole run, {n} resources", f"{tn:.2f} s", f"{rt:.2f} s", f"{rt/tn:.1f}×"))
        rows.append((f"peak RSS, {n} resources", f"{rssn/1024:.1f} MiB", f"{rrss/1024:.1f} MiB (analyzer process)",
                     f"{rrss/rssn:.2f}×"))

    print("| case | policy-host | reference | reference / policy-host |")
    print("|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
