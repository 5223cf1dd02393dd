"""${DESCRIPTION}

Google Cloud guard rails: uniform bucket-level access, no public IPs on VMs,
deletion protection for Cloud SQL, and labels on everything that takes them.
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


def uniform_access(args: ResourceValidationArgs, report_violation: ReportViolation):
    if args.resource_type == "gcp:storage/bucket:Bucket" and not args.props.get("uniformBucketLevelAccess", False):
        report_violation("Enable uniformBucketLevelAccess so that ACLs cannot grant access object by object.")


def no_public_ip(args: ResourceValidationArgs, report_violation: ReportViolation):
    if args.resource_type != "gcp:compute/instance:Instance":
        return
    for nic in args.props.get("networkInterfaces") or []:
        if nic.get("accessConfigs"):
            report_violation(f"Network interface on {nic.get('network', 'default')} has an external IP.")


def sql_deletion_protection(args: ResourceValidationArgs, report_violation: ReportViolation):
    if args.resource_type == "gcp:sql/databaseInstance:DatabaseInstance" and args.props.get("deletionProtection") is False:
        report_violation("Cloud SQL instances keep deletionProtection on.")


def labels_present(args: StackValidationArgs, report_violation: ReportViolation):
    required = args.get_config()["labels"]
    for r in args.resources:
        if not r.resource_type.startswith("gcp:") or "labels" not in r.props:
            continue
        labels = r.props.get("labels") or {}
        missing = [k for k in required if k not in labels]
        if missing:
            report_violation(f"{r.name} lacks labels {', '.join(missing)}.", r.urn)


PolicyPack(
    name="${PACK_NAME}",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="storage-uniform-access",
            description="Buckets use uniform bucket-level access.",
            severity=Severity.HIGH,
            validate=uniform_access,
        ),
        ResourceValidationPolicy(
            name="compute-no-public-ip",
            description="VMs have no external IP addresses.",
            severity=Severity.MEDIUM,
            validate=no_public_ip,
        ),
        ResourceValidationPolicy(
            name="sql-deletion-protection",
            description="Cloud SQL instances cannot be deleted by accident.",
            validate=sql_deletion_protection,
        ),
        StackValidationPolicy(
            name="required-labels",
            description="Labelled resources carry the required labels.",
            enforcement_level=EnforcementLevel.ADVISORY,
            config_schema=PolicyConfigSchema(properties={
                "labels": {"type": "array", "items": {"type": "string"}, "default": ["team", "env"]},
            }),
            validate=labels_present,
        ),
    ],
)
