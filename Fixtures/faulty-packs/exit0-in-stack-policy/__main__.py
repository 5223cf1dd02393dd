"""A stack policy calls os._exit(0): every Analyze call is done, the report is not."""
import os
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def healthy_resource(args, report_violation):
    report_violation(f"saw {args.name}")


def healthy_stack(args, report_violation):
    for r in args.resources:
        report_violation(f"saw {r.name}", r.urn)


def faulty(args, report_violation):
    os._exit(0)


PolicyPack(
    name="exit0-in-stack-policy",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(name="healthy-resource", description="Fires on every resource.", validate=healthy_resource),
        StackValidationPolicy(name="healthy-stack", description="Fires once for every resource.", validate=healthy_stack),
        StackValidationPolicy(name="faulty", description="Exits the process.", validate=faulty),
    ],
)
