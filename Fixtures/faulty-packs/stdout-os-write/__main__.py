"""Writes raw bytes to fd 1 (os.write) at load, in validators and in a stack policy."""
import os
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy

os.write(1, b"stdout-os-write-at-load {\"not\": \"json\"}")


def healthy_resource(args, report_violation):
    report_violation(f"saw {args.name}")


def healthy_stack(args, report_violation):
    for r in args.resources:
        report_violation(f"saw {r.name}", r.urn)


def noisy(args, report_violation):
    os.write(1, b"stdout-os-write-in-validator")


def noisy_stack(args, report_violation):
    os.write(1, b"stdout-os-write-in-stack-policy ]")


PolicyPack(
    name="stdout-os-write",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(name="healthy-resource", description="Fires on every resource.", validate=healthy_resource),
        ResourceValidationPolicy(name="noisy", description="Writes to fd 1.", validate=noisy),
        StackValidationPolicy(name="healthy-stack", description="Fires once for every resource.", validate=healthy_stack),
        StackValidationPolicy(name="noisy-stack", description="Writes to fd 1.", validate=noisy_stack),
    ],
)
