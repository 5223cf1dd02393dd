"""Knowing whether a policy changed an object the SDK's own class made, without changing the object.

The SDK builds a policy's argument objects (property proxies, options, provider) afresh for every
policy. The driver hands one set of objects from policy to policy while no policy changed them, which
is only sound if it can tell that one was changed. It does so without subclasses or extra attributes,
so that `type(x) is SDKClass`, `vars(x)` and pickling stay exactly as for the SDK's objects: each
object the driver hands out is registered here by identity (a weak reference, so the entry goes with
the object), and the few mutators of the SDK's classes are wrapped, once per process, to mark the
registered object's `Tree` dirty before they run. Objects the SDK itself builds are not registered;
for them the wrapped mutators do exactly what the originals do."""
import weakref


class Tree:
    """The argument objects that go together: one dirty flag for all of them."""
    __slots__ = ("dirty",)

    def __init__(self):
        self.dirty = False


class Entry(weakref.ref):
    """A registered object: its tree and, for a property proxy, whether its children are still raw."""
    __slots__ = ("key", "tree", "lazy")

    def __new__(cls, obj, callback, tree, lazy):
        self = weakref.ref.__new__(cls, obj, callback)
        self.key, self.tree, self.lazy = id(obj), tree, lazy
        return self

    def __init__(self, obj, callback, tree, lazy):  # noqa: ARG002  (set in __new__)
        super().__init__(obj, callback)


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
        self.entries[id(obj)] = Entry(obj, self._forget, tree, lazy)
        return obj


# One registry per process: the SDK's classes are wrapped once, whoever asks.
REGISTRY = Registry()
_WRAPPED = set()


def watch_attributes(cls, before=None):
    """Wraps `cls.__setattr__` and `__delattr__` so that changing a registered object marks its tree
    dirty (after `before(obj, entry)`, if given) and then does what the original does."""
    if (cls, "attributes") in _WRAPPED:
        return
    _WRAPPED.add((cls, "attributes"))
    get = REGISTRY.get
    original_set, original_del = cls.__setattr__, cls.__delattr__

    def __setattr__(self, name, value):
        e = get(id(self))
        if e is not None:
            if before is not None:
                before(self, e)
            e.tree.dirty = True
        original_set(self, name, value)

    def __delattr__(self, name):
        e = get(id(self))
        if e is not None:
            if before is not None:
                before(self, e)
            e.tree.dirty = True
        original_del(self, name)

    __setattr__.__qualname__ = f"{cls.__qualname__}.__setattr__"
    __delattr__.__qualname__ = f"{cls.__qualname__}.__delattr__"
    cls.__setattr__, cls.__delattr__ = __setattr__, __delattr__
