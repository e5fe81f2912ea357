#!/usr/bin/env bash
# Quick start, part 1: set up .venv and run the demo (writes demo_output/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh demo
exec .venv/bin/skautoenc demo "$@"
