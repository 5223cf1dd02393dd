"""Config schemas with defaults and required properties, initial config, and level overrides."""
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ResourceValidationPolicy,
    StackValidationPolicy,
)


def allowed_regions(args, report_violation):
    if not args.resource_type.startswith("pulumi:providers:"):
        return
    region = args.props.get("region")
    allowed = args.get_config()["regions"]
    if region not in allowed:
        report_violation(f"Region {region} is not one of {', '.join(allowed)}.")


def name_prefix(args, report_violation):
    prefix = args.get_config()["prefix"]
    if args.props.get("bucket") and not args.props["bucket"].startswith(prefix):
        report_violation(f"Bucket name {args.props['bucket']} lacks the prefix '{prefix}'.")


def max_resources(args, report_violation):
    cfg = args.get_config()
    if len(args.resources) > cfg["limit"]:
        report_violation(f"{len(args.resources)} resources exceed the limit of {cfg['limit']} "
                         f"(strict={cfg.get('strict')}).")


def never_runs(args, report_violation):
    report_violation("A disabled policy must never report.")


PolicyPack(
    name="config-levels",
    policies=[
        ResourceValidationPolicy(
            name="allowed-regions",
            description="Providers must target approved regions.",
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(
                properties={"regions": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                                        "default": ["us-east-1", "us-west-2"]}}),
            validate=allowed_regions,
        ),
        ResourceValidationPolicy(
            name="bucket-prefix",
            description="Bucket names carry the team prefix.",
            config_schema=PolicyConfigSchema(
                properties={"prefix": {"type": "string", "minLength": 2}},
                required=["prefix"]),
            validate=name_prefix,
        ),
        StackValidationPolicy(
            name="resource-limit",
            description="Stacks stay below a resource count.",
            config_schema=PolicyConfigSchema(
                properties={"limit": {"type": "integer", "minimum": 1, "default": 100},
                            "strict": {"type": "boolean", "default": False}}),
            validate=max_resources,
        ),
        ResourceValidationPolicy(
            name="legacy-check",
            description="Retired check kept for reference.",
            enforcement_level=EnforcementLevel.DISABLED,
            validate=never_runs,
        ),
    ],
    initial_config={
        "bucket-prefix": {"prefix": "logs-"},
        "resource-limit": {"enforcementLevel": EnforcementLevel.MANDATORY, "limit": 8},
    },
)
