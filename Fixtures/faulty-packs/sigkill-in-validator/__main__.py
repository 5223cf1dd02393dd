"""A validator SIGKILLs its own process on the security group."""
import os
import signal
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def healthy_resource(args, report_violation):
    report_violation(f"saw {args.name}")


def healthy_stack(args, report_violation):
    for r in args.resources:
        report_violation(f"saw {r.name}", r.urn)


def faulty(args, report_violation):
    if args.resource_type == "aws:ec2/securityGroup:SecurityGroup":
        os.kill(os.getpid(), signal.SIGKILL)


PolicyPack(
    name="sigkill-in-validator",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(name="healthy-resource", description="Fires on every resource.", validate=healthy_resource),
        ResourceValidationPolicy(name="faulty", description="Kills its process.", validate=faulty),
        StackValidationPolicy(name="healthy-stack", description="Fires once for every resource.", validate=healthy_stack),
    ],
)
