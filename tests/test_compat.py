"""No private name of scikit-learn, skorch or torch outside skautoenc/_compat.py."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skautoenc"
DEPENDENCIES = ("sklearn", "skorch", "torch")


def _private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(source):
    """``(line, what)`` for each private name of a dependency that ``source`` uses: an
    import from a private module or of a private name, or an attribute with a leading
    underscore read from a dependency's module (``torch._C``)."""
    tree = ast.parse(source)
    found, modules = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in DEPENDENCIES:
                    modules.add((alias.asname or alias.name).split(".")[0])
                    if any(_private(part) for part in alias.name.split(".")):
                        found.append((node.lineno, alias.name))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] not in DEPENDENCIES:
                continue
            for alias in node.names:
                if not _private(alias.name):
                    modules.add(alias.asname or alias.name)  # maybe a module
            parts = node.module.split(".")
            private = [a.name for a in node.names if _private(a.name)]
            if any(_private(part) for part in parts) or private:
                found.append((node.lineno, f"{node.module}: {', '.join(private) or '*'}"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in modules:
                found.append((node.lineno, f"{base.id}...{node.attr}"))
    return found


def test_the_checker_finds_each_kind_of_private_use():
    source = (
        "import torch\n"
        "from sklearn.base import _fit_context\n"
        "from sklearn.utils._param_validation import Interval\n"
        "import sklearn.impute._base\n"
        "capability = torch._C._cpu._get_cpu_capability()\n"
        "from sklearn.utils.validation import check_array\n"  # public: not found
    )
    lines = [line for line, _ in private_uses(source)]
    assert sorted(set(lines)) == [2, 3, 4, 5]


@pytest.mark.parametrize(
    "path", sorted(p for p in PACKAGE.rglob("*.py") if p.name != "_compat.py"),
    ids=lambda p: p.name,
)
def test_no_private_name_outside_the_compat_module(path):
    uses = private_uses(path.read_text())
    assert not uses, (
        f"{path.name} uses private names of its dependencies: {uses}. Use a public "
        "equivalent, or import the name in skautoenc/_compat.py, saying where it comes "
        "from and what replaces it when it moves."
    )
