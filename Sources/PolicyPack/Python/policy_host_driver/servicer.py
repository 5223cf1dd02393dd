"""The SDK's own servicer, called in this process: the path for every pulumi-policy release the fast
path is not proven on (`sdk_support`).

A call is what gRPC would deliver and carry back, without gRPC: the request's serialised bytes are
parsed with the pack's own generated messages, the servicer method runs with a context that does
what grpc.ServicerContext does for it, and the response is serialised again. A method the servicer
leaves to the generated base class (which sets UNIMPLEMENTED on the context and raises) answers
"unimplemented", as the RPC would; an exception from a policy is a fault naming the policy that
was running, as the out-of-process route's hook reports it (`sdk_faults`)."""
import base64

from .sdk_faults import _fault as fault_record

# Request message of each Analyzer method: (module, class name).
_REQUESTS = {
    "Analyze": ("analyzer_pb2", "AnalyzeRequest"),
    "Remediate": ("analyzer_pb2", "AnalyzeRequest"),
    "AnalyzeStack": ("analyzer_pb2", "AnalyzeStackRequest"),
    "Configure": ("analyzer_pb2", "ConfigureAnalyzerRequest"),
    "ConfigureStack": ("analyzer_pb2", "AnalyzerStackConfigureRequest"),
    "GetAnalyzerInfo": ("empty", "Empty"),
    "GetPluginInfo": ("empty", "Empty"),
    "Cancel": ("empty", "Empty"),
}

_PHASES = {"Analyze": "analyze", "Remediate": "remediate", "AnalyzeStack": "analyzeStack", "Configure": "configure"}


class Unimplemented(Exception):
    """The servicer has no such method, or its protocol no such message."""


class CallContext:
    """What a servicer method may use of `grpc.ServicerContext` when no gRPC is involved."""

    def __init__(self):
        self.code = None
        self.details = None

    def set_code(self, code):
        self.code = code

    def set_details(self, details):
        self.details = details

    def abort(self, code, details):
        self.code, self.details = code, details
        raise Exception(details)  # noqa: TRY002  (what a servicer sees: the call ends here)

    def is_active(self):
        return True

    def time_remaining(self):
        return None

    def invocation_metadata(self):
        return ()

    def peer(self):
        return "policy-host"

    def add_callback(self, callback):
        return False


def request_class(method):
    where = _REQUESTS.get(method)
    if where is None:
        raise Unimplemented(method)
    module_name, class_name = where
    if module_name == "empty":
        from google.protobuf import empty_pb2 as module
    else:
        from pulumi.runtime.proto import analyzer_pb2 as module
    cls = getattr(module, class_name, None)
    if cls is None:
        raise Unimplemented(method)
    return cls


def unimplemented_status(context):
    if context is None or context.code is None:
        return False
    return getattr(context.code, "name", str(context.code)) == "UNIMPLEMENTED"


class ServicerCalls:
    """Host part: `servicer_call`, the one entry point of the servicer path."""

    def servicer_call(self, method, payload):
        """One Analyzer RPC to the SDK's servicer: `payload` is the request's bytes (base64).
        Returns {"response": base64} | {"unimplemented": details} | {"fault": {...}}, where
        `details` is what gRPC's Python server says: "Method not found!" for a method the pack's
        protocol does not have, the context's details for one the servicer leaves to its base."""
        bound = getattr(self.servicer, method, None)
        try:
            cls = request_class(method)
        except Unimplemented:
            bound = None
        if bound is None:
            return {"unimplemented": "Method not found!"}
        request = cls.FromString(base64.b64decode(payload))
        code = getattr(getattr(type(self.servicer), method, None), "__code__", None)
        context = CallContext()
        try:
            response = bound(request, context)
        except BaseException as e:  # noqa: BLE001  (SystemExit, KeyboardInterrupt too: they fail this call only)
            if unimplemented_status(context):
                return {"unimplemented": context.details or ""}
            record = fault_record(e, _PHASES.get(method, method), request, code)
            return {"fault": {k: record[k] for k in ("policyName", "phase", "type", "message", "traceback")}}
        if unimplemented_status(context):
            return {"unimplemented": context.details or ""}
        return {"response": base64.b64encode(response.SerializeToString()).decode("ascii")}

    def servicer_call_quiet(self, method, request):
        """A call made by the driver itself (ConfigureStack at load, GetAnalyzerInfo): the response
        message, or None when unimplemented; an exception propagates."""
        context = CallContext()
        bound = getattr(self.servicer, method, None)
        if bound is None:
            return None
        try:
            response = bound(request, context)
        except BaseException:
            if unimplemented_status(context):
                return None
            raise
        return None if unimplemented_status(context) else response
