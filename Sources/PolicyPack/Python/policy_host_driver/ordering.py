"""Key order as the engine -> SDK path produces it.

The engine sends properties as a protobuf `Struct`, a map; the SDK turns it into a dict with
`json_format.MessageToDict`, which iterates the map as the pack's protobuf runtime stores it. With
the upb runtime that order is its hash table's, decided by the set of keys (and, where keys collide,
by the order they arrived in, which the engine's Go map iteration leaves to chance). A stack file's
order, or a Swift dictionary's, is neither. So every dict a policy receives is rebuilt in the order
the pack's own protobuf runtime gives to its keys arriving in one fixed order of the engine's many:
that of a deterministic Go marshal, sorted bytewise (as the sdk-server route and the test harnesses
send them). The order of a key set is computed once, with the runtime's own `Struct`, and cached."""

def arrival_order(keys):
    """Bytewise order of the UTF-8 keys, which is their code point order."""
    try:
        return sorted(keys)
    except (AttributeError, TypeError):  # keys that are not text (never from the engine): as they are
        return keys


MISSING = object()

# Bounds the cache against a hostile stack made of distinct key sets (the order is then computed again).
CACHE_LIMIT = 65536


class EngineOrder:
    def __init__(self, struct_class):
        cache = {}

        def order_of(keys):
            """`keys` (a dict's keys as they arrived) in the order the runtime iterates them, or None
            when that is their order already."""
            found = cache.get(keys, MISSING)
            if found is MISSING:
                found = None
                if len(keys) > 1:
                    fields = struct_class().fields
                    try:
                        for k in arrival_order(list(keys)):
                            fields[k]  # inserts an entry, as the parser does for each one it reads
                        runtime = tuple(fields)
                        if runtime != keys:
                            found = runtime
                    except Exception:  # noqa: BLE001  (a key the runtime refuses: the engine could not send it)
                        pass
                if len(cache) >= CACHE_LIMIT:
                    cache.clear()
                cache[keys] = found
            return found

        def ordered(value):
            """`value` with its dicts, at every depth, iterating in the runtime's order. Works on the
            request's own data: lists are updated in place, a dict is rebuilt only when its order
            changes."""
            t = type(value)
            if t is dict:
                order = order_of(tuple(value))
                if order is None:
                    for k, v in value.items():
                        tv = type(v)
                        if tv is dict or tv is list:
                            value[k] = ordered(v)
                    return value
                out = {}
                for k in order:
                    v = value[k]
                    tv = type(v)
                    out[k] = ordered(v) if tv is dict or tv is list else v
                return out
            if t is list:
                for i, v in enumerate(value):
                    tv = type(v)
                    if tv is dict or tv is list:
                        value[i] = ordered(v)
            return value

        def keys_ordered(d):
            """`d` with only its own keys put in the runtime's order (values as they are)."""
            order = order_of(tuple(d))
            return d if order is None else {k: d[k] for k in order}

        self.order_of, self.ordered, self.keys_ordered = order_of, ordered, keys_ordered

    @staticmethod
    def for_runtime():
        """The order of the pack's protobuf runtime, or None (dicts keep the order they arrive in)
        when its `Struct` cannot be used."""
        try:
            from google.protobuf import struct_pb2
            fields = struct_pb2.Struct().fields
            fields["a"]
            tuple(fields)
            return EngineOrder(struct_pb2.Struct)
        except Exception:  # noqa: BLE001
            return None
