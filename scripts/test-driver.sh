#!/usr/bin/env bash
# Unit tests of the driver package (Sources/PolicyPack/Python/policy_host_driver) with pytest, against
# the real pulumi_policy SDK. The venv, .build/driver-test-venv, is made from the aws-basics fixture's
# requirements (pinned to what its venv holds when that venv exists) plus pytest, with the
# interpreter whose libpython is embedded, and rebuilt only when those inputs change.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.build/driver-test-venv
python=/usr/bin/python3.11
requirements=Fixtures/packs/aws-basics/requirements.txt
fixture_venv=${TMPDIR:-/tmp}/policy-host-test-packs-$(id -u)/aws-basics/venv  # prepared by the integration tests (FixtureCopy.preparedCopy)

constraints=""
if [ -x "$fixture_venv/bin/python" ]; then
  constraints=$("$fixture_venv/bin/python" -m pip freeze --disable-pip-version-check 2>/dev/null || true)
fi
stamp=$( (cat "$requirements"; echo pytest; echo "$constraints"; "$python" --version) | sha256sum | cut -d' ' -f1)

if [ "$(cat "$venv/.policy-host-stamp" 2>/dev/null || true)" != "$stamp" ]; then
  echo "test-driver: creating $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  tmp=$(mktemp)
  trap 'rm -f "$tmp"' EXIT
  printf '%s\n' "$constraints" > "$tmp"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements" -c "$tmp" pytest
  echo "$stamp" > "$venv/.policy-host-stamp"
fi

# policy_host_native, which the binary builds into its interpreter, as an extension module
# (Tests/driver/conftest.py puts it on the path); rebuilt when its sources change.
native=.build/driver-native
native_stamp=$(cat Sources/CPython/shim.h Tests/driver/native_module.c | sha256sum | cut -d' ' -f1)
if [ "$(cat "$native/.policy-host-stamp" 2>/dev/null || true)" != "$native_stamp" ]; then
  mkdir -p "$native"
  "$(command -v cc || command -v clang)" -shared -fPIC -O2 -Wall -Werror $(pkg-config --cflags python-3.11-embed) -I Sources/CPython \
    Tests/driver/native_module.c -o "$native/policy_host_native.so"
  echo "$native_stamp" > "$native/.policy-host-stamp"
fi

# No bytecode next to the sources: SwiftPM embeds everything under Python/policy_host_driver.
export PYTHONDONTWRITEBYTECODE=1
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider Tests/driver "$@"
