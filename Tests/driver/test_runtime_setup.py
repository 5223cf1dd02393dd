"""`RuntimeSetUp`: the SDK's per-call runtime set-up is skipped only while a run would change
nothing; whatever a policy (or anything else) changed between calls is put back as the SDK does."""
import json
import os
import threading

import pulumi
import pulumi.runtime
import pytest
from pulumi.runtime import settings as runtime_settings
from pulumi_policy import ResourceValidationPolicy

from conftest import resource
from policy_host_driver import runtime_setup


@pytest.fixture(autouse=True, params=["version tags", "contents"])
def comparison(request, monkeypatch):
    """Every test runs as in the binary (version tags from `policy_host_native`) and with the
    contents compared (the driver without the module)."""
    if request.param == "contents":
        monkeypatch.setattr(runtime_setup, "NATIVE", None)
    return request.param


@pytest.fixture
def engine_env(monkeypatch):
    """The environment the engine gives a policy pack, with one config value."""
    monkeypatch.setenv("PULUMI_PROJECT", "proj")
    monkeypatch.setenv("PULUMI_STACK", "dev")
    monkeypatch.setenv("PULUMI_DRY_RUN", "false")
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"proj:color": "blue"}))


@pytest.fixture
def set_up_runs(monkeypatch):
    """How many times the SDK's set-up really ran (it ends by calling `pulumi.runtime.configure`)."""
    runs = []
    original = pulumi.runtime.configure

    def counting(settings):
        runs.append(settings)
        return original(settings)
    monkeypatch.setattr(pulumi.runtime, "configure", counting)
    return runs


def seen_by_policy(make_host, body):
    """A host whose one policy calls `body()` and records what it returns, per call."""
    seen = []
    host = make_host([ResourceValidationPolicy("p", "d", lambda args, report: seen.append(body()))])
    return host, seen


def test_a_second_call_with_nothing_changed_skips_the_set_up(make_host, engine_env, set_up_runs):
    host, seen = seen_by_policy(make_host, lambda: (pulumi.get_project(), pulumi.Config("proj").get("color")))
    for _ in range(3):
        host.rpc_analyze(resource({}))
    assert seen == [("proj", "blue")] * 3
    assert len(set_up_runs) == 1


def write_into_config_dict(key, value):
    """A change of config that bypasses `set_config`: straight into the runtime's dict."""
    pulumi.runtime.config.CONFIG.get()[key] = value


@pytest.mark.parametrize("change", [pulumi.runtime.set_config, write_into_config_dict], ids=["set_config", "into its dict"])
def test_config_a_policy_changed_is_put_back(make_host, engine_env, set_up_runs, change):
    def body():
        seen = pulumi.Config("proj").get("color")
        change("proj:color", "red")
        return seen
    host, seen = seen_by_policy(make_host, body)
    for _ in range(3):
        host.rpc_analyze(resource({}))
    assert seen == ["blue"] * 3
    assert len(set_up_runs) == 3


def test_settings_a_policy_changed_are_put_back(make_host, engine_env, set_up_runs):
    def body():
        seen = pulumi.get_stack()
        runtime_settings.SETTINGS.stack = "prod"
        return seen
    host, seen = seen_by_policy(make_host, body)
    for _ in range(3):
        host.rpc_analyze(resource({}))
    assert seen == ["dev"] * 3
    assert len(set_up_runs) == 3


def test_a_container_a_policy_filled_is_fresh_again(make_host, engine_env, set_up_runs):
    def body():
        outputs = runtime_settings.SETTINGS.outputs
        size = len(outputs)
        outputs.add("something")
        return size
    host, seen = seen_by_policy(make_host, body)
    for _ in range(3):
        host.rpc_analyze(resource({}))
    assert seen == [0, 0, 0]


def test_a_held_lock_and_a_busy_rpc_manager_mean_a_fresh_set_up(make_host, engine_env, set_up_runs):
    def body():
        lock, manager = runtime_settings.SETTINGS.lock, runtime_settings.SETTINGS.rpc_manager
        state = (lock.locked(), len(manager.rpcs))
        lock.acquire(blocking=False)
        manager.rpcs.append("pending")
        return state
    host, seen = seen_by_policy(make_host, body)
    for _ in range(3):
        host.rpc_analyze(resource({}))
    assert seen == [(False, 0)] * 3


def test_a_changed_environment_is_read_again(make_host, engine_env, set_up_runs, monkeypatch):
    host, seen = seen_by_policy(make_host, lambda: pulumi.Config("proj").get("color"))
    host.rpc_analyze(resource({}))
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"proj:color": "green"}))
    host.rpc_analyze(resource({}))
    host.rpc_analyze(resource({}))
    assert seen == ["blue", "green", "green"]
    assert len(set_up_runs) == 2


def test_a_value_it_cannot_check_means_the_set_up_always_runs(make_host, engine_env, set_up_runs):
    """A config value that is not a string (set by code, not by the environment) survives the SDK's
    set-up; changes inside it cannot be compared cheaply, so the set-up runs on every call."""
    host, seen = seen_by_policy(make_host, lambda: None)
    config = pulumi.runtime.config.CONFIG.get()
    try:
        host.rpc_analyze(resource({}))
        pulumi.runtime.set_config("proj:nested", {"a": "1"})
        for _ in range(3):
            host.rpc_analyze(resource({}))
        assert len(set_up_runs) == 4
    finally:
        config.pop("proj:nested", None)


def test_another_thread_gets_its_own_set_up(make_host, engine_env, set_up_runs):
    host, seen = seen_by_policy(make_host, lambda: pulumi.get_project())
    host.rpc_analyze(resource({}))
    worker = threading.Thread(target=lambda: host.rpc_analyze(resource({})))
    worker.start()
    worker.join()
    assert seen == ["proj", "proj"]
    assert len(set_up_runs) == 2


def test_the_binary_compares_version_tags(make_host, engine_env, comparison):
    host, _ = seen_by_policy(make_host, lambda: None)
    host.rpc_analyze(resource({}))
    state = host._runtime_setup._state
    assert state is not None
    assert (state.watched is not None) == (comparison == "version tags")


def test_the_environment_written_behind_os_environ_is_read_again(make_host, engine_env, set_up_runs):
    """A write into `os.environ._data` itself (no `putenv`): the SDK's next set-up reads it."""
    host, seen = seen_by_policy(make_host, lambda: pulumi.get_stack())
    host.rpc_analyze(resource({}))
    key = os.environ.encodekey("PULUMI_STACK")
    previous = os.environ._data[key]
    try:
        os.environ._data[key] = os.environ.encodevalue("prod")
        host.rpc_analyze(resource({}))
        host.rpc_analyze(resource({}))
    finally:
        os.environ._data[key] = previous
    assert seen == ["dev", "prod", "prod"]
    assert len(set_up_runs) == 2


def test_a_set_up_replaced_on_the_servicer_or_its_class_is_the_one_that_runs(make_host, engine_env):
    host, _ = seen_by_policy(make_host, lambda: None)
    host.rpc_analyze(resource({}))
    servicer = host._runtime_setup.servicer
    runs = []
    original = servicer._configure_runtime_settings
    servicer._configure_runtime_settings = lambda: runs.append("instance") or original()
    try:
        host.rpc_analyze(resource({}))
    finally:
        del servicer._configure_runtime_settings
    cls = type(servicer)
    method = cls._configure_runtime_settings
    cls._configure_runtime_settings = lambda self: runs.append("class") or method(self)
    try:
        host.rpc_analyze(resource({}))
    finally:
        cls._configure_runtime_settings = method
    assert runs == ["instance", "class"]


def test_a_replaced_runtime_part_is_the_one_that_runs(make_host, engine_env, monkeypatch):
    """`pulumi.runtime.configure` replaced after a first call: the next call's set-up runs and uses it."""
    host, _ = seen_by_policy(make_host, lambda: None)
    host.rpc_analyze(resource({}))
    runs = []
    original = pulumi.runtime.configure
    monkeypatch.setattr(pulumi.runtime, "configure", lambda settings: runs.append(settings) or original(settings))
    host.rpc_analyze(resource({}))
    host.rpc_analyze(resource({}))
    assert len(runs) == 1


def test_a_servicer_class_with_its_own_lookup_is_compared_by_contents(make_host, engine_env, set_up_runs, monkeypatch):
    """Its namespaces do not decide what a lookup gives, so their tags cannot stand for the parts: the
    contents and the parts are compared, and the set-up is still skipped while nothing changed."""
    from conftest import _PolicyAnalyzerServicer

    def lookup(self, name):
        raise AttributeError(name)
    monkeypatch.setattr(_PolicyAnalyzerServicer, "__getattr__", lookup, raising=False)
    host, seen = seen_by_policy(make_host, lambda: pulumi.get_stack())
    for _ in range(3):
        host.rpc_analyze(resource({}))
    assert host._runtime_setup._state is not None and host._runtime_setup._state.watched is None
    assert seen == ["dev"] * 3
    assert len(set_up_runs) == 1
