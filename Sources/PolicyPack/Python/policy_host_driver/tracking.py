"""Knowing whether a policy changed an object the SDK's own class made, without changing the object.

The SDK builds a policy's argument objects (property proxies, options, provider) afresh for every
policy. The driver hands one set of objects from policy to policy while no policy changed them, which
is only sound if it can tell that one was changed. It does so without subclasses or extra attributes,
so that `type(x) is SDKClass`, `vars(x)` and pickling stay exactly as for the SDK's objects: options,
timeouts and provider objects the driver hands out are registered here by identity (a weak reference,
so the entry goes with the object), and the attribute mutators of the SDK's classes are wrapped, once
per process, to mark the registered object's `Tree` dirty before they run (property proxies carry
their tree in their path instead, `proxies.LazyPath`). The servicer and the pack's policies are
registered the same way, in a tree of their own, so that the plans worked out from their attributes
are kept until one is assigned (`analysis.ResourceAnalysis._plans`). Objects not registered get
exactly what the original mutators do."""
import weakref


class Tree:
    """The argument objects that go together: one dirty flag for all of them."""
    __slots__ = ("dirty",)

    def __init__(self):
        self.dirty = False


class Entry(weakref.ref):
    """A registered object: its tree and, for a property proxy, whether its children are still raw.
    Made with `weakref.ref`'s own constructor, the slots set after (no Python-level `__init__`)."""
    __slots__ = ("key", "tree", "lazy")


class Registry:
    """Registered objects by `id`. An entry is removed when its object is freed, before its address
    can be reused, so an `id` found here always means that object."""

    def __init__(self):
        entries = self.entries = {}

        def forget(ref, pop=entries.pop):
            pop(ref.key, None)

        self._forget = forget
        self.get = entries.get

    def add(self, obj, tree, lazy=False):
        e = Entry(obj, self._forget)
        e.key = key = id(obj)
        e.tree, e.lazy = tree, lazy
        self.entries[key] = e
        return obj


# One registry per process: the SDK's classes are wrapped once, whoever asks.
REGISTRY = Registry()
_WRAPPED = set()


def watch_attributes(cls, before=None, always=False):
    """Wraps `cls.__setattr__` and `__delattr__` so that changing a registered object marks its tree
    dirty and then does what the original does. `before(obj, entry)` runs first, for registered
    objects or, with `always`, for every object (entry None when not registered)."""
    if (cls, "attributes") in _WRAPPED:
        return
    _WRAPPED.add((cls, "attributes"))
    get = REGISTRY.get
    original_set, original_del = cls.__setattr__, cls.__delattr__

    def changing(obj):
        e = get(id(obj))
        if before is not None and (e is not None or always):
            before(obj, e)
        if e is not None:
            e.tree.dirty = True

    def __setattr__(self, name, value):
        changing(self)
        original_set(self, name, value)

    def __delattr__(self, name):
        changing(self)
        original_del(self, name)

    __setattr__.__qualname__ = f"{cls.__qualname__}.__setattr__"
    __delattr__.__qualname__ = f"{cls.__qualname__}.__delattr__"
    cls.__setattr__, cls.__delattr__ = __setattr__, __delattr__
