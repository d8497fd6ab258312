#!/usr/bin/env bash
# Set up what is missing (including test tools and Chromium), then run the whole test suite
# (which includes the ruff lint and the Cypher conformance gate).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
exec .venv/bin/python -m pytest "$@"
