"""Lazy unknown-checking proxies over a resource's properties (instances of the SDK's own
`_DictProxy`/`_ListProxy`), and the test for properties that hold objects a policy could change."""
from .tracking import REGISTRY, Tree, watch_attributes


class LazyProxies:
    """Unknown-checking proxies built on first access, shareable between policies while untouched.

    The SDK's `unknown_checking_proxy` copies the whole property tree into `_DictProxy`/`_ListProxy`
    nodes before a policy runs, once per policy. The nodes built here are instances of exactly those
    classes, with exactly their attributes, and answer every access as the SDK's nodes do (same values,
    same `UnknownValueError` paths, same errors); but a node holds a shallow copy of its container and
    wraps a child container only when it is first read, so a policy that looks at three keys pays for
    three nodes. Which nodes are still lazy is kept outside them (`tracking.REGISTRY`); the SDK's
    classes get `__getitem__`, `__setitem__`, `__reduce_ex__` and the attribute mutators wrapped once
    per process: for a registered node they wrap on first read, and anything that could expose a
    node's insides (`["__target"]`, an unusual key, `__setitem__`, copying or pickling) first completes
    the node exactly as the SDK would have built it. For every other node they are the originals.

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
        registry, get = REGISTRY, REGISTRY.get
        containers, new = (dict, list), object.__new__

        def wrap(value, acc, tree):
            """A lazy node over a child container (a shallow copy of it, as the SDK copies)."""
            if isinstance(value, list):
                node = new(list_proxy)
                state = node.__dict__
                state["_ListProxy__target"], state["_ListProxy__props_acc"] = list(value), acc
            else:
                node = new(dict_proxy)
                state = node.__dict__
                state["_DictProxy__target"], state["_DictProxy__props_acc"] = dict(value), acc
            return registry.add(node, tree, True)

        def complete(node, e):
            """Wraps every child container not read yet: the node is then as the SDK builds it."""
            if not e.lazy:
                return
            e.lazy = False
            state = node.__dict__
            if type(node) is dict_proxy:
                target, acc = state["_DictProxy__target"], state["_DictProxy__props_acc"]
                keys = list(target)
            else:
                target, acc = state["_ListProxy__target"], state["_ListProxy__props_acc"]
                keys = range(len(target))
            tree = e.tree
            for key in keys:
                value = target[key]
                if isinstance(value, containers):
                    target[key] = wrap(value, append_prop(acc, key), tree)

        def take(node, e):
            complete(node, e)
            e.tree.dirty = True

        original_dict_get, original_dict_set = dict_proxy.__getitem__, dict_proxy.__setitem__
        original_list_get = list_proxy.__getitem__

        def dict_getitem(self, key):
            e = get(id(self))
            if e is not None:
                if type(key) is str:
                    if key == "__target":
                        take(self, e)
                    elif e.lazy:
                        state = self.__dict__
                        target = state["_DictProxy__target"]
                        value = target[key]
                        if isinstance(value, containers):
                            value = target[key] = wrap(value, append_prop(state["_DictProxy__props_acc"], key),
                                                       e.tree)
                            return value
                        return raise_if_unknown(key, value, state["_DictProxy__props_acc"])
                else:
                    complete(self, e)
            return original_dict_get(self, key)

        def dict_setitem(self, key, value):
            e = get(id(self))
            if e is not None:
                take(self, e)
            return original_dict_set(self, key, value)

        def list_getitem(self, key):
            e = get(id(self))
            if e is not None:
                if type(key) is int:
                    if e.lazy:
                        state = self.__dict__
                        target = state["_ListProxy__target"]
                        value = target[key]
                        if isinstance(value, containers):
                            index = key if key >= 0 else key + len(target)
                            value = target[index] = wrap(value, append_prop(state["_ListProxy__props_acc"], index),
                                                         e.tree)
                            return value
                        return raise_if_unknown(key, value, state["_ListProxy__props_acc"])
                elif type(key) is str and key == "__target":
                    take(self, e)
                else:
                    complete(self, e)
            return original_list_get(self, key)

        def reduce_ex(self, protocol):
            # Copies share or duplicate the target: complete it, and do not hand the tree on.
            e = get(id(self))
            if e is not None:
                take(self, e)
            return object.__reduce_ex__(self, protocol)

        if dict_proxy not in WRAPPED_PROXIES:
            WRAPPED_PROXIES.add(dict_proxy)
            for cls, getitem in ((dict_proxy, dict_getitem), (list_proxy, list_getitem)):
                getitem.__qualname__ = f"{cls.__qualname__}.__getitem__"
                cls.__getitem__ = getitem
                cls.__reduce_ex__ = reduce_ex
                watch_attributes(cls, take)
            dict_setitem.__qualname__ = f"{dict_proxy.__qualname__}.__setitem__"
            dict_proxy.__setitem__ = dict_setitem

        def build(props, tree=None):
            """A lazy tree equivalent to `unknown_checking_proxy(props)`; returns (tree, proxy)."""
            if tree is None:
                tree = Tree()
            node = new(dict_proxy)
            state = node.__dict__
            state["_DictProxy__target"], state["_DictProxy__props_acc"] = dict(props), []
            return tree, registry.add(node, tree, True)

        self.build = build

    @staticmethod
    def _mirrors(proxy_module):
        """Whether the SDK's proxies keep their state where these functions expect it."""
        try:
            d = proxy_module._DictProxy({}, [])
            lst = proxy_module._ListProxy([], [])
            return (callable(proxy_module._raise_if_unknown) and callable(proxy_module._append_prop)
                    and list(vars(d)) == ["_DictProxy__target", "_DictProxy__props_acc"]
                    and list(vars(lst)) == ["_ListProxy__target", "_ListProxy__props_acc"])
        except Exception:  # noqa: BLE001
            return False


# The SDK classes whose methods are wrapped (once per process, whoever builds `LazyProxies`).
WRAPPED_PROXIES = set()


PLAIN_SCALARS = (str, float, int, bool, type(None))


def holds_objects(value):
    """Whether deserialised properties hold anything but dicts, lists and scalars (Asset and Archive
    objects, which a policy could change and so must not share with the next one)."""
    if isinstance(value, dict):
        return any(holds_objects(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_objects(v) for v in value)
    return not isinstance(value, PLAIN_SCALARS)
