"""A validator raises an exception whose __str__ raises: the error still names the exception type."""
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def healthy_resource(args, report_violation):
    report_violation(f"saw {args.name}")


def healthy_stack(args, report_violation):
    for r in args.resources:
        report_violation(f"saw {r.name}", r.urn)


class UnprintableError(Exception):
    def __str__(self):
        raise RuntimeError("__str__ refuses")

    def __repr__(self):
        raise RuntimeError("__repr__ refuses")


def faulty(args, report_violation):
    if args.resource_type == "aws:ec2/securityGroup:SecurityGroup":
        raise UnprintableError()


PolicyPack(
    name="str-raises",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(name="healthy-resource", description="Fires on every resource.", validate=healthy_resource),
        ResourceValidationPolicy(name="faulty", description="Raises an exception that cannot be printed.", validate=faulty),
        StackValidationPolicy(name="healthy-stack", description="Fires once for every resource.", validate=healthy_stack),
    ],
)
