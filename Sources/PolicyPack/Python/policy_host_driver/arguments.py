"""The arguments of a policy call: `ResourceValidationArgs` and its parts."""
from .options import option_values
from .proxies import holds_objects


class ResourceArguments:
    """Host part: the arguments a policy gets (properties proxy, options, provider), built as the SDK
    builds them and reused from policy to policy only while no policy changed them."""

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
        deserialised for each policy, so that every policy gets objects of its own. Every dict reaches
        the policy in the order the SDK's `MessageToDict` would give it: the lazy proxies copy each
        container in that order when they wrap it (`ordering`), the SDK's own proxies get it ordered."""
        if parts.source is None:
            if not self.lazy.ok:
                parts.source, parts.fresh = self._ordered(props), True
            elif plain:
                parts.source = props
            else:
                deserialized = self.deserialize(props)
                if holds_objects(deserialized):
                    parts.source, parts.fresh = props, True
                    return self.lazy.build(deserialized)[1]
                parts.source = deserialized
        if parts.fresh:
            if not self.lazy.ok:
                return self.proxy(self.deserialize(parts.source))
            return self.lazy.build(self.deserialize(parts.source))[1]
        if parts.tree is None or parts.tree.dirty:
            parts.tree, parts.props = self.lazy.build(parts.source)
        return parts.props

    def _opts_for(self, option_values, parts):
        """The options object for one policy: the one in `parts` while unchanged, else a fresh one."""
        if self.tracked is None:
            return self._options_from(option_values)
        if parts.opts is None or parts.opts_tree.dirty:
            parts.opts, parts.opts_tree = self.tracked.options(option_values)
        return parts.opts

    def _provider_for(self, ref, parts):
        """The provider object for one policy: the one in `parts` while unchanged, else a fresh one."""
        if ref is None:
            return None
        if self.tracked is None or not self.lazy.ok:
            return self._provider(ref)
        p = parts.provider
        if p is None or parts.provider_tree.dirty:
            info, deserialized = self._provider_source(ref)
            if holds_objects(deserialized):  # asset objects of its own for every policy, as in the SDK
                return self._provider(ref)
            parts.provider_tree, props = self.lazy.build(deserialized)
            p = parts.provider = self.tracked.provider(info.get("type", ""), props, info.get("urn", ""),
                                                       info.get("name", ""), parts.provider_tree)
        return p

    def _option_values(self, o):
        return option_values(o, self.options_message)

    def _options_from(self, v):
        """A fresh `PolicyResourceOptions` and `PolicyCustomTimeouts` over the request's lists, as the
        SDK's `_get_resource_options` makes for each policy."""
        sdk = self.sdk
        return sdk.PolicyResourceOptions(v[0], v[1], v[2], v[3], sdk.PolicyCustomTimeouts(*v[4]), v[5], v[6])

    def _options(self, o):
        return self._options_from(self._option_values(o))

    def _ordered(self, value):
        """`value` with every dict in the order the SDK's `MessageToDict` gives it (`ordering`)."""
        return value if self.order is None else self.order.ordered(value)

    def _provider_properties(self, p):
        return self.deserialize(self._ordered(p.get("properties") or {}))

    def _set_providers(self, providers):
        """The run's providers, each with its inputs deserialised once."""
        self._providers = [(p, self._provider_properties(p)) for p in providers]

    def _provider_source(self, ref):
        """(provider request, deserialised properties) for an index into the run's providers, or for a
        provider a single RPC carries inline."""
        if isinstance(ref, dict):
            return ref, self._provider_properties(ref)
        return self._providers[ref]

    def _provider(self, ref):
        """A fresh `PolicyProviderResource`, as the SDK's `_get_provider_resource`."""
        if ref is None:
            return None
        p = ref if isinstance(ref, dict) else self._providers[ref][0]
        deserialized = self._provider_properties(p)
        props = self.lazy.build(deserialized)[1] if self.lazy.ok else self.proxy(deserialized)
        return self.sdk.PolicyProviderResource(p.get("type", ""), props, p.get("urn", ""), p.get("name", ""))
