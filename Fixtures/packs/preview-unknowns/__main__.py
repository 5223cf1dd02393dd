"""Policies that read values a preview cannot know yet."""
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def instance_checks(args, report_violation):
    if args.resource_type != "aws:ec2/instance:Instance":
        return
    if args.props.get("instanceType", "").startswith("t2."):
        report_violation("t2 instances are previous generation.")
    # Reading an unknown value raises UnknownValueError: the SDK turns it into an advisory note.
    subnet = args.props["subnetId"]
    if not subnet.startswith("subnet-"):
        report_violation(f"Unexpected subnet id {subnet}.")


def listener_ports(args, report_violation):
    if args.resource_type != "aws:lb/listener:Listener":
        return
    for action in args.props.get("defaultActions", []):
        if action["type"] == "forward" and args.props["port"] == 80:
            report_violation("Plain HTTP listeners must redirect, not forward.")


def tags_known(args, report_violation):
    for r in args.resources:
        if r.resource_type == "aws:ec2/instance:Instance":
            for k in r.props["tags"]:
                if k.lower() == "name":
                    return
            report_violation("Instances need a Name tag.", r.urn)


def secret_in_outputs(args, report_violation):
    # Secrets are plaintext to policies.
    for r in args.resources:
        pw = r.props.get("password")
        if isinstance(pw, str) and len(pw) < 12:
            report_violation(f"Password of {r.name} is only {len(pw)} characters.", r.urn)


PolicyPack(
    name="preview-unknowns",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(name="ec2-instance-checks", description="Instances use current types and known subnets.",
                                 validate=instance_checks),
        ResourceValidationPolicy(name="lb-http-redirect", description="HTTP listeners redirect to HTTPS.",
                                 validate=listener_ports),
        StackValidationPolicy(name="ec2-name-tag", description="Instances have a Name tag.", validate=tags_known),
        StackValidationPolicy(name="short-passwords", description="Passwords are at least 12 characters.",
                              enforcement_level=EnforcementLevel.ADVISORY, validate=secret_in_outputs),
    ],
)
