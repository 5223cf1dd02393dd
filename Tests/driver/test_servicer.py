"""The SDK-release rules (`sdk_support`) and the in-process servicer path (`servicer`)."""
import base64

import pytest
from google.protobuf import empty_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy import policy as sdk
from pulumi_policy.policy import _PolicyAnalyzerServicer

from policy_host_driver import sdk_support
from policy_host_driver.host import Host

from conftest import URN


def encode(message):
    return base64.b64encode(message.SerializeToString()).decode()


def analyze_request(properties):
    r = proto.AnalyzeRequest(type="aws:s3/bucket:Bucket", urn=URN, name="b")
    r.properties.update(properties)
    return r


@pytest.mark.parametrize("text, parsed", [
    ("1.21.0", (1, 21, 0)), ("1.3", (1, 3, 0)), ("1.22.0a1", (1, 22, 0)), ("1.21.0.dev3", (1, 21, 0)),
    ("2", (2, 0, 0)), ("", None), ("x.1", None),
])
def test_parse_version(text, parsed):
    assert sdk_support.parse_version(text) == parsed


@pytest.mark.parametrize("version, supported", [
    ("1.3.0", True), ("1.21.0", True), ("1.99.7", True), (None, True),
    ("1.2.0", False), ("0.9.0", False), ("2.0.0", False), ("2.0.0rc1", False),
])
def test_supported_range(version, supported):
    reason = sdk_support.check_supported(version)
    assert (reason is None) == supported
    if not supported:
        assert reason.startswith(f"pulumi-policy {version} is installed") and "1.3.0 through the newest 1.x" in reason


def test_the_installed_sdk_has_everything_the_fast_path_uses():
    assert sdk_support.missing_capabilities(sdk, _PolicyAnalyzerServicer) == []


def test_a_servicer_without_its_own_configure_stack_is_not_fast():
    class Older(_PolicyAnalyzerServicer):
        pass
    # The subclass inherits ConfigureStack, but does not define it: as the generated base's stand-in.
    missing = sdk_support.missing_capabilities(sdk, Older)
    assert "the servicer's own ConfigureStack" in missing and "the servicer's own Remediate" in missing


@pytest.mark.parametrize("version, forced, path", [
    ("1.21.0", "", "fast"), ("1.20.3", "", "fast"), ("1.19.0", "", "servicer"), ("1.18.0", "", "servicer"), ("1.22.0", "", "servicer"),
    (None, "", "servicer"), ("1.21.0", "servicer", "servicer"),
])
def test_decide(version, forced, path):
    d = sdk_support.decide(version, "3.200.0", sdk, _PolicyAnalyzerServicer, forced)
    assert d["path"] == path and d["policyVersion"] == (version or "") and d["pulumiVersion"] == "3.200.0"
    assert d["reason"]


def servicer_host(policies, level=EnforcementLevel.ADVISORY, monkeypatch=None):
    monkeypatch.setenv(sdk_support.FORCE_VARIABLE, "servicer")
    host = Host()
    host._adopt(_PolicyAnalyzerServicer("pack", "1.2.3", policies, level, None))
    assert host.sdk_path["path"] == "servicer"
    assert host.policies == []  # nothing of the fast path was adopted
    return host


def test_servicer_call_answers_with_the_servicers_own_bytes(monkeypatch):
    def check(args, report):
        report(f"acl {args.props['acl']}")
    host = servicer_host([ResourceValidationPolicy("no-public", "d", check)], monkeypatch=monkeypatch)
    request = analyze_request({"acl": "public-read"})
    answer = host.servicer_call("Analyze", encode(request))
    expected = host.servicer.Analyze(request, None).SerializeToString()
    assert base64.b64decode(answer["response"]) == expected
    response = proto.AnalyzeResponse.FromString(base64.b64decode(answer["response"]))
    assert [d.message for d in response.diagnostics] == ["d\nacl public-read"]


def test_a_raising_policy_is_a_fault_naming_it(monkeypatch):
    def boom(args, report):
        raise KeyError("missing")
    host = servicer_host([ResourceValidationPolicy("fine", "d", lambda a, r: None),
                          ResourceValidationPolicy("broken", "d", boom)], monkeypatch=monkeypatch)
    fault = host.servicer_call("Analyze", encode(analyze_request({})))["fault"]
    assert fault["policyName"] == "broken" and fault["type"] == "KeyError" and fault["message"] == "'missing'"
    assert "boom" in fault["traceback"]


def test_system_exit_in_a_policy_fails_only_that_call(monkeypatch):
    def leave(args, report):
        raise SystemExit(3)
    host = servicer_host([StackValidationPolicy("leaves", "d", leave)], monkeypatch=monkeypatch)
    fault = host.servicer_call("AnalyzeStack", encode(proto.AnalyzeStackRequest()))["fault"]
    assert fault["policyName"] == "leaves" and fault["type"] == "SystemExit"


def test_unimplemented_methods(monkeypatch):
    host = servicer_host([ResourceValidationPolicy("p", "d", lambda a, r: None)], monkeypatch=monkeypatch)
    # The SDK leaves Cancel and Handshake to the generated base class, which sets UNIMPLEMENTED.
    assert host.servicer_call("Cancel", encode(empty_pb2.Empty())) == {"unimplemented": "Method not implemented!"}
    # A method the pack's protocol does not have at all: what gRPC's server says for an unknown method.
    assert host.servicer_call("NoSuchMethod", "") == {"unimplemented": "Method not found!"}


def test_configure_then_levels_apply(monkeypatch):
    host = servicer_host([ResourceValidationPolicy("p", "d", lambda a, r: r("x"))], monkeypatch=monkeypatch)
    configure = proto.ConfigureAnalyzerRequest()
    configure.policyConfig["p"].enforcementLevel = 1  # MANDATORY
    assert "response" in host.servicer_call("Configure", encode(configure))
    response = proto.AnalyzeResponse.FromString(
        base64.b64decode(host.servicer_call("Analyze", encode(analyze_request({})))["response"]))
    assert [int(d.enforcementLevel) for d in response.diagnostics] == [1]


def test_analyzer_info_reads_every_field_and_names_the_path(monkeypatch):
    host = servicer_host([ResourceValidationPolicy("p", "d", lambda a, r: None)], monkeypatch=monkeypatch)
    info = host.analyzer_info()
    assert info["sdkPath"]["path"] == "servicer" and info["sdkVersion"] == host.plugin_version() != ""
    assert [p["name"] for p in info["policies"]] == ["p"]
