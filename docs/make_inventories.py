"""Write the intersphinx inventories of ``docs/_intersphinx/`` from the installed packages.

The documentation links the names of scikit-learn, numpy, torch, skorch and joblib to
their projects' pages through intersphinx, which reads an inventory (``objects.inv``) per
project. The build must work offline (behind a proxy, on a plane, in CI here), so the
inventories are files of this repository, not downloads. The projects' own inventories
cannot be fetched where these were made, so this script writes them: it lists the public
classes, functions and methods of each installed package and maps each name to its page
by the URL scheme of that project's documentation (one page per object for scikit-learn,
numpy, torch and joblib; one page per module for skorch). Rerun it when a pinned version
changes::

    .venv/bin/python docs/make_inventories.py

A name that the real inventory would hold but these do not simply stays unlinked.
"""

import importlib
import inspect
import pkgutil
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent / "_intersphinx"


def _public(names):
    return [n for n in names if not n.startswith("_")]


def _members(module_name):
    """(qualified name, role, object) of the public classes and functions of a module
    (its ``__all__`` where it has one), and the public methods of its classes."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None) or _public(dir(module))
    for name in _public(names):
        try:
            obj = getattr(module, name, None)
        except ImportError:  # e.g. scikit-learn's experimental estimators
            continue
        if inspect.isclass(obj):
            yield f"{module_name}.{name}", "class", obj
            for attr, value in vars(obj).items():
                if not attr.startswith("_") and callable(value):
                    yield f"{module_name}.{name}.{attr}", "method", value
        elif callable(obj) and not inspect.ismodule(obj):
            yield f"{module_name}.{name}", "function", obj


def _per_object(modules, base):
    """Entries for projects with one page per object: ``base + page + '#' + name``."""
    for module in modules:
        for name, role, _ in _members(module):
            page = name if role != "method" else name.rsplit(".", 1)[0]
            yield name, role, f"{base}{page}.html#$"


def sklearn_entries():
    import sklearn

    modules = ["sklearn"] + [f"sklearn.{m}" for m in sklearn.__all__ if not m[0].isupper()]
    modules = [m for m in modules if _importable(m)]
    yield from _per_object(modules, "modules/generated/")


def numpy_entries():
    yield from _per_object(["numpy", "numpy.random"], "reference/generated/")


def torch_entries():
    entries = _per_object(["torch", "torch.nn", "torch.optim", "torch.nn.functional"],
                          "generated/")
    for name, role, uri in entries:
        if name == "torch.Tensor" or name.startswith("torch.Tensor."):
            uri = "tensors.html#$"
        yield name, role, uri


def skorch_entries():
    import skorch

    for info in pkgutil.iter_modules(skorch.__path__):
        if info.name.startswith("_") or info.name in {"tests", "llm"}:
            continue
        module = f"skorch.{info.name}"
        if not _importable(module):
            continue
        for name, role, obj in _members(module):
            defined_in = getattr(obj, "__module__", "") or ""
            if role != "method" and not defined_in.startswith(module):
                continue  # re-exported: documented where it is defined
            yield name, role, f"{info.name}.html#$"
    yield "skorch.NeuralNet", "class", "net.html#skorch.net.NeuralNet"


def joblib_entries():
    yield from _per_object(["joblib"], "generated/")


def _importable(module):
    try:
        importlib.import_module(module)
    except Exception:  # an optional dependency of that module is missing
        return False
    return True


def write_inventory(path, project, version, entries):
    lines, seen = [], set()
    for name, role, uri in entries:
        if name in seen:
            continue
        seen.add(name)
        lines.append(f"{name} py:{role} 1 {uri} -")
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    body = zlib.compress(("\n".join(sorted(lines)) + "\n").encode())
    path.write_bytes(header.encode() + body)
    print(f"{path.name}: {len(lines)} names")


def main():
    import joblib
    import numpy
    import sklearn
    import skorch
    import torch

    OUT.mkdir(exist_ok=True)
    for key, module, entries in [
        ("sklearn", sklearn, sklearn_entries()),
        ("numpy", numpy, numpy_entries()),
        ("torch", torch, torch_entries()),
        ("skorch", skorch, skorch_entries()),
        ("joblib", joblib, joblib_entries()),
    ]:
        write_inventory(OUT / f"{key}.inv", key, module.__version__, entries)


if __name__ == "__main__":
    main()
