"""Figures in the docs' prose come from recorded benchmark runs.

Every decimal number in the prose of the pages listed here (code blocks left out) must be
a value of some ``benchmarks/recorded/*.json``, rounded as printed: a ratio or a
difference a page states is one the benchmark recorded, not one worked out by hand. The
results page's tables are generated from that JSON already (``make_tables.py``); this
holds the sentences around them to it too. Pages join the list as their figures are tied
to recorded runs.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORDED = ROOT / "benchmarks" / "recorded"
#: Pages whose every figure comes from a recorded run.
PAGES = [
    "docs/index.rst",
    *(f"docs/user_guide/{name}.rst" for name in (
        "index", "autoencoder", "sparse", "variational", "networks", "outliers",
        "persistence", "deployment", "noise_levels_results", "denoising", "features",
        "imputation", "missing", "scaling", "threads_results", "training",
    )),
    "docs/pretraining_results.md", "docs/benchmark_results.md", "docs/benchmarks.rst",
    "docs/install.rst", "README.md",
]

#: A decimal number, also at the end of a sentence; not a part of a version (``1.6.1``),
#: a name or an identifier (``arXiv:2408.09791``).
_NUMBER = re.compile(r"(?<![\w.:])-?\d+\.\d+(?!\w|\.\w)")


def _values(node):
    if isinstance(node, bool):
        return
    if isinstance(node, int | float):
        yield float(node)
    elif isinstance(node, dict):
        for value in node.values():
            yield from _values(value)
    elif isinstance(node, list):
        for value in node:
            yield from _values(value)


def _recorded_figures():
    """Every number of every recorded run, and its magnitude: prose may state a recorded
    difference of -6.01 as "6.01 points below"."""
    values = {v for path in RECORDED.glob("*.json") for v in _values(json.loads(path.read_text()))}
    return values | {abs(v) for v in values}


def _prose(text):
    """The page without its code: reStructuredText's indented literal blocks, Markdown's
    fenced ones, and inline literals (````dask-ml==2025.1````, ```0.5```: a version or an
    argument, not a figure)."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"``.*?``", "``code``", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "`code`", text)
    kept, skipping = [], False
    for line in text.splitlines():
        if line.strip().startswith((".. code-block::", ".. math::")) or line.endswith("::"):
            skipping = True
            continue
        if skipping and (not line.strip() or line.startswith((" ", "\t"))):
            continue
        skipping = False
        kept.append(line)
    return "\n".join(kept)


def test_a_figure_no_run_recorded_is_caught():
    # the check can fail: a figure typed by hand, at the precision the pages print
    figures = _recorded_figures()
    typed = ["5.607", "0.9326", "-88.58", "0.3109"]
    assert not any(
        any(abs(round(v, len(n.split(".")[1])) - float(n)) < 1e-9 for v in figures)
        for n in typed
    )


def test_figures_are_read_at_the_end_of_a_sentence_and_versions_are_not():
    text = "It reached -21.0. Then 0.95, with scikit-learn 1.6.1 (arXiv:2408.09791)."
    assert _NUMBER.findall(text) == ["-21.0", "0.95"]


@pytest.mark.parametrize("page", PAGES)
def test_every_figure_of_the_page_is_in_a_recorded_run(page):
    figures = _recorded_figures()
    missing = []
    for number in _NUMBER.findall(_prose((ROOT / page).read_text())):
        decimals = len(number.split(".")[1])
        value = float(number)
        if not any(abs(round(v, decimals) - value) < 1e-9 for v in figures):
            missing.append(number)
    assert not missing, f"{page} states figures no recorded run holds: {missing}"


@pytest.mark.parametrize("script, recorded, page", [
    ("bench_defaults.py", ["defaults.json"], "training_results.rst"),
    ("bench_threads.py", ["threads_digits.json", "threads_mnist.json"], "threads_results.rst"),
])
def test_a_generated_results_page_is_what_its_recorded_json_gives(script, recorded, page,
                                                                   tmp_path):
    # the pages a benchmark writes itself (--rst) hold its derived columns (ratios) too:
    # they must be what the recorded JSON regenerates, not an edit or another run
    import subprocess
    import sys

    out = tmp_path / page
    args = [sys.executable, str(ROOT / "benchmarks" / script), "--from-json",
            *(str(RECORDED / name) for name in recorded), "--rst", str(out)]
    if script == "bench_defaults.py":
        args += ["--plot", str(tmp_path / "curves.png")]
    subprocess.run(args, check=True, capture_output=True, cwd=tmp_path)
    assert out.read_text() == (ROOT / "docs" / "user_guide" / page).read_text()
