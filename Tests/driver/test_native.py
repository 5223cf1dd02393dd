"""`policy_host_native`'s version tags (PEP 509), which the runtime set-up's check relies on: every
kind of change to a dict gives it a new tag, reading it never does."""
import pytest

import policy_host_native as native


def changes():
    """(name, change) for each way a dict's contents can change."""
    return [
        ("set a new key", lambda d: d.__setitem__("new", 1)),
        ("set a key to another object", lambda d: d.__setitem__("a", object())),
        ("delete", lambda d: d.__delitem__("a")),
        ("pop", lambda d: d.pop("a")),
        ("popitem", lambda d: d.popitem()),
        ("clear", lambda d: d.clear()),
        ("update", lambda d: d.update({"b": 3})),
        ("in-place or", lambda d: d.__ior__({"c": 4})),
        ("setdefault of a new key", lambda d: d.setdefault("z", 0)),
        ("__init__ again", lambda d: d.__init__(x=1)),
    ]


@pytest.mark.parametrize("name,change", changes(), ids=[n for n, _ in changes()])
def test_every_change_gives_a_new_tag(name, change):
    d = {"a": "1", "b": "2"}
    items = (d,)
    before = native.dict_versions(items)
    assert native.same_dict_versions(items, before)
    change(d)
    assert not native.same_dict_versions(items, before)


def test_reading_keeps_the_tag():
    d = {"a": "1", "b": "2"}
    before = native.dict_versions((d,))
    _ = d["a"], d.get("b"), list(d.items()), dict(d), "a" in d, len(d), d.setdefault("a", "x"), d == {"a": "1"}
    assert native.same_dict_versions((d,), before)


def test_a_class_stands_for_its_namespace_and_an_instance_for_vars():
    class C:
        pass

    c = C()
    c.x = 1
    items = (C, vars(c))
    before = native.dict_versions(items)
    assert native.same_dict_versions(items, before)
    C.y = 2
    assert not native.same_dict_versions(items, before)
    before = native.dict_versions(items)
    c.x = 3
    assert not native.same_dict_versions(items, before)


def test_wrong_arguments():
    with pytest.raises(TypeError):
        native.dict_versions([{}])
    with pytest.raises(TypeError):
        native.dict_versions(({}, "not a dict"))
    with pytest.raises(TypeError):
        native.same_dict_versions(({},))
    with pytest.raises(TypeError):
        native.same_dict_versions(([],), native.dict_versions(({},)))
    assert native.same_dict_versions(({}, {}), native.dict_versions(({},))) is False  # another length
