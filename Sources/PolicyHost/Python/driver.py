# policy-host driver: runs inside the embedded interpreter, in the pack's venv.
#
# It loads the pack's own __main__.py with the real pulumi_policy SDK,
# captures the analyzer servicer that PolicyPack(...) builds (instead of letting
# it start a gRPC server and block), and then runs the SDK's policies with the
# servicer's own semantics: the same enforcement levels, messages, unknown
# handling, not-applicable reasons, secrets and remediation chaining.
#
# Resources arrive as plain dicts in the engine's wire form (what
# json_format.MessageToDict makes of the engine's Struct: numbers are floats,
# signatures and sentinels as the engine encodes them). The SDK deserialises
# and proxies a resource's properties afresh for every policy; here properties
# without signatures are proxied lazily and the proxy, options and provider
# objects are handed from policy to policy only while none of them was changed
# (see _LazyProxies and _TrackedClasses), so each policy observes what it would
# with objects of its own.
import asyncio
import inspect
import json
import os
import runpy
import sys
import traceback

ADVISORY, MANDATORY, DISABLED, REMEDIATE = 0, 1, 2, 3


class PackLoadError(Exception):
    """The pack could not be loaded; `host_attributes` says at which step."""

    def __init__(self, message, step):
        super().__init__(message)
        self.host_attributes = {"step": step}


class _LazyProxies:
    """Unknown-checking proxies built on first access, shareable between policies while untouched.

    The SDK's `unknown_checking_proxy` copies the whole property tree into `_DictProxy`/`_ListProxy`
    nodes before a policy runs, once per policy. These subclasses of the SDK's own classes answer
    every access exactly as those nodes do (same values, same `UnknownValueError` paths, same
    errors), but each node holds a shallow copy of its container and wraps a child container only
    when it is first read: a policy that looks at three keys pays for three nodes. Anything that
    could expose a node's internals (`["__target"]`, an unusual key type, `__setitem__`, copying or
    pickling) first completes the node exactly as the SDK would have built it.

    A tree is reused for the next policy only while no policy wrote through it or took a target
    (`dirty`), so every policy observes what it would with a tree of its own. Used only when the
    installed SDK's proxy module has the shape mirrored here; otherwise the SDK's own
    `unknown_checking_proxy` runs for each policy.
    """

    def __init__(self, proxy_module):
        self.ok = self._mirrors(proxy_module)
        if not self.ok:
            return
        dict_proxy, list_proxy = proxy_module._DictProxy, proxy_module._ListProxy
        raise_if_unknown, append_prop = proxy_module._raise_if_unknown, proxy_module._append_prop
        dict_get, dict_set, list_get = dict_proxy.__getitem__, dict_proxy.__setitem__, list_proxy.__getitem__
        containers = (dict, list)

        class Tree:
            __slots__ = ("dirty",)

            def __init__(self):
                self.dirty = False

        def wrap(value, acc, tree):
            if isinstance(value, list):
                return LazyList(list(value), acc, tree)
            return LazyDict(dict(value), acc, tree)

        class Lazy:
            """What both node kinds share; `_policy_host_names` says where the SDK class keeps its state."""

            def _policy_host_complete(self):
                """Wraps every child container not read yet: the node is then as the SDK builds it."""
                if self._policy_host_lazy:
                    self._policy_host_lazy = False
                    target_name, acc_name = self._policy_host_names
                    target, acc = getattr(self, target_name), getattr(self, acc_name)
                    for key in list(target.keys() if isinstance(target, dict) else range(len(target))):
                        value = target[key]
                        if isinstance(value, containers):
                            target[key] = wrap(value, append_prop(acc, key), self._policy_host_tree)

            def _policy_host_take_target(self):
                self._policy_host_complete()
                self._policy_host_tree.dirty = True
                return getattr(self, self._policy_host_names[0])

            def __reduce_ex__(self, protocol):
                self._policy_host_complete()
                return super().__reduce_ex__(protocol)

        class LazyDict(Lazy, dict_proxy):
            _policy_host_names = ("_DictProxy__target", "_DictProxy__props_acc")

            def __init__(self, target, acc, tree):
                self._DictProxy__target = target
                self._DictProxy__props_acc = acc
                self._policy_host_tree = tree
                self._policy_host_lazy = True

            def __getitem__(self, key):
                if key == "__target":
                    return self._policy_host_take_target()
                if self._policy_host_lazy:
                    if type(key) is str:
                        target = self._DictProxy__target
                        value = target[key]
                        if isinstance(value, containers):
                            value = target[key] = wrap(value, append_prop(self._DictProxy__props_acc, key),
                                                       self._policy_host_tree)
                            return value
                        return raise_if_unknown(key, value, self._DictProxy__props_acc)
                    self._policy_host_complete()
                return dict_get(self, key)

            def __setitem__(self, key, value):
                self._policy_host_complete()
                self._policy_host_tree.dirty = True
                dict_set(self, key, value)

        class LazyList(Lazy, list_proxy):
            _policy_host_names = ("_ListProxy__target", "_ListProxy__props_acc")

            def __init__(self, target, acc, tree):
                self._ListProxy__target = target
                self._ListProxy__props_acc = acc
                self._policy_host_tree = tree
                self._policy_host_lazy = True

            def __getitem__(self, key):
                if key == "__target":
                    return self._policy_host_take_target()
                if self._policy_host_lazy:
                    if type(key) is int:
                        target = self._ListProxy__target
                        value = target[key]
                        if isinstance(value, containers):
                            index = key if key >= 0 else key + len(target)
                            value = target[index] = wrap(value, append_prop(self._ListProxy__props_acc, index),
                                                         self._policy_host_tree)
                            return value
                        return raise_if_unknown(key, value, self._ListProxy__props_acc)
                    self._policy_host_complete()
                return list_get(self, key)

        # Named as the SDK's classes, so that messages naming a type ("Object of type _DictProxy is
        # not JSON serializable") read the same.
        for cls, base in ((LazyDict, dict_proxy), (LazyList, list_proxy)):
            cls.__name__, cls.__qualname__, cls.__module__ = base.__name__, base.__qualname__, base.__module__
        self.Tree, self.LazyDict = Tree, LazyDict

    @staticmethod
    def _mirrors(proxy_module):
        """Whether the SDK's proxies keep their state where these subclasses expect it."""
        try:
            d = proxy_module._DictProxy({}, [])
            lst = proxy_module._ListProxy([], [])
            return (callable(proxy_module._raise_if_unknown) and callable(proxy_module._append_prop)
                    and set(vars(d)) == {"_DictProxy__target", "_DictProxy__props_acc"}
                    and set(vars(lst)) == {"_ListProxy__target", "_ListProxy__props_acc"})
        except Exception:  # noqa: BLE001
            return False

    def build(self, props):
        """A lazy tree equivalent to `unknown_checking_proxy(props)`; returns (tree, proxy)."""
        tree = self.Tree()
        return tree, self.LazyDict(dict(props), [], tree)


class _TrackedClasses:
    """Subclasses of the SDK's `PolicyResourceOptions`, `PolicyCustomTimeouts` and
    `PolicyProviderResource` (same names) whose instances turn into plain instances of the SDK's class
    on their first attribute assignment or deletion. The SDK builds these objects afresh for every
    policy; one is handed to the next policy only while it is still of the tracked class, i.e. no
    policy changed it, which no policy can tell from a fresh one."""

    def __init__(self, sdk):
        def tracking(base):
            class Tracked(base):
                def __setattr__(self, name, value):
                    object.__setattr__(self, "__class__", base)
                    base.__setattr__(self, name, value)

                def __delattr__(self, name):
                    object.__setattr__(self, "__class__", base)
                    base.__delattr__(self, name)

            Tracked.__name__, Tracked.__qualname__, Tracked.__module__ = base.__name__, base.__qualname__, base.__module__
            return base, Tracked

        self.options_classes = tracking(sdk.PolicyResourceOptions)
        self.timeouts_classes = tracking(sdk.PolicyCustomTimeouts)
        self.provider_classes = tracking(sdk.PolicyProviderResource)
        self.Options, self.Timeouts, self.Provider = (self.options_classes[1], self.timeouts_classes[1],
                                                      self.provider_classes[1])

    @staticmethod
    def _tracked(classes, *args):
        base, tracked = classes
        o = base(*args)
        o.__class__ = tracked
        return o

    def options(self, v):
        """(options, timeouts) from `_Host._option_values`."""
        t = self._tracked(self.timeouts_classes, *v[4])
        return self._tracked(self.options_classes, v[0], v[1], v[2], v[3], t, v[5], v[6]), t

    def provider(self, resource_type, props, urn, name):
        return self._tracked(self.provider_classes, resource_type, props, urn, name)


class _ArgParts:
    """Per resource, the argument objects the next policy may reuse while nobody changed them."""
    __slots__ = ("source", "fresh", "tree", "props", "opts", "timeouts", "provider", "provider_tree")

    def __init__(self):
        self.source = self.tree = self.props = self.opts = self.timeouts = self.provider = self.provider_tree = None
        self.fresh = False


class _DeferredServer:
    """Stands for `grpc.server(...)` while a pack loads; the real server is made on first use."""

    def __init__(self, make, args, kwargs):
        self._policy_host_make = (make, args, kwargs)
        self._policy_host_server = None

    def __getattr__(self, name):
        if self._policy_host_server is None:
            make, args, kwargs = self._policy_host_make
            self._policy_host_server = make(*args, **kwargs)
        return getattr(self._policy_host_server, name)


class _Captured(BaseException):
    """Unwinds PolicyPack(...) once its servicer has been captured."""


class _NoCycleCollection:
    """Cyclic GC paused while many objects are built at once: with it running, building the
    SDK's objects for a large stack costs time that grows faster than the stack (full
    collections keep rescanning everything already built). Reference counting still frees."""

    def __enter__(self):
        import gc
        self.gc = gc
        self.was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.was:
            self.gc.enable()
        return False


_PLAIN_SCALARS = (str, float, int, bool, type(None))


def _holds_objects(value):
    """Whether deserialised properties hold anything but dicts, lists and scalars (Asset and Archive
    objects, which a policy could change and so must not share with the next one)."""
    if isinstance(value, dict):
        return any(_holds_objects(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_objects(v) for v in value)
    return not isinstance(value, _PLAIN_SCALARS)


def _blame(e, policy):
    """Records on an exception which policy's callback raised it."""
    try:
        if getattr(e, "_policy_host_policy", None) is None:
            e._policy_host_policy = policy
    except Exception:  # noqa: BLE001  (exceptions with __slots__)
        pass


def _type_name(e):
    try:
        return type(e).__name__
    except BaseException:  # noqa: BLE001
        return "BaseException"


def _encodable(text):
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _renderable(text):
    """`text` as valid Unicode: lone surrogates become backslash escapes."""
    if not isinstance(text, str):
        try:
            text = str(text)
        except BaseException:  # noqa: BLE001
            return "<unprintable>"
    return text if _encodable(text) else text.encode("utf-8", "backslashreplace").decode("utf-8")


class _UnrenderableResult(Exception):
    """A policy's result holds text the response cannot carry (not reached: encoding raises first)."""


class _Host:
    def __init__(self):
        self.servicer = None
        self.policies = []
        self.pack_name = ""
        self.pack_version = "0.0.1"
        self.stack_tags = {}
        self.sdk = None
        self.tracked = None

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
        self.stack_tags = dict(settings.get("tags") or {})

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
            raise _Captured()

        # PolicyPack(...) builds a gRPC server only to register the servicer on it, which is captured
        # instead: the server is made only if something actually uses it (saves gRPC core start-up).
        import grpc
        original_server = grpc.server
        analyzer_pb2_grpc.add_AnalyzerServicer_to_server = capture
        grpc.server = lambda *args, **kwargs: _DeferredServer(original_server, args, kwargs)
        try:
            runpy.run_path(pack_dir, run_name="__main__")
        except _Captured:
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
        self.lazy = _LazyProxies(proxy_module)
        try:
            self.tracked = _TrackedClasses(sdk)
        except Exception:  # noqa: BLE001  (an SDK whose classes cannot be subclassed: build per policy)
            self.tracked = None
        self.NotApplicable = sdk._NotApplicableError
        params = inspect.signature(sdk.ResourceValidationArgs.__init__).parameters
        self.args_take_tags = "stack_tags" in params
        stack_params = inspect.signature(sdk.StackValidationArgs.__init__).parameters
        self.stack_args_take_tags = "stack_tags" in stack_params
        if hasattr(servicer, "ConfigureStack"):
            from pulumi.runtime import proto
            servicer.ConfigureStack(proto.AnalyzerStackConfigureRequest(tags=self.stack_tags), None)

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

    # ---------------------------------------------------------------- helpers

    def _severity(self, severity):
        return int(self.servicer._map_severity(severity))

    def _violation_fields(self, policy, level):
        """What each violation of `policy` at `level` carries besides its message and URN."""
        return (policy.name, policy.description, int(self.servicer._map_enforcement_level(level)),
                self._severity(policy.severity))

    @staticmethod
    def _reporter(diagnostics, fields):
        """A fresh `report_violation` for one policy call, as the SDK's `_create_report_violation`."""
        name, description, level_number, severity = fields

        def report_violation(message, urn=None):
            if message and not isinstance(message, str):
                raise TypeError("Expected message to be a string")
            if urn is not None and not isinstance(urn, str):
                raise TypeError("Expected urn to be a string")
            text = description
            if message:
                text += f"\n{message}"
            diagnostics.append({"policyName": name, "description": description, "message": text,
                                "enforcementLevel": level_number, "severity": severity, "urn": urn or ""})
        return report_violation

    def _unknown_diagnostic(self, policy, error):
        return {"policyName": policy.name, "description": policy.description,
                "message": (f"can't run policy '{policy.name}' from policy pack "
                            f"'{self.pack_name}@v{self.pack_version}' during preview: {error.message}"),
                "enforcementLevel": ADVISORY, "severity": 0, "urn": ""}

    def _validate(self, policy, args, report, diagnostics, not_applicable):
        """Runs one policy's validate as the servicer does: unknown values become the advisory
        note, not-applicable is recorded, anything else propagates with the policy named."""
        try:
            result = policy.validate(args, report)
            if result is not None:
                self._run(result)
        except self.UnknownValueError as e:
            diagnostics.append(self._unknown_diagnostic(policy, e))
        except self.NotApplicable as e:
            not_applicable.append({"policyName": policy.name, "reason": e.reason or ""})
        except BaseException as e:
            _blame(e, policy)
            raise

    def _resource_args(self, resource_type, props, urn, name, opts, provider, config):
        """`ResourceValidationArgs`, with the stack's tags where the installed SDK takes them."""
        if self.args_take_tags:
            return self.sdk.ResourceValidationArgs(resource_type, props, urn, name, opts, provider, config,
                                                   self.stack_tags)
        return self.sdk.ResourceValidationArgs(resource_type, props, urn, name, opts, provider, config)

    def _props_for(self, props, plain, parts):
        """The unknown-checking proxy over one request's properties for one policy.

        The SDK deserialises for every policy. Plain properties (no signature anywhere, as the host
        checked) would deserialise to an equal copy, so the proxy reads them directly; properties whose
        signatures are only secrets deserialise to plain data once; in both cases one tree in `parts`
        serves policy after policy while untouched. Properties holding assets or archives are
        deserialised for each policy, so that every policy gets objects of its own."""
        if not self.lazy.ok:
            return self.proxy(self.deserialize(props))
        if parts.source is None:
            if plain:
                parts.source = props
            else:
                deserialized = self.deserialize(props)
                if _holds_objects(deserialized):
                    parts.source, parts.fresh = props, True
                    return self.lazy.build(deserialized)[1]
                parts.source = deserialized
        if parts.fresh:
            return self.lazy.build(self.deserialize(props))[1]
        if parts.tree is None or parts.tree.dirty:
            parts.tree, parts.props = self.lazy.build(parts.source)
        return parts.props

    def _opts_for(self, option_values, parts):
        """The options object for one policy: the one in `parts` while unchanged, else a fresh one."""
        if self.tracked is None:
            return self._options_from(option_values)
        tracked = self.tracked
        if (parts.opts is None or type(parts.opts) is not tracked.Options
                or type(parts.timeouts) is not tracked.Timeouts):
            parts.opts, parts.timeouts = self.tracked.options(option_values)
        return parts.opts

    def _provider_for(self, ref, parts):
        """The provider object for one policy: the one in `parts` while unchanged, else a fresh one."""
        if ref is None:
            return None
        if self.tracked is None or not self.lazy.ok:
            return self._provider(ref)
        p = parts.provider
        if p is None or type(p) is not self.tracked.Provider or parts.provider_tree.dirty:
            info, deserialized = self._provider_source(ref)
            if _holds_objects(deserialized):  # asset objects of its own for every policy, as in the SDK
                return self._provider(ref)
            parts.provider_tree, props = self.lazy.build(deserialized)
            p = parts.provider = self.tracked.provider(info.get("type", ""), props, info.get("urn", ""),
                                                       info.get("name", ""))
        return p


    @staticmethod
    def _run(result):
        if inspect.isawaitable(result):
            loop = asyncio.new_event_loop()
            try:
                task = asyncio.Task(result, loop=loop)
                return loop.run_until_complete(task)
            finally:
                loop.close()
        return result

    @staticmethod
    def _option_values(o):
        """The arguments of `PolicyResourceOptions` for one request's options. Its three lists stand for
        the request's repeated fields, which the SDK hands to every policy of the call as they are (a
        policy appending to `args.opts.ignore_changes` changes them for the policies after it)."""
        if o is None:
            o = {}
        t = o.get("customTimeouts")
        timeouts = (t.get("create", 0.0), t.get("update", 0.0), t.get("delete", 0.0)) if t is not None else (0, 0, 0)
        dbr = o.get("deleteBeforeReplace") if o.get("deleteBeforeReplaceDefined") else None
        return (bool(o.get("protect", False)), list(o.get("ignoreChanges") or []), dbr, list(o.get("aliases") or []),
                timeouts, list(o.get("additionalSecretOutputs") or []), o.get("parent") or None)

    def _options_from(self, v):
        """A fresh `PolicyResourceOptions` and `PolicyCustomTimeouts` over the request's lists, as the
        SDK's `_get_resource_options` makes for each policy."""
        sdk = self.sdk
        return sdk.PolicyResourceOptions(v[0], v[1], v[2], v[3], sdk.PolicyCustomTimeouts(*v[4]), v[5], v[6])

    def _options(self, o):
        return self._options_from(self._option_values(o))

    def _set_providers(self, providers):
        """The run's providers, each with its inputs deserialised once."""
        self._providers = [(p, self.deserialize(p.get("properties") or {})) for p in providers]

    def _provider_source(self, ref):
        """(provider request, deserialised properties) for an index into the run's providers, or for a
        provider a single RPC carries inline."""
        if isinstance(ref, dict):
            return ref, self.deserialize(ref.get("properties") or {})
        return self._providers[ref]

    def _provider(self, ref):
        """A fresh `PolicyProviderResource`, as the SDK's `_get_provider_resource`."""
        if ref is None:
            return None
        p = ref if isinstance(ref, dict) else self._providers[ref][0]
        deserialized = self.deserialize(p.get("properties") or {})
        props = self.lazy.build(deserialized)[1] if self.lazy.ok else self.proxy(deserialized)
        return self.sdk.PolicyProviderResource(p.get("type", ""), props, p.get("urn", ""), p.get("name", ""))

    @staticmethod
    def _error(policy, phase, e):
        """A failed call, rendered whatever the exception is: a `__str__` that raises or text that
        is not valid Unicode (lone surrogates) still gives the type and what can be shown."""
        try:
            message = str(e)
        except BaseException:  # noqa: BLE001
            message = f"<unprintable {_type_name(e)} object>"
        try:
            tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
        except BaseException:  # noqa: BLE001
            tb = ""
        return {"policyName": _renderable(policy.name) if policy is not None else "", "phase": phase,
                "type": _renderable(_type_name(e)), "message": _renderable(message), "traceback": _renderable(tb)}

    def _ensure_renderable(self, entries, keys, not_applicable):
        """Fails the call, as the SDK's server does when it cannot encode its response, when a
        result holds text that is not valid Unicode; the error names the policy."""
        bad = self._unrenderable(entries, keys) or self._unrenderable(not_applicable, ("reason",))
        if bad is None:
            return
        entry, key = bad
        try:
            entry[key].encode("utf-8")
            e = _UnrenderableResult(f"the {key} of a result is not valid UTF-8 text")
        except UnicodeEncodeError as error:  # what the SDK's server raises when it encodes the response
            e = error
        name = entry.get("policyName")
        e._policy_host_policy = next((p for p in self.policies if p.name == name), None)
        raise e

    @staticmethod
    def _unrenderable(entries, keys):
        """The first entry (a dict) with a value under `keys` that the host cannot take: a string
        that is not valid Unicode. The SDK's server fails such a call when it encodes the response."""
        for entry in entries:
            for key in keys:
                value = entry.get(key)
                if isinstance(value, str) and not _encodable(value):
                    return entry, key
        return None

    # --------------------------------------------------------------- Remediate

    def remediate(self, r):
        """One Remediate call, as `_PolicyAnalyzerServicer.Remediate`; properties keep `__` keys."""
        from google.protobuf import json_format, struct_pb2
        sdk = self.sdk
        remediations, not_applicable = [], []
        props = self.proxy(self.deserialize(r["properties"], True))
        opts = self._options(r.get("options"))
        provider = self._provider(r.get("provider"))
        final = None
        for policy in self.policies:
            if self._level(policy) != sdk.EnforcementLevel.REMEDIATE or \
                    not isinstance(policy, sdk.ResourceValidationPolicy):
                continue
            if not policy.has_remediation():
                not_applicable.append({"policyName": policy.name, "reason": "Policy does not implement remediate"})
                continue
            args = self._resource_args(r["type"], props, r["urn"], r["name"], opts, provider, self._config(policy))
            rpc_props, diagnostic = None, None
            try:
                new_props = self._run(policy.remediate(args))
                if new_props:
                    props = new_props
                    serialized = self.serialize(new_props)
                    struct = struct_pb2.Struct()
                    for k, v in serialized.items():
                        struct[k] = v
                    rpc_props = json_format.MessageToDict(struct)
            except self.UnknownValueError as e:
                diagnostic = (f"can't run remediation '{policy.name}' from policy pack "
                              f"'{self.pack_name}@v{self.pack_version}' during preview: {e.message}")
            except self.NotApplicable as e:
                not_applicable.append({"policyName": policy.name, "reason": e.reason or ""})
            except BaseException as e:
                _blame(e, policy)
                raise
            if rpc_props or diagnostic:
                remediations.append({"policyName": policy.name, "description": policy.description,
                                     "properties": rpc_props, "diagnostic": diagnostic or ""})
                if rpc_props:
                    final = rpc_props
        return remediations, not_applicable, final

    # ----------------------------------------------------------------- Analyze

    def analyze_plan(self):
        """What Analyze does with each policy, worked out once per batch: levels and config come from
        Configure and the pack, which do not change between resources. Per applicable resource policy
        in pack order: (policy, None, _) for "does not implement validate", else (policy, violation
        fields, whether it has config)."""
        sdk = self.sdk
        plan = []
        for policy in self.policies:
            level = self._level(policy)
            if level == sdk.EnforcementLevel.DISABLED or not isinstance(policy, sdk.ResourceValidationPolicy):
                continue
            if not policy.has_validation():
                plan.append((policy, None, False))
                continue
            if level == sdk.EnforcementLevel.REMEDIATE:
                level = sdk.EnforcementLevel.MANDATORY
            plan.append((policy, self._violation_fields(policy, level), self._config(policy) is not None))
        return plan

    def analyze(self, r, props_wire, plan=None, plain=False):
        """One Analyze call, as `_PolicyAnalyzerServicer.Analyze`: each policy gets its own
        `report_violation`, args and config copy; properties, options and provider objects are built
        on the first policy that runs and handed on while no policy changed them."""
        if plan is None:
            plan = self.analyze_plan()
        diagnostics, not_applicable = [], []
        parts = None
        get_config, reporter, resource_args = self.servicer._get_policy_config, self._reporter, self._resource_args
        for policy, fields, has_config in plan:
            if fields is None:
                not_applicable.append({"policyName": policy.name, "reason": "Policy does not implement validate"})
                continue
            report = reporter(diagnostics, fields)
            if parts is None:
                parts = _ArgParts()
                option_values = self._option_values(r.get("options"))
                provider_ref = r.get("provider")
                rtype, urn, name = r["type"], r["urn"], r["name"]
            # What the SDK builds per policy: reused only while no policy changed it.
            props = self._props_for(props_wire, plain, parts)
            opts = self._opts_for(option_values, parts)
            provider = self._provider_for(provider_ref, parts)
            config = get_config(policy.name) if has_config else None
            args = resource_args(rtype, props, urn, name, opts, provider, config)
            self._validate(policy, args, report, diagnostics, not_applicable)
        return diagnostics, not_applicable

    def run_resources(self, resources, providers, apply_remediations):
        """Remediate then Analyze for each resource, as the engine does per resource step.

        `properties` carry the top-level `__` keys that Remediate sees; Analyze gets them dropped,
        as the engine marshals with SkipInternalKeys for Analyze only."""
        with _NoCycleCollection():
            return self._run_resources(resources, providers, apply_remediations)

    def _run_resources(self, resources, providers, apply_remediations):
        self._configure_runtime()
        self._set_providers(providers)
        sdk = self.sdk
        # With no policy at REMEDIATE level the SDK's Remediate loop skips every policy and
        # returns an empty response, so the call is skipped entirely.
        any_remediation = any(self._level(p) == sdk.EnforcementLevel.REMEDIATE and
                              isinstance(p, sdk.ResourceValidationPolicy) for p in self.policies)
        plan = self.analyze_plan()
        out = []
        for r in resources:
            result = {"remediations": [], "diagnostics": [], "notApplicable": [], "errors": []}
            props = r["properties"]
            analyze_props = props
            plain = r.get("plain") is True
            for k in props:
                if k.startswith("__"):
                    analyze_props = {k: v for k, v in props.items() if not k.startswith("__")}
                    break
            if any_remediation:
                try:
                    remediations, na, final = self.remediate(r)
                    self._ensure_renderable(remediations, ("diagnostic", "description"), na)
                    result["remediations"] = remediations
                    result["notApplicable"].extend(na)
                    if apply_remediations and final is not None:
                        analyze_props = {k: v for k, v in final.items() if not k.startswith("__")}
                        plain = False
                except BaseException as e:  # noqa: BLE001  (SystemExit, KeyboardInterrupt too: they fail this call only)
                    result["errors"].append(self._error(getattr(e, "_policy_host_policy", None), "remediate", e))
            try:
                diagnostics, na = self.analyze(r, analyze_props, plan, plain)
                self._ensure_renderable(diagnostics, ("message", "description", "urn"), na)
                result["diagnostics"] = diagnostics
                result["notApplicable"].extend(na)
            except BaseException as e:  # noqa: BLE001
                result["errors"].append(self._error(getattr(e, "_policy_host_policy", None), "analyze", e))
            out.append(result)
        return out

    # ------------------------------------------------------------ AnalyzeStack

    def stack_begin(self, providers):
        """Starts an AnalyzeStack whose resources arrive in chunks (`stack_add`), so that the
        host can free its own copy of each chunk as soon as it has been handed over."""
        self._set_providers(providers)
        self._stack_chunks = []

    def _has_stack_policies(self):
        sdk = self.sdk
        return any(isinstance(p, sdk.StackValidationPolicy) and self._level(p) != sdk.EnforcementLevel.DISABLED
                   for p in self.policies)

    def stack_add(self, resources, prepend):
        if not self._has_stack_policies():
            return  # AnalyzeStack will not look at them
        with _NoCycleCollection():
            chunk = self._prepare_stack(resources)
        if prepend:
            self._stack_chunks.insert(0, chunk)
        else:
            self._stack_chunks.append(chunk)

    def stack_run(self):
        prepared = [e for chunk in self._stack_chunks for e in chunk]
        self._stack_chunks = []
        with _NoCycleCollection():
            return self._analyze_stack_prepared(prepared)

    def _prepare_stack(self, resources):
        out = []
        for r in resources:
            props = r.pop("properties", None) or {}
            out.append((r, props, r.get("plain") is True, self._option_values(r.get("options")), r.get("provider"),
                        _ArgParts()))
        return out

    def _analyze_stack_prepared(self, prepared):
        """A policy that raises is recorded in `errors` and, as in the SDK, nothing else from the
        call is returned."""
        self._configure_runtime()
        try:
            result = self.analyze_stack_raising(prepared)
            self._ensure_renderable(result["diagnostics"], ("message", "description", "urn"), result["notApplicable"])
            return result
        except BaseException as e:  # noqa: BLE001
            return {"diagnostics": [], "notApplicable": [],
                    "errors": [self._error(getattr(e, "_policy_host_policy", None), "analyzeStack", e)]}

    def analyze_stack_raising(self, prepared):
        """`prepared`: (request, properties, plain, option values, provider, `_ArgParts`) per resource."""
        sdk = self.sdk
        diagnostics, not_applicable, errors = [], [], []
        stack_policies = []
        for policy in self.policies:
            level = self._level(policy)
            if level == sdk.EnforcementLevel.DISABLED or not isinstance(policy, sdk.StackValidationPolicy):
                continue
            stack_policies.append((policy, level))
        if not stack_policies:
            return {"diagnostics": diagnostics, "notApplicable": not_applicable, "errors": errors}

        for policy, level in stack_policies:
            if level == sdk.EnforcementLevel.REMEDIATE:
                level = sdk.EnforcementLevel.MANDATORY
            report = self._reporter(diagnostics, self._violation_fields(policy, level))
            by_urn, items = {}, []
            for entry in prepared:
                r, props, plain, option_values, provider, parts = entry
                res = sdk.PolicyResource(r["type"], self._props_for(props, plain, parts), r["urn"], r["name"],
                                         self._opts_for(option_values, parts), self._provider_for(provider, parts),
                                         None, [], {})
                items.append((res, r))
                by_urn[res.urn] = res
            for res, r in items:
                parent = r.get("parent")
                if parent is not None and parent in by_urn:
                    res.parent = by_urn[parent]
                for d in r.get("dependencies") or []:
                    if d in by_urn:
                        res.dependencies.append(by_urn[d])
                for k, urns in (r.get("propertyDependencies") or {}).items():
                    res.property_dependencies[k] = [by_urn[d] for d in urns if d in by_urn]
            resources_list = [res for res, _ in items]
            config = self._config(policy)
            if self.stack_args_take_tags:
                args = sdk.StackValidationArgs(resources_list, config, self.stack_tags)
            else:
                args = sdk.StackValidationArgs(resources_list, config)
            self._validate(policy, args, report, diagnostics, not_applicable)
        return {"diagnostics": diagnostics, "notApplicable": not_applicable, "errors": errors}


    # ------------------------------------------------------ single RPCs (serve)

    def configure_stack(self, settings):
        """ConfigureStack after load: new environment for later RPCs, and the tags for the SDK."""
        self.prepare_environment(settings)
        if hasattr(self.servicer, "ConfigureStack"):
            from pulumi.runtime import proto
            self.servicer.ConfigureStack(proto.AnalyzerStackConfigureRequest(tags=self.stack_tags), None)

    def analyzer_info_bytes(self):
        """The SDK's own GetAnalyzerInfo response, serialised, so that serve answers byte for byte."""
        import base64
        from google.protobuf import empty_pb2
        return base64.b64encode(self.servicer.GetAnalyzerInfo(empty_pb2.Empty(), None).SerializeToString()).decode()

    def plugin_version(self):
        import pulumi_policy.version as version
        return version.VERSION

    def rpc_remediate(self, r):
        self._configure_runtime()
        remediations, not_applicable, _ = self.remediate(r)
        return {"remediations": remediations, "notApplicable": not_applicable}

    def rpc_analyze(self, r):
        self._configure_runtime()
        diagnostics, not_applicable = self.analyze(r, r["properties"])
        return {"diagnostics": diagnostics, "notApplicable": not_applicable}

    def rpc_analyze_stack(self, resources):
        """AnalyzeStack for serve: a policy that raises fails the call, as in the SDK."""
        self._configure_runtime()
        self._providers = []
        with _NoCycleCollection():
            return self.analyze_stack_raising(self._prepare_stack(resources))


host = _Host()
