#!/usr/bin/env python3
"""Writes Fixtures/stacks/key-permutations.json: a stack export whose resources carry the same key
sets in many permutations (tags, nested settings, lists of rules, provider inputs, property
dependencies), including key sets whose order in the protobuf runtime's table depends on arrival.
Deterministic (fixed seed); run from the repository root to regenerate."""
import itertools
import json
import random

rng = random.Random(20261204)
PROJECT, STACK = "keys", "dev"
TAG_KEYS = ["Name", "Owner", "Environment", "CostCenter", "b", "a", "zeta", "x1", "team", "cost-center", "", "ünï"]


def urn(t, name, parent_type=None):
    q = f"{parent_type}${t}" if parent_type else t
    return f"urn:pulumi:{STACK}::{PROJECT}::{q}::{name}"


stack_urn = urn("pulumi:pulumi:Stack", f"{PROJECT}-{STACK}")
provider_urn = urn("pulumi:providers:aws", "default")
provider_id = "2f0c6d7e-0000-4000-8000-000000000001"
resources = [
    {"urn": stack_urn, "custom": False, "type": "pulumi:pulumi:Stack"},
    {"urn": provider_urn, "custom": True, "id": provider_id, "type": "pulumi:providers:aws",
     "inputs": {k: f"p-{k}" for k in rng.sample(TAG_KEYS, 9)} | {"region": "eu-west-1"},
     "outputs": {"region": "eu-west-1"}},
]
permutations = list(itertools.permutations(["Name", "Owner", "Environment"]))
for i in range(36):
    keys = list(permutations[i % 6]) if i < 12 else rng.sample(TAG_KEYS, rng.randint(2, len(TAG_KEYS)))
    rng.shuffle(keys)
    tags = {k: f"v{j}" for j, k in enumerate(keys)}
    settings = {k: (j % 3 == 0) for j, k in enumerate(rng.sample(TAG_KEYS, rng.randint(3, 8)))}
    rules = [{k: float(j) for j, k in enumerate(rng.sample(["port", "protocol", "cidr", "from", "to", "action"],
                                                              rng.randint(2, 6)))} for _ in range(rng.randint(0, 3))]
    inputs = {"bucket": f"bucket-{i}", "tags": tags, "settings": settings, "rules": rules}
    top = list(inputs.items())
    rng.shuffle(top)
    inputs = dict(top)
    r = {"urn": urn("aws:s3/bucket:Bucket", f"bucket-{i}"), "custom": True, "id": f"bucket-{i}-id",
         "type": "aws:s3/bucket:Bucket", "inputs": inputs, "outputs": dict(inputs, arn=f"arn:aws:s3:::bucket-{i}"),
         "parent": stack_urn, "provider": f"{provider_urn}::{provider_id}"}
    if i % 4 == 0:
        deps = {k: [stack_urn] for k in rng.sample(list(inputs), len(inputs))}
        r["propertyDependencies"] = deps
    resources.append(r)

doc = {"version": 3, "deployment": {"manifest": {"time": "2026-12-04T12:00:00.000Z", "magic": "0d2a6b1c",
                                                 "version": "v3.272.0"}, "resources": resources}}
with open("Fixtures/stacks/key-permutations.json", "w", encoding="utf-8") as f:
    json.dump(doc, f, indent=1, ensure_ascii=False)
    f.write("\n")
