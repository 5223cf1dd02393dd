"""The lazy proxies answer as the SDK's `unknown_checking_proxy` does, and say when they were touched."""
import copy
import json
import types
from collections.abc import Mapping, Sequence

import pytest
from pulumi import FileAsset
from pulumi_policy import proxy as proxy_module
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from policy_host_driver.proxies import LazyProxies, holds_objects

UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

PROPS = {
    "name": "b",
    "tags": {"env": "dev", "owner": UNKNOWN_STRING},
    "rules": [{"port": 80.0}, {"port": UNKNOWN_STRING}, [1.0, UNKNOWN_STRING]],
    "count": 3.0,
}


@pytest.fixture
def lazy():
    lazy = LazyProxies(proxy_module)
    assert lazy.ok, "the installed SDK's proxies no longer have the shape the lazy proxies mirror"
    return lazy


def unknown_message(read):
    with pytest.raises(UnknownValueError) as e:
        read()
    return e.value.message


def test_known_values_read_as_the_sdk_reads_them(lazy):
    _, p = lazy.build(PROPS)
    s = unknown_checking_proxy(PROPS)
    assert p["name"] == s["name"] == "b"
    assert p["tags"]["env"] == s["tags"]["env"]
    assert p["rules"][0]["port"] == s["rules"][0]["port"] == 80.0
    assert len(p) == len(s) and list(p) == list(s)


@pytest.mark.parametrize("path", [
    lambda p: p["tags"]["owner"],
    lambda p: p["rules"][1]["port"],
    lambda p: p["rules"][2][1],
    lambda p: p["rules"][-1][-1],
    lambda p: p["rules"][-2]["port"],
])
def test_unknown_values_raise_with_the_sdks_path(lazy, path):
    _, p = lazy.build(PROPS)
    expected = unknown_message(lambda: path(unknown_checking_proxy(PROPS)))
    assert unknown_message(lambda: path(p)) == expected
    assert "can't be known during preview" in expected


def test_missing_keys_and_bad_indexes_raise_as_in_the_sdk(lazy):
    _, p = lazy.build(PROPS)
    s = unknown_checking_proxy(PROPS)
    for read in (lambda x: x["absent"], lambda x: x["rules"][7], lambda x: x[1]):
        with pytest.raises(Exception) as mine:
            read(p)
        with pytest.raises(Exception) as theirs:
            read(s)
        assert type(mine.value) is type(theirs.value) and str(mine.value) == str(theirs.value)


def test_proxies_are_the_sdks_own_classes(lazy):
    _, p = lazy.build(PROPS)
    s = unknown_checking_proxy(PROPS)
    assert type(p) is type(s) is proxy_module._DictProxy
    assert p.__class__ is proxy_module._DictProxy
    assert type(p["rules"]) is proxy_module._ListProxy
    assert type(p["rules"][0]) is proxy_module._DictProxy
    assert type(p["rules"][2]) is proxy_module._ListProxy
    assert vars(p["tags"]).keys() == vars(s["tags"]).keys()
    with pytest.raises(TypeError) as mine:
        json.dumps(p)
    with pytest.raises(TypeError) as theirs:
        json.dumps(s)
    assert str(mine.value) == str(theirs.value)


def observe(p):
    """What a policy can observe of a proxy tree, addresses left out."""
    import pickle
    import re

    def attempt(f):
        try:
            return f()
        except Exception as e:  # noqa: BLE001
            return f"!{type(e).__name__}: {e}"

    def shape(x, depth=0):
        if isinstance(x, Mapping):
            return [type(x), x.__class__, len(x), list(x), [attempt(lambda k=k: shape(x[k], depth + 1)) for k in x],
                    "tags" in x, attempt(lambda: x.get("name", "-")), attempt(lambda: hash(x)),
                    re.sub(r"0x[0-9a-f]+", "ADDR", repr(x)), re.sub(r"0x[0-9a-f]+", "ADDR", str(x))]
        if isinstance(x, Sequence) and not isinstance(x, str):
            return [type(x), len(x), [attempt(lambda i=i: shape(x[i], depth + 1)) for i in range(len(x))],
                    attempt(lambda: shape(x[-1])), attempt(lambda: [type(e) for e in x[0:2]]),
                    attempt(lambda: list(reversed(x))) if depth > 5 else None, 80.0 in x]
        return [type(x), x]

    return [
        attempt(lambda: shape(p)),
        attempt(lambda: p == unknown_checking_proxy(PLAIN)),
        attempt(lambda: json.dumps(p)),
        attempt(lambda: shape(copy.copy(p))),
        attempt(lambda: shape(copy.deepcopy(p))),
        attempt(lambda: shape(pickle.loads(pickle.dumps(p)))),
        attempt(lambda: [type(v) for v in p["__target"].values()]),
        attempt(lambda: p.__setitem__("new", {"x": 1}) or shape(p)),
        attempt(lambda: shape(p["__target"])),
        attempt(lambda: p[0]),
        attempt(lambda: p["rules"]["__target"][0].__class__),
        attempt(lambda: [type(e) for e in p["rules"][1:]]),
        attempt(lambda: setattr(p, "extra", 1) or sorted(vars(p))),
    ]


PLAIN = {"name": "b", "tags": {"env": "dev", "owner": "me"}, "rules": [{"port": 80.0}, [1.0, 2.0]], "count": 3.0}


@pytest.mark.parametrize("props", [PLAIN, PROPS, {}, {"a": [[[{"b": []}]]]}])
def test_nothing_a_policy_does_tells_the_lazy_tree_from_the_sdks(lazy, props):
    assert observe(lazy.build(props)[1]) == observe(unknown_checking_proxy(props))


def test_the_sdks_own_proxies_behave_as_before_once_the_classes_are_wrapped(lazy):
    s = unknown_checking_proxy(PROPS)
    assert s["tags"]["env"] == "dev" and type(s["rules"][0]) is proxy_module._DictProxy
    assert unknown_message(lambda: s["tags"]["owner"]).startswith("string value at .tags.owner")
    s["x"] = 1
    assert s["__target"]["x"] == 1


def test_reading_leaves_the_tree_clean_so_it_can_be_shared(lazy):
    tree, p = lazy.build(PROPS)
    p["tags"]["env"]
    list(p.items())
    assert not tree.dirty


def test_writing_or_taking_the_target_marks_the_tree_dirty(lazy):
    tree, p = lazy.build(PROPS)
    p["name"] = "changed"
    assert tree.dirty and p["name"] == "changed"
    tree2, p2 = lazy.build(PROPS)
    p2["tags"]["__target"]
    assert tree2.dirty
    tree3, p3 = lazy.build(PROPS)
    p3["rules"]["__target"]
    assert tree3.dirty
    for change in (lambda x: setattr(x["tags"], "a", 1), lambda x: copy.copy(x["rules"]),
                   lambda x: delattr(x, "_DictProxy__props_acc")):
        tree4, p4 = lazy.build(PROPS)
        change(p4)
        assert tree4.dirty


def test_target_is_the_fully_wrapped_node_as_the_sdk_builds_it(lazy):
    _, p = lazy.build(PROPS)
    target = p["__target"]
    sdk_target = unknown_checking_proxy(PROPS)["__target"]
    assert target.keys() == sdk_target.keys()
    assert type(target["rules"]) is type(sdk_target["rules"]) is proxy_module._ListProxy
    assert type(target["tags"]) is proxy_module._DictProxy


def test_the_input_is_never_changed(lazy):
    before = copy.deepcopy(PROPS)
    _, p = lazy.build(PROPS)
    p["rules"][0]
    p["extra"] = 1
    assert PROPS == before


def test_copies_complete_the_node_first(lazy):
    _, p = lazy.build(PROPS)
    c = copy.copy(p)
    assert dict(c.items()).keys() == PROPS.keys()
    assert c["tags"]["env"] == "dev"


def test_an_sdk_of_another_shape_is_refused():
    fake = types.SimpleNamespace(_DictProxy=dict, _ListProxy=list, _raise_if_unknown=None, _append_prop=None)
    assert LazyProxies(fake).ok is False


def test_holds_objects_finds_assets_at_any_depth():
    assert not holds_objects({"a": [1.0, "x", None, True, {"b": {}}]})
    assert holds_objects({"a": [{"b": object()}]})
    assert holds_objects({"code": FileAsset(__file__)})
