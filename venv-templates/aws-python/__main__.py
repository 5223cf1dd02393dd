"""${DESCRIPTION}

AWS guard rails: no public S3 buckets, encrypted RDS storage, no SSH open to the
internet, and CloudTrail somewhere in every stack that creates buckets.
"""
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


def s3_no_public_read(args: ResourceValidationArgs, report_violation: ReportViolation):
    if args.resource_type in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2", "aws:s3/bucketAclV2:BucketAclV2"):
        acl = args.props.get("acl")
        if acl in PUBLIC_ACLS:
            report_violation(f"The canned ACL '{acl}' makes the bucket public.")


def rds_encrypted(args: ResourceValidationArgs, report_violation: ReportViolation):
    if args.resource_type in ("aws:rds/instance:Instance", "aws:rds/cluster:Cluster"):
        if not args.props.get("storageEncrypted", False):
            report_violation("Set storageEncrypted=True.")


def no_open_ports(args: ResourceValidationArgs, report_violation: ReportViolation):
    if args.resource_type != "aws:ec2/securityGroup:SecurityGroup":
        return
    ports = args.get_config()["restrictedPorts"]
    for rule in args.props.get("ingress") or []:
        if "0.0.0.0/0" not in (rule.get("cidrBlocks") or []):
            continue
        for port in ports:
            if rule.get("fromPort", 0) <= port <= rule.get("toPort", 65535):
                report_violation(f"Port {int(port)} is open to 0.0.0.0/0.")


def cloudtrail_with_buckets(args: StackValidationArgs, report_violation: ReportViolation):
    types = {r.resource_type for r in args.resources}
    if "aws:s3/bucket:Bucket" in types and "aws:cloudtrail/trail:Trail" not in types:
        report_violation("This stack creates S3 buckets but no CloudTrail trail records access to them.")


PolicyPack(
    name="${PACK_NAME}",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="s3-no-public-read",
            description="S3 buckets must not be publicly readable or writable.",
            severity=Severity.CRITICAL,
            validate=s3_no_public_read,
        ),
        ResourceValidationPolicy(
            name="rds-storage-encrypted",
            description="RDS storage is encrypted at rest.",
            severity=Severity.HIGH,
            validate=rds_encrypted,
        ),
        ResourceValidationPolicy(
            name="ec2-no-open-admin-ports",
            description="Security groups do not open administrative ports to the internet.",
            severity=Severity.HIGH,
            config_schema=PolicyConfigSchema(properties={
                "restrictedPorts": {"type": "array", "items": {"type": "integer"}, "default": [22, 3389]},
            }),
            validate=no_open_ports,
        ),
        StackValidationPolicy(
            name="cloudtrail-with-buckets",
            description="Stacks with buckets also record API activity in CloudTrail.",
            enforcement_level=EnforcementLevel.ADVISORY,
            validate=cloudtrail_with_buckets,
        ),
    ],
)
