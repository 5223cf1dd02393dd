"""Policies that need the plaintext of secrets: a database password's length, the type of a secret
number, and the stack's secret outputs. Messages give lengths and types, never the secrets."""
import pulumi
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def password_length(args, report_violation):
    if args.resource_type != "aws:rds/instance:Instance":
        return
    password = args.props.get("password")
    port = args.props.get("port")
    if isinstance(password, str) and len(password) < 20:
        report_violation(f"the password has {len(password)} characters, fewer than 20 (port is a {type(port).__name__})")


def stack_secrets(args, report_violation):
    for r in args.resources:
        if r.resource_type == "pulumi:pulumi:Stack":
            admin = r.props.get("adminPassword")
            report_violation(f"adminPassword has {len(admin)} characters")
        if r.resource_type == "aws:rds/instance:Instance":
            endpoint = r.props.get("endpoint", "")
            report_violation(f"the endpoint {'names a port' if endpoint.endswith(':5432') else 'is redacted'}")


def stack_config(args, report_violation):
    """Stack config (`--stack-config Pulumi.<stack>.yaml`, `--config`), when there is a password in it."""
    cfg = pulumi.Config("payments")
    password = cfg.get("dbPassword")
    if password is None:
        return
    database = cfg.get_object("database") or {}
    replicas = database.get("replicas") or [{}]
    report_violation(f"config: dbPassword has {len(password)} characters, database.password "
                     f"{len(database.get('password', ''))}, replica key {len(replicas[0].get('key', ''))}, "
                     f"region {pulumi.Config('aws').get('region')}, instanceCount {cfg.get_int('instanceCount')}")


PolicyPack(name="secret-length", enforcement_level=EnforcementLevel.MANDATORY, policies=[
    ResourceValidationPolicy(name="password-length", description="Passwords have 20 characters or more.",
                             validate=password_length),
    StackValidationPolicy(name="stack-secrets", description="What stack policies see of secrets.",
                          enforcement_level=EnforcementLevel.ADVISORY, validate=stack_secrets),
    StackValidationPolicy(name="stack-config", description="What policies see of the stack's config.",
                          enforcement_level=EnforcementLevel.ADVISORY, validate=stack_config),
])
