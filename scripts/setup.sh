#!/usr/bin/env bash
# Set up .venv for skautoenc: the CPU build of torch first, then skautoenc with the extras
# named in $1 (e.g. "demo" or "tests"). Safe to run again: it only adds what is missing,
# and says what it does at each step.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python="${PYTHON:-python3}"
step() { echo "[setup] $*"; }

if [ ! -x .venv/bin/python ]; then
  step "creating the virtual environment .venv ($("$python" --version))"
  "$python" -m venv .venv
else
  step "using the virtual environment .venv"
fi
pip=(.venv/bin/python -m pip install --disable-pip-version-check)

# A bare "torch" requirement would pull a CUDA build of several GB: install the CPU build
# first, from a local CPU wheel where the machine carries one (pip's find-links), or else
# from PyPI's neighbour, PyTorch's CPU index. pip shows its progress: the download of
# torch, where there is one, is the long part of the set-up.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  step "installing the CPU build of torch (about 200 MB where it is downloaded)"
  "${pip[@]}" --progress-bar on "torch==2.13.0+cpu" 2>/dev/null \
    || "${pip[@]}" --progress-bar on torch --index-url https://download.pytorch.org/whl/cpu
else
  step "torch $(.venv/bin/python -c 'import torch; print(torch.__version__)') is installed"
fi

step "installing skautoenc${extras:+ with the extras [$extras]} and its dependencies"
"${pip[@]}" --quiet -e ".${extras:+[$extras]}"
step "done: .venv is ready"
