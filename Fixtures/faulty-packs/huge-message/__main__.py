"""A validator raises ÜberFehler (a non-ASCII class name) with a 1 MB non-ASCII message."""
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def healthy_resource(args, report_violation):
    report_violation(f"saw {args.name}")


def healthy_stack(args, report_violation):
    for r in args.resources:
        report_violation(f"saw {r.name}", r.urn)


class ÜberFehler(Exception):
    pass


def faulty(args, report_violation):
    if args.resource_type == "aws:ec2/securityGroup:SecurityGroup":
        raise ÜberFehler("Größe ☃ " * 100_000)


PolicyPack(
    name="huge-message",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(name="healthy-resource", description="Fires on every resource.", validate=healthy_resource),
        ResourceValidationPolicy(name="faulty", description="Raises a 1 MB non-ASCII message.", validate=faulty),
        StackValidationPolicy(name="healthy-stack", description="Fires once for every resource.", validate=healthy_stack),
    ],
)
