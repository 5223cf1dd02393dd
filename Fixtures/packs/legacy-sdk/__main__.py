"""Guard rails written against pulumi-policy 1.3.0's API: resource and stack policies, config schemas,
unknown values at preview, violations naming other resources. Nothing newer."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)


def bucket_acl(args: ResourceValidationArgs, report_violation: ReportViolation):
    if args.resource_type == "aws:s3/bucket:Bucket" and args.props.get("acl") in ("public-read", "public-read-write"):
        report_violation(f"bucket {args.name} is public ({args.props['acl']})")


def tagged(args: ResourceValidationArgs, report_violation: ReportViolation):
    required = args.get_config()["required"]
    tags = args.props.get("tags")
    if not isinstance(tags, dict) and args.props.get("metadata") is None:
        return
    present = set((tags or {}).keys()) | set(((args.props.get("metadata") or {}).get("labels") or {}).keys())
    missing = sorted(set(required) - present)
    if missing:
        report_violation("missing tags: " + ", ".join(missing))


def slow_check(args: ResourceValidationArgs, report_violation: ReportViolation):
    opts = args.opts
    if opts.protect:
        report_violation(f"{args.urn} is protected; ignore_changes={list(opts.ignore_changes)}")
    if args.provider is not None and args.provider.resource_type.startswith("pulumi:providers:"):
        region = args.provider.props.get("region")
        if region not in (None, "eu-west-1", "eu-central-1"):
            report_violation(f"provider {args.provider.name} is in {region}")


def every_property(args: ResourceValidationArgs, report_violation: ReportViolation):
    # Reads every property (unknown values at preview make this advisory note), sorted so the
    # message does not depend on the order of keys.
    keys = sorted(args.props.keys())
    text = ",".join(f"{k}={type(args.props[k]).__name__}" for k in keys)
    if len(text) > 400:
        report_violation(f"{args.resource_type} has {len(keys)} properties")


def stack_limits(args: StackValidationArgs, report_violation: ReportViolation):
    limit = args.get_config()["maxResources"]
    if len(args.resources) > limit:
        report_violation(f"{len(args.resources)} resources, more than {limit}")
    for r in args.resources:
        if r.resource_type == "aws:s3/bucket:Bucket" and not r.props.get("versioning"):
            report_violation(f"bucket {r.name} has no versioning", r.urn)


PolicyPack(
    name="legacy-sdk",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[
        ResourceValidationPolicy(name="bucket-acl", description="Buckets are private.", validate=bucket_acl,
                                 enforcement_level=EnforcementLevel.MANDATORY),
        ResourceValidationPolicy(
            name="tagged", description="Resources carry the required tags.", validate=tagged,
            config_schema=PolicyConfigSchema(
                properties={"required": {"type": "array", "items": {"type": "string"}, "default": ["owner"]}})),
        ResourceValidationPolicy(name="slow-check", description="Options and providers.", validate=[slow_check]),
        ResourceValidationPolicy(name="every-property", description="Every property is read.", validate=every_property),
        ResourceValidationPolicy(name="disabled-one", description="Never runs.", validate=bucket_acl,
                                 enforcement_level=EnforcementLevel.DISABLED),
        StackValidationPolicy(
            name="stack-limits", description="The stack stays small.", validate=stack_limits,
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(properties={"maxResources": {"type": "integer", "default": 8}})),
    ],
)
