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


def interleaved(commands, repeat):
    """Runs the commands in turn, `repeat` rounds, so that drift of a shared machine hits all alike.
    Returns per command the list of wall times and the max peak RSS (KiB)."""
    walls = [[] for _ in commands]
    rss = [0 for _ in commands]
    for _ in range(repeat):
        for i, argv in enumerate(commands):
            w, r = timed(argv, 1)
            walls[i].append(w)
            rss[i] = max(rss[i], r)
    return walls, rss


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


def reference_rss(python, pack, req_file, stack_only=False):
    """Peak RSS of the reference analyzer process over one session (VmHWM just before it is killed).
    With `stack_only`, only AnalyzeStack is sent: it holds the whole stack, so it is the session's peak,
    and the per-resource calls (2-4 ms each) are skipped."""
    req = json.load(open(req_file))
    if stack_only:
        req["resources"] = []
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


def floor_seconds(python, pack, stack, repeat):
    out = subprocess.run([python, os.path.join(HERE, "floor.py"), pack, stack, str(repeat)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)["seconds"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--packs", required=True, help="comma-separated pack directories (venvs ready)")
    ap.add_argument("--sizes", default="1000")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--reference-max", type=int, default=20000,
                    help="largest stack the reference's per-resource loop is run on (it takes ~2.5 ms a resource)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="policy-host-bench-")
    rows = []
    one = os.path.join(tmp, "stack-1.json")
    subprocess.run([sys.executable, os.path.join(HERE, "genstack.py"), "1", one], check=True)
    stacks = {}
    for n in [int(x) for x in args.sizes.split(",")]:
        stacks[n] = os.path.join(tmp, f"stack-{n}.json")
        subprocess.run([sys.executable, os.path.join(HERE, "genstack.py"), str(n), stacks[n]], check=True)

    for pack in [os.path.abspath(p) for p in args.packs.split(",")]:
        label = os.path.basename(pack)
        if label.startswith("bench-"):
            label = f"{label[6:]} resource + 2 stack policies"
        python = os.path.join(pack, "venv", "bin", "python")
        host_cmd = lambda stack: [args.binary, "analyze", "-q", stack, "--policy-pack", pack, "--format", "json"]  # noqa: E731
        # Start-up differences are a few ms against ±10 % noise: interleaved and more rounds.
        (t1s, imps), _ = interleaved([host_cmd(one), [python, "-c", "import pulumi_policy"]], max(11, 2 * args.repeat + 1))
        t1, imp = statistics.median(t1s), statistics.median(imps)
        req1 = os.path.join(tmp, f"req-1-{label}.json")
        subprocess.run(host_cmd(one) + ["--emit-requests", req1], stdout=subprocess.DEVNULL, check=False)
        ref_start = statistics.median([reference_driver.drive(pack, json.load(open(req1)))[1]["start"] for _ in range(args.repeat)])
        rows.append((label, "start to first result, 1 resource", f"{t1*1000:.0f} ms", f"{ref_start*1000:.0f} ms (until the port is printed)",
                     f"{imp*1000:.0f} ms", f"{ref_start/t1:.2f}×", f"{t1/imp:.2f}× import"))
        for n, stack in stacks.items():
            req = os.path.join(tmp, f"req-{n}-{label}.json")
            subprocess.run(host_cmd(stack) + ["--emit-requests", req], stdout=subprocess.DEVNULL, check=False)
            repeat = args.repeat if n <= 20000 else 1
            # Per resource from interleaved pairs (1 resource, N resources), so that start-up noise cancels.
            (ones, tns), (_, rssn) = interleaved([host_cmd(one), host_cmd(stack)], repeat)
            tn = statistics.median(tns)
            per_host = statistics.median((b - a) / (n - 1) for a, b in zip(ones, tns))
            floor = floor_seconds(python, pack, stack, repeat) / n
            if n <= args.reference_max:
                tm = reference_driver.drive(pack, json.load(open(req)))[1]
                rp, rt = tm["resources"] / n, tm["total"]
                ref_per = f"{rp*1e6:.0f} µs"
                ratio = f"{rp/per_host:.1f}×"
            else:
                ref_per, ratio, rt = "not run", "", None
            rows.append((label, f"per resource, {n} resources", f"{per_host*1e6:.0f} µs", ref_per, f"{floor*1e6:.0f} µs",
                         ratio, f"{per_host/floor:.2f}× floor"))
            rrss = reference_rss(python, pack, req, stack_only=n > args.reference_max)
            rows.append((label, f"whole run / peak RSS, {n} resources", f"{tn:.2f} s / {rssn/1024:.0f} MiB",
                         (f"{rt:.2f} s / " if rt else "") + f"{rrss/1024:.0f} MiB", "",
                         f"{rt/tn:.1f}× time" if rt else "", f"RSS {rssn/max(rrss,1):.2f}× reference"))

    print("| pack | case | policy-host | reference | floor | reference / policy-host | policy-host / other |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
