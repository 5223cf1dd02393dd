"""policy-host driver: runs inside the embedded interpreter, in the pack's venv.

It loads the pack's own __main__.py with the real pulumi_policy SDK, captures the analyzer servicer
that PolicyPack(...) builds (instead of letting it start a gRPC server and block), and then runs the
SDK's policies with the servicer's own semantics: the same enforcement levels, messages, unknown
handling, not-applicable reasons, secrets and remediation chaining.

Resources arrive as plain dicts in the engine's wire form (what json_format.MessageToDict makes of
the engine's Struct: numbers are floats, signatures and sentinels as the engine encodes them). The
SDK deserialises and proxies a resource's properties afresh for every policy; here properties without
signatures are proxied lazily and the proxy, options and provider objects are handed from policy to
policy only while none of them was changed (see `proxies.LazyProxies`, `options.TrackedClasses` and
`tracking`), so each policy observes what it would with objects of its own; all of them are instances
of the SDK's own classes, and every dict comes in the key order `MessageToDict` gives it (`ordering`).

Swift drives the one `host` object (`host.Host`); `loader.py` installs this package from the sources
compiled into the binary.
"""
from .errors import PackLoadError
from .host import Host

host = Host()
