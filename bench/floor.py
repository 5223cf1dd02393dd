#!/usr/bin/env python3
"""The floor: the same validators called directly in one Python loop, on the stack file's own
dicts — json.load, then per resource the SDK's argument objects (unknown-checking proxy,
ResourceValidationArgs, report_violation) and every resource policy, then the stack policies once.
No engine encoding, no gRPC, no marshalling. Prints seconds for the loop (including json.load).

    <pack venv>/bin/python floor.py PACK_DIR STACK.json [REPEAT]
"""
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def load_policies(pack_dir):
    sys.path.insert(0, os.path.join(HERE, "..", "Sources", "PolicyPack", "Python"))
    sys.dont_write_bytecode = True  # nothing next to the sources SwiftPM embeds
    import policy_host_driver as driver
    devnull = open(os.devnull, "w")
    stdout, sys.stdout = sys.stdout, devnull
    try:
        driver.host.load(os.path.abspath(pack_dir))
    finally:
        sys.stdout = stdout
    return driver.host.policies


def main():
    pack_dir, stack_file = sys.argv[1], os.path.abspath(sys.argv[2])
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    policies = load_policies(pack_dir)
    from pulumi_policy import (PolicyResource, PolicyResourceOptions, PolicyCustomTimeouts, ResourceValidationArgs,
                               ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy)
    from pulumi_policy.proxy import unknown_checking_proxy
    resource_policies = [p for p in policies if isinstance(p, ResourceValidationPolicy)]
    stack_policies = [p for p in policies if isinstance(p, StackValidationPolicy)]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        with open(stack_file) as f:
            doc = json.load(f)
        found = []
        report = lambda message, urn=None: found.append(message)  # noqa: E731
        resources = [r for r in doc["deployment"]["resources"] if not r.get("delete")]
        opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)
        for r in resources:
            props = r.get("inputs") or {}
            name = r["urn"].rsplit("::", 1)[-1]
            for p in resource_policies:
                p.validate(ResourceValidationArgs(r["type"], unknown_checking_proxy(props), r["urn"], name, opts, None, {}, {}), report)
        for p in stack_policies:
            items = [PolicyResource(r["type"], unknown_checking_proxy(r.get("outputs") or {}), r["urn"], r["urn"].rsplit("::", 1)[-1],
                                    opts, None, None, [], {}) for r in resources]
            p.validate(StackValidationArgs(items, {}, {}), report)
        times.append(time.perf_counter() - t)
    print(json.dumps({"seconds": statistics.median(times), "violations": len(found)}))


if __name__ == "__main__":
    main()
