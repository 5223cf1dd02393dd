"""A validator forks on the security group; the child carries on as if it were the host and never exits."""
import os
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def healthy_resource(args, report_violation):
    report_violation(f"saw {args.name}")


def healthy_stack(args, report_violation):
    for r in args.resources:
        report_violation(f"saw {r.name}", r.urn)


def forking(args, report_violation):
    if args.resource_type == "aws:ec2/securityGroup:SecurityGroup":
        os.fork()  # parent and child both return and go on


PolicyPack(
    name="fork-continue",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(name="healthy-resource", description="Fires on every resource.", validate=healthy_resource),
        ResourceValidationPolicy(name="forking", description="Forks.", validate=forking),
        StackValidationPolicy(name="healthy-stack", description="Fires once for every resource.", validate=healthy_stack),
    ],
)
