"""Lazy unknown-checking proxies over a resource's properties (instances of the SDK's own
`_DictProxy`/`_ListProxy`), and the test for properties that hold objects a policy could change."""
from .tracking import Tree, watch_attributes


class LazyPath(list):
    """The property path of a node not completed yet (its children may still be raw dicts and
    lists), which also names the node's tree. The SDK keeps a node's path as a plain list that it
    only copies (`_append_prop`), so a policy never receives this one."""
    __slots__ = ("tree",)


class LazyProxies:
    """Unknown-checking proxies built on first access, shareable between policies while untouched.

    The SDK's `unknown_checking_proxy` copies the whole property tree into `_DictProxy`/`_ListProxy`
    nodes before a policy runs, once per policy. The nodes built here are instances of exactly those
    classes, with exactly their attributes, and answer every access as the SDK's nodes do (same values,
    same `UnknownValueError` paths, same errors); but a node holds a shallow copy of its container and
    wraps a child container only when it is first read, so a policy that looks at three keys pays for
    three nodes. A node that may hold raw children has a `LazyPath` as its property path (a list that
    also names the node's tree). The SDK's classes get `__getitem__`, `__setitem__`, `__reduce_ex__`
    and the attribute mutators wrapped once per process: for such a node they wrap children on first
    read, and anything that could expose a node's insides
    (`["__target"]`, an unusual key, `__setitem__`, copying or pickling, setting an attribute) first
    completes the node exactly as the SDK would have built it — a plain container, every child
    wrapped — and marks the tree changed. For every other node they are the originals.

    A tree is reused for the next policy only while no node of it was completed (`dirty`), i.e. no
    policy wrote through it, took a target or copied it, so every policy observes what it would with a
    tree of its own. Used only when the installed SDK's proxy module has the shape mirrored here;
    otherwise the SDK's own `unknown_checking_proxy` runs for each policy.
    """

    def __init__(self, proxy_module, order_of=None):
        """`order_of(keys)`: the order a dict's keys take in the SDK's dicts, or None to keep theirs
        (`ordering.EngineOrder`); each node's container is copied in that order when it is made."""
        self.ok = self._mirrors(proxy_module)
        if not self.ok:
            return
        dict_proxy, list_proxy = proxy_module._DictProxy, proxy_module._ListProxy
        raise_if_unknown, append_prop = proxy_module._raise_if_unknown, proxy_module._append_prop
        containers, new = (dict, list), object.__new__

        def copied(d):
            """A shallow copy of a dict, in the SDK's key order."""
            order = None if order_of is None else order_of(tuple(d))
            return dict(d) if order is None else {k: d[k] for k in order}

        def path(acc, key, tree):
            p = LazyPath(append_prop(acc, key))
            p.tree = tree
            return p

        def wrap(value, acc, tree):
            """A lazy node over a child container (a shallow copy of it, as the SDK copies)."""
            if isinstance(value, list):
                node = new(list_proxy)
                state = node.__dict__
                state["_ListProxy__target"], state["_ListProxy__props_acc"] = list(value), acc
            else:
                node = new(dict_proxy)
                state = node.__dict__
                state["_DictProxy__target"], state["_DictProxy__props_acc"] = copied(value), acc
            return node

        def complete(node):
            """Makes the node as the SDK builds it: every child wrapped, its path a plain list. Its
            tree is marked changed, so the next policy gets a tree of its own."""
            state = node.__dict__
            prefix = "_DictProxy__" if type(node) is dict_proxy else "_ListProxy__"
            acc = state.get(prefix + "props_acc")
            if type(acc) is not LazyPath:
                return
            tree, target = acc.tree, state[prefix + "target"]
            tree.dirty = True
            for key in (list(target) if prefix == "_DictProxy__" else range(len(target))):
                value = target[key]
                if isinstance(value, containers):
                    target[key] = wrap(value, path(acc, key, tree), tree)
            state[prefix + "props_acc"] = list(acc)

        original_dict_get, original_dict_set = dict_proxy.__getitem__, dict_proxy.__setitem__
        original_list_get = list_proxy.__getitem__

        def dict_getitem(self, key):
            acc = self._DictProxy__props_acc
            if type(acc) is LazyPath:
                if type(key) is str and key != "__target":
                    target = self._DictProxy__target
                    value = target[key]
                    if isinstance(value, containers):
                        tree = acc.tree
                        value = target[key] = wrap(value, path(acc, key, tree), tree)
                        return value
                    return raise_if_unknown(key, value, acc)
                complete(self)
            return original_dict_get(self, key)

        def dict_setitem(self, key, value):
            complete(self)
            return original_dict_set(self, key, value)

        def list_getitem(self, key):
            acc = self._ListProxy__props_acc
            if type(acc) is LazyPath:
                if type(key) is int:
                    target = self._ListProxy__target
                    value = target[key]
                    if isinstance(value, containers):
                        index = key if key >= 0 else key + len(target)
                        tree = acc.tree
                        value = target[index] = wrap(value, path(acc, index, tree), tree)
                        return value
                    return raise_if_unknown(key, value, acc)
                complete(self)
            return original_list_get(self, key)

        def reduce_ex(self, protocol):
            # Copies share or duplicate the target: complete it first (the tree is then not handed on).
            complete(self)
            return object.__reduce_ex__(self, protocol)

        if dict_proxy not in WRAPPED_PROXIES:
            WRAPPED_PROXIES.add(dict_proxy)
            for cls, getitem in ((dict_proxy, dict_getitem), (list_proxy, list_getitem)):
                getitem.__qualname__ = f"{cls.__qualname__}.__getitem__"
                cls.__getitem__ = getitem
                cls.__reduce_ex__ = reduce_ex
                watch_attributes(cls, lambda node, _entry: complete(node), always=True)
            dict_setitem.__qualname__ = f"{dict_proxy.__qualname__}.__setitem__"
            dict_proxy.__setitem__ = dict_setitem

        def build(props, tree=None):
            """A lazy tree equivalent to `unknown_checking_proxy(props)`; returns (tree, proxy)."""
            if tree is None:
                tree = Tree()
            node = new(dict_proxy)
            acc = LazyPath()
            acc.tree = tree
            state = node.__dict__
            state["_DictProxy__target"], state["_DictProxy__props_acc"] = copied(props), acc
            return tree, node

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
