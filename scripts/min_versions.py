"""Print the pins of the minimum-versions test environment: ``name==lower bound`` for each
dependency of pyproject.toml whose lower bound can be installed here.

torch is left out: the CPU builds of its older releases are on PyTorch's own index,
which this project's CI cannot reach, and PyPI's are CUDA builds of several GB. The
environment keeps the CPU build of torch that scripts/setup.sh installs (README.md,
"Supported versions", says which releases are tested).
"""

import re
import sys
from pathlib import Path

UNTESTABLE = {"torch"}


def lower_bounds(pyproject):
    """``{name: version}`` of each ``name>=version`` in ``[project] dependencies``."""
    text = Path(pyproject).read_text()
    block = re.search(r"^dependencies = \[(.*?)^\]", text, flags=re.S | re.M).group(1)
    return dict(re.findall(r'"([A-Za-z0-9_.-]+)>=([0-9][0-9.]*)', block))


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    pyproject = args[0] if args else Path(__file__).resolve().parents[1] / "pyproject.toml"
    pins = [f"{name}=={version}" for name, version in lower_bounds(pyproject).items()
            if name not in UNTESTABLE]
    print(" ".join(pins))


if __name__ == "__main__":
    main()
