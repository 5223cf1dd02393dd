"""The host object: the pack's state and the entry points Swift calls."""
from .analysis import ResourceAnalysis
from .arguments import ResourceArguments
from .execution import NoCycleCollection
from .loading import PackLoading
from .runtime_setup import RuntimeSetUp
from .servicer import ServicerCalls
from .stack import StackAnalysis


class Host(PackLoading, ServicerCalls, ResourceArguments, ResourceAnalysis, StackAnalysis):
    """The object Swift drives (`policy_host_driver.host`): one loaded pack and its servicer.

    Its parts live in the modules named by its bases; its public methods and the dicts they take and
    return are the interface `PackSession`, `AnalyzerService` and `PythonWorker` call. On the servicer
    path (`sdk_support`) only loading, `servicer_call` and the single-RPC helpers below are used."""

    def __init__(self):
        self.servicer = None
        self._runtime_setup = RuntimeSetUp(None)
        self.policies = []
        self.pack_name = ""
        self.pack_version = "0.0.1"
        self.stack_tags = {}
        self.settings = {}
        self.sdk = None
        self.tracked = None
        self.options_message = None
        self.order = None
        self._kept_plans = None
        self.sdk_path = {"path": "fast", "reason": "", "policyVersion": "", "pulumiVersion": ""}

    # ------------------------------------------------------ single RPCs (serve)

    def settle_for_serving(self):
        """Once the pack is loaded for serve: what loading built (modules, the SDK, the pack) is
        moved out of the cyclic collector's reach (`gc.freeze`), so that the full collections a long
        run of RPCs triggers now and then scan only what the calls made, not the whole heap (with the
        benchmark pack loaded, ~40 000 objects, a full collection takes 4-6 ms; frozen, microseconds).
        Reference counting frees as ever; cycles made from here on are collected as ever."""
        import gc
        gc.collect()
        gc.freeze()

    def configure_stack(self, settings):
        """ConfigureStack after load: new environment for later RPCs, and the tags for the SDK."""
        self.prepare_environment(settings)
        self.configure_stack_servicer()

    def analyzer_info_bytes(self):
        """The SDK's own GetAnalyzerInfo response, serialised, so that serve answers byte for byte."""
        import base64
        from google.protobuf import empty_pb2
        return base64.b64encode(self.servicer.GetAnalyzerInfo(empty_pb2.Empty(), None).SerializeToString()).decode()

    def plugin_version(self):
        """What the SDK's GetPluginInfo answers (1.3.0 has no `pulumi_policy.version`)."""
        from google.protobuf import empty_pb2
        info = self.servicer_call_quiet("GetPluginInfo", empty_pb2.Empty())
        return info.version if info is not None else ""

    def rpc_remediate(self, r):
        self._configure_runtime()
        remediations, not_applicable, _ = self.remediate(r)
        return {"remediations": remediations, "notApplicable": not_applicable}

    def rpc_analyze(self, r):
        self._configure_runtime()
        diagnostics, not_applicable = self.analyze(r, r["properties"], plain=r.get("plain") is True)
        return {"diagnostics": diagnostics, "notApplicable": not_applicable}

    def rpc_analyze_stack(self, resources):
        """AnalyzeStack for serve: a policy that raises fails the call, as in the SDK."""
        self._configure_runtime()
        self._providers = []
        with NoCycleCollection():
            return self.analyze_stack_raising(self._prepare_stack(resources))
