"""Policies that declare themselves not applicable, and one-sided policies."""
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def rds_backups(args, report_violation):
    if args.resource_type != "aws:rds/instance:Instance":
        args.not_applicable()
    if args.props.get("backupRetentionPeriod", 0) < 7:
        report_violation("Keep at least 7 days of backups.")


def only_prod(args, report_violation):
    if args.stack_tags.get("env") != "prod":
        args.not_applicable("only enforced on stacks tagged env=prod")
    if len(args.resources) > 5:
        report_violation("Production stacks are split at 5 resources.")


def remediation_only(args):
    return None


PolicyPack(
    name="not-applicable",
    policies=[
        ResourceValidationPolicy(name="rds-backups", description="RDS keeps a week of backups.",
                                 enforcement_level=EnforcementLevel.MANDATORY, validate=rds_backups),
        StackValidationPolicy(name="prod-only-size", description="Production stacks stay small.",
                              validate=only_prod),
        ResourceValidationPolicy(name="remediate-only", description="A policy with only a remediation.",
                                 enforcement_level=EnforcementLevel.ADVISORY, remediate=remediation_only),
        ResourceValidationPolicy(name="validate-only-remediate-level", description="Validate only, remediate level.",
                                 enforcement_level=EnforcementLevel.REMEDIATE,
                                 validate=lambda args, rv: rv("still violating") if args.name == "orders-db" else None),
    ],
)
