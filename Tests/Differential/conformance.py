#!/usr/bin/env python3
"""Conformance of `policy-host serve` with the SDK's own analyzer (`python -m pulumi.policy`).

Sends both the engine's RPC sequence (Handshake, ConfigureStack, GetPluginInfo, GetAnalyzerInfo,
Configure, Remediate + Analyze per resource, AnalyzeStack, Cancel) with the gRPC stubs shipped in
the `pulumi` package, and prints a JSON report of every response that differs. Handshake and Cancel
and ConfigureStack may differ only where the SDK answers UNIMPLEMENTED (the engine takes that as "not
supported"; serve answers them itself). POLICY_HOST_SDK_PYTHON names the SDK's interpreter when it is
not this one (see reference_driver.py).

    <venv>/bin/python conformance.py POLICY_HOST_BINARY PACK_DIR REQUESTS.json [--timing]
"""
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
if "--timing" not in sys.argv:
    import engine_marshal  # noqa: F401,E402  (before protobuf: see its docstring)

import grpc  # noqa: E402
from google.protobuf import empty_pb2, json_format  # noqa: E402

import reference_driver as rd  # noqa: E402
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc  # noqa: E402


def start(argv, pack_dir, req):
    return rd.start_server(pack_dir, req, argv)


def session(argv, pack_dir, req):
    """Runs the engine's sequence; returns [(call, status, payload)] and per-resource latencies."""
    proc, port = start(argv, pack_dir, req)
    calls, latencies = [], []
    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", rd.MAX),
                                                                   ("grpc.max_send_message_length", rd.MAX)])
    stub = rd.engine_stub(channel)

    def call(name, fn, request):
        try:
            resp = fn(request, timeout=60)
            calls.append((name, "OK", json_format.MessageToDict(resp, preserving_proto_field_name=True)))
            return resp
        except grpc.RpcError as e:
            calls.append((name, e.code().name, e.details()))
            return None

    try:
        call("Handshake", stub.Handshake, analyzer_pb2.AnalyzerHandshakeRequest(
            engine_address="127.0.0.1:1", root_directory=pack_dir, program_directory=pack_dir))
        call("ConfigureStack", stub.ConfigureStack, analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=req["stack"], project=req["project"], organization=req["organization"], dry_run=req["dryRun"],
            config=req.get("config") or {}, tags=req.get("tags") or {}))
        call("GetPluginInfo", stub.GetPluginInfo, empty_pb2.Empty())
        call("GetAnalyzerInfo", stub.GetAnalyzerInfo, empty_pb2.Empty())
        configure = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, entry in req["policyConfig"].items():
            c = configure.policyConfig[name]
            c.enforcementLevel = entry["enforcementLevel"]
            if entry.get("properties"):
                c.properties.update(entry["properties"])
        call("Configure", stub.Configure, configure)
        for r in req["resources"]:
            t = time.perf_counter()
            rem = call(f"Remediate {r['urn']}", stub.Remediate, rd.analyze_request(r, r["remediateProperties"]))
            props = r["properties"]
            if req.get("applyRemediations") and rem is not None:
                for x in rem.remediations:
                    if x.HasField("properties") and len(x.properties):
                        props = {k: v for k, v in json_format.MessageToDict(x.properties).items() if not k.startswith("__")}
            call(f"Analyze {r['urn']}", stub.Analyze, rd.analyze_request(r, props))
            latencies.append(time.perf_counter() - t)
        stack_req = analyzer_pb2.AnalyzeStackRequest()
        for r in req["stackResources"]:
            ar = stack_req.resources.add(type=r["type"], urn=r["urn"], name=r["name"], properties=rd.struct(r["properties"]),
                                         options=rd.options(r.get("options") or {}), parent=r.get("parent") or "",
                                         dependencies=r.get("dependencies") or [])
            p = rd.provider(r.get("provider"))
            if p is not None:
                ar.provider.CopyFrom(p)
            for k, v in (r.get("propertyDependencies") or {}).items():
                ar.propertyDependencies[k].urns.extend(v)
        call("AnalyzeStack", stub.AnalyzeStack, stack_req)
        call("Cancel", stub.Cancel, empty_pb2.Empty())
    finally:
        channel.close()
        try:
            proc.wait(timeout=5)
            exited = True
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            exited = False
    return calls, latencies, exited


def main():
    binary, pack_dir, requests_file = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
    req = json.load(open(requests_file))
    ref, ref_lat, _ = session([rd.sdk_python(), "-u", "-m", "pulumi.policy", "127.0.0.1:1", pack_dir], pack_dir, req)
    ours, our_lat, exited = session([binary, "serve", "127.0.0.1:1", pack_dir], pack_dir, req)
    mismatches = []
    for (name, s1, p1), (name2, s2, p2) in zip(ref, ours):
        assert name == name2
        if (s1, p1) == (s2, p2):
            continue
        if name in ("Handshake", "Cancel", "ConfigureStack") and s1 == "UNIMPLEMENTED" and s2 == "OK":
            continue
        mismatches.append({"call": name, "reference": [s1, p1], "policy-host": [s2, p2]})
    out = {"calls": len(ref), "mismatches": mismatches, "exitedOnCancel": exited}
    if "--timing" in sys.argv:
        out["referenceMedianSeconds"] = statistics.median(ref_lat) if ref_lat else 0
        out["policyHostMedianSeconds"] = statistics.median(our_lat) if our_lat else 0
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
