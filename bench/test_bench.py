#!/usr/bin/env python3
"""`policy-host test` against the alternative a user has today: the same checks run one by one
through `policy-host analyze` on one-resource stack files.

Scaffolds the aws-python template (with its venv) under .bench/, writes 200 simple resource cases
(S3 buckets, half of them public) into its policy-tests/, and measures cases per second for
`policy-host test` (medians of ROUNDS) and for 200 `analyze` runs; then the time of each template's
own suite.

    python3 bench/test_bench.py --binary .build/release/policy-host [--rounds 5]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATES = ["python", "aws-python", "azure-python", "gcp-python", "kubernetes-python"]


def run(argv, ok=(0, 1)):
    t = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode not in ok:
        raise SystemExit(f"{argv[:3]} failed ({r.returncode}): {r.stderr[-2000:]}")
    return time.perf_counter() - t, r


def scaffold(binary, template):
    d = os.path.join(ROOT, ".bench", f"test-{template}")
    if not os.path.exists(os.path.join(d, "venv", "bin", "python")):
        shutil.rmtree(d, ignore_errors=True)
        run([binary, "new", template, "--dir", d, "--quiet", "--name", f"bench-{template}"], ok=(0,))
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cases", type=int, default=200)
    a = ap.parse_args()
    binary = os.path.abspath(a.binary)
    pack = scaffold(binary, "aws-python")
    acls = ["public-read", "private"]
    lines = ["cases:"]
    for i in range(a.cases):
        acl = acls[i % 2]
        lines += [f"  - name: bucket {i}", "    resources:",
                  f"      - {{type: \"aws:s3/bucket:Bucket\", name: b{i}, inputs: {{acl: \"{acl}\", bucket: \"b{i}\"}}}}",
                  "    expect:",
                  f"      - {{policy: s3-no-public-read, {'fires: true' if acl != 'private' else 'passes: true'}}}"]
    bench_file = os.path.join(pack, "policy-tests", "bench.yaml")
    with open(bench_file, "w") as f:
        f.write("\n".join(lines) + "\n")
    try:
        times = [run([binary, "test", pack, "--filter", "bench.yaml", "-q"], ok=(0,))[0] for _ in range(a.rounds)]
        t_test = statistics.median(times)
        with tempfile.TemporaryDirectory() as tmp:
            stacks = []
            for i in range(a.cases):
                doc = {"version": 3, "deployment": {"manifest": {"time": "2026-01-01T00:00:00Z", "magic": "", "version": "v3"},
                                                    "resources": [
                    {"urn": "urn:pulumi:stack::project::pulumi:pulumi:Stack::project-stack", "custom": False, "type": "pulumi:pulumi:Stack"},
                    {"urn": f"urn:pulumi:stack::project::aws:s3/bucket:Bucket::b{i}", "custom": True, "id": f"b{i}-id",
                     "type": "aws:s3/bucket:Bucket", "inputs": {"acl": acls[i % 2], "bucket": f"b{i}"},
                     "outputs": {"acl": acls[i % 2], "bucket": f"b{i}"},
                     "parent": "urn:pulumi:stack::project::pulumi:pulumi:Stack::project-stack"}]}}
                path = os.path.join(tmp, f"s{i}.json")
                with open(path, "w") as f:
                    json.dump(doc, f)
                stacks.append(path)
            t0 = time.perf_counter()
            for s in stacks:
                run([binary, "analyze", "-q", s, "--policy-pack", pack, "--format", "json"])
            t_analyze = time.perf_counter() - t0
    finally:
        os.remove(bench_file)
    print("| suite | cases | policy-host test | cases/s | one `analyze` per case | cases/s | test / analyze |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {a.cases} one-bucket cases (aws-python) | {a.cases} | {t_test:.2f} s | {a.cases / t_test:.0f} | "
          f"{t_analyze:.1f} s | {a.cases / t_analyze:.1f} | {t_analyze / t_test:.0f}× faster |")
    for template in TEMPLATES:
        d = scaffold(binary, template)
        t = statistics.median(run([binary, "test", d, "-q", "--format", "json"], ok=(0,))[0] for _ in range(a.rounds))
        _, r = run([binary, "test", d, "-q", "--format", "json"], ok=(0,))
        n = len(json.loads(r.stdout)["cases"])
        print(f"| template {template} | {n} | {t:.2f} s | {n / t:.1f} | | | |")


if __name__ == "__main__":
    main()
