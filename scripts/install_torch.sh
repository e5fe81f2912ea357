#!/usr/bin/env bash
# Install the CPU build of torch into the environment of the python given ($1), before
# anything that needs torch: a bare "torch" requirement would pull a CUDA build of several
# GB. From a local CPU wheel where the machine carries one (pip's find-links), or else
# from PyTorch's CPU index, within the range pyproject.toml declares (a release outside it
# would make the install of skautoenc replace it with a CUDA build from PyPI). Extra
# arguments go to pip (setup.sh shows pip's progress: the download is the long part).
set -euo pipefail
cd "$(dirname "$0")/.."
python=$1
shift
spec=$(grep -o '"torch[^"]*"' pyproject.toml | tr -d '"')
pip=("$python" -m pip install --disable-pip-version-check "$@")
"${pip[@]}" "torch==2.13.0+cpu" 2>/dev/null \
  || "${pip[@]}" "$spec" --index-url https://download.pytorch.org/whl/cpu
