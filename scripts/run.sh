#!/usr/bin/env bash
# Set up what is missing, then run the whole platform on the embedded default (demo data on first run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/huitong serve "$@"
