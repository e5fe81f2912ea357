#!/usr/bin/env bash
# CI: build the sdist and the wheel, check them, install the wheel into a fresh virtual
# environment and run what a new user runs first: the quick demo and the README's
# five-line script. Prints the time of each step.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
step() { echo "[wheel] $*"; }
timed() { local start=$SECONDS; "$@"; step "took $((SECONDS - start)) s"; }

rm -rf dist .venv-wheel
step "building the sdist and the wheel"
.venv/bin/python -m pip install --disable-pip-version-check --quiet build twine
timed .venv/bin/python -m build --outdir dist . > /dev/null
.venv/bin/python -m twine check --strict dist/*
.venv/bin/python - <<'PY'
# the wheel holds the package, its metadata and its license, nothing else
import glob, zipfile
names = zipfile.ZipFile(glob.glob("dist/*.whl")[0]).namelist()
stray = [n for n in names if not n.startswith(("skautoenc/", "skautoenc-"))]
assert not stray, f"the wheel holds more than the package: {stray}"
assert any(n.endswith("licenses/LICENSE") for n in names), "no LICENSE in the wheel"
print(f"[wheel] {len(names)} files, the package only")
PY
step "installing the wheel into a fresh virtual environment"
timed "$python" -m venv .venv-wheel
pip=(.venv-wheel/bin/python -m pip install --disable-pip-version-check --quiet)
timed "${pip[@]}" "torch==2.13.0+cpu" 2>/dev/null || timed "${pip[@]}" torch==2.13.0
timed "${pip[@]}" dist/*.whl
step "skautoenc demo --quick"
timed .venv-wheel/bin/skautoenc demo --quick --output "$(mktemp -d)" > /dev/null
step "the README's five-line script"
.venv/bin/python - > .venv-wheel/readme_script.py <<'PY'
import re
text = open("README.md").read()
script = re.search(r"<!-- five-line script -->\n```python\n(.*?)```", text, re.S).group(1)
assert len(script.strip().splitlines()) == 5, script
print(script)
PY
(cd .venv-wheel && timed bin/python readme_script.py)
