"""Remediations: required tags, secret handling, and a validate+remediate pair."""
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ResourceValidationPolicy,
)

TAGGABLE = ("aws:s3/bucket:Bucket", "aws:ec2/instance:Instance", "aws:rds/instance:Instance")


def add_required_tags(args):
    if args.resource_type not in TAGGABLE:
        return None
    required = args.get_config().get("tags", {})
    tags = dict(args.props.get("tags") or {})
    missing = {k: v for k, v in required.items() if k not in tags}
    if not missing:
        return None
    # A plain copy reads secrets as plaintext, so they leave this remediation unmarked (SDK behaviour).
    props = dict(args.props)
    tags.update(missing)
    props["tags"] = tags
    return props


def encrypt_storage(args):
    if args.resource_type != "aws:rds/instance:Instance":
        return None
    if args.props.get("storageEncrypted"):
        return None
    props = args.props
    props["storageEncrypted"] = True
    # Writing through args.props keeps the password secret: the SDK re-wraps keys that were secret.
    props["password"] = args.props["password"] + "-rotated"
    return props


def check_public_access(args, report_violation):
    if args.resource_type == "aws:s3/bucket:Bucket" and args.props.get("acl") == "public-read":
        report_violation("Public buckets are made private by remediation.")


def make_private(args):
    if args.resource_type == "aws:s3/bucket:Bucket" and args.props.get("acl") == "public-read":
        return {**args.props, "acl": "private"}
    return None


def report_defaults(args):
    # Remediate sees the engine's internal keys, which Analyze never does.
    if args.resource_type == "aws:s3/bucket:Bucket" and "__defaults" in args.props:
        return {**args.props, "forceDestroy": False, "__defaults": []}
    return None


PolicyPack(
    name="remediate-tags",
    enforcement_level=EnforcementLevel.REMEDIATE,
    policies=[
        ResourceValidationPolicy(
            name="rds-encrypted-storage",
            description="RDS storage is encrypted; the password is rotated when fixed.",
            remediate=encrypt_storage,
        ),
        ResourceValidationPolicy(
            name="required-tags",
            description="Taggable resources carry the organisation's required tags.",
            config_schema=PolicyConfigSchema(
                properties={"tags": {"type": "object", "default": {"owner": "platform-team", "env": "prod"}}}),
            remediate=add_required_tags,
        ),
        ResourceValidationPolicy(
            name="s3-private",
            description="Public buckets are made private.",
            validate=check_public_access,
            remediate=make_private,
        ),
        ResourceValidationPolicy(
            name="s3-defaults-reset",
            description="Buckets get explicit defaults.",
            enforcement_level=EnforcementLevel.ADVISORY,
            remediate=report_defaults,
        ),
    ],
)
