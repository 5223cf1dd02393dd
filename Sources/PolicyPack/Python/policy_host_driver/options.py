"""Resource options and provider objects: the SDK's classes, tracked so that an unchanged one can be
handed from policy to policy, and the per-resource cache of argument objects."""


class TrackedClasses:
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
        """(options, timeouts) from `option_values`."""
        t = self._tracked(self.timeouts_classes, *v[4])
        return self._tracked(self.options_classes, v[0], v[1], v[2], v[3], t, v[5], v[6]), t

    def provider(self, resource_type, props, urn, name):
        return self._tracked(self.provider_classes, resource_type, props, urn, name)


class ArgParts:
    """Per resource, the argument objects the next policy may reuse while nobody changed them."""
    __slots__ = ("source", "fresh", "tree", "props", "opts", "timeouts", "provider", "provider_tree")

    def __init__(self):
        self.source = self.tree = self.props = self.opts = self.timeouts = self.provider = self.provider_tree = None
        self.fresh = False


def option_values(o):
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
