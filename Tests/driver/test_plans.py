"""The Analyze plan and the remediating policies are kept between calls and worked out again whenever
something they read was assigned: Configure, or code that changed a policy or the servicer. Each
call's answer is checked against the SDK's own servicer, which reads everything afresh."""
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from policy_host_driver.analysis import ResourceAnalysis

from conftest import resource
from test_analysis import sdk_analyze


def counting_work_outs(monkeypatch):
    runs = []
    original = ResourceAnalysis._work_out_analyze_plan

    def counting(self):
        runs.append(1)
        return original(self)
    monkeypatch.setattr(ResourceAnalysis, "_work_out_analyze_plan", counting)
    return runs


def answers(host, r):
    diagnostics, not_applicable = host.analyze(r, r["properties"])
    return diagnostics, not_applicable


def levels(diagnostics):
    return [(d["policyName"], d["enforcementLevel"], d["severity"], d["description"]) for d in diagnostics]


def test_calls_with_nothing_changed_reuse_the_plan(make_host, monkeypatch):
    runs = counting_work_outs(monkeypatch)
    host = make_host([ResourceValidationPolicy("a", "d", lambda args, report: report("x")),
                      ResourceValidationPolicy("b", "d", lambda args, report: report("y"))])
    r = resource({})
    for _ in range(5):
        assert answers(host, r) == sdk_analyze(host, r)
    assert len(runs) == 1


def test_a_policy_that_changes_itself_is_seen_by_the_next_call(make_host, monkeypatch):
    runs = counting_work_outs(monkeypatch)
    calls = []

    def escalate(args, report):
        calls.append(1)
        report("x")
        if len(calls) == 1:
            policy.enforcement_level = EnforcementLevel.MANDATORY
            policy.severity = Severity.HIGH
        elif len(calls) == 2:
            policy.description = "changed"
        elif len(calls) == 3:
            other.enforcement_level = EnforcementLevel.DISABLED
    policy = ResourceValidationPolicy("escalating", "d", escalate)
    other = ResourceValidationPolicy("other", "d", lambda args, report: report("y"))
    host = make_host([policy, other])
    r = resource({})
    seen = []
    for _ in range(4):
        seen.append(levels(answers(host, r)[0]))
    assert seen == [
        [("escalating", 0, 0, "d"), ("other", 0, 0, "d")],
        [("escalating", 1, 3, "d"), ("other", 0, 0, "d")],
        [("escalating", 1, 3, "changed"), ("other", 0, 0, "d")],
        [("escalating", 1, 3, "changed")],
    ]
    assert len(runs) == 4


def test_configure_between_calls_is_seen(make_host, monkeypatch):
    runs = counting_work_outs(monkeypatch)
    host = make_host([ResourceValidationPolicy("a", "d", lambda args, report: report("x")),
                      ResourceValidationPolicy("b", "d", lambda args, report: report("y"))])
    r = resource({})
    assert levels(answers(host, r)[0]) == [("a", 0, 0, "d"), ("b", 0, 0, "d")]
    host.configure({"a": {"enforcementLevel": 1}, "b": {"enforcementLevel": 2}})
    assert answers(host, r) == sdk_analyze(host, r)
    assert levels(answers(host, r)[0]) == [("a", 1, 0, "d")]
    host.configure({})
    assert levels(answers(host, r)[0]) == [("a", 0, 0, "d"), ("b", 0, 0, "d")]
    assert len(runs) == 3


def test_remediating_policies_follow_a_policy_that_changes_its_level(make_host):
    def upper(args):
        return {"name": args.props["name"].upper()}
    policy = ResourceValidationPolicy("upper", "d", remediate=upper)
    host = make_host([policy])
    assert host.remediating_policies() == []
    policy.enforcement_level = EnforcementLevel.REMEDIATE
    assert host.remediating_policies() == [policy]
    del policy.enforcement_level  # a deletion counts as a change too (the SDK would then fail to read it)
    policy.enforcement_level = None
    assert host.remediating_policies() == []


def test_a_policy_class_with_its_own_setattr_is_worked_out_every_call(make_host, monkeypatch):
    """Its attribute changes bypass the watched mutators, so nothing is kept for its pack."""
    runs = counting_work_outs(monkeypatch)

    class Quiet(ResourceValidationPolicy):
        def __setattr__(self, name, value):
            object.__setattr__(self, name, value)

    def lower_itself(args, report):
        report("x")
        policy.enforcement_level = EnforcementLevel.MANDATORY
    policy = Quiet("quiet", "d", lower_itself)
    host = make_host([policy])
    r = resource({})
    assert levels(answers(host, r)[0]) == [("quiet", 0, 0, "d")]
    assert levels(answers(host, r)[0]) == [("quiet", 1, 0, "d")]
    assert len(runs) == 2


def test_a_new_servicer_gets_a_new_plan(make_host):
    host = make_host([ResourceValidationPolicy("a", "d", lambda args, report: report("x"))])
    r = resource({})
    assert [d["policyName"] for d in answers(host, r)[0]] == ["a"]
    other = make_host([ResourceValidationPolicy("b", "d", lambda args, report: report("y"))])
    host._adopt(other.servicer)
    assert [d["policyName"] for d in answers(host, r)[0]] == ["b"]
