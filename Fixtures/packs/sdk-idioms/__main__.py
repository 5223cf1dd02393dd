"""Idioms of public policy packs that depend on exactly what the SDK hands a policy: the type identity
of the property proxies (`type(x) == pulumi_policy.proxy._DictProxy`), the order of keys listed in a
message (the SDK's dicts come from a protobuf map), option lists that are protobuf repeated fields,
and the stack tags object. Each observation is a violation message, compared with the SDK's own
server in the differential tests."""
import json

import pulumi_policy
from pulumi_policy import (EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy)
from pulumi_policy.proxy import UnknownValueError

REQUIRED_TAGS = ["Owner", "Environment", "CostCenter"]
DictProxy, ListProxy = pulumi_policy.proxy._DictProxy, pulumi_policy.proxy._ListProxy


def required_tags(args, report_violation):
    """As a public tagging pack does: a proxy is checked, anything else is reported as not checked."""
    if "tags" not in args.props:
        return
    tags = args.props["tags"]
    if type(tags) == DictProxy:
        missing = [t for t in REQUIRED_TAGS if t not in tags]
        if missing:
            report_violation(f"missing tags {missing}; the resource has {list(tags.keys())}")
    elif isinstance(tags, (dict, DictProxy)):
        report_violation(f"tags were not checked: {type(tags).__name__}")


def key_listing(args, report_violation):
    report_violation(f"{args.resource_type} has {', '.join(args.props.keys())}")


def walk(x, path, out):
    """Every container in iteration order, by exact type."""
    if type(x) is DictProxy:
        out.append(f"{path}{{{','.join(x)}}}")
        for k in x:
            try:
                walk(x[k], f"{path}.{k}", out)
            except UnknownValueError:
                out.append(f"{path}.{k}=?")
    elif type(x) is ListProxy:
        out.append(f"{path}[{len(x)}]")
        for i in range(len(x)):
            try:
                walk(x[i], f"{path}[{i}]", out)
            except UnknownValueError:
                out.append(f"{path}[{i}]=?")
    elif isinstance(x, (dict, list)):
        out.append(f"{path}:{type(x).__name__}!")


def nested_order(args, report_violation):
    out = []
    walk(args.props, "", out)
    report_violation(" ".join(out))


def options_and_provider(args, report_violation):
    o, p = args.opts, args.provider
    try:
        dumped = json.dumps(o.ignore_changes)
    except TypeError as e:
        dumped = f"TypeError: {e}"
    tags = getattr(args, "stack_tags", None)
    seen = [type(o).__name__, type(o.ignore_changes).__name__, repr(o.ignore_changes), repr(o.aliases),
            repr(o.additional_secret_outputs), dumped, repr(o.protect), repr(o.delete_before_replace),
            type(o.custom_timeouts).__name__, repr(o.custom_timeouts.create_seconds),
            f"tags={type(tags).__name__}:{list(tags) if tags is not None else '-'}"]
    if p is not None:
        out = []
        walk(p.props, "provider", out)
        seen += [type(p).__name__, type(p.props).__name__] + out
    report_violation(" ".join(seen))


def stack_idioms(args, report_violation):
    tags = getattr(args, "stack_tags", None)
    report_violation(f"stack tags {type(tags).__name__}: {list(tags) if tags is not None else '-'}")
    for r in args.resources:
        out = []
        walk(r.props, "", out)
        report_violation(f"{r.name}: {type(r.props).__name__} deps={list(r.property_dependencies)} "
                         f"opts={type(r.opts.ignore_changes).__name__} {' '.join(out)}", r.urn)


PolicyPack(
    name="sdk-idioms",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[
        ResourceValidationPolicy(name="required-tags", description="tags by type identity", validate=required_tags),
        ResourceValidationPolicy(name="key-listing", description="keys in a message", validate=key_listing),
        ResourceValidationPolicy(name="nested-order", description="every container in order",
                                 validate=nested_order),
        ResourceValidationPolicy(name="options-and-provider", description="options and provider objects",
                                 validate=options_and_provider),
        StackValidationPolicy(name="stack-idioms", description="stack resources", validate=stack_idioms),
    ],
)
