#!/usr/bin/env python3
"""Generates a deployment-v3 stack export with N resources of realistic shape.

    genstack.py N OUT.json [--seed S]

A mix of S3 buckets, bucket policies, security groups, EC2 and RDS instances
with nested tags, rules, block devices and secrets, under one provider and a
few component parents, with dependencies and property dependencies.
"""
import json
import random
import sys

SIG = "4dabf18193072939515e22adb298388d"
SECRET = "1b47061264138c4ac30d75fd1eb44270"


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    rnd = random.Random(int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 7)
    stack, project = "bench", "fleet"

    def urn(t, name, parent=None):
        q = f"{parent}${t}" if parent else t
        return f"urn:pulumi:{stack}::{project}::{q}::{name}"

    root = urn("pulumi:pulumi:Stack", f"{project}-{stack}")
    prov = urn("pulumi:providers:aws", "default_6_52_0")
    pref = prov + "::prov-0001"
    resources = [
        {"urn": root, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": {"region": "eu-west-1"}},
        {"urn": prov, "custom": True, "id": "prov-0001", "type": "pulumi:providers:aws",
         "inputs": {"region": "eu-west-1", "version": "6.52.0"}, "outputs": {"region": "eu-west-1", "version": "6.52.0"}},
    ]
    buckets = []
    i = 0
    while len(resources) < n:
        i += 1
        kind = rnd.choice(["bucket", "bucket", "policy", "sg", "ec2", "rds"])
        tags = {"team": rnd.choice(["web", "data", "platform"]), "env": rnd.choice(["prod", "dev"]), "cost-center": str(4000 + i % 50)}
        if kind == "bucket":
            name = f"bucket-{i}"
            inputs = {"acl": rnd.choice(["private", "private", "public-read"]), "bucket": f"{name}-x{i:05d}",
                      "versioning": {"enabled": rnd.random() < 0.7, "mfaDelete": False},
                      "serverSideEncryptionConfiguration": {"rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}},
                      "lifecycleRules": [{"enabled": True, "expiration": {"days": 30 + j}, "prefix": f"logs/{j}/"} for j in range(2)],
                      "tags": tags, "__defaults": ["forceDestroy"]}
            t = "aws:s3/bucket:Bucket"
            r = {"urn": urn(t, name), "custom": True, "id": f"{name}-id", "type": t, "inputs": inputs,
                 "outputs": {**{k: v for k, v in inputs.items() if not k.startswith("__")}, "arn": f"arn:aws:s3:::{name}"},
                 "parent": root, "provider": pref}
            buckets.append(r["urn"])
        elif kind == "policy" and buckets:
            b = rnd.choice(buckets)
            name = f"policy-{i}"
            t = "aws:s3/bucketPolicy:BucketPolicy"
            inputs = {"bucket": b.rsplit("::", 1)[1] + "-id",
                      "policy": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}]})}
            r = {"urn": urn(t, name), "custom": True, "id": f"{name}-id", "type": t, "inputs": inputs, "outputs": dict(inputs),
                 "parent": root, "provider": pref, "dependencies": [b], "propertyDependencies": {"bucket": [b]}}
        elif kind == "sg":
            name = f"sg-{i}"
            t = "aws:ec2/securityGroup:SecurityGroup"
            inputs = {"description": "tier", "ingress": [
                {"protocol": "tcp", "fromPort": p, "toPort": p, "cidrBlocks": [rnd.choice(["0.0.0.0/0", "10.0.0.0/8"])]}
                for p in rnd.sample([22, 80, 443, 5432, 8080], 3)], "egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}],
                "tags": tags}
            r = {"urn": urn(t, name), "custom": True, "id": f"{name}-id", "type": t, "inputs": inputs, "outputs": dict(inputs),
                 "parent": root, "provider": pref}
        elif kind == "ec2":
            name = f"vm-{i}"
            t = "aws:ec2/instance:Instance"
            inputs = {"ami": "ami-0a8e758f5e873d1c1", "instanceType": rnd.choice(["t3.micro", "m6i.large", "x1e.32xlarge"]),
                      "rootBlockDevice": {"volumeSize": rnd.choice([20, 80, 250]), "volumeType": "gp3", "encrypted": True},
                      "ebsBlockDevices": [{"deviceName": f"/dev/sd{c}", "volumeSize": 100} for c in "fg"],
                      "userData": {SIG: SECRET, "plaintext": json.dumps("#!/bin/sh\necho hi")}, "tags": tags}
            r = {"urn": urn(t, name), "custom": True, "id": f"i-{i:08x}", "type": t, "inputs": inputs, "outputs": dict(inputs),
                 "parent": root, "provider": pref}
        else:
            name = f"db-{i}"
            t = "aws:rds/instance:Instance"
            inputs = {"engine": "postgres", "instanceClass": "db.t3.medium", "allocatedStorage": 100,
                      "password": {SIG: SECRET, "plaintext": json.dumps(f"pw-{i}")}, "storageEncrypted": rnd.random() < 0.5,
                      "port": 5432, "tags": tags}
            r = {"urn": urn(t, name), "custom": True, "id": f"{name}-id", "type": t, "inputs": inputs, "outputs": dict(inputs),
                 "parent": root, "provider": pref}
        resources.append(r)
    doc = {"version": 3, "deployment": {"manifest": {"time": "2026-11-30T00:00:00Z", "magic": "bench", "version": "v3.272.0"},
                                        "secrets_providers": {"type": "passphrase"}, "resources": resources[:n]}}
    with open(out, "w") as f:
        json.dump(doc, f)


if __name__ == "__main__":
    main()
