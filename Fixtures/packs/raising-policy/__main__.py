"""A pack with a policy that crashes on some inputs (a bug in the pack, not a violation)."""
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy


def fragile(args, report_violation):
    if args.resource_type == "aws:ec2/securityGroup:SecurityGroup":
        report_violation("reported before the crash")
        first = args.props["egress"][0]  # no egress: KeyError
        report_violation(f"never reached {first}")


def sturdy(args, report_violation):
    if args.resource_type == "aws:s3/bucket:Bucket" and not args.props.get("versioning"):
        report_violation("Versioning is not configured.")


PolicyPack(
    name="raising-policy",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(name="sturdy", description="Buckets configure versioning.", validate=sturdy),
        ResourceValidationPolicy(name="fragile", description="Security groups declare egress.", validate=fragile),
    ],
)
