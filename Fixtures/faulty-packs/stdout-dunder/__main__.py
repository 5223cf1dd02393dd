"""Writes through sys.__stdout__ at load, in validators and in a stack policy."""
import sys
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy

sys.__stdout__.write("stdout-dunder-at-load {\"not\": \"json\"}"); sys.__stdout__.flush()


def healthy_resource(args, report_violation):
    report_violation(f"saw {args.name}")


def healthy_stack(args, report_violation):
    for r in args.resources:
        report_violation(f"saw {r.name}", r.urn)


def noisy(args, report_violation):
    sys.__stdout__.write("stdout-dunder-in-validator"); sys.__stdout__.flush()


def noisy_stack(args, report_violation):
    sys.__stdout__.write("stdout-dunder-in-stack-policy ]"); sys.__stdout__.flush()


PolicyPack(
    name="stdout-dunder",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(name="healthy-resource", description="Fires on every resource.", validate=healthy_resource),
        ResourceValidationPolicy(name="noisy", description="Writes to fd 1.", validate=noisy),
        StackValidationPolicy(name="healthy-stack", description="Fires once for every resource.", validate=healthy_stack),
        StackValidationPolicy(name="noisy-stack", description="Writes to fd 1.", validate=noisy_stack),
    ],
)
