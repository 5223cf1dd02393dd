"""A validator recurses without end (a real RecursionError): fails that Analyze call only."""
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def healthy_resource(args, report_violation):
    report_violation(f"saw {args.name}")


def healthy_stack(args, report_violation):
    for r in args.resources:
        report_violation(f"saw {r.name}", r.urn)


def descend(n):
    return descend(n + 1) + 1


def faulty(args, report_violation):
    if args.resource_type == "aws:ec2/securityGroup:SecurityGroup":
        descend(0)


PolicyPack(
    name="infinite-recursion",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(name="healthy-resource", description="Fires on every resource.", validate=healthy_resource),
        ResourceValidationPolicy(name="faulty", description="Recurses forever.", validate=faulty),
        StackValidationPolicy(name="healthy-stack", description="Fires once for every resource.", validate=healthy_stack),
    ],
)
