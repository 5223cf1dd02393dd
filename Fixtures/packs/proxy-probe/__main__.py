"""Probes what policies can observe of the properties they are given: every read path of the
SDK's unknown-checking proxies (keys, values, items, indexes from either end, slices, reversed
iteration, membership, equality, copies, type names), unknown values at any depth, and writes
through a proxy or its `__target`. Each observation is reported as a violation message, so that
any difference from the SDK's own analyzer shows up in the differential test.

Keys are listed sorted except by `identity-and-order`, which records the iteration order itself:
the SDK's dicts come from a protobuf map, whose iteration order is its hash table's."""
import copy
import json
import pickle
import re
from collections.abc import Mapping, Sequence

from pulumi_policy import (EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy)
from pulumi_policy import proxy as sdk_proxy


def attempt(f, depth, detail=True):
    """`detail=False` for whole-mapping reads: which unknown value they stop at depends on key order."""
    try:
        return describe(f(), depth)
    except Exception as e:  # noqa: BLE001
        return f"!{type(e).__name__}({getattr(e, 'message', None) or e})" if detail else f"!{type(e).__name__}"


def brief(x):
    return repr(x) if x is None or isinstance(x, (str, int, float, bool)) else type(x).__name__


def describe(x, depth=0):
    if depth > 8:
        return "..."
    if isinstance(x, Mapping):
        inner = ",".join(f"{k}={attempt(lambda k=k: x[k], depth + 1)}" for k in sorted(x))
        return f"{type(x).__name__}#{len(x)}{{{inner}}}"
    if isinstance(x, Sequence) and not isinstance(x, str):
        inner = ",".join(attempt(lambda i=i: x[i], depth + 1) for i in range(len(x)))
        tail = attempt(lambda: x[-1], depth + 1) if len(x) else "-"
        head = attempt(lambda: ",".join(brief(e) for e in x[0:2]), depth + 1)
        back = attempt(lambda: ",".join(brief(e) for e in reversed(x)), depth + 1)
        return f"{type(x).__name__}#{len(x)}[{inner}] last={tail} head={head} back={back}"
    if x is None or isinstance(x, (str, int, float, bool)):
        return repr(x)
    fields = ",".join(f"{k}={describe(v, depth + 1)}" for k, v in sorted(vars(x).items())) if hasattr(x, "__dict__") else ""
    return f"<{type(x).__name__} {fields}>"


def read_everything(args, report_violation):
    report_violation(describe(args.props))


def read_views(args, report_violation):
    p = args.props
    seen = [
        attempt(lambda: sorted(p.keys()), 0),
        attempt(lambda: sorted(describe(v) for v in p.values()), 0, False),
        attempt(lambda: dict(p.items()), 0, False),
        attempt(lambda: "tags" in p, 0),
        attempt(lambda: p.get("tags", "none"), 0),
        attempt(lambda: p == dict(p), 0, False),
        attempt(lambda: copy.deepcopy(p), 0, False),
        attempt(lambda: copy.copy(p)["tags"], 0),
        attempt(lambda: json.dumps(p), 0),
        attempt(lambda: p["no-such-key"], 0),
        attempt(lambda: p[0], 0),
        f"{isinstance(p, Mapping)} {isinstance(p, dict)} {type(p).__name__}",
    ]
    report_violation(" | ".join(seen))


def identity(x, path, seen, depth=0):
    """The exact class of every container, what `vars`, `repr`, `hash`, copying and pickling show of
    it, and the order it iterates in (the SDK's is its protobuf map's)."""
    if depth > 6 or not isinstance(x, (Mapping, Sequence)) or isinstance(x, str):
        return
    t = type(x)
    sdk_class = t is sdk_proxy._DictProxy or t is sdk_proxy._ListProxy
    state = sorted(vars(x)) if hasattr(x, "__dict__") else "-"
    text = re.sub(r"0x[0-9a-f]+", "@", repr(x))
    seen.append(f"{path}:{t.__module__}.{t.__qualname__} sdk={sdk_class} cls={x.__class__ is t} vars={state} "
                f"repr={text} hash={attempt(lambda: type(hash(x)).__name__, 0)} copy={type(copy.copy(x)).__name__} "
                f"pickled={attempt(lambda: type(pickle.loads(pickle.dumps(x))).__name__, 0)}")
    children = list(x) if isinstance(x, Mapping) else range(len(x))
    if isinstance(x, Mapping):
        seen.append(f"{path} order={','.join(children)}")
    for k in children:
        try:
            identity(x[k], f"{path}.{k}", seen, depth + 1)
        except Exception as e:  # noqa: BLE001
            seen.append(f"{path}.{k}!{type(e).__name__}")


def identity_and_order(args, report_violation):
    seen = []
    identity(args.props, "", seen)
    if args.provider is not None:
        identity(args.provider.props, "provider", seen)
    report_violation(" ".join(seen))


def write_through(args, report_violation):
    p = args.props
    p["probe"] = {"written": [1, 2]}
    seen = [describe(p["probe"]), type(p["probe"]).__name__]
    for key in sorted(p):
        value = attempt(lambda key=key: p[key], 0)
        if isinstance(value, str) and value.startswith("_DictProxy"):
            target = p[key]["__target"]
            target["added"] = "by write_through"
            seen.append(f"{key}: {sorted(target)} {describe(p[key])}")
            break
    seen.append(describe(p))
    report_violation(" | ".join(seen))


def after_write(args, report_violation):
    # Each policy gets its own proxies: nothing written by write_through may be visible here.
    report_violation(describe(args.props))


def take_target(args, report_violation):
    target = args.props["__target"]
    seen = [type(target).__name__, ",".join(sorted(target))]
    for key, value in sorted(target.items()):
        seen.append(f"{key}:{type(value).__name__}")
        if isinstance(value, Sequence) and not isinstance(value, str):
            inner = value["__target"]
            seen.append(f"{type(inner).__name__}{[type(e).__name__ for e in inner]}")
            inner.append("appended")
    report_violation(" ".join(seen) + " => " + describe(args.props))


def options_writer(args, report_violation):
    opts, provider = args.opts, args.provider
    before = f"{opts.protect} {opts.ignore_changes} {opts.aliases} {opts.parent} {opts.custom_timeouts.create_seconds}"
    opts.protect = "changed"
    opts.ignore_changes.append("changed")
    opts.aliases.append("changed")
    opts.custom_timeouts.create_seconds = -1
    if provider is not None:
        provider.name = "changed"
        provider.props["region"] = "changed"
    report_violation(before)


def options_after(args, report_violation):
    # The options and provider objects are the policy's own, but the option lists are the request's:
    # options_writer's appends are visible here, its assignments are not.
    opts, provider = args.opts, args.provider
    seen = f"{opts.protect} {opts.ignore_changes} {opts.aliases} {opts.parent} {opts.custom_timeouts.create_seconds}"
    if provider is not None:
        seen += f" {provider.resource_type} {provider.name} {describe(provider.props)}"
    report_violation(seen)


def object_writer(args, report_violation):
    # Assets and archives are objects: the SDK deserialises them afresh for every policy.
    changed = []
    for key in sorted(args.props):
        value = attempt(lambda key=key: args.props[key], 0)
        if value.startswith("<"):
            setattr(args.props[key], "probe", "changed")
            changed.append(key)
    report_violation(",".join(changed) or "-")


def stack_reader(args, report_violation):
    for r in args.resources:
        report_violation(f"{r.name}: {describe(r.props)}", r.urn)


def stack_writer(args, report_violation):
    for r in args.resources:
        r.props["probe"] = "stack"
        r.opts.ignore_changes.append("stack")
        r.opts.protect = "changed"
        if r.provider is not None:
            r.provider.urn = "changed"
        report_violation(f"{r.name}: {attempt(lambda r=r: r.props['probe'], 0)}", r.urn)


def stack_after(args, report_violation):
    report_violation(" ".join(f"{r.name}:{'probe' in r.props}:{r.opts.ignore_changes}:{r.opts.protect}:"
                              f"{r.provider.urn if r.provider is not None else '-'}" for r in args.resources))


PolicyPack(
    name="proxy-probe",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[
        ResourceValidationPolicy(name="read-everything", description="every read path", validate=read_everything),
        ResourceValidationPolicy(name="read-views", description="views, copies and errors", validate=read_views),
        ResourceValidationPolicy(name="identity-and-order", description="classes, state and key order",
                                 validate=identity_and_order),
        ResourceValidationPolicy(name="write-through", description="writes through the proxy", validate=write_through),
        ResourceValidationPolicy(name="after-write", description="sees no earlier write", validate=after_write),
        ResourceValidationPolicy(name="take-target", description="reaches into __target", validate=take_target),
        ResourceValidationPolicy(name="after-target", description="sees no earlier target change",
                                 validate=after_write),
        ResourceValidationPolicy(name="options-writer", description="changes options and provider",
                                 validate=options_writer),
        ResourceValidationPolicy(name="options-after", description="sees its own options", validate=options_after),
        ResourceValidationPolicy(name="object-writer", description="changes asset objects", validate=object_writer),
        ResourceValidationPolicy(name="after-object", description="sees its own asset objects", validate=after_write),
        StackValidationPolicy(name="stack-reader", description="stack read paths", validate=stack_reader),
        StackValidationPolicy(name="stack-writer", description="stack writes", validate=stack_writer),
        StackValidationPolicy(name="stack-after", description="sees no stack write", validate=stack_after),
    ],
)
