#!/usr/bin/env python3
"""Venv benchmarks, in one run: the reuse check against a no-op `pip install -r`, and a cold
install with pip against uv on the same requirements (venv creation included).

    venv_bench.py --binary BIN --pack PACK_WITH_FRESH_VENV [--repeat N] [--cold-repeat M]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time


def median_time(argv, repeat, **kw):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--pack", required=True)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--cold-repeat", type=int, default=2)
    a = ap.parse_args()
    pack = os.path.abspath(a.pack)
    python = os.path.join(pack, "venv", "bin", "python")
    reuse = median_time([a.binary, "install", "-q", pack], a.repeat)
    noop_pip = median_time([python, "-m", "pip", "install", "-q", "-r", "requirements.txt"], max(3, a.repeat // 4), cwd=pack)
    rows = [("reuse check (`policy-host install` on a fresh venv, whole process)", f"{reuse*1000:.1f} ms",
             "`pip install -r` on the satisfied venv", f"{noop_pip*1000:.0f} ms", f"{noop_pip/reuse:.0f}×")]
    cold = {}
    for toolchain in ("pip", "uv"):
        times = []
        for _ in range(a.cold_repeat):
            tmp = tempfile.mkdtemp(prefix=f"bench-{toolchain}-")
            shutil.copy(os.path.join(pack, "requirements.txt"), tmp)
            shutil.copy(os.path.join(pack, "__main__.py"), tmp)
            with open(os.path.join(tmp, "PulumiPolicy.yaml"), "w") as f:
                f.write(f"runtime:\n  name: python\n  options:\n    virtualenv: venv\n    toolchain: {toolchain}\n")
            t = time.perf_counter()
            subprocess.run([a.binary, "install", "-q", tmp], check=True)
            times.append(time.perf_counter() - t)
            shutil.rmtree(tmp)
        cold[toolchain] = statistics.median(times)
    rows.append(("cold install, toolchain uv (uv venv + uv pip install --compile-bytecode)", f"{cold['uv']:.2f} s",
                 "toolchain pip (venv + pip upgrade + pip install -r)", f"{cold['pip']:.2f} s", f"{cold['pip']/cold['uv']:.1f}×"))
    print("| case | policy-host | compared with | time | ratio |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
