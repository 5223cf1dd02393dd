"""Policies whose behaviour depends on exactly what the SDK hands them — the proxy (not a dict),
numbers as floats, unknown values in a preview, secrets as plaintext, config defaults — each written
the way a hand-rolled test helper would let pass. `policy-host test` must see them as `analyze` does."""
from pulumi_policy import (EnforcementLevel, PolicyConfigSchema, PolicyPack, ResourceValidationPolicy,
                           StackValidationPolicy)


def tags_as_dict(args, report_violation):
    tags = args.props.get("tags")
    if type(tags) is dict and "owner" not in tags:  # never true under the SDK: tags is a proxy
        report_violation("missing owner tag")


def ssh_port(args, report_violation):
    for rule in args.props.get("ingress") or []:
        port = rule["fromPort"]
        if isinstance(port, int) and port == 22:  # never true under the SDK: numbers are floats
            report_violation("ssh open")
        if port == 22:
            report_violation(f"port {port!r} is open")


def needs_arn(args, report_violation):
    if "arn" in args.props and not args.props["arn"].startswith("arn:aws:"):
        report_violation("not an AWS ARN")


def password_length(args, report_violation):
    if "password" in args.props and len(args.props["password"]) < 8:
        report_violation("password too short")


def max_size(args, report_violation):
    limit = args.get_config()["maxSize"]
    if args.props.get("size", 0) > limit:
        report_violation(f"size over {limit}")


def not_for_queues(args, report_violation):
    if args.resource_type == "aws:sqs/queue:Queue":
        from pulumi_policy.policy import _NotApplicableError
        raise _NotApplicableError("queues are exempt")
    if args.props.get("name") == "boom":
        raise ValueError("cannot check this one")


def lowercase_bucket(args):
    bucket = args.props.get("bucket")
    if isinstance(bucket, str) and bucket != bucket.lower():
        props = dict(args.props)
        props["bucket"] = bucket.lower()
        return props
    return None


def stack_count(args, report_violation):
    if len(args.resources) > 3:
        report_violation(f"{len(args.resources)} resources")


PolicyPack(
    name="harness-probe",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(name="tags-as-dict", description="owner tag (dict check)", validate=tags_as_dict),
        ResourceValidationPolicy(name="ssh-port", description="no ssh from anywhere", validate=ssh_port),
        ResourceValidationPolicy(name="needs-arn", description="arn is an AWS ARN", validate=needs_arn),
        ResourceValidationPolicy(name="password-length", description="long passwords", validate=password_length,
                                 enforcement_level=EnforcementLevel.ADVISORY),
        ResourceValidationPolicy(name="max-size", description="size limit", validate=max_size,
                                 config_schema=PolicyConfigSchema(properties={"maxSize": {"type": "number", "default": 10}})),
        ResourceValidationPolicy(name="not-for-queues", description="queues exempt", validate=not_for_queues),
        ResourceValidationPolicy(name="lowercase-bucket", description="bucket names in lower case",
                                 remediate=lowercase_bucket, enforcement_level=EnforcementLevel.REMEDIATE),
        StackValidationPolicy(name="stack-count", description="small stacks", validate=stack_count),
    ],
)
