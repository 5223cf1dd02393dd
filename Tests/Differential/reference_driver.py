#!/usr/bin/env python3
"""Drives the real SDK analyzer (`python -m pulumi.policy`) over gRPC the way the
Pulumi engine does, and prints the results in policy-host's JSON report shape.

Run it with the pack venv's own python (it uses the gRPC stubs shipped in the
`pulumi` package), or, to drive an older SDK with the newest protocol as today's engine
does, with a venv of the newest `pulumi` and POLICY_HOST_SDK_PYTHON naming the
interpreter of the venv whose SDK is to run. Input: the requests file written by
`policy-host analyze --emit-requests FILE` (stack settings, reconciled policy
config, and the engine-encoded resources).

    <venv>/bin/python reference_driver.py PACK_DIR REQUESTS.json
    <venv>/bin/python reference_driver.py PACK_DIR --load-only
"""
import json
import os
import subprocess
import sys
import time

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import engine_marshal  # noqa: F401  (before protobuf: see its docstring)

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

MAX = 400 * 1024 * 1024
LEVELS = {0: "advisory", 1: "mandatory", 2: "disabled", 3: "remediate"}
SEVERITIES = {0: "", 1: "low", 2: "medium", 3: "high", 4: "critical"}


def start_server(pack_dir, req, argv=None):
    """Starts an analyzer (default: the SDK's) with the environment the engine's proxy sets; returns (process, port)."""
    if argv is None:
        argv = [sdk_python(), "-u", "-m", "pulumi.policy", "127.0.0.1:0", pack_dir]
    env = dict(os.environ)
    env.pop("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", None)  # the analyzer runs as the engine starts it
    for key, name in (("organization", "PULUMI_ORGANIZATION"), ("project", "PULUMI_PROJECT"), ("stack", "PULUMI_STACK")):
        if req.get(key):
            env[name] = req[key]
    env["PULUMI_DRY_RUN"] = "true" if req.get("dryRun") else "false"
    if req.get("config"):
        env["PULUMI_CONFIG"] = json.dumps(req["config"])
    proc = subprocess.Popen(argv, cwd=pack_dir, env=env, stdout=subprocess.PIPE, stderr=sys.stderr)
    line = proc.stdout.readline().decode().strip()
    if not line.isdigit():
        proc.kill()
        raise SystemExit(f"{argv[0]} did not print a port (got {line!r}, exit {proc.wait()})")
    return proc, int(line)


def sdk_python():
    """The interpreter whose SDK runs the analyzer: POLICY_HOST_SDK_PYTHON, else this one."""
    return os.environ.get("POLICY_HOST_SDK_PYTHON") or sys.executable


def unimplemented(e):
    """The engine takes UNIMPLEMENTED as "not supported" (ConfigureStack before pulumi-policy 1.19,
    Remediate before 1.8)."""
    return isinstance(e, grpc.RpcError) and e.code() == grpc.StatusCode.UNIMPLEMENTED


def struct(d):
    s = struct_pb2.Struct()
    s.update(d or {})
    return s


def options(o):
    opts = analyzer_pb2.AnalyzerResourceOptions(
        protect=o.get("protect", False), ignoreChanges=o.get("ignoreChanges", []),
        deleteBeforeReplaceDefined=o.get("deleteBeforeReplaceDefined", False),
        additionalSecretOutputs=o.get("additionalSecretOutputs", []), aliases=o.get("aliases", []),
        parent=o.get("parent", ""))
    t = o.get("customTimeouts")
    if t is not None:
        opts.customTimeouts.create = t.get("create", 0)
        opts.customTimeouts.update = t.get("update", 0)
        opts.customTimeouts.delete = t.get("delete", 0)
    return opts


def provider(p):
    if not p:
        return None
    return analyzer_pb2.AnalyzerProviderResource(type=p["type"], urn=p["urn"], name=p["name"], properties=struct(p["properties"]))


def analyze_request(r, props):
    req = analyzer_pb2.AnalyzeRequest(type=r["type"], urn=r["urn"], name=r["name"], properties=struct(props),
                                      options=options(r.get("options") or {}))
    p = provider(r.get("provider"))
    if p is not None:
        req.provider.CopyFrom(p)
    return req


class EngineChannel:
    """A channel whose stubs send requests with map entries sorted by key, as a deterministic Go
    marshal does (see `engine_marshal`)."""

    def __init__(self, channel):
        self._channel = channel

    def unary_unary(self, method, request_serializer=None, response_deserializer=None, **kwargs):
        return self._channel.unary_unary(method, request_serializer=lambda m: m.SerializeToString(deterministic=True),
                                         response_deserializer=response_deserializer, **kwargs)

    def __getattr__(self, name):
        return getattr(self._channel, name)


def engine_stub(channel):
    """The Analyzer stub the harness drives: with `engine_marshal` imported, one that sends map
    entries sorted; otherwise (benchmarks) the stubs' own serialisation."""
    if "engine_marshal" in sys.modules:
        return analyzer_pb2_grpc.AnalyzerStub(EngineChannel(channel))
    return analyzer_pb2_grpc.AnalyzerStub(channel)


def drive(pack_dir, req):
    """Runs one engine session against a fresh `python -m pulumi.policy`; returns (results, timings)."""
    t0 = time.perf_counter()
    proc, port = start_server(pack_dir, req)
    timings = {"start": time.perf_counter() - t0}
    out = {"violations": [], "remediations": [], "notApplicable": [], "errors": []}
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", MAX),
                                                                       ("grpc.max_send_message_length", MAX)])
        stub = engine_stub(channel)
        try:
            stub.Handshake(analyzer_pb2.AnalyzerHandshakeRequest(engine_address="127.0.0.1:1", root_directory=pack_dir,
                                                                 program_directory=pack_dir), timeout=10)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise
        try:
            stub.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=req["stack"], project=req["project"], organization=req["organization"], dry_run=req["dryRun"],
                config=req.get("config") or {}, tags=req.get("tags") or {}))
        except grpc.RpcError as e:
            if not unimplemented(e):
                raise
        plugin = stub.GetPluginInfo(empty_pb2.Empty())
        info = stub.GetAnalyzerInfo(empty_pb2.Empty())
        version = req.get("yamlVersion") or info.version
        severities = {p.name: p.severity for p in info.policies}
        configure = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, entry in req["policyConfig"].items():
            c = configure.policyConfig[name]
            c.enforcementLevel = entry["enforcementLevel"]
            if entry.get("properties"):
                c.properties.update(entry["properties"])
        stub.Configure(configure)

        def base(policy, urn):
            return {"policyPackName": info.name, "policyPackVersion": version, "policyName": policy, "urn": urn}

        def diagnostics(resp, urn, stack_policy, urns):
            for d in resp.diagnostics:
                level = {3: 1}.get(d.enforcementLevel, d.enforcementLevel)
                if level not in (0, 1):
                    continue
                target = urn
                if stack_policy:
                    target = d.urn if d.urn in urns else req["rootStackURN"]
                out["violations"].append({**base(d.policyName, target), "description": d.description,
                                          "message": d.message, "enforcementLevel": LEVELS[level],
                                          "severity": SEVERITIES[getattr(d, "severity", 0) or severities.get(d.policyName, 0)],
                                          "stackPolicy": stack_policy})
            for n in resp.not_applicable:
                out["notApplicable"].append({**base(n.policy_name, "" if stack_policy else urn), "reason": n.reason})

        # A stack policy's URN counts when it names any resource of the stack (the engine's `news`),
        # including those a preview only reads, which get no Analyze call of their own.
        urns = {r["urn"] for r in req["stackResources"]}
        timings["configured"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        for r in req["resources"]:
            props = r["properties"]
            try:
                rem = stub.Remediate(analyze_request(r, r["remediateProperties"]))
                final = None
                for x in rem.remediations:
                    p = json_format.MessageToDict(x.properties) if x.HasField("properties") else None
                    out["remediations"].append({**base(x.policyName, r["urn"]), "properties": p, "diagnostic": x.diagnostic})
                    if x.diagnostic:
                        out["violations"].append({**base(x.policyName, r["urn"]), "description": x.description,
                                                  "message": x.diagnostic, "enforcementLevel": "advisory",
                                                  "severity": SEVERITIES[severities.get(x.policyName, 0)],
                                                  "stackPolicy": False})
                    if p:
                        final = p
                for n in rem.not_applicable:
                    out["notApplicable"].append({**base(n.policy_name, r["urn"]), "reason": n.reason})
                if req.get("applyRemediations") and final is not None:
                    props = {k: v for k, v in final.items() if not k.startswith("__")}
            except grpc.RpcError as e:
                if not unimplemented(e):
                    out["errors"].append({"urn": r["urn"], "phase": "remediate", "code": e.code().name, "message": e.details()})
            try:
                diagnostics(stub.Analyze(analyze_request(r, props)), r["urn"], False, urns)
            except grpc.RpcError as e:
                out["errors"].append({"urn": r["urn"], "phase": "analyze", "code": e.code().name, "message": e.details()})
        timings["resources"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        stack_req = analyzer_pb2.AnalyzeStackRequest()
        for r in req["stackResources"]:
            ar = stack_req.resources.add(type=r["type"], urn=r["urn"], name=r["name"], properties=struct(r["properties"]),
                                         options=options(r.get("options") or {}), parent=r.get("parent") or "",
                                         dependencies=r.get("dependencies") or [])
            p = provider(r.get("provider"))
            if p is not None:
                ar.provider.CopyFrom(p)
            for k, v in (r.get("propertyDependencies") or {}).items():
                ar.propertyDependencies[k].urns.extend(v)
        try:
            diagnostics(stub.AnalyzeStack(stack_req), "", True, urns)
        except grpc.RpcError as e:
            out["errors"].append({"urn": "", "phase": "analyzeStack", "code": e.code().name, "message": e.details()})
        timings["analyzeStack"] = time.perf_counter() - t2
        timings["total"] = time.perf_counter() - t0
        try:
            stub.Cancel(empty_pb2.Empty())
        except grpc.RpcError:
            pass
        out["pluginVersion"] = plugin.version
    finally:
        proc.kill()
        proc.wait()
    return out, timings


def load_only(pack_dir):
    """Whether the SDK's analyzer loads the pack: {"loaded": true} once it serves, else
    {"loaded": false, "error": the last `…Error: …` line it printed}."""
    argv = [sdk_python(), "-u", "-m", "pulumi.policy", "127.0.0.1:0", pack_dir]
    proc = subprocess.Popen(argv, cwd=pack_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stdout.readline().decode().strip()
    if line.isdigit():
        proc.kill()
        proc.wait()
        return {"loaded": True}
    err = proc.communicate()[1].decode("utf-8", "replace")
    errors = [x.strip() for x in err.splitlines() if ":" in x and x.split(":", 1)[0].strip().endswith(("Error", "Exception"))]
    return {"loaded": False, "error": errors[-1] if errors else err.strip()[-500:], "exit": proc.returncode}


def main():
    if sys.argv[2] == "--load-only":
        json.dump(load_only(sys.argv[1]), sys.stdout)
        sys.stdout.write("\n")
        return
    pack_dir, requests_file = sys.argv[1], sys.argv[2]
    out, _ = drive(pack_dir, json.load(open(requests_file)))
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
