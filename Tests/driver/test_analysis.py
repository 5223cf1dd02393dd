"""Remediate, Analyze and AnalyzeStack through the host, checked against the SDK's own servicer."""
import json
import os

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import (EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy,
                           StackValidationPolicy)
from pulumi_policy.policy import _NotApplicableError

from conftest import URN, resource

UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def sdk_analyze(host, r):
    """The SDK servicer's own Analyze over the same request, as plain dicts in the host's shape."""
    props = struct_pb2.Struct()
    props.update(r["properties"])
    response = host.servicer.Analyze(proto.AnalyzeRequest(type=r["type"], properties=props, urn=r["urn"],
                                                          name=r["name"]), None)
    out = []
    for d in response.diagnostics:
        out.append({"policyName": d.policyName, "description": d.description, "message": d.message,
                    "enforcementLevel": int(d.enforcementLevel), "severity": int(d.severity), "urn": d.urn})
    return out, [{"policyName": n.policy_name, "reason": n.reason} for n in response.not_applicable]


def run(host, r, apply=False):
    return host.run_resources([r], [], apply)[0]


def test_violations_match_the_sdks_analyze(make_host):
    def check(args, report):
        report(f"bucket {args.props['name']} is public")
        report("second", URN + "-other")
        report("")
    host = make_host([ResourceValidationPolicy("no-public", "Buckets stay private", check,
                                               enforcement_level=EnforcementLevel.MANDATORY)])
    r = resource({"name": "b", "acl": "public-read"})
    result = run(host, r)
    assert result["errors"] == []
    assert (result["diagnostics"], result["notApplicable"]) == sdk_analyze(host, r)
    assert result["diagnostics"][0]["message"] == "Buckets stay private\nbucket b is public"
    assert result["diagnostics"][0]["enforcementLevel"] == 1


def test_unknown_value_is_the_advisory_preview_note(make_host):
    host = make_host([ResourceValidationPolicy("tags", "d", lambda args, report: args.props["tags"]["owner"],
                                               enforcement_level=EnforcementLevel.MANDATORY)])
    r = resource({"tags": {"owner": UNKNOWN_STRING}})
    result = run(host, r)
    assert (result["diagnostics"], result["notApplicable"]) == sdk_analyze(host, r)
    d = result["diagnostics"][0]
    assert d["enforcementLevel"] == 0 and "can't run policy 'tags' from policy pack 'pack@v1.2.3' during preview" in d["message"]


def test_not_applicable_with_and_without_reason(make_host):
    def with_reason(args, report):
        raise _NotApplicableError("not a bucket")

    def without(args, report):
        raise _NotApplicableError()
    host = make_host([ResourceValidationPolicy("a", "d", with_reason), ResourceValidationPolicy("b", "d", without)])
    r = resource({})
    result = run(host, r)
    assert result["notApplicable"] == [{"policyName": "a", "reason": "not a bucket"}, {"policyName": "b", "reason": ""}]
    assert (result["diagnostics"], result["notApplicable"]) == sdk_analyze(host, r)


def test_configure_sets_levels_and_config(make_host):
    seen = []

    def check(args, report):
        seen.append(dict(args.get_config()))
        report("x")
    schema = PolicyConfigSchema({"max": {"type": "number"}})
    host = make_host([ResourceValidationPolicy("cfg", "d", check, config_schema=schema),
                      ResourceValidationPolicy("off", "d", lambda a, rep: rep("never"))])
    host.configure({"cfg": {"enforcementLevel": 1, "properties": {"max": 5}},
                    "off": {"enforcementLevel": 2}})
    result = run(host, resource({}))
    assert seen == [{"max": 5}]
    assert [(d["policyName"], d["enforcementLevel"]) for d in result["diagnostics"]] == [("cfg", 1)]


def test_remediate_level_reports_mandatory_and_remediations(make_host):
    def add_tags(args):
        props = dict(args.props)
        props["tags"] = {"managed": "yes"}
        return props

    def needs_tags(args, report):
        if "tags" not in args.props:
            report("untagged")
    host = make_host([ResourceValidationPolicy("tagger", "adds tags", remediate=add_tags),
                      ResourceValidationPolicy("tagged", "needs tags", needs_tags)],
                     level=EnforcementLevel.REMEDIATE)
    reported = run(host, resource({"name": "b"}))
    assert reported["remediations"] == [{"policyName": "tagger", "description": "adds tags",
                                         "properties": {"name": "b", "tags": {"managed": "yes"}}, "diagnostic": ""}]
    assert reported["notApplicable"] == [{"policyName": "tagged", "reason": "Policy does not implement remediate"},
                                         {"policyName": "tagger", "reason": "Policy does not implement validate"}]
    assert [d["enforcementLevel"] for d in reported["diagnostics"]] == [1]
    applied = run(host, resource({"name": "b"}), apply=True)
    assert applied["diagnostics"] == []


def test_remediations_match_the_sdks_remediate(make_host):
    def upper(args):
        return {"name": args.props["name"].upper(), "secret": args.props["secret"]}
    host = make_host([ResourceValidationPolicy("upper", "d", remediate=upper)], level=EnforcementLevel.REMEDIATE)
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "s"}
    r = resource({"name": "b", "secret": secret})
    remediations, not_applicable, final = host.remediate(r)
    props = struct_pb2.Struct()
    props.update(r["properties"])
    response = host.servicer.Remediate(proto.AnalyzeRequest(type=r["type"], properties=props, urn=r["urn"],
                                                            name=r["name"]), None)
    theirs = [{"policyName": x.policyName, "description": x.description,
               "properties": json_format.MessageToDict(x.properties), "diagnostic": x.diagnostic}
              for x in response.remediations]
    assert remediations == theirs and not_applicable == []
    assert final == theirs[0]["properties"] and final["name"] == "B"


def test_a_raising_remediation_fails_only_that_call(make_host):
    def boom(args):
        raise RuntimeError("remediation broke")
    host = make_host([ResourceValidationPolicy("r", "d", remediate=boom),
                      ResourceValidationPolicy("v", "d", lambda a, rep: rep("still analysed"))],
                     level=EnforcementLevel.REMEDIATE)
    result = run(host, resource({}))
    assert [(e["policyName"], e["phase"], e["type"], e["message"]) for e in result["errors"]] == [
        ("r", "remediate", "RuntimeError", "remediation broke")]
    assert [d["policyName"] for d in result["diagnostics"]] == ["v"]


def test_system_exit_in_a_policy_is_an_error_of_that_call(make_host):
    def leave(args, report):
        report("dropped with the call")
        raise SystemExit(2)
    host = make_host([ResourceValidationPolicy("exits", "d", leave)])
    results = host.run_resources([resource({}), resource({}, urn=URN + "2")], [], False)
    assert [r["errors"][0]["type"] for r in results] == ["SystemExit", "SystemExit"]
    assert all(r["diagnostics"] == [] for r in results)


def test_a_message_with_lone_surrogates_fails_the_call_as_the_sdks_server_does(make_host):
    host = make_host([ResourceValidationPolicy("s", "d", lambda a, rep: rep("bad \udc80"))])
    result = run(host, resource({}))
    assert result["diagnostics"] == []
    e = result["errors"][0]
    assert (e["policyName"], e["type"]) == ("s", "UnicodeEncodeError")
    e["message"].encode("utf-8")


def test_a_policy_that_changes_its_arguments_does_not_change_the_next_ones(make_host):
    seen = []

    def vandal(args, report):
        args.props["name"] = "vandalised"
        args.opts.protect = True

    def witness(args, report):
        seen.append((args.props["name"], args.opts.protect, type(args.opts).__name__))
    host = make_host([ResourceValidationPolicy("vandal", "d", vandal), ResourceValidationPolicy("witness", "d", witness)])
    run(host, resource({"name": "b"}, plain=True, options={"protect": False}))
    assert seen == [("b", False, "PolicyResourceOptions")]


def test_async_policies_are_awaited(make_host):
    async def check(args, report):
        report("async")
    host = make_host([ResourceValidationPolicy("a", "d", check)])
    assert [d["message"] for d in run(host, resource({}))["diagnostics"]] == ["d\nasync"]


def test_stack_policies_see_resources_with_parents(make_host):
    seen = []

    def check(args, report):
        for r in args.resources:
            seen.append((r.name, r.parent.name if r.parent else None))
        report("stack says no")
    host = make_host([StackValidationPolicy("stack", "d", check)])
    host.stack_begin([])
    host.stack_add([resource({}, urn=URN + "c", name="child", parent=URN)], False)
    host.stack_add([resource({})], True)
    result = host.stack_run()
    assert seen == [("b", None), ("child", "b")]
    assert [d["urn"] for d in result["diagnostics"]] == [""] and result["errors"] == []


def test_a_raising_stack_policy_returns_only_the_error(make_host):
    def check(args, report):
        report("lost")
        raise ValueError("stack broke")
    host = make_host([StackValidationPolicy("stack", "d", check)])
    host.stack_begin([])
    host.stack_add([resource({})], False)
    result = host.stack_run()
    assert result["diagnostics"] == []
    assert [(e["phase"], e["policyName"], e["message"]) for e in result["errors"]] == [("analyzeStack", "stack", "stack broke")]


def test_prepare_environment_sets_and_clears_the_engines_variables(make_host, monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG", "stale")
    host = make_host([ResourceValidationPolicy("p", "d", lambda a, r: None)])
    host.prepare_environment({"organization": "", "project": "proj", "stack": "dev", "dry_run": True,
                              "config": {"proj:k": "v"}, "tags": {"t": "1"}})
    assert os.environ["PULUMI_PROJECT"] == "proj" and os.environ["PULUMI_DRY_RUN"] == "true"
    assert "PULUMI_ORGANIZATION" not in os.environ
    assert os.environ["PULUMI_CONFIG"] == '{"proj:k": "v"}'
    assert host.stack_tags == {"t": "1"}
    host.prepare_environment({"config": {}})
    assert "PULUMI_CONFIG" not in os.environ and "PULUMI_PROJECT" not in os.environ


def test_analyzer_info_reports_policies_and_initial_config(make_host):
    host = make_host([ResourceValidationPolicy("p", "desc", lambda a, r: None)],
                     initial_config={"p": EnforcementLevel.MANDATORY})
    info = host.analyzer_info()
    assert info["name"] == "pack" and info["version"] == "1.2.3"
    assert [p["name"] for p in info["policies"]] == ["p"]
    assert info["initialConfig"] == {"p": {"enforcementLevel": 1, "properties": {}}}
    assert json_format.MessageToDict(struct_pb2.Struct()) == {}


def engine_request(r, options, provider):
    """The SDK's AnalyzeRequest for `r` as the engine's marshal would send it (map keys sorted: one of
    the orders Go's map iteration gives), parsed as the SDK's server parses it."""
    props = struct_pb2.Struct()
    props.update(r["properties"])
    prov = proto.AnalyzerProviderResource(type=provider["type"], urn=provider["urn"], name=provider["name"])
    prov.properties.update(provider["properties"])
    request = proto.AnalyzeRequest(type=r["type"], properties=props, urn=r["urn"], name=r["name"],
                                   options=proto.AnalyzerResourceOptions(**options), provider=prov)
    return proto.AnalyzeRequest.FromString(request.SerializeToString(deterministic=True))


def test_arguments_are_the_sdks_own_in_type_and_key_order(make_host):
    """Type identity and key order, which the SDK's objects get from the protobuf runtime."""
    seen = []

    def record(args, report):
        p, o, prov = args.props, args.opts, args.provider
        seen.append([type(p), list(p), list(p["tags"]), list(p["nested"]["inner"]), type(p["list"]),
                     type(p["list"][0]), list(p["list"][0]), type(o), type(o.ignore_changes), repr(o.aliases),
                     type(o.custom_timeouts), o.custom_timeouts.create_seconds, o.delete_before_replace, o.parent,
                     type(prov), type(prov.props), list(prov.props), type(args.stack_tags), list(args.stack_tags)])
        try:
            json.dumps(o.ignore_changes)
        except TypeError as e:
            seen[-1].append(str(e))

    # A key set whose order in the runtime's table depends on arrival, and others.
    keys = ["Name", "Owner", "Environment", "CostCenter", "b", "a", "zeta", "x1"]
    props = {"tags": {k: "v" for k in keys}, "nested": {"inner": {k: 1.0 for k in reversed(keys)}},
             "list": [{k: True for k in keys[3:]}], **{k + "_": "x" for k in keys}}
    options = {"protect": True, "ignoreChanges": ["tags"], "aliases": ["urn:a"], "parent": "urn:p",
               "customTimeouts": proto.AnalyzerResourceOptions.CustomTimeouts(create=5.0)}
    provider = {"type": "pulumi:providers:aws", "urn": "urn:prov", "name": "default",
                "properties": {k: "r" for k in keys}}
    host = make_host([ResourceValidationPolicy("record", "d", record)], tags={k: "t" for k in keys})
    r = resource(props, plain=True, provider=provider,
                 options={"protect": True, "ignoreChanges": ["tags"], "aliases": ["urn:a"], "parent": "urn:p",
                          "customTimeouts": {"create": 5.0, "update": 0.0, "delete": 0.0}})
    assert run(host, r)["errors"] == []
    host.servicer.Analyze(engine_request(r, options, provider), None)
    ours, theirs = seen
    assert ours == theirs
    assert ours[2] != keys and ours[0] is not dict and "not JSON serializable" in ours[-1]


def test_options_are_built_as_the_sdks_constructor_builds_them(make_host):
    from pulumi_policy import policy as sdk
    from policy_host_driver.options import assigning_constructor
    make = assigning_constructor(sdk.PolicyResourceOptions, 7)
    assert make is not sdk.PolicyResourceOptions, "the SDK's constructor only assigns: the fast path applies"
    args = (True, ["a"], None, ["u"], sdk.PolicyCustomTimeouts(1, 2, 3), ["s"], "p")
    mine, theirs = make(*args), sdk.PolicyResourceOptions(*args)
    assert type(mine) is type(theirs) and list(vars(mine).items()) == list(vars(theirs).items())

    class Computing:
        def __init__(self, a, b):
            self.b = b * 2
            self.a = a
    assert assigning_constructor(Computing, 2) is Computing


def test_a_freed_options_object_leaves_the_registry():
    import gc
    from pulumi_policy import policy as sdk
    from policy_host_driver.options import TrackedClasses, option_values
    from policy_host_driver.tracking import REGISTRY
    gc.collect()
    before = len(REGISTRY.entries)
    opts, tree = TrackedClasses(sdk).options(option_values({"protect": True}))
    assert len(REGISTRY.entries) == before + 2 and not tree.dirty
    opts.custom_timeouts.create_seconds = 5
    assert tree.dirty and type(opts) is sdk.PolicyResourceOptions
    del opts
    gc.collect()
    assert len(REGISTRY.entries) == before


def test_remediates_follows_the_levels_as_configured(make_host):
    """serve answers Remediate without Python while `remediates()` is false; the SDK's own answer then
    is empty too, and it follows Configure."""
    def upper(args):
        return {"name": args.props["name"].upper()}

    def check(args, report):
        report("seen")
    host = make_host([ResourceValidationPolicy("upper", "d", remediate=upper),
                      ResourceValidationPolicy("check", "d", check)], level=EnforcementLevel.ADVISORY)
    assert host.remediates() is False
    r = resource({"name": "b"})
    props = struct_pb2.Struct()
    props.update(r["properties"])
    request = proto.AnalyzeRequest(type=r["type"], properties=props, urn=r["urn"], name=r["name"])
    assert list(host.servicer.Remediate(request, None).remediations) == []
    assert host.remediate(r) == ([], [], None)
    host.configure({"upper": {"enforcementLevel": 3}})  # the wire value of REMEDIATE
    assert host.remediates() is True
    assert [x.policyName for x in host.servicer.Remediate(request, None).remediations] == ["upper"]
    host.sdk_path = dict(host.sdk_path, path="servicer")
    host.configure({"upper": {"enforcementLevel": 0}})
    assert host.remediates() is True  # every call goes to the SDK on the servicer path


def test_settle_for_serving_freezes_what_loading_built(make_host):
    import gc
    host = make_host([ResourceValidationPolicy("check", "d", lambda args, report: None)])
    gc.unfreeze()
    try:
        host.settle_for_serving()
        assert gc.get_freeze_count() > 1000 and gc.isenabled()
    finally:
        gc.unfreeze()
