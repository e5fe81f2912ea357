#!/usr/bin/env bash
# CI: the test suite against the oldest releases of numpy, scipy, scikit-learn and skorch
# that pyproject.toml declares (scripts/min_versions.py reads them), in .venv-min.
# A subset, to fit CI's time with the main run: everything but the scripts' smoke runs
# (benchmarks, examples, demo, README), the torchrun and Dask jobs, and the docs' figure
# check, which test skautoenc's own code rather than its dependencies' versions.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { echo "[min-versions] $*"; }
python="${PYTHON:-python3}"
if [ ! -x .venv-min/bin/python ]; then
  step "creating .venv-min ($("$python" --version))"
  "$python" -m venv .venv-min
fi
pip=(.venv-min/bin/python -m pip install --disable-pip-version-check --quiet)
bash scripts/install_torch.sh .venv-min/bin/python --quiet
pins=$(.venv-min/bin/python scripts/min_versions.py)
step "installing $pins and skautoenc[tests]"
"${pip[@]}" $pins -e ".[tests]"
.venv-min/bin/python - <<'PY'
import importlib.metadata as md
names = ["numpy", "scipy", "scikit-learn", "skorch", "torch"]
print("[min-versions] testing with " + ", ".join(f"{n} {md.version(n)}" for n in names))
PY
.venv-min/bin/python -m pytest -q -p no:cacheprovider \
  --ignore=tests/test_benchmarks.py --ignore=tests/test_bench_scale.py \
  --ignore=tests/test_examples.py --ignore=tests/test_demo.py \
  --ignore=tests/test_readme.py --ignore=tests/test_docs_figures.py \
  --ignore=tests/test_distributed.py --ignore=tests/test_dask.py "$@"
