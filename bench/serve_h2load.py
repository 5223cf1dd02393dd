#!/usr/bin/env python3
"""`policy-host serve` against `python -m pulumi.policy` with a native HTTP/2 client (issue 18).

Both servers run the same pack; for each, h2load (Debian's nghttp2-client) sends gRPC-framed unary
calls one after another on one connection (`-c 1 -m 1`, as the engine calls the analyzer), then
pipelined (`-c 4 -m 8`). Rounds are interleaved (SDK, ours, SDK, ours, ...). Per call: mean and p99
latency from h2load's per-request log, and the server's CPU time per call from /proc/<pid>/stat
(user + system, all threads) over the sequential run. Prints a Markdown table with the ratios.

    <venv>/bin/python serve_h2load.py --binary BIN --pack PACK [--calls 2000] [--rounds 3]
"""
import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "Tests", "Differential"))
import reference_driver as rd  # noqa: E402

from google.protobuf import empty_pb2  # noqa: E402
from pulumi.runtime.proto import analyzer_pb2  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def frame(message):
    data = message.SerializeToString()
    return b"\x00" + struct.pack(">I", len(data)) + data


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (all threads)


def h2load(port, method, body_file, calls, clients, streams, log_file):
    if os.path.exists(log_file):
        os.remove(log_file)  # h2load appends
    argv = ["h2load", "-n", str(calls), "-c", str(clients), "-m", str(streams), "-d", body_file,
            "-H", "content-type: application/grpc", "-H", "te: trailers", "--log-file", log_file,
            f"http://127.0.0.1:{port}/pulumirpc.Analyzer/{method}"]
    t = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - t
    if f" {calls} succeeded, 0 failed, 0 errored" not in out:
        raise SystemExit(f"h2load: not every call succeeded:\n{out}")
    durations = []
    with open(log_file) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                durations.append(int(parts[2]))  # microseconds
    return wall, durations


def body_files(pack, directory):
    """The request bodies of the sequential stages, gRPC-framed, one file per method: a Handshake, and
    an Analyze of one S3 bucket."""
    messages = {
        "Handshake": analyzer_pb2.AnalyzerHandshakeRequest(engine_address="127.0.0.1:1", root_directory=pack,
                                                           program_directory=pack),
        "Analyze": rd.analyze_request({"type": "aws:s3/bucket:Bucket", "urn": "urn:pulumi:dev::bench::aws:s3/bucket:Bucket::b",
                                       "name": "b"}, {"acl": "public-read", "bucket": "b", "tags": {"owner": "me"}}),
    }
    files = {}
    for name, message in messages.items():
        files[name] = os.path.join(directory, name)
        with open(files[name], "wb") as f:
            f.write(frame(message))
    return files


def start(argv, pack, env_extra):
    env = dict(os.environ, PULUMI_PROJECT="bench", PULUMI_STACK="dev", PULUMI_DRY_RUN="false", **env_extra)
    proc = subprocess.Popen(argv, cwd=pack, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    port = int(proc.stdout.readline().decode().strip())
    return proc, port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--pack", required=True)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--stack-resources", type=int, default=1000,
                    help="Remediate + Analyze for each resource of a generated stack of this size (0: skip)")
    a = ap.parse_args()
    pack = os.path.abspath(a.pack)
    tmp = tempfile.mkdtemp(prefix="serve-h2load-")
    bodies = body_files(pack, tmp)
    servers = [("python -m pulumi.policy", [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", pack]),
               ("policy-host serve", [os.path.abspath(a.binary), "serve", "127.0.0.1:1", pack])]
    results = {(s, m, k): [] for s, _ in servers for m in bodies for k in ("mean", "p99", "cpu", "piped")}
    log = os.path.join(tmp, "log")
    for _ in range(a.rounds):
        for label, argv in servers:
            proc, port = start(argv, pack, {})
            try:
                for method in ("Handshake", "Analyze"):
                    h2load(port, method, bodies[method], 200, 1, 1, log)  # warm up (loads the pack)
                    before = cpu_seconds(proc.pid)
                    _, durations = h2load(port, method, bodies[method], a.calls, 1, 1, log)
                    cpu = (cpu_seconds(proc.pid) - before) / a.calls
                    durations.sort()
                    results[(label, method, "mean")].append(statistics.mean(durations))
                    results[(label, method, "p99")].append(durations[int(len(durations) * 0.99) - 1])
                    results[(label, method, "cpu")].append(cpu * 1e6)
                    wall, _ = h2load(port, method, bodies[method], a.calls * 4, 4, 8, log)
                    results[(label, method, "piped")].append(wall / (a.calls * 4) * 1e6)
            finally:
                proc.kill()
                proc.wait()
    med = {k: statistics.median(v) for k, v in results.items()}
    print("| call | server | mean | p99 | server CPU per call | pipelined (4×8), per call |")
    print("|---|---|---|---|---|---|")
    for method in bodies:
        for label, _ in servers:
            print(f"| {method} | {label} | {med[(label, method, 'mean')]:.0f} µs | {med[(label, method, 'p99')]:.0f} µs | "
                  f"{med[(label, method, 'cpu')]:.0f} µs | {med[(label, method, 'piped')]:.0f} µs |")
        ref, ours = servers[0][0], servers[1][0]
        print(f"| {method} | ratio (policy-host / SDK) | {med[(ours, method, 'mean')] / med[(ref, method, 'mean')]:.2f}× | "
              f"{med[(ours, method, 'p99')] / med[(ref, method, 'p99')]:.2f}× | "
              f"{med[(ours, method, 'cpu')] / max(med[(ref, method, 'cpu')], 1e-9):.2f}× | "
              f"{med[(ours, method, 'piped')] / med[(ref, method, 'piped')]:.2f}× |")
    print(f"\n{a.calls} sequential calls per run (`-c 1 -m 1`), {a.calls * 4} pipelined; medians of {a.rounds} interleaved rounds")
    print(json.dumps({f"{k[0]}|{k[1]}|{k[2]}": v for k, v in med.items()}), file=sys.stderr)
    if a.stack_resources:
        stack_rows(a, pack, servers, tmp)


def calls_file(path, calls):
    """The calls for bench/h2calls.c: path length, path, body length (big-endian), body."""
    with open(path, "wb") as f:
        for method, body in calls:
            name = f"/pulumirpc.Analyzer/{method}".encode()
            f.write(bytes([len(name)]) + name + struct.pack(">I", len(body)) + body)


def h2calls(client, port, path):
    out = subprocess.run([client, str(port), path], capture_output=True, text=True, check=True).stdout
    return [float(line) for line in out.split()]


def stack_rows(a, pack, servers, tmp):
    """The engine's per-resource pair, Remediate then Analyze, for every resource of the benchmark stack
    (bench/genstack.py), each request as the engine sends it (`analyze --emit-requests`), one after
    another on one connection. h2load sends a single body, so this stage uses bench/h2calls.c, a
    minimal native client (C, no HTTP/2 library): the same client cost for both servers."""
    client = os.path.join(tmp, "h2calls")
    subprocess.run(["cc", "-O2", "-o", client, os.path.join(HERE, "h2calls.c")], check=True)
    stack = os.path.join(tmp, "stack.json")
    subprocess.run([sys.executable, os.path.join(HERE, "genstack.py"), str(a.stack_resources), stack], check=True)
    requests = os.path.join(tmp, "requests.json")
    subprocess.run([os.path.abspath(a.binary), "analyze", "-q", stack, "--policy-pack", pack, "--format", "json",
                    "--emit-requests", requests], stdout=subprocess.DEVNULL, check=False)
    resources = json.load(open(requests))["resources"]
    pairs = [(frame(rd.analyze_request(r, r["remediateProperties"])), frame(rd.analyze_request(r, r["properties"])))
             for r in resources]
    measured = os.path.join(tmp, "calls")
    calls_file(measured, [call for remediate, analyze in pairs for call in (("Remediate", remediate), ("Analyze", analyze))])
    warm = os.path.join(tmp, "warm")
    calls_file(warm, [call for remediate, analyze in pairs[:50] for call in (("Remediate", remediate), ("Analyze", analyze))])
    results = {label: {"median": [], "mean": [], "cpu": []} for label, _ in servers}
    for _ in range(a.rounds):
        for label, argv in servers:
            proc, port = start(argv, pack, {})
            try:
                h2calls(client, port, warm)  # warm up (loads the pack)
                before = cpu_seconds(proc.pid)
                latencies = h2calls(client, port, measured)
                cpu = (cpu_seconds(proc.pid) - before) / len(pairs) * 1e6
            finally:
                proc.kill()
                proc.wait()
            if len(latencies) != 2 * len(pairs):
                raise SystemExit(f"h2calls: {len(latencies)} answers for {2 * len(pairs)} calls")
            per_resource = [latencies[i] + latencies[i + 1] for i in range(0, len(latencies), 2)]
            results[label]["median"].append(statistics.median(per_resource))
            results[label]["mean"].append(statistics.mean(per_resource))
            results[label]["cpu"].append(cpu)
    rows = {label: tuple(statistics.median(v[k]) for k in ("median", "mean", "cpu")) for label, v in results.items()}
    print(f"\n| Remediate + Analyze per resource, {len(pairs)}-resource stack | median | mean | server CPU per resource |")
    print("|---|---|---|---|")
    for label, (med, mean, cpu) in rows.items():
        print(f"| {label} | {med:.0f} µs | {mean:.0f} µs | {cpu:.0f} µs |")
    (_, r), (_, o) = list(rows.items())
    print(f"| ratio (policy-host / SDK) | {o[0] / r[0]:.2f}× | {o[1] / r[1]:.2f}× | {o[2] / max(r[2], 1e-9):.2f}× |")
    print(f"\n(bench/h2calls.c on one connection, medians of {a.rounds} interleaved rounds)")


if __name__ == "__main__":
    main()
