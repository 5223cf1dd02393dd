"""Guard rails for AWS storage and networking, checked on resource inputs and stack outputs."""
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")


def no_public_buckets(args: ResourceValidationArgs, report_violation: ReportViolation):
    if args.resource_type not in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
        return
    acl = args.props.get("acl")
    if acl in PUBLIC_ACLS:
        report_violation(f"Bucket '{args.name}' has the canned ACL '{acl}'.")


def bucket_versioning(args: ResourceValidationArgs, report_violation: ReportViolation):
    if args.resource_type != "aws:s3/bucket:Bucket":
        return
    versioning = args.props.get("versioning") or {}
    if not versioning.get("enabled", False):
        report_violation("Enable versioning so that deleted objects can be recovered.")


def open_ingress(args: ResourceValidationArgs, report_violation: ReportViolation):
    if args.resource_type != "aws:ec2/securityGroup:SecurityGroup":
        return
    allowed = set(args.get_config().get("allowedPorts", []))
    for rule in args.props.get("ingress", []):
        cidrs = rule.get("cidrBlocks") or []
        if "0.0.0.0/0" not in cidrs:
            continue
        from_port = rule.get("fromPort")
        to_port = rule.get("toPort")
        if from_port == to_port and from_port in allowed:
            continue
        report_violation(f"Ingress {rule.get('protocol')} {from_port}-{to_port} is open to the internet.")


def instance_sizes(args: ResourceValidationArgs, report_violation: ReportViolation):
    if args.resource_type != "aws:ec2/instance:Instance":
        return
    forbidden = args.get_config().get("forbiddenTypes", [])
    itype = args.props.get("instanceType")
    if itype in forbidden:
        report_violation(f"Instance type {itype} is not allowed here.")
    volume = args.props.get("rootBlockDevice") or {}
    size = volume.get("volumeSize")
    if size is not None and size > args.get_config()["maxVolumeGb"]:
        report_violation(f"Root volume of {size} GB exceeds {args.get_config()['maxVolumeGb']} GB "
                         f"(seen as {type(size).__name__}).")


def bucket_budget(args: StackValidationArgs, report_violation: ReportViolation):
    buckets = [r for r in args.resources if r.resource_type == "aws:s3/bucket:Bucket"]
    limit = args.get_config()["maxBuckets"]
    if len(buckets) > limit:
        report_violation(f"The stack has {len(buckets)} buckets; the limit is {limit}.")


def policies_attached(args: StackValidationArgs, report_violation: ReportViolation):
    for r in args.resources:
        if r.resource_type != "aws:s3/bucketPolicy:BucketPolicy":
            continue
        targets = [d.resource_type for d in r.dependencies]
        if "aws:s3/bucket:Bucket" not in targets:
            report_violation("Bucket policy does not depend on a bucket of this stack.", r.urn)
        parent = r.parent.urn if r.parent is not None else "none"
        bucket_deps = [d.name for d in r.property_dependencies.get("bucket", [])]
        if not bucket_deps:
            report_violation(f"Bucket policy '{r.name}' (parent {parent}) names its bucket by a literal.", r.urn)


PolicyPack(
    name="aws-basics",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[
        ResourceValidationPolicy(
            name="s3-no-public-read",
            description="S3 buckets must not grant public access through canned ACLs.",
            enforcement_level=EnforcementLevel.MANDATORY,
            severity=Severity.CRITICAL,
            validate=no_public_buckets,
        ),
        ResourceValidationPolicy(
            name="s3-versioning",
            description="S3 buckets should have versioning enabled.",
            severity=Severity.MEDIUM,
            validate=bucket_versioning,
        ),
        ResourceValidationPolicy(
            name="ec2-open-ingress",
            description="Security groups must not allow ingress from 0.0.0.0/0 except on allowed ports.",
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(properties={
                "allowedPorts": {"type": "array", "items": {"type": "integer"}, "default": [443]},
            }),
            validate=open_ingress,
        ),
        ResourceValidationPolicy(
            name="ec2-instance-size",
            description="EC2 instances must use approved types and bounded root volumes.",
            config_schema=PolicyConfigSchema(properties={
                "forbiddenTypes": {"type": "array", "items": {"type": "string"}, "default": ["x1e.32xlarge"]},
                "maxVolumeGb": {"type": "integer", "minimum": 8, "default": 100},
            }),
            validate=instance_sizes,
        ),
        StackValidationPolicy(
            name="s3-bucket-budget",
            description="A stack may hold a bounded number of buckets.",
            config_schema=PolicyConfigSchema(properties={"maxBuckets": {"type": "integer", "default": 2}}),
            validate=bucket_budget,
        ),
        StackValidationPolicy(
            name="s3-policies-attached",
            description="Bucket policies must reference buckets of the same stack.",
            severity=Severity.LOW,
            validate=policies_attached,
        ),
    ],
)
