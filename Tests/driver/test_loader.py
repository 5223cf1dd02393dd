"""The loader installs the package from in-memory sources, as the binary does."""
import glob
import os
import sys
import traceback

import pytest

import policy_host_loader

from conftest import SOURCES


@pytest.fixture
def embedded():
    """Installs the package from its sources as `DriverSources.installHost` does; restores sys.modules."""
    saved = {k: v for k, v in sys.modules.items() if k.startswith("policy_host_driver")}
    for k in saved:
        del sys.modules[k]
    meta_path = list(sys.meta_path)
    sources = {}
    for path in glob.glob(os.path.join(SOURCES, "policy_host_driver", "*.py")):
        with open(path, encoding="utf-8") as f:
            sources["policy_host_driver/" + os.path.basename(path)] = f.read()
    with open(os.path.join(SOURCES, "sdk_server_hook.py"), encoding="utf-8") as f:
        sources["policy_host_driver/sdk_faults.py"] = f.read()  # as DriverSources.modulesValue adds it
    try:
        yield policy_host_loader.install(sources)
    finally:
        for k in [k for k in sys.modules if k.startswith("policy_host_driver")]:
            del sys.modules[k]
        sys.modules.update(saved)
        sys.meta_path[:] = meta_path


def test_install_returns_a_fresh_host_from_memory(embedded):
    module = sys.modules["policy_host_driver"]
    assert embedded is module.host and embedded.policies == []
    assert not hasattr(module, "__file__")
    assert module.__spec__.origin == "<policy-host>/policy_host_driver/__init__.py"
    assert sys.modules["policy_host_driver.analysis"].__spec__.origin == "<policy-host>/policy_host_driver/analysis.py"


def test_tracebacks_name_the_embedded_module_and_show_its_source(embedded):
    report = embedded._reporter([], ("p", "d", 0, 0))
    try:
        report(42)
    except TypeError:
        text = traceback.format_exc()
    assert 'File "<policy-host>/policy_host_driver/analysis.py"' in text
    assert 'raise TypeError("Expected message to be a string")' in text


def test_pack_load_error_carries_the_step_for_swift(embedded):
    e = sys.modules["policy_host_driver"].PackLoadError("no SDK", "import")
    assert type(e).__qualname__ == "PackLoadError" and e.step == "import"


def test_kept_signatures_answer_as_inspect_does_and_follow_a_changed_init(embedded):
    import inspect
    from policy_host_driver.loading import KeptSignatures, keep_signatures

    calls = []

    def counting(obj, *args, **kwargs):
        calls.append(obj)
        return inspect.signature(obj, *args, **kwargs)

    kept = KeptSignatures(counting)

    class Settings:
        def __init__(self, project, stack, organization=None):
            pass

    first = kept(Settings)
    assert first == inspect.signature(Settings) and "organization" in first.parameters
    assert kept(Settings) is first and calls == [Settings]  # asked once
    # A class whose __init__ changes is asked again.
    Settings.__init__ = lambda self, project: None
    assert list(kept(Settings).parameters) == ["project"] and len(calls) == 2

    def f(a, b=1):
        pass

    # Functions and calls with options go to inspect every time.
    assert kept(f) == inspect.signature(f) and kept(f) == inspect.signature(f) and calls[-2:] == [f, f]
    assert kept(Settings, follow_wrapped=False) == inspect.signature(Settings, follow_wrapped=False)

    class Module:
        signature = inspect.signature

    keep_signatures(Module)
    assert isinstance(Module.signature, KeptSignatures)
    other = type("Other", (), {"signature": staticmethod(len)})
    keep_signatures(other)  # a module whose `signature` is not inspect's is left alone
    assert other.signature is len
