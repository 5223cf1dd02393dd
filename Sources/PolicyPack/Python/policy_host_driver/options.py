"""Resource options and provider objects: the SDK's classes, tracked so that an unchanged one can be
handed from policy to policy, and the per-resource cache of argument objects."""
from .tracking import REGISTRY, Tree, watch_attributes


def assigning_constructor(cls, arity):
    """`cls(*args)` without running `cls.__init__`, when that is proven to do nothing but assign its
    `arity` arguments to attributes (the same attributes, in the same order, so `vars()` is the
    same); else `cls` itself. The wrapped `__setattr__` (`tracking`) makes every assignment in an
    `__init__` a Python call, which is most of what building these small objects costs."""
    try:
        if cls.__new__ is not object.__new__:
            return cls
        sentinels = [object() for _ in range(arity)]
        probe = cls(*sentinels)
        state = vars(probe)
        position = {id(v): i for i, v in enumerate(sentinels)}
        names = tuple(state)
        order = tuple(position[id(v)] for v in state.values())
        if len(set(order)) != arity or type(probe) is not cls:
            return cls
    except Exception:  # noqa: BLE001  (an __init__ that computes: use it)
        return cls
    new = object.__new__
    if order == tuple(range(arity)):
        def make(*args):
            o = new(cls)
            o.__dict__.update(zip(names, args))
            return o
    else:
        def make(*args):
            o = new(cls)
            o.__dict__.update(zip(names, [args[i] for i in order]))
            return o
    return make


class TrackedClasses:
    """Options and provider objects of the SDK's own classes (`PolicyResourceOptions`,
    `PolicyCustomTimeouts`, `PolicyProviderResource`), registered so that a change to one is seen
    (`tracking`). The SDK builds these objects afresh for every policy; one is handed to the next
    policy only while its tree is clean, i.e. no policy changed it, which no policy can tell from a
    fresh one."""

    def __init__(self, sdk):
        for cls in (sdk.PolicyResourceOptions, sdk.PolicyCustomTimeouts, sdk.PolicyProviderResource):
            watch_attributes(cls)
        self.make_options = assigning_constructor(sdk.PolicyResourceOptions, 7)
        self.make_timeouts = assigning_constructor(sdk.PolicyCustomTimeouts, 3)
        self.make_provider = assigning_constructor(sdk.PolicyProviderResource, 4)

    def options(self, v):
        """(options, tree) from `option_values`: the options and their timeouts share one tree."""
        tree = Tree()
        t = REGISTRY.add(self.make_timeouts(*v[4]), tree)
        return REGISTRY.add(self.make_options(v[0], v[1], v[2], v[3], t, v[5], v[6]), tree), tree

    def provider(self, resource_type, props, urn, name, tree):
        """A provider object in `tree`, the tree of its properties proxy."""
        return REGISTRY.add(self.make_provider(resource_type, props, urn, name), tree)


class ArgParts:
    """Per resource, the argument objects the next policy may reuse while nobody changed them."""
    __slots__ = ("source", "fresh", "tree", "props", "opts", "opts_tree", "provider", "provider_tree")

    def __init__(self):
        self.source = self.tree = self.props = self.opts = self.opts_tree = self.provider = self.provider_tree = None
        self.fresh = False


def option_values(o, message=None):
    """The arguments of `PolicyResourceOptions` for one request's options, as the SDK's
    `_get_resource_options` takes them from the request: with the pack's `AnalyzerResourceOptions`
    class as `message`, the three lists are that message's repeated fields (their type, their `repr`
    and `json.dumps` failing on them are the SDK's), shared by every policy of the call (a policy
    appending to `args.opts.ignore_changes` changes them for the policies after it, as in the SDK)."""
    if o is None:
        o = {}
    t = o.get("customTimeouts")
    if message is not None:
        try:
            m = message()
            lists = m.ignoreChanges, m.aliases, m.additionalSecretOutputs
            for field, key in zip(lists, ("ignoreChanges", "aliases", "additionalSecretOutputs")):
                values = o.get(key)
                if values:
                    field.extend(values)
            if t is not None:
                c = m.customTimeouts
                c.create, c.update, c.delete = t.get("create", 0.0), t.get("update", 0.0), t.get("delete", 0.0)
                timeouts = (c.create, c.update, c.delete)
            else:
                timeouts = (0, 0, 0)
            dbr = bool(o.get("deleteBeforeReplace", False)) if o.get("deleteBeforeReplaceDefined") else None
        except (TypeError, ValueError):  # not what the engine could send: plain lists below
            pass
        else:
            return (bool(o.get("protect", False)), lists[0], dbr, lists[1], timeouts, lists[2],
                    o.get("parent") or None)
    timeouts = (t.get("create", 0.0), t.get("update", 0.0), t.get("delete", 0.0)) if t is not None else (0, 0, 0)
    dbr = o.get("deleteBeforeReplace") if o.get("deleteBeforeReplaceDefined") else None
    return (bool(o.get("protect", False)), list(o.get("ignoreChanges") or []), dbr, list(o.get("aliases") or []),
            timeouts, list(o.get("additionalSecretOutputs") or []), o.get("parent") or None)
