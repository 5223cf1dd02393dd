"""__main__.py calls os._exit(1) after PolicyPack(...) (in a finally)."""
import os
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def healthy_resource(args, report_violation):
    report_violation(f"saw {args.name}")


def healthy_stack(args, report_violation):
    for r in args.resources:
        report_violation(f"saw {r.name}", r.urn)


try:
    PolicyPack(
        name="exit1-after-pack",
        enforcement_level=EnforcementLevel.MANDATORY,
        policies=[
            ResourceValidationPolicy(name="healthy-resource", description="Fires on every resource.", validate=healthy_resource),
            StackValidationPolicy(name="healthy-stack", description="Fires once for every resource.", validate=healthy_stack),
        ],
    )
finally:
    os._exit(1)
