#!/usr/bin/env bash
# Sets everything up and runs the main job on bundled inputs: the aws-basics
# policy pack (its venv is created from PyPI on first use) against an exported
# AWS stack. Exit code 1 means the pack found mandatory violations, as it should here.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .build/debug/policy-host analyze Fixtures/stacks/aws-webshop.json --policy-pack Fixtures/packs/aws-basics "$@"
