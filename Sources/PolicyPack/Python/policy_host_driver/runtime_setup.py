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
"""
import contextvars
import operator
import os
import sys
import threading


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

    def __init__(self, environ, config_var, settings):
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

    def unchanged(self):
        """True when a run of the set-up now would install exactly what is there."""
        try:
            if self.environ_data != self.environ:
                return False
            config = self.config_var.get()
            if config is not self.config or config != self.config_copy or vars(self.settings) != self.attributes:
                return False
            if not all(map(operator.is_, map(_get, self.variables), self.values)):
                return False
        except LookupError:
            return False
        if any(self.containers) or any(map(_locked, self.locks)):
            return False
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

    def __call__(self):
        configure = getattr(self.servicer, "_configure_runtime_settings", None)
        if configure is None:
            return
        parts = self._runtime_parts(configure)
        state = self._state
        if state is not None and parts is not None and all(map(operator.is_, parts, self._parts)) \
                and state.unchanged():
            return
        self._state = None
        configure()
        self._parts = parts
        if parts is None:
            return
        try:
            self._state = _State(parts[0], parts[1], parts[2])
        except _Unknown:
            self._state = None

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
