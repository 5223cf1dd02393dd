"""Failed calls and odd text render as the report can carry them."""
import types

from policy_host_driver.rendering import blame, first_unrenderable, render_error, renderable, type_name

POLICY = types.SimpleNamespace(name="p1")


class StrRaises(Exception):
    def __str__(self):
        raise RuntimeError("no")


def raised(e):
    try:
        raise e
    except BaseException as caught:  # noqa: BLE001
        return caught


def test_exception_whose_str_raises():
    r = render_error(POLICY, "analyze", raised(StrRaises()))
    assert r["message"] == "<unprintable StrRaises object>"
    assert r["type"] == "StrRaises" and r["policyName"] == "p1" and r["phase"] == "analyze"


def test_lone_surrogates_become_escapes_everywhere():
    r = render_error(types.SimpleNamespace(name="p\udc80"), "remediate", raised(ValueError("bad \ud800 text")))
    assert r["message"] == "bad \\ud800 text"
    assert r["policyName"] == "p\\udc80"
    assert "bad \\ud800 text" in r["traceback"]
    for value in r.values():
        value.encode("utf-8")


def test_none_and_empty_messages():
    assert render_error(None, "analyze", raised(ValueError(None)))["message"] == "None"
    assert render_error(None, "analyze", raised(KeyboardInterrupt()))["message"] == ""
    assert render_error(None, "analyzeStack", raised(SystemExit(3)))["message"] == "3"


def test_no_policy_gives_an_empty_name():
    assert render_error(None, "analyze", raised(ValueError("x")))["policyName"] == ""


def test_traceback_names_the_raising_frame():
    def fragile():
        raise LookupError("gone")
    try:
        fragile()
    except LookupError as e:
        tb = render_error(POLICY, "analyze", e)["traceback"]
    assert "in fragile" in tb and tb.rstrip().endswith("LookupError: gone")


def test_renderable_of_values_that_are_not_text():
    class Bad:
        def __str__(self):
            raise ValueError
    assert renderable(Bad()) == "<unprintable>"
    assert renderable(12) == "12"
    assert renderable("plain") == "plain"


def test_type_name_of_a_type_whose_name_raises():
    class Meta(type):
        def __getattribute__(cls, name):
            if name == "__name__":
                raise RuntimeError
            return super().__getattribute__(name)

    class Odd(Exception, metaclass=Meta):
        pass
    assert type_name(Odd()) == "BaseException"
    assert type_name(KeyError()) == "KeyError"


def test_first_unrenderable_finds_the_entry_and_key():
    ok = {"message": "fine", "urn": ""}
    bad = {"message": "ok", "urn": "u\udfff"}
    assert first_unrenderable([ok, bad], ("message", "urn")) == (bad, "urn")
    assert first_unrenderable([ok, {"message": None}], ("message",)) is None


def test_blame_keeps_the_first_policy():
    e = ValueError()
    blame(e, "first")
    blame(e, "second")
    assert e._policy_host_policy == "first"
