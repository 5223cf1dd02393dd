# policy-host: the observer for `--runtime sdk-server`.
#
# policy-host runs the SDK's own analyzer, `<venv>/bin/python -u -m pulumi.policy`, and drives it
# over gRPC as the engine does. The analyzer's answer to a policy that raises is a failed RPC whose
# status says only `Exception calling application: <str(e)>`; the embedded route reports which
# policy raised and the exception's type. This file, put first on PYTHONPATH as `sitecustomize`,
# makes the same facts known without changing what the analyzer does: it wraps the servicer's
# Analyze, Remediate and AnalyzeStack, and when one of them raises it writes one JSON line
# (policy, type, message, traceback) to the channel named by POLICY_HOST_SDK_FAULTS, then raises
# the exception on unchanged. Nothing else is touched: the variables that brought it here are
# removed, PYTHONPATH and sys.path are restored, and the `sitecustomize` it shadows (Debian's, for
# one) is run in its place.

import os
import sys


def _policy_host_install():
    hook_dir = os.environ.pop("POLICY_HOST_SDK_HOOK", None)
    channel = os.environ.pop("POLICY_HOST_SDK_FAULTS", None)
    original = os.environ.pop("POLICY_HOST_SDK_PYTHONPATH", None)
    if original is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = original
    if hook_dir is not None:
        sys.path[:] = [p for p in sys.path if p != hook_dir]
    if channel:
        sys.meta_path.insert(0, _AfterImport("pulumi_policy.policy", lambda m: _patch(m, channel)))
    _run_shadowed_sitecustomize(hook_dir)


def _run_shadowed_sitecustomize(hook_dir):
    """Runs the `sitecustomize` that this module hides, as site.py would have."""
    import importlib.machinery
    import importlib.util
    path = [p for p in sys.path if p != hook_dir]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


class _AfterImport:
    """Calls `then(module)` once the module `name` has been executed, whoever imports it."""

    def __init__(self, name, then):
        self.name = name
        self.then = then

    def find_spec(self, name, path, target=None):
        if name != self.name:
            return None
        sys.meta_path.remove(self)
        spec = None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                break
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module
        then = self.then

        def exec_module(module):
            run(module)
            try:
                then(module)
            except Exception:  # noqa: BLE001  (an SDK this does not fit: observe nothing)
                pass

        loader.exec_module = exec_module
        return spec


def _write(channel, record):
    import json
    data = (json.dumps(record) + "\n").encode("utf-8")
    # Non-blocking only to open: with policy-host gone (no reader) this fails instead of hanging.
    fd = os.open(channel, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        os.set_blocking(fd, True)
        while data:
            data = data[os.write(fd, data):]
    finally:
        os.close(fd)


def _patch(module, channel):
    servicer = getattr(module, "_PolicyAnalyzerServicer", None)
    if servicer is None:
        return
    import functools

    def wrap(method, phase):
        @functools.wraps(method)
        def observed(self, request, context):
            try:
                return method(self, request, context)
            except BaseException as e:
                try:
                    _write(channel, _fault(e, phase, request, method.__code__))
                except BaseException:  # noqa: BLE001  (observing must never change the outcome)
                    pass
                raise
        return observed

    for name, phase in (("Analyze", "analyze"), ("Remediate", "remediate"), ("AnalyzeStack", "analyzeStack")):
        method = getattr(servicer, name, None)
        if method is not None:
            setattr(servicer, name, wrap(method, phase))
    _write(channel, {"event": "ready"})


def _fault(e, phase, request, code):
    """What the embedded route reports for a failed call: the policy that was running (the
    servicer's loop variable `policy` in its frame), the type, the text and the traceback."""
    import traceback
    policy = None
    start = e.__traceback__.tb_next  # past the wrapper's own frame
    tb = start
    while tb is not None:
        if tb.tb_frame.f_code is code:
            policy = tb.tb_frame.f_locals.get("policy")
            break
        tb = tb.tb_next
    try:
        message = str(e)
    except BaseException:  # noqa: BLE001
        message = f"<unprintable {_type_name(e)} object>"
    try:
        text = "".join(traceback.format_exception(type(e), e, start))
    except BaseException:  # noqa: BLE001
        text = ""
    name = getattr(policy, "name", "") if policy is not None else ""
    return {"event": "fault", "phase": phase, "urn": getattr(request, "urn", ""),
            "policyName": _renderable(name), "type": _renderable(_type_name(e)),
            "message": _renderable(message), "traceback": _renderable(text),
            # gRPC's server answers an Exception with UNKNOWN; anything else leaves the call open.
            "answered": isinstance(e, Exception)}


def _type_name(e):
    try:
        return type(e).__name__
    except BaseException:  # noqa: BLE001
        return "BaseException"


def _renderable(text):
    """`text` as valid Unicode: lone surrogates become backslash escapes."""
    if not isinstance(text, str):
        try:
            text = str(text)
        except BaseException:  # noqa: BLE001
            return "<unprintable>"
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


# Run as `sitecustomize` it installs itself; imported by the embedded driver (as
# `policy_host_driver.sdk_faults`, for `_fault`) it does nothing.
if __name__ == "sitecustomize":
    _policy_host_install()
