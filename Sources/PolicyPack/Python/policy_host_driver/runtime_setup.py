"""The SDK's per-call runtime set-up, run only when it could change something.

Before every Analyze, AnalyzeStack and Remediate the SDK's servicer calls
`_configure_runtime_settings`: it parses `PULUMI_CONFIG` into the runtime's config, builds a fresh
`pulumi.runtime.Settings` from the environment and installs its values. Between two calls in which
nothing touched the environment, the config or the settings, a second run installs what is already
there; in `serve` it is the largest piece of the Python side of an Analyze (about 10 µs warm, 25 µs
of a call's CPU as a server sees it). `RuntimeSetUp` runs it, records what the run left, and before
the next call compares: the whole environment, the config dict (same object, same entries) and every
value the settings hold (the same objects; the containers a fresh `Settings` makes still empty, its
lock free, its RPC manager as it was made). Anything else, or anything it cannot check (a type it
does not know, a pulumi without the parts it reads), and the set-up runs as in the SDK.

Inside policy-host's interpreter the comparison of contents is a comparison of version tags
(`policy_host_native`, PEP 509: CPython 3.11 gives a dict a new tag whenever it changes): the
environment, the config dict, the settings' attributes, the module and class namespaces the set-up's
parts are looked up in, and so on are each one tag, not every entry — after each wait for the engine
those entries are cold in the cache, and touching them all was the largest part of the check.
Without the module (the driver's own tests run both ways) the contents are compared.
"""
import contextvars
import operator
import os
import sys
import threading
import types

try:
    import policy_host_native as NATIVE
except ImportError:  # outside policy-host's interpreter
    NATIVE = None


class _Unknown(Exception):
    """A value whose changes cannot be checked cheaply: the set-up always runs."""


def _plain_kind(value):
    """How a settings value is compared with its recorded self."""
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return "same"
    if isinstance(value, (set, dict, list)) and not value:
        return "empty"
    if isinstance(value, type(threading.Lock())):
        return "lock"
    fields = getattr(value, "__dict__", None)
    if type(fields) is dict and all(_plain_kind(v) in ("same", "empty") for v in fields.values()):
        return "fields"
    raise _Unknown


class _State:
    """What one run of the set-up left behind."""

    def __init__(self, environ, config_var, settings, watched=None):
        self.environ_data = environ
        self.environ = dict(environ)
        self.config_var = config_var
        self.config = _value(config_var)
        if type(self.config) is not dict or not all(type(v) is str for v in self.config.values()):
            raise _Unknown
        self.config_copy = dict(self.config)
        self.settings = settings
        self.attributes = dict(vars(settings))
        if not all(_plain_kind(value) == "same" for value in self.attributes.values()):
            raise _Unknown
        self.variables = tuple(_context_vars(type(settings)))
        self.values = tuple(_value(var) for var in self.variables)
        kinds = [_plain_kind(value) for value in self.values]
        self.containers = tuple(v for v, k in zip(self.values, kinds) if k == "empty")
        self.locks = tuple(v for v, k in zip(self.values, kinds) if k == "lock")
        self.objects = tuple((v, dict(vars(v))) for v, k in zip(self.values, kinds) if k == "fields")
        # With version tags: the dicts whose contents are compared, then those the set-up's parts are
        # looked up in (`watched`, from `RuntimeSetUp`), each as one tag; the containers held in the
        # fields of objects can change without a tag and are checked to be empty.
        self.watched = None
        if watched is not None:
            self.watched = (environ, self.config, vars(settings), *(vars(v) for v, _ in self.objects),
                            *type(settings).__mro__, *watched)
            self.versions = NATIVE.dict_versions(self.watched)
            self.nested = tuple(c for v, _ in self.objects for c in vars(v).values() if isinstance(c, (set, dict, list)))

    def unchanged(self):
        """True when a run of the set-up now would install exactly what is there."""
        try:
            if self.watched is None:
                if self.environ_data != self.environ:
                    return False
                config = self.config_var.get()
                if config is not self.config or config != self.config_copy or vars(self.settings) != self.attributes:
                    return False
            elif self.config_var.get() is not self.config or not NATIVE.same_dict_versions(self.watched, self.versions):
                return False
            if not all(map(operator.is_, map(_get, self.variables), self.values)):
                return False
        except LookupError:
            return False
        if any(self.containers) or any(map(_locked, self.locks)):
            return False
        if self.watched is not None:
            return not any(self.nested)
        for value, fields in self.objects:
            now = vars(value)
            if now != fields or any(v for v in now.values() if isinstance(v, (set, dict, list))):
                return False
        return True


_UNSET = object()
_get = contextvars.ContextVar.get
_locked = type(threading.Lock()).locked


def _value(var):
    """A ContextVar's value as code reading it sees it: its own default when unset (`get(None)`
    would hide that default), `_UNSET` when it has none."""
    try:
        return var.get()
    except LookupError:
        return _UNSET


def _context_vars(cls):
    """The ContextVars behind a class's context properties (pulumi's `contextproperty`)."""
    found = []
    for klass in cls.__mro__:
        for attribute in vars(klass).values():
            var = getattr(attribute, "_data", None) if not isinstance(attribute, (staticmethod, classmethod)) else None
            if isinstance(var, contextvars.ContextVar):
                found.append(var)
    return found


class RuntimeSetUp:
    """`servicer._configure_runtime_settings`, skipped while a run would install what is there."""

    def __init__(self, servicer):
        self.servicer = servicer
        self._state = None
        self._parts = None
        self._servicer_type = None

    def __call__(self):
        state = self._state
        if state is not None and state.watched is not None and type(self.servicer) is self._servicer_type \
                and state.unchanged():
            return  # the tags cover the parts too (`_watched_namespaces`)
        configure = getattr(self.servicer, "_configure_runtime_settings", None)
        if configure is None:
            return
        parts = self._runtime_parts(configure)
        if state is not None and state.watched is None and parts is not None \
                and all(map(operator.is_, parts, self._parts)) and state.unchanged():
            return
        self._state = None
        configure()
        self._parts = parts
        if parts is None:
            return
        try:
            self._servicer_type = type(self.servicer)
            self._state = _State(parts[0], parts[1], parts[2], self._watched_namespaces(parts))
        except _Unknown:
            self._state = None

    def _watched_namespaces(self, parts):
        """With version tags: the namespaces `_runtime_parts` looks its objects up in — `sys.modules`,
        the modules', `os.environ`'s, the servicer's and its classes' — so that, while none of them
        changed, the parts are the same objects without looking them up. None without tags, or when a
        module is not a plain module or a servicer class has an attribute lookup of its own (their
        namespaces do not decide what a lookup gives): then the contents and the parts are compared."""
        if NATIVE is None:
            return None
        servicer = self.servicer
        modules = [sys.modules.get(name) for name in ("pulumi.runtime.settings", "pulumi.runtime.config", "pulumi.runtime")]
        modules.append(sys.modules.get(getattr(parts[3], "__module__", None) or ""))
        modules.append(os)
        if any(type(m) is not types.ModuleType for m in modules):
            return None
        classes = type(servicer).__mro__
        if any("__getattribute__" in vars(c) or "__getattr__" in vars(c) for c in classes if c is not object):
            return None
        try:
            own = (vars(servicer), vars(os.environ))
        except TypeError:  # no __dict__
            return None
        return (sys.modules, *(vars(m) for m in modules), *own, *classes)

    @staticmethod
    def _runtime_parts(configure):
        """The objects the set-up reads and writes, compared by identity: a pack that replaces one of
        them (or the set-up itself) gets a fresh run."""
        settings_module = sys.modules.get("pulumi.runtime.settings")
        config_module = sys.modules.get("pulumi.runtime.config")
        runtime = sys.modules.get("pulumi.runtime")
        environ = getattr(os.environ, "_data", None)
        config_var = getattr(config_module, "CONFIG", None)
        settings = getattr(settings_module, "SETTINGS", None)
        if type(environ) is not dict or not isinstance(config_var, contextvars.ContextVar) or settings is None \
                or runtime is None:
            return None
        policy_module = sys.modules.get(getattr(getattr(configure, "__func__", None), "__module__", None) or "")
        return (environ, config_var, settings, getattr(configure, "__func__", None),
                getattr(runtime, "Settings", None), getattr(runtime, "configure", None),
                getattr(runtime, "get_config_env", None), getattr(runtime, "set_config", None),
                getattr(policy_module, "signature", None), getattr(policy_module, "pulumi", None))
