#!/usr/bin/env bash
# Installs what a fresh machine of this kind lacks (Debian's libpython and venv
# support), then builds policy-host. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -f /usr/include/python3.11/Python.h ] || need+=(python3-dev)
/usr/bin/python3.11 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v h2load >/dev/null 2>&1 || need+=(nghttp2-client)  # the serve soak test's gRPC load generator
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}"
fi

swift build "$@"
