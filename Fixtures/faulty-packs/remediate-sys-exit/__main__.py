"""A remediation calls sys.exit(3) on the security group: fails that Remediate call only; Analyze still runs."""
import sys
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def healthy_resource(args, report_violation):
    report_violation(f"saw {args.name}")


def healthy_stack(args, report_violation):
    for r in args.resources:
        report_violation(f"saw {r.name}", r.urn)


def faulty(args):
    if args.resource_type == "aws:ec2/securityGroup:SecurityGroup":
        sys.exit(3)
    return None


PolicyPack(
    name="remediate-sys-exit",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(name="healthy-resource", description="Fires on every resource.", validate=healthy_resource),
        ResourceValidationPolicy(name="faulty", description="Remediation that calls sys.exit(3).", enforcement_level=EnforcementLevel.REMEDIATE, remediate=faulty),
        StackValidationPolicy(name="healthy-stack", description="Fires once for every resource.", validate=healthy_stack),
    ],
)
