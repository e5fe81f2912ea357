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

# The CPU build of torch first (scripts/install_torch.sh says why and from where), with
# pip's progress: the download of torch, where there is one, is the long part.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  step "installing the CPU build of torch (about 200 MB where it is downloaded)"
  bash scripts/install_torch.sh .venv/bin/python --progress-bar on
else
  step "torch $(.venv/bin/python -c 'import torch; print(torch.__version__)') is installed"
fi

step "installing skautoenc${extras:+ with the extras [$extras]} and its dependencies"
"${pip[@]}" --quiet -e ".${extras:+[$extras]}"
step "done: .venv is ready"
