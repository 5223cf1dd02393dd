#!/usr/bin/env python3
"""Writes a benchmark policy pack with N resource policies and 2 stack policies.

    genpack.py N OUT_DIR

The policies are realistic checks on the resources bench/genstack.py generates (tags, ACLs,
encryption, open ports, instance sizes, secrets), cycled with different parameters.
"""
import os
import sys

CHECKS = [
    ("tags", '''
def {fn}(args, report_violation):
    tags = args.props.get("tags") or {{}}
    if "{tag}" not in tags:
        report_violation("missing tag {tag}")
'''),
    ("acl", '''
def {fn}(args, report_violation):
    if args.resource_type == "aws:s3/bucket:Bucket" and args.props.get("acl") in ("public-read", "public-read-write"):
        report_violation("public bucket")
'''),
    ("encryption", '''
def {fn}(args, report_violation):
    if args.resource_type == "aws:rds/instance:Instance" and not args.props.get("storageEncrypted"):
        report_violation("unencrypted database")
    if args.resource_type == "aws:s3/bucket:Bucket":
        rule = (args.props.get("serverSideEncryptionConfiguration") or {{}}).get("rule") or {{}}
        if not rule.get("applyServerSideEncryptionByDefault"):
            report_violation("bucket without default encryption")
'''),
    ("ports", '''
def {fn}(args, report_violation):
    if args.resource_type != "aws:ec2/securityGroup:SecurityGroup":
        return
    for rule in args.props.get("ingress") or []:
        if "0.0.0.0/0" in (rule.get("cidrBlocks") or []) and rule.get("fromPort") == {port}:
            report_violation("port {port} open to the internet")
'''),
    ("size", '''
def {fn}(args, report_violation):
    if args.resource_type != "aws:ec2/instance:Instance":
        return
    root = args.props.get("rootBlockDevice") or {{}}
    if root.get("volumeSize", 0) > {limit}:
        report_violation("root volume above {limit} GB")
    for d in args.props.get("ebsBlockDevices") or []:
        if d.get("volumeSize", 0) > {limit} * 2:
            report_violation("data volume too large")
'''),
]

STACK = '''
def stack_buckets(args, report_violation):
    buckets = [r for r in args.resources if r.resource_type == "aws:s3/bucket:Bucket"]
    if len(buckets) > 100000:
        report_violation("too many buckets")


def stack_policies(args, report_violation):
    for r in args.resources:
        if r.resource_type == "aws:s3/bucketPolicy:BucketPolicy" and not r.dependencies:
            report_violation("bucket policy without a bucket", r.urn)
'''


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    tags = ["team", "env", "cost-center", "owner", "service"]
    ports = [22, 3389, 5432, 8080, 80]
    code = ["from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy\n"]
    policies = []
    for i in range(n):
        kind, template = CHECKS[i % len(CHECKS)]
        fn = f"check_{kind}_{i}"
        code.append(template.format(fn=fn, tag=tags[i % len(tags)], port=ports[i % len(ports)], limit=50 + 10 * i))
        policies.append(f'ResourceValidationPolicy(name="{kind}-{i}", description="{kind} check {i}", validate={fn})')
    code.append(STACK)
    policies.append('StackValidationPolicy(name="stack-buckets", description="bucket budget", validate=stack_buckets)')
    policies.append('StackValidationPolicy(name="stack-policies", description="policies attached", validate=stack_policies)')
    code.append("\nPolicyPack(name=\"bench-%d\", enforcement_level=EnforcementLevel.ADVISORY, policies=[\n    %s,\n])\n"
                % (n, ",\n    ".join(policies)))
    with open(os.path.join(out, "__main__.py"), "w") as f:
        f.write("".join(code))
    with open(os.path.join(out, "PulumiPolicy.yaml"), "w") as f:
        f.write("runtime:\n  name: python\n  options:\n    virtualenv: venv\nversion: 1.0.0\n")
    with open(os.path.join(out, "requirements.txt"), "w") as f:
        f.write("pulumi-policy>=1.20.0,<2.0.0\n")


if __name__ == "__main__":
    main()
