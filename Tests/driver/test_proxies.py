"""The lazy proxies answer as the SDK's `unknown_checking_proxy` does, and say when they were touched."""
import copy
import json
import types

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


def test_proxies_carry_the_sdks_class_names(lazy):
    _, p = lazy.build(PROPS)
    s = unknown_checking_proxy(PROPS)
    assert type(p).__name__ == type(s).__name__ == "_DictProxy"
    assert type(p["rules"]).__name__ == "_ListProxy"
    assert isinstance(p, proxy_module._DictProxy)
    with pytest.raises(TypeError) as mine:
        json.dumps(p)
    with pytest.raises(TypeError) as theirs:
        json.dumps(s)
    assert str(mine.value) == str(theirs.value)


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


def test_target_is_the_fully_wrapped_node_as_the_sdk_builds_it(lazy):
    _, p = lazy.build(PROPS)
    target = p["__target"]
    sdk_target = unknown_checking_proxy(PROPS)["__target"]
    assert target.keys() == sdk_target.keys()
    assert type(target["rules"]).__name__ == type(sdk_target["rules"]).__name__ == "_ListProxy"
    assert type(target["tags"]).__name__ == "_DictProxy"


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
