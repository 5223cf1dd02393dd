"""Resource options and provider objects: the SDK's classes, tracked so that an unchanged one can be
handed from policy to policy, and the per-resource cache of argument objects."""
from .tracking import REGISTRY, Tree, watch_attributes


class TrackedClasses:
    """Options and provider objects of the SDK's own classes (`PolicyResourceOptions`,
    `PolicyCustomTimeouts`, `PolicyProviderResource`), registered so that a change to one is seen
    (`tracking`). The SDK builds these objects afresh for every policy; one is handed to the next
    policy only while its tree is clean, i.e. no policy changed it, which no policy can tell from a
    fresh one."""

    def __init__(self, sdk):
        self.sdk = sdk
        for cls in (sdk.PolicyResourceOptions, sdk.PolicyCustomTimeouts, sdk.PolicyProviderResource):
            watch_attributes(cls)

    def options(self, v):
        """(options, tree) from `option_values`: the options and their timeouts share one tree."""
        sdk, tree = self.sdk, Tree()
        t = REGISTRY.add(sdk.PolicyCustomTimeouts(*v[4]), tree)
        return REGISTRY.add(sdk.PolicyResourceOptions(v[0], v[1], v[2], v[3], t, v[5], v[6]), tree), tree

    def provider(self, resource_type, props, urn, name, tree):
        """A provider object in `tree`, the tree of its properties proxy."""
        return REGISTRY.add(self.sdk.PolicyProviderResource(resource_type, props, urn, name), tree)


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
            m = message(protect=bool(o.get("protect", False)), ignoreChanges=o.get("ignoreChanges") or (),
                        deleteBeforeReplace=bool(o.get("deleteBeforeReplace", False)),
                        deleteBeforeReplaceDefined=bool(o.get("deleteBeforeReplaceDefined", False)),
                        additionalSecretOutputs=o.get("additionalSecretOutputs") or (),
                        aliases=o.get("aliases") or (), parent=o.get("parent") or "")
            if t is not None:
                m.customTimeouts.create = t.get("create", 0.0)
                m.customTimeouts.update = t.get("update", 0.0)
                m.customTimeouts.delete = t.get("delete", 0.0)
        except (TypeError, ValueError):  # not what the engine could send: plain lists below
            pass
        else:
            c = m.customTimeouts
            timeouts = (c.create, c.update, c.delete) if m.HasField("customTimeouts") else (0, 0, 0)
            dbr = m.deleteBeforeReplace if m.deleteBeforeReplaceDefined else None
            return (m.protect, m.ignoreChanges, dbr, m.aliases, timeouts, m.additionalSecretOutputs, m.parent or None)
    timeouts = (t.get("create", 0.0), t.get("update", 0.0), t.get("delete", 0.0)) if t is not None else (0, 0, 0)
    dbr = o.get("deleteBeforeReplace") if o.get("deleteBeforeReplaceDefined") else None
    return (bool(o.get("protect", False)), list(o.get("ignoreChanges") or []), dbr, list(o.get("aliases") or []),
            timeouts, list(o.get("additionalSecretOutputs") or []), o.get("parent") or None)
