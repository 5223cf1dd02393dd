"""${DESCRIPTION}

Provider-neutral guard rails: ownership labels on every cloud resource, protection
of stateful resources, and a bound on the size of a stack.
"""
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

# Property that carries labels/tags, by provider package.
LABEL_PROPERTIES = {"aws": "tags", "azure-native": "tags", "azure": "tags", "gcp": "labels"}
STATEFUL_SUFFIXES = ("Bucket", "Database", "Instance", "Cluster", "Volume", "Disk", "StorageAccount")


def required_labels(args: ResourceValidationArgs, report_violation: ReportViolation):
    package = args.resource_type.split(":", 1)[0]
    prop = LABEL_PROPERTIES.get(package)
    if prop is None:
        return
    labels = args.props.get(prop) or {}
    missing = [k for k in args.get_config()["labels"] if k not in labels]
    if missing:
        report_violation(f"Missing {prop}: {', '.join(missing)}.")


def protect_stateful(args: ResourceValidationArgs, report_violation: ReportViolation):
    if args.resource_type.startswith("pulumi:"):
        return
    kind = args.resource_type.rsplit(":", 1)[-1]
    if kind.endswith(STATEFUL_SUFFIXES) and not args.opts.protect:
        report_violation(f"{kind} '{args.name}' holds data; set `protect=True` on it.")


def stack_size(args: StackValidationArgs, report_violation: ReportViolation):
    limit = args.get_config()["maxResources"]
    count = sum(1 for r in args.resources if not r.resource_type.startswith("pulumi:"))
    if count > limit:
        report_violation(f"The stack manages {count} resources; split it above {limit}.")


PolicyPack(
    name="${PACK_NAME}",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[
        ResourceValidationPolicy(
            name="required-labels",
            description="Cloud resources carry the labels that say who owns them.",
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(properties={
                "labels": {"type": "array", "items": {"type": "string"}, "default": ["owner"]},
            }),
            validate=required_labels,
        ),
        ResourceValidationPolicy(
            name="protect-stateful",
            description="Resources that hold data are protected from accidental deletion.",
            validate=protect_stateful,
        ),
        StackValidationPolicy(
            name="stack-size",
            description="Stacks stay small enough to review.",
            config_schema=PolicyConfigSchema(properties={
                "maxResources": {"type": "integer", "minimum": 1, "default": 50},
            }),
            validate=stack_size,
        ),
    ],
)
