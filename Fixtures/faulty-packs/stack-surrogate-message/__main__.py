"""A stack policy reports a lone surrogate: fails the AnalyzeStack call only."""
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def healthy_resource(args, report_violation):
    report_violation(f"saw {args.name}")


def healthy_stack(args, report_violation):
    for r in args.resources:
        report_violation(f"saw {r.name}", r.urn)


def faulty(args, report_violation):
    report_violation("stack \udfff text", args.resources[0].urn)


PolicyPack(
    name="stack-surrogate-message",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(name="healthy-resource", description="Fires on every resource.", validate=healthy_resource),
        StackValidationPolicy(name="healthy-stack", description="Fires once for every resource.", validate=healthy_stack),
        StackValidationPolicy(name="faulty", description="Reports a lone surrogate.", validate=faulty),
    ],
)
