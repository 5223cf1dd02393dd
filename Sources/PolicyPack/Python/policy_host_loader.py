"""Installs policy-host's Python package from sources held in memory.

The binary carries the sources of `policy_host_driver/` (SwiftPM's `embedInCode`); `PackSession`
runs this module and calls `install` with them. Modules are compiled from those strings under the
name `<policy-host>/<path>` and have no `__file__`: nothing is written to or read from disk. The
loader answers `get_source`, so tracebacks through the driver show its source lines.
"""
import importlib.abc
import importlib.util
import sys

ORIGIN = "<policy-host>/"


class SourceLoader(importlib.abc.MetaPathFinder, importlib.abc.InspectLoader):
    """Finds and loads modules whose sources are in `sources` ({"pkg/mod.py": text})."""

    def __init__(self, sources):
        self.sources = dict(sources)

    def _path(self, fullname):
        base = fullname.replace(".", "/")
        for path in (base + "/__init__.py", base + ".py"):
            if path in self.sources:
                return path
        return None

    def find_spec(self, fullname, path=None, target=None):
        source_path = self._path(fullname)
        if source_path is None:
            return None
        return importlib.util.spec_from_loader(fullname, self, origin=ORIGIN + source_path,
                                               is_package=source_path.endswith("/__init__.py"))

    def is_package(self, fullname):
        source_path = self._path(fullname)
        if source_path is None:
            raise ImportError(f"no embedded module {fullname}", name=fullname)
        return source_path.endswith("/__init__.py")

    def get_source(self, fullname):
        source_path = self._path(fullname)
        if source_path is None:
            raise ImportError(f"no embedded module {fullname}", name=fullname)
        return self.sources[source_path]

    def get_code(self, fullname):
        source_path = self._path(fullname)
        if source_path is None:
            raise ImportError(f"no embedded module {fullname}", name=fullname)
        return compile(self.sources[source_path], ORIGIN + source_path, "exec", dont_inherit=True)


def install(sources, package="policy_host_driver"):
    """Puts a finder for `sources` first on `sys.meta_path` and imports `package` from it (a package
    of the same name in the pack's venv is never seen); returns the package's `host`."""
    loader = SourceLoader(sources)
    sys.meta_path.insert(0, loader)
    module = importlib.import_module(package)
    return module.host
