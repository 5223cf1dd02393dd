"""Loading a pack: runs its `__main__.py` as `python -m pulumi.policy` would and captures the
analyzer servicer that `PolicyPack(...)` registers, instead of letting it start a gRPC server."""
import inspect
import json
import os
import runpy
import sys

from . import sdk_support
from .errors import Captured, PackLoadError
from .options import TrackedClasses
from .ordering import EngineOrder
from .proxies import LazyProxies
from .runtime_setup import RuntimeSetUp


def names_the_sdk(e):
    """An ImportError or AttributeError about a part of the installed pulumi_policy (a name, a
    submodule, a class attribute such as `EnforcementLevel.REMEDIATE`), not about a missing SDK."""
    if isinstance(e, ImportError):
        name = e.name or ""
        return name.startswith("pulumi_policy.") or (name == "pulumi_policy" and not isinstance(e, ModuleNotFoundError))
    owner = getattr(e, "obj", None)
    module = owner.__name__ if inspect.ismodule(owner) else getattr(owner, "__module__", "")
    return isinstance(module, str) and (module == "pulumi_policy" or module.startswith("pulumi_policy."))


class KeptSignatures:
    """`inspect.signature` for the SDK's module, keeping each class's answer while its `__init__`
    is the same: `_configure_runtime_settings` asks for `pulumi.runtime.Settings`'s on every call
    (about 19 µs of a serve Analyze), and a class's signature only changes with its `__init__`.
    Anything else (a function, extra arguments) is asked of `inspect.signature` itself."""

    def __init__(self, signature):
        self._signature = signature
        self._kept = {}

    def __call__(self, obj, *args, **kwargs):
        if args or kwargs or not isinstance(obj, type):
            return self._signature(obj, *args, **kwargs)
        init = obj.__dict__.get("__init__"), obj.__dict__.get("__signature__"), obj.__dict__.get("__new__")
        kept = self._kept.get(obj)
        if kept is None or any(a is not b for a, b in zip(kept[0], init)):
            kept = (init, self._signature(obj))
            self._kept[obj] = kept
        return kept[1]


def keep_signatures(module):
    """Makes `module`'s `signature` (imported from inspect) a `KeptSignatures`."""
    if module is not None and getattr(module, "signature", None) is inspect.signature:
        module.signature = KeptSignatures(inspect.signature)


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
        self.settings = settings
        self.stack_tags = dict(sorted((settings.get("tags") or {}).items()))  # as a deterministic marshal sends them

    def load(self, pack_dir):
        """Runs <pack_dir>/__main__.py as `python -m pulumi.policy` would, up to PolicyPack(...)."""
        os.chdir(pack_dir)
        # A crash in native code (a pack's C extension) prints the Python traceback that led to it.
        import faulthandler
        faulthandler.enable(file=sys.stderr, all_threads=False)
        # First: a release outside the range fails the same way whatever else is wrong with it.
        unsupported = sdk_support.check_supported(sdk_support.installed_version("pulumi-policy"))
        if unsupported is not None:
            raise PackLoadError(unsupported, "sdk-version")
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
            settings = {"project": os.environ["PULUMI_PROJECT"], "stack": os.environ["PULUMI_STACK"],
                        "dry_run": os.environ["PULUMI_DRY_RUN"] == "true"}
            if sdk_support.settings_keywords(pulumi.runtime.Settings):
                # PULUMI_ORGANIZATION might not be set for filestate backends.
                settings["organization"] = os.environ.get("PULUMI_ORGANIZATION", "organization")
            pulumi.runtime.configure(pulumi.runtime.Settings(**settings))

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
        except (ImportError, AttributeError) as e:
            if names_the_sdk(e):
                # The pack's own error stands; Swift's hint says the SDK is there, only older.
                e.policy_host_sdk_release = sdk_support.installed_version("pulumi-policy") or "(version unknown)"
            raise
        finally:
            analyzer_pb2_grpc.add_AnalyzerServicer_to_server = original_add
            grpc.server = original_server
            sys.stdout.flush()
        if not captured:
            raise PackLoadError("the pack's __main__.py finished without constructing a PolicyPack", "construct")
        self._adopt(captured[0])
        return self.analyzer_info()

    def _adopt(self, servicer):
        from pulumi_policy import policy as sdk
        self.sdk = sdk
        self.servicer = servicer
        self._runtime_setup = RuntimeSetUp(servicer)
        policy_version = sdk_support.installed_version("pulumi-policy")
        if policy_version is None:
            try:
                import pulumi_policy.version as version
                policy_version = version.VERSION
            except (ImportError, AttributeError):
                policy_version = None
        self.sdk_path = sdk_support.decide(policy_version, sdk_support.installed_version("pulumi"), sdk, type(servicer),
                                           os.environ.get(sdk_support.FORCE_VARIABLE, ""))
        if self.sdk_path["path"] == "fast":
            self._adopt_fast(sdk, servicer)
        self.configure_stack_servicer()

    def _adopt_fast(self, sdk, servicer):
        prefix = "_PolicyAnalyzerServicer__"
        try:
            self.policies = getattr(servicer, prefix + "policies")
            self.pack_name = getattr(servicer, prefix + "policy_pack_name")
            self.pack_version = getattr(servicer, prefix + "policy_pack_version")
        except AttributeError as e:
            raise PackLoadError(f"the pulumi_policy servicer lacks {e}", "construct") from e
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
        keep_signatures(sys.modules.get("pulumi_policy.policy"))
        params = inspect.signature(sdk.ResourceValidationArgs.__init__).parameters
        self.args_take_tags = "stack_tags" in params
        stack_params = inspect.signature(sdk.StackValidationArgs.__init__).parameters
        self.stack_args_take_tags = "stack_tags" in stack_params

    def configure_stack_servicer(self):
        """ConfigureStack with the stack's tags, when the SDK implements it (from 1.19.0; before, the
        generated base method answers UNIMPLEMENTED, which the engine takes as "not supported")."""
        from pulumi.runtime.proto import analyzer_pb2
        message = getattr(analyzer_pb2, "AnalyzerStackConfigureRequest", None)
        if message is None:
            return
        # What the engine sends, as far as the pack's protocol has the fields (tags: pulumi 3.196.0).
        s = self.settings
        values = {"stack": s.get("stack") or "", "project": s.get("project") or "",
                  "organization": s.get("organization") or "", "dry_run": bool(s.get("dry_run")),
                  "config": dict(sorted((s.get("config") or {}).items())), "tags": self.stack_tags}
        fields = message.DESCRIPTOR.fields_by_name
        request = message(**{k: v for k, v in values.items() if k in fields})
        if self.servicer_call_quiet("ConfigureStack", request) is not None:
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

        def field(message, name, default):
            # The protocol of older `pulumi` releases lacks fields (AnalyzerInfo.description and
            # supportsConfig before 3.x; PolicyInfo.severity, policy_type, tags, remediation_steps,
            # url, framework before 3.196.0): the engine reads a field not sent as unset.
            return getattr(message, name) if name in message.DESCRIPTOR.fields_by_name else default

        def struct(message, name):
            value = field(message, name, None)
            return json_format.MessageToDict(value) if value is not None else {}

        policies = []
        for p in info.policies:
            schema = field(p, "configSchema", None)
            policy = {
                "name": p.name, "displayName": field(p, "displayName", ""), "description": field(p, "description", ""),
                "enforcementLevel": int(field(p, "enforcementLevel", 0)), "severity": int(field(p, "severity", 0)),
                "policyType": int(field(p, "policy_type", 0)),
                "configSchema": {"properties": struct(schema, "properties") if schema is not None else {},
                                 "required": list(field(schema, "required", ())) if schema is not None else []},
                "tags": list(field(p, "tags", ())), "remediationSteps": field(p, "remediation_steps", ""),
                "url": field(p, "url", ""),
            }
            if "framework" in p.DESCRIPTOR.fields_by_name and p.HasField("framework"):
                policy["framework"] = {"name": p.framework.name, "version": p.framework.version,
                                       "reference": p.framework.reference,
                                       "specification": p.framework.specification}
            policies.append(policy)
        initial = {}
        for k, v in field(info, "initialConfig", {}).items():
            # proto3 enums have no presence: an entry without a level reaches the engine as ADVISORY (0).
            initial[k] = {"enforcementLevel": int(v.enforcementLevel),
                          "properties": json_format.MessageToDict(v.properties)}
        return {
            "name": info.name, "version": field(info, "version", ""), "displayName": field(info, "displayName", ""),
            "description": field(info, "description", ""), "supportsConfig": field(info, "supportsConfig", False),
            "policies": policies, "initialConfig": initial, "sdkVersion": self.plugin_version(),
            "sdkPath": self.sdk_path,
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
        """The SDK's per-call runtime set-up (`RuntimeSetUp`: skipped while it would change nothing)."""
        self._runtime_setup()

    def _level(self, policy):
        return self.servicer._get_enforcement_level(policy)

    def _config(self, policy):
        return self.servicer._get_policy_config(policy.name)
