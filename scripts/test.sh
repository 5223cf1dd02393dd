#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: unit tests, the embedded
# runtime, and the end-to-end tests that build real venvs from PyPI and compare
# policy-host with the real pulumi_policy gRPC server; then the driver package's
# pytest unit tests against the real SDK (scripts/test-driver.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --build-tests
swift test --skip-build "$@"
scripts/test-driver.sh
