#!/usr/bin/env bash
# Build the documentation into docs/_build/html: set up .venv with the docs extras, then run
# sphinx-build, treating warnings as errors. Extra arguments go to sphinx-build, e.g.
#   bash scripts/docs.sh -D plot_gallery=0    # quick build: the gallery examples are not run
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh docs
exec .venv/bin/python -m sphinx -b html -W --keep-going "$@" docs docs/_build/html
