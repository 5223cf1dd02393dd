"""Lazy unknown-checking proxies over a resource's properties (subclasses of the SDK's own
`_DictProxy`/`_ListProxy`), and the test for properties that hold objects a policy could change."""


class LazyProxies:
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


PLAIN_SCALARS = (str, float, int, bool, type(None))


def holds_objects(value):
    """Whether deserialised properties hold anything but dicts, lists and scalars (Asset and Archive
    objects, which a policy could change and so must not share with the next one)."""
    if isinstance(value, dict):
        return any(holds_objects(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_objects(v) for v in value)
    return not isinstance(value, PLAIN_SCALARS)
