"""print()s at load, in validators and in a stack policy."""
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy

print("stdout-print-at-load {\"not\": \"json\"}")


def healthy_resource(args, report_violation):
    report_violation(f"saw {args.name}")


def healthy_stack(args, report_violation):
    for r in args.resources:
        report_violation(f"saw {r.name}", r.urn)


def noisy(args, report_violation):
    print("stdout-print-in-validator")


def noisy_stack(args, report_violation):
    print("stdout-print-in-stack-policy ]")


PolicyPack(
    name="stdout-print",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(name="healthy-resource", description="Fires on every resource.", validate=healthy_resource),
        ResourceValidationPolicy(name="noisy", description="Writes to fd 1.", validate=noisy),
        StackValidationPolicy(name="healthy-stack", description="Fires once for every resource.", validate=healthy_stack),
        StackValidationPolicy(name="noisy-stack", description="Writes to fd 1.", validate=noisy_stack),
    ],
)
