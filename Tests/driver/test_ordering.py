"""Dicts come out in the order the SDK's `MessageToDict` gives them after the engine's marshal."""
import random

from google.protobuf import json_format, struct_pb2

from policy_host_driver import ordering
from policy_host_driver.ordering import EngineOrder

WORDS = ["Name", "Owner", "Environment", "CostCenter", "a", "b", "c", "zeta", "x1", "tags", "bucket", "acl",
         "versioning", "region", "id", "arn", "policy", "website", "lifecycleRules", "forceDestroy", "ünïcødé",
         "with space", "", "__defaults", "name", "namePrefix", "bucket", "bucketPrefix"]


def varint(n):
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, payload):
    """A length-delimited field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def encode_value(v):
    if isinstance(v, dict):
        return field(5, encode_struct(v))
    if isinstance(v, list):
        return field(6, b"".join(field(1, encode_value(e)) for e in v))
    return struct_pb2.Value(number_value=v).SerializeToString()


def encode_struct(d):
    """`Struct` bytes with its entries sorted by key, as a deterministic Go marshal writes them (the
    upb runtime's own deterministic order puts a key after the keys it is a prefix of)."""
    return b"".join(field(1, field(1, k.encode()) + field(2, encode_value(d[k]))) for k in sorted(d))


def sdk_dict(value):
    """What the SDK's server makes of `value` sent by a deterministic Go marshal."""
    return json_format.MessageToDict(struct_pb2.Struct.FromString(encode_struct(value)))


def key_paths(value, path=()):
    """Every dict's key order, at every depth."""
    if isinstance(value, dict):
        yield path, list(value)
        for k, v in value.items():
            yield from key_paths(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from key_paths(v, path + (i,))


def test_key_order_is_the_runtimes_at_every_depth():
    order = EngineOrder.for_runtime()
    rng = random.Random(7)
    differs_from_input = 0
    for _ in range(400):
        def make(depth):
            keys = rng.sample(WORDS, rng.randint(0, 12))
            return {k: (make(depth + 1) if depth < 2 and rng.random() < 0.3 else
                        [make(depth + 1)] if depth < 2 and rng.random() < 0.2 else 1.0) for k in keys}
        value = make(0)
        mine = order.ordered(value)
        assert list(key_paths(mine)) == list(key_paths(sdk_dict(value)))
        assert mine == value
        differs_from_input += list(key_paths(mine)) != list(key_paths(value))
    assert differs_from_input > 300  # the input's own order would have been wrong nearly every time


def test_only_the_top_keys_for_keys_ordered():
    order = EngineOrder.for_runtime()
    d = {k: {"z": 1, "a": 2} for k in WORDS[:9]}
    mine = order.keys_ordered(d)
    assert list(mine) == list(sdk_dict(d)) and all(v is d[k] for k, v in mine.items())


def test_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(ordering, "CACHE_LIMIT", 4)
    order = EngineOrder.for_runtime()
    for i in range(50):
        d = {f"k{i}": 1, f"j{i}": 2, "a": 3}
        assert list(order.ordered(d)) == list(sdk_dict(d))


def test_values_the_runtime_refuses_keep_their_order():
    order = EngineOrder.for_runtime()
    assert list(order.ordered({"b": 1, "\udc80": 2})) == ["b", "\udc80"]
    assert list(order.ordered({2: 1, "a": 2})) == [2, "a"]
