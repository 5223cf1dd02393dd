"""Imported first by the differential harnesses (never by the benchmarks): the harness process then
uses protobuf's pure-Python runtime, whose deterministic serialisation sends map entries sorted by
key as a deterministic Go marshal does (the upb runtime's puts a key after the keys it is a prefix
of). The engine itself sends map entries in Go's random map order, and with the upb runtime the
SDK's dicts take their key order partly from that arrival order; one fixed arrival order, the one
policy-host assumes (`policy_host_driver.ordering`) and its sdk-server route sends, makes key order
comparable. The analyzers a harness starts get an environment without this setting."""
import os

VARIABLE = "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION"
if "google.protobuf" in __import__("sys").modules:
    raise ImportError("engine_marshal must be imported before google.protobuf")
os.environ[VARIABLE] = "python"
ACTIVE = True
