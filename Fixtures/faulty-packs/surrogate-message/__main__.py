"""A violation message holds a lone surrogate, which no response can carry: fails that Analyze call only."""
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def healthy_resource(args, report_violation):
    report_violation(f"saw {args.name}")


def healthy_stack(args, report_violation):
    for r in args.resources:
        report_violation(f"saw {r.name}", r.urn)


def faulty(args, report_violation):
    if args.resource_type == "aws:ec2/securityGroup:SecurityGroup":
        report_violation("broken \ud800 text")


PolicyPack(
    name="surrogate-message",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(name="healthy-resource", description="Fires on every resource.", validate=healthy_resource),
        ResourceValidationPolicy(name="faulty", description="Reports a lone surrogate.", validate=faulty),
        StackValidationPolicy(name="healthy-stack", description="Fires once for every resource.", validate=healthy_stack),
    ],
)
