#!/usr/bin/env bash
# CI: build the sdist and the wheel, check them, install the wheel into a fresh virtual
# environment and run what a new user runs first: the quick demo and the README's
# five-line script. Prints the time of each step.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
step() { echo "[wheel] $*"; }
# timed LABEL COMMAND...: run it, then say how long it took
timed() { local label=$1 start=$SECONDS; shift; "$@"; step "$label: $((SECONDS - start)) s"; }
quietly() { "$@" > /dev/null 2>&1 || { "$@"; return 1; }; }  # its output only if it fails

rm -rf dist .venv-wheel
.venv/bin/python -m pip install --disable-pip-version-check --quiet build twine
timed "build the sdist and the wheel" quietly .venv/bin/python -m build --outdir dist .
.venv/bin/python -m twine check --strict dist/*
.venv/bin/python - <<'PY'
# the wheel holds the package, its metadata and its license, nothing else
import glob, zipfile
names = zipfile.ZipFile(glob.glob("dist/*.whl")[0]).namelist()
stray = [n for n in names if not n.startswith(("skautoenc/", "skautoenc-"))]
assert not stray, f"the wheel holds more than the package: {stray}"
assert any(n.endswith("licenses/LICENSE") for n in names), "no LICENSE in the wheel"
print(f"[wheel] {len(names)} files, the package only")
# and so does the sdist, with the files that build it
import tarfile
members = [m.split("/", 1)[1] for m in tarfile.open(glob.glob("dist/*.tar.gz")[0]).getnames()
           if "/" in m]
allowed = {"skautoenc", "skautoenc.egg-info", "PKG-INFO", "README.md", "LICENSE",
           "CHANGELOG.md", "pyproject.toml", "setup.cfg", "MANIFEST.in"}
stray = [m for m in members if m.split("/")[0] not in allowed]
assert not stray, f"the sdist holds more than the package: {stray}"
print(f"[wheel] sdist: {len(members)} files, the package only")
PY
timed "create a fresh virtual environment" "$python" -m venv .venv-wheel
pip=(.venv-wheel/bin/python -m pip install --disable-pip-version-check --quiet)
timed "install the CPU build of torch" bash scripts/install_torch.sh .venv-wheel/bin/python \
  --quiet
timed "install the wheel" "${pip[@]}" dist/*.whl
timed "skautoenc demo --quick" quietly .venv-wheel/bin/skautoenc demo --quick \
  --output "$(mktemp -d)"
.venv/bin/python - > .venv-wheel/readme_script.py <<'PY'
import re
text = open("README.md").read()
script = re.search(r"<!-- five-line script -->\n```python\n(.*?)```", text, re.S).group(1)
assert len(script.strip().splitlines()) == 5, script
print(script)
PY
(cd .venv-wheel && timed "the README's five-line script" bin/python readme_script.py)
