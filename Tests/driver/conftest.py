"""The driver package, imported from the source tree, over the real pulumi_policy SDK."""
import os
import sys

import pytest

SOURCES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Sources", "PolicyPack", "Python")
sys.path.insert(0, os.path.abspath(SOURCES))
# policy_host_native, built by scripts/test-driver.sh (the binary has it built in).
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".build", "driver-native")))
import policy_host_native  # noqa: E402,F401  (run the tests with scripts/test-driver.sh, which builds it)

from pulumi_policy import policy as sdk  # noqa: E402
from pulumi_policy.policy import _PolicyAnalyzerServicer  # noqa: E402

# The binary embeds the out-of-process hook as `policy_host_driver.sdk_faults` (DriverSources.modulesValue).
import importlib.util  # noqa: E402
_hook = importlib.util.spec_from_file_location("policy_host_driver.sdk_faults", os.path.join(SOURCES, "sdk_server_hook.py"))
sys.modules["policy_host_driver.sdk_faults"] = importlib.util.module_from_spec(_hook)
_hook.loader.exec_module(sys.modules["policy_host_driver.sdk_faults"])

from policy_host_driver.host import Host  # noqa: E402

URN = "urn:pulumi:dev::proj::aws:s3/bucket:Bucket::b"


def resource(properties, **extra):
    """One resource request in the wire form Swift sends."""
    r = {"type": "aws:s3/bucket:Bucket", "urn": URN, "name": "b", "properties": properties}
    r.update(extra)
    return r


@pytest.fixture
def make_host():
    """A `Host` that has adopted a servicer made by the SDK from `policies`, as `load` adopts the one
    `PolicyPack(...)` registers."""
    def make(policies, level=sdk.EnforcementLevel.ADVISORY, initial_config=None, tags=None):
        host = Host()
        host.stack_tags = dict(tags or {})
        host._adopt(_PolicyAnalyzerServicer("pack", "1.2.3", policies, level, initial_config))
        return host
    return make
