#!/usr/bin/env bash
# Set up .venv for skautoenc: the CPU build of torch first, then skautoenc with the extras
# named in $1 (e.g. "demo" or "tests"). Safe to run again: it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)

# A bare "torch" requirement would pull a CUDA build of several GB: install the CPU build
# first, from a local CPU wheel where the machine carries one (pip's find-links), or else
# from PyPI's neighbour, PyTorch's CPU index.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  "${pip[@]}" "torch==2.13.0+cpu" 2>/dev/null \
    || "${pip[@]}" torch --index-url https://download.pytorch.org/whl/cpu
fi

"${pip[@]}" -e ".${extras:+[$extras]}"
