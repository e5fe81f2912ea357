#!/usr/bin/env bash
# Quick start, part 2: set up .venv with the test extras and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh tests
exec .venv/bin/python -m pytest "$@"
