"""Loading a pack: runs its `__main__.py` as `python -m pulumi.policy` would and captures the
analyzer servicer that `PolicyPack(...)` registers, instead of letting it start a gRPC server."""
import inspect
import json
import os
import runpy
import sys

from .errors import Captured, PackLoadError
from .options import TrackedClasses
from .ordering import EngineOrder
from .proxies import LazyProxies


class DeferredServer:
    """Stands for `grpc.server(...)` while a pack loads; the real server is made on first use."""

    def __init__(self, make, args, kwargs):
        self._policy_host_make = (make, args, kwargs)
        self._policy_host_server = None

    def __getattr__(self, name):
        if self._policy_host_server is None:
            make, args, kwargs = self._policy_host_make
            self._policy_host_server = make(*args, **kwargs)
        return getattr(self._policy_host_server, name)


class PackLoading:
    """Host part: the engine's environment, loading the pack up to `PolicyPack(...)`, adopting the
    captured servicer, its analyzer info, and Configure."""

    # ---------------------------------------------------------------- loading

    def prepare_environment(self, settings):
        """Sets what the engine's proxy sets before the pack starts (each only when non-empty)."""
        env = os.environ
        for key, name in (("organization", "PULUMI_ORGANIZATION"), ("project", "PULUMI_PROJECT"),
                          ("stack", "PULUMI_STACK")):
            value = settings.get(key) or ""
            if value:
                env[name] = value
            else:
                env.pop(name, None)
        dry_run = settings.get("dry_run")
        if dry_run is not None:
            env["PULUMI_DRY_RUN"] = "true" if dry_run else "false"
        config = settings.get("config") or {}
        if config:
            env["PULUMI_CONFIG"] = json.dumps(config)
        else:
            env.pop("PULUMI_CONFIG", None)
        self.stack_tags = dict(sorted((settings.get("tags") or {}).items()))  # as a deterministic marshal sends them

    def load(self, pack_dir):
        """Runs <pack_dir>/__main__.py as `python -m pulumi.policy` would, up to PolicyPack(...)."""
        os.chdir(pack_dir)
        # A crash in native code (a pack's C extension) prints the Python traceback that led to it.
        import faulthandler
        faulthandler.enable(file=sys.stderr, all_threads=False)
        try:
            import pulumi
            import pulumi.runtime
            from pulumi.runtime.proto import analyzer_pb2_grpc
        except BaseException as e:  # noqa: BLE001
            raise PackLoadError(f"the pack's virtualenv cannot import the pulumi SDK: {e}", "import") from e

        # As pulumi/policy/__main__.py does before running the pack.
        for k, v in pulumi.runtime.get_config_env().items():
            pulumi.runtime.set_config(k, v)
        if all(k in os.environ for k in ("PULUMI_PROJECT", "PULUMI_STACK", "PULUMI_DRY_RUN")):
            pulumi.runtime.configure(pulumi.runtime.Settings(
                project=os.environ["PULUMI_PROJECT"],
                stack=os.environ["PULUMI_STACK"],
                dry_run=os.environ["PULUMI_DRY_RUN"] == "true",
                organization=os.environ.get("PULUMI_ORGANIZATION", "organization"),
            ))

        captured = []
        original_add = analyzer_pb2_grpc.add_AnalyzerServicer_to_server

        def capture(servicer, server):
            captured.append(servicer)
            raise Captured()

        # PolicyPack(...) builds a gRPC server only to register the servicer on it, which is captured
        # instead: the server is made only if something actually uses it (saves gRPC core start-up).
        import grpc
        original_server = grpc.server
        analyzer_pb2_grpc.add_AnalyzerServicer_to_server = capture
        grpc.server = lambda *args, **kwargs: DeferredServer(original_server, args, kwargs)
        try:
            runpy.run_path(pack_dir, run_name="__main__")
        except Captured:
            pass
        finally:
            analyzer_pb2_grpc.add_AnalyzerServicer_to_server = original_add
            grpc.server = original_server
            sys.stdout.flush()
        if not captured:
            raise PackLoadError("the pack's __main__.py finished without constructing a PolicyPack", "construct")
        self._adopt(captured[0])
        return self.analyzer_info()

    def _adopt(self, servicer):
        import pulumi_policy
        from pulumi_policy import policy as sdk
        self.sdk = sdk
        self.servicer = servicer
        prefix = "_PolicyAnalyzerServicer__"
        try:
            self.policies = getattr(servicer, prefix + "policies")
            self.pack_name = getattr(servicer, prefix + "policy_pack_name")
            self.pack_version = getattr(servicer, prefix + "policy_pack_version")
        except AttributeError as e:
            raise PackLoadError(f"unsupported pulumi_policy version {getattr(pulumi_policy, '__version__', '?')}: {e}",
                                "construct") from e
        from pulumi_policy.deserialize import deserialize_properties, serialize_properties
        from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy
        self.deserialize = deserialize_properties
        self.serialize = serialize_properties
        self.UnknownValueError = UnknownValueError
        self.proxy = unknown_checking_proxy
        from pulumi_policy import proxy as proxy_module
        self.order = EngineOrder.for_runtime()
        self.lazy = LazyProxies(proxy_module, self.order.order_of if self.order is not None else None)
        try:
            self.tracked = TrackedClasses(sdk)
        except Exception:  # noqa: BLE001  (an SDK whose classes cannot be subclassed: build per policy)
            self.tracked = None
        try:
            from pulumi.runtime.proto import analyzer_pb2
            self.options_message = analyzer_pb2.AnalyzerResourceOptions
        except (ImportError, AttributeError):
            self.options_message = None
        self.NotApplicable = sdk._NotApplicableError
        params = inspect.signature(sdk.ResourceValidationArgs.__init__).parameters
        self.args_take_tags = "stack_tags" in params
        stack_params = inspect.signature(sdk.StackValidationArgs.__init__).parameters
        self.stack_args_take_tags = "stack_tags" in stack_params
        if hasattr(servicer, "ConfigureStack"):
            from pulumi.runtime import proto
            servicer.ConfigureStack(proto.AnalyzerStackConfigureRequest(tags=self.stack_tags), None)
            self._adopt_stack_tags()

    def _adopt_stack_tags(self):
        """The servicer's own tags object (a read-only view of a dict in the request map's order), which
        the SDK hands to policies, in place of the dict it was built from."""
        tags = getattr(self.servicer, "_PolicyAnalyzerServicer__stack_tags", None)
        if tags is not None:
            self.stack_tags = tags

    # ------------------------------------------------------------ information

    def analyzer_info(self):
        from google.protobuf import empty_pb2, json_format
        info = self.servicer.GetAnalyzerInfo(empty_pb2.Empty(), None)
        policies = []
        for p in info.policies:
            policy = {
                "name": p.name, "displayName": p.displayName, "description": p.description,
                "enforcementLevel": int(p.enforcementLevel), "severity": int(p.severity),
                "policyType": int(p.policy_type),
                "configSchema": {"properties": json_format.MessageToDict(p.configSchema.properties),
                                 "required": list(p.configSchema.required)},
                "tags": list(p.tags), "remediationSteps": p.remediation_steps, "url": p.url,
            }
            if p.HasField("framework"):
                policy["framework"] = {"name": p.framework.name, "version": p.framework.version,
                                       "reference": p.framework.reference,
                                       "specification": p.framework.specification}
            policies.append(policy)
        initial = {}
        for k, v in info.initialConfig.items():
            # proto3 enums have no presence: an entry without a level reaches the engine as ADVISORY (0).
            initial[k] = {"enforcementLevel": int(v.enforcementLevel),
                          "properties": json_format.MessageToDict(v.properties)}
        import pulumi_policy.version as version
        return {
            "name": info.name, "version": info.version, "displayName": info.displayName,
            "description": info.description, "supportsConfig": info.supportsConfig,
            "policies": policies, "initialConfig": initial, "sdkVersion": version.VERSION,
        }

    # ---------------------------------------------------------- configuration

    def configure(self, policy_config):
        """Sends the reconciled config exactly as the engine's Configure would."""
        from pulumi.runtime import proto
        request = proto.ConfigureAnalyzerRequest()
        for name, entry in policy_config.items():
            cfg = request.policyConfig[name]
            cfg.enforcementLevel = entry.get("enforcementLevel", 0)
            props = entry.get("properties") or {}
            if props:
                cfg.properties.update(props)
        self.servicer.Configure(request, None)

    def _configure_runtime(self):
        configure = getattr(self.servicer, "_configure_runtime_settings", None)
        if configure is not None:
            configure()

    def _level(self, policy):
        return self.servicer._get_enforcement_level(policy)

    def _config(self, policy):
        return self.servicer._get_policy_config(policy.name)
