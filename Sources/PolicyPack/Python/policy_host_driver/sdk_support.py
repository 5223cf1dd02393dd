"""Which pulumi-policy releases policy-host runs, and how: the rules, in one place.

The SDK in the pack's environment defines the semantics. Its servicer (`_PolicyAnalyzerServicer`)
is the oracle; the fast path (`analysis`, `stack`, `arguments` and the lazy proxies) reimplements
its loops with one deserialisation per resource and must equal it. It runs only where both hold:

- the release is one the fast path is proven on (`FAST_PATH_RELEASES`: each is in the release
  matrix and the parity probes of the test suite, which compare every result and everything a
  policy can observe with that release's own `python -m pulumi.policy`); behaviour that differs
  between releases without any change of API (not-applicable entries for a policy without
  `validate`, the level of a stack policy at `remediate`) can only be told apart by release;
- the SDK has every part the fast path uses (`missing_capabilities`), so a patched or unusual
  build of a proven release still falls back rather than failing.

Every other supported release runs the SDK's own servicer methods in this process (`servicer`):
protobuf requests in, the servicer's responses out, no gRPC — faithful by construction.
"""
import inspect

# Oldest supported release: 1.3.0 is the oldest 1.x that runs on CPython 3.11 (1.2.0 needs pulumi 2.x).
SUPPORTED_FROM = (1, 3, 0)
SUPPORTED_BEFORE = (2, 0, 0)
# (major, minor) releases the fast path is proven on, any patch release of each.
FAST_PATH_RELEASES = ((1, 20), (1, 21))
# `POLICY_HOST_SDK_PATH=servicer` runs the SDK's servicer whatever the release (tests, and users who
# want the oracle itself).
FORCE_VARIABLE = "POLICY_HOST_SDK_PATH"


def parse_version(text):
    """(major, minor, patch) from a release string ("1.21.0", "1.22.0a1", "1.3"), or None."""
    parts = []
    for piece in str(text).split(".")[:3]:
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):
            break
    if not parts:
        return None
    while len(parts) < 3:
        parts.append(0)
    return tuple(parts)


def installed_version(distribution):
    """The installed release of a distribution, from its metadata, or None."""
    try:
        from importlib import metadata
        return metadata.version(distribution)
    except Exception:  # noqa: BLE001  (not installed, or metadata unreadable)
        return None


def range_text():
    return f"{'.'.join(map(str, SUPPORTED_FROM))} through the newest 1.x"


def check_supported(version_text):
    """None when the release is in the supported range (or unknown), else the one-line reason."""
    version = parse_version(version_text) if version_text else None
    if version is None:
        return None
    if SUPPORTED_FROM <= version < SUPPORTED_BEFORE:
        return None
    return (f"pulumi-policy {version_text} is installed in the pack's environment; policy-host runs "
            f"pulumi-policy {range_text()}")


def missing_capabilities(policy_module, servicer_class):
    """What the fast path relies on that this SDK lacks (empty when it has everything); the servicer
    is looked at through its class, so that `doctor` can ask without running the pack."""
    missing = []
    for name in ("_NotApplicableError", "ResourceValidationPolicy", "StackValidationPolicy",
                 "PolicyResource", "PolicyResourceOptions", "PolicyCustomTimeouts", "PolicyProviderResource"):
        if not hasattr(policy_module, name):
            missing.append(f"pulumi_policy.policy.{name}")
    level = getattr(policy_module, "EnforcementLevel", None)
    if level is None or not hasattr(level, "REMEDIATE"):
        missing.append("EnforcementLevel.REMEDIATE")
    for name in ("_map_severity", "_map_enforcement_level", "_get_enforcement_level", "_get_policy_config"):
        if not hasattr(servicer_class, name):
            missing.append(f"the servicer's {name}")
    for name in ("Remediate", "ConfigureStack"):
        if name not in servicer_class.__dict__:
            missing.append(f"the servicer's own {name}")
    try:
        from pulumi_policy import deserialize, proxy
        for module, name in ((deserialize, "serialize_properties"), (deserialize, "deserialize_properties"),
                             (proxy, "_DictProxy"), (proxy, "_ListProxy"), (proxy, "UnknownValueError"),
                             (proxy, "unknown_checking_proxy")):
            if not hasattr(module, name):
                missing.append(f"{module.__name__}.{name}")
    except ImportError as e:
        missing.append(str(e))
    options = getattr(policy_module, "PolicyResourceOptions", None)
    if options is not None:
        try:
            if "parent" not in inspect.signature(options.__init__).parameters:
                missing.append("PolicyResourceOptions(parent=…)")
        except (TypeError, ValueError):
            missing.append("PolicyResourceOptions's signature")
    return missing


def decide(policy_version, pulumi_version, policy_module, servicer_class, forced):
    """{"path": "fast"|"servicer", "reason": …, "policyVersion": …, "pulumiVersion": …}."""
    release = f"pulumi-policy {policy_version or '(version unknown)'}"
    version = parse_version(policy_version) if policy_version else None
    proven = ", ".join(f"{a}.{b}" for a, b in FAST_PATH_RELEASES)
    if forced == "servicer":
        path, reason = "servicer", f"{FORCE_VARIABLE}=servicer"
    elif version is None or version[:2] not in FAST_PATH_RELEASES:
        path, reason = "servicer", f"{release}: the fast path is proven on pulumi-policy {proven}"
    else:
        missing = missing_capabilities(policy_module, servicer_class)
        if missing:
            path, reason = "servicer", f"{release} lacks what the fast path uses: {', '.join(missing)}"
        else:
            path, reason = "fast", f"{release}: proven equal to the SDK's servicer"
    return {"path": path, "reason": reason, "policyVersion": policy_version or "",
            "pulumiVersion": pulumi_version or ""}


def settings_keywords(settings_class):
    """Whether `pulumi.runtime.Settings` takes `organization` (pulumi 3.39.0 and later): the
    `pulumi.policy` entry point of each `pulumi` release passes it only from then on."""
    try:
        return "organization" in inspect.signature(settings_class.__init__).parameters
    except (TypeError, ValueError):
        return False


def report(forced=""):
    """What `doctor` prints for a venv, without running a pack: the decision as JSON, or why the SDK
    cannot be imported or is out of range."""
    import json
    policy_version = installed_version("pulumi-policy")
    out = {"policyVersion": policy_version or "", "pulumiVersion": installed_version("pulumi") or ""}
    unsupported = check_supported(policy_version)
    if unsupported is not None:
        out["error"] = unsupported
        return json.dumps(out)
    try:
        from pulumi_policy import policy as module
        servicer_class = module._PolicyAnalyzerServicer
    except Exception as e:  # noqa: BLE001
        out["error"] = f"the pulumi_policy SDK cannot be imported: {type(e).__name__}: {e}"
        return json.dumps(out)
    out.update(decide(policy_version, out["pulumiVersion"], module, servicer_class, forced))
    return json.dumps(out)
