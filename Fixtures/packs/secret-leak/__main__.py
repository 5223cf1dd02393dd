"""Leaks secrets on purpose, for the secrets-leak test: into violation messages, printed lines on
stdout and stderr (plain, repr, JSON), an exception's text and traceback, a remediation that copies
its properties with dict(), and a stack policy's message. policy-host must show none of them
unless --show-secrets is given."""
import json
import os
import sys

import pulumi
from pulumi_policy import (EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy)


def leak_in_message(args, report_violation):
    if args.resource_type != "aws:rds/instance:Instance":
        return
    password = args.props.get("password")
    report_violation(f"the password is {password} (repr {password!r}, json {json.dumps(password)})")
    print(f"stdout: password={password} creds={dict(args.props.get('credentials') or {})!r}")
    sys.stderr.write(f"stderr: port={args.props.get('port')} password={password}\n")
    os.write(2, f"fd2: {password}\n".encode())
    print(f"config: {pulumi.Config('payments').get('dbPassword')}")
    if os.environ.get("SECRET_LEAK_EXIT"):
        sys.exit(f"giving up on {password}")


def leak_in_exception(args, report_violation):
    if args.resource_type == "pulumi:providers:aws":
        raise ValueError(f"cannot check the key {args.props.get('secretKey')!r}")


def leak_in_remediation(args):
    if args.resource_type != "aws:rds/instance:Instance":
        return None
    props = dict(args.props)
    props["note"] = f"rotated from {props.get('password')}"
    return props


def leak_in_stack(args, report_violation):
    for r in args.resources:
        if r.resource_type == "pulumi:pulumi:Stack":
            report_violation(f"adminPassword {r.props.get('adminPassword')}")
    password = pulumi.Config("payments").get("dbPassword")
    if password:
        report_violation(f"config dbPassword {password}")


PolicyPack(name="secret-leak", enforcement_level=EnforcementLevel.ADVISORY, policies=[
    ResourceValidationPolicy(name="leak-in-message", description="Puts the password into its message.", validate=leak_in_message),
    ResourceValidationPolicy(name="leak-in-exception", description="Raises with the password.", validate=leak_in_exception),
    ResourceValidationPolicy(name="leak-in-remediation", description="Copies the properties with dict().",
                             remediate=leak_in_remediation, enforcement_level=EnforcementLevel.REMEDIATE),
    StackValidationPolicy(name="leak-in-stack", description="Puts stack secrets into its message.", validate=leak_in_stack),
])
