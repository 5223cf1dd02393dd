"""Text the host can take whatever a policy hands it: exceptions whose `__str__` raises, messages
with lone surrogates, non-string values. The SDK's server fails a call whose response it cannot
encode; these helpers find such text and render failed calls for the report."""
import traceback


def blame(e, policy):
    """Records on an exception which policy's callback raised it."""
    try:
        if getattr(e, "_policy_host_policy", None) is None:
            e._policy_host_policy = policy
    except Exception:  # noqa: BLE001  (exceptions with __slots__)
        pass


def type_name(e):
    try:
        return type(e).__name__
    except BaseException:  # noqa: BLE001
        return "BaseException"


def encodable(text):
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def renderable(text):
    """`text` as valid Unicode: lone surrogates become backslash escapes."""
    if not isinstance(text, str):
        try:
            text = str(text)
        except BaseException:  # noqa: BLE001
            return "<unprintable>"
    return text if encodable(text) else text.encode("utf-8", "backslashreplace").decode("utf-8")


def render_error(policy, phase, e):
    """A failed call, rendered whatever the exception is: a `__str__` that raises or text that
    is not valid Unicode (lone surrogates) still gives the type and what can be shown."""
    try:
        message = str(e)
    except BaseException:  # noqa: BLE001
        message = f"<unprintable {type_name(e)} object>"
    try:
        tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    except BaseException:  # noqa: BLE001
        tb = ""
    return {"policyName": renderable(policy.name) if policy is not None else "", "phase": phase,
            "type": renderable(type_name(e)), "message": renderable(message), "traceback": renderable(tb)}


def first_unrenderable(entries, keys):
    """The first entry (a dict) with a value under `keys` that the host cannot take: a string
    that is not valid Unicode. The SDK's server fails such a call when it encodes the response."""
    for entry in entries:
        for key in keys:
            value = entry.get(key)
            if isinstance(value, str) and not encodable(value):
                return entry, key
    return None
