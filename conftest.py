"""Collection rules for the doctests of the package (pytest --doctest-modules)."""

import importlib.util

# skautoenc.onnx needs the optional "onnx" extra (the "tests" extra installs it): without
# skl2onnx and onnxruntime its doctests cannot import, and tests/test_onnx.py skips.
collect_ignore = []
if not all(importlib.util.find_spec(name) for name in ("skl2onnx", "onnxruntime")):
    collect_ignore.append("skautoenc/onnx.py")
