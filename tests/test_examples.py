"""The gallery examples run, with tiny settings, and draw figures a reader can follow."""

import ast
import gzip
import runpy
import struct
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("plot_*.py"))


@pytest.fixture
def tiny_mode(monkeypatch, tmp_path):
    # the examples use the estimators' default training budget: at most 2 epochs a fit here
    from skautoenc._base import BaseAutoEncoder

    epochs = BaseAutoEncoder._epochs
    monkeypatch.setattr(
        BaseAutoEncoder, "_epochs", lambda self, *args, **kw: min(2, epochs(self, *args, **kw))
    )
    monkeypatch.setenv("SKAUTOENC_EXAMPLE_TINY", "1")
    monkeypatch.delenv("SKAUTOENC_MNIST", raising=False)
    monkeypatch.chdir(tmp_path)  # anything an example writes lands in a temporary folder
    plt.close("all")
    yield
    plt.close("all")


def _plots_data(ax):
    """Whether ``ax`` is a chart (lines, markers, bars), not only a grid of images."""
    return bool(ax.lines or ax.collections or ax.patches)


def _check_figures_are_labelled(name):
    numbers = plt.get_fignums()
    assert numbers, f"{name} draws no figure"
    for number in numbers:
        fig = plt.figure(number)
        titled = any(f.get_suptitle() for f in [fig, *fig.subfigs]) or any(
            ax.get_title() for ax in fig.axes
        )
        assert titled, f"{name}: figure {number} has no title"
        for ax in fig.axes:
            if _plots_data(ax):
                assert ax.get_xlabel() and ax.get_ylabel(), (
                    f"{name}: figure {number} has a chart without axis labels"
                )
                labelled = [a for a in ax.lines + ax.collections + ax.patches
                            if not a.get_label().startswith("_")]
                n_series = len({a.get_label() for a in labelled})
                if n_series > 1:
                    assert ax.get_legend() is not None, (
                        f"{name}: figure {number} shows several series without a legend"
                    )


def test_every_example_is_listed():
    # docs/gallery_order.py imports sphinx_gallery, which the tests do not need: read ORDER
    tree = ast.parse((EXAMPLES_DIR.parent / "docs" / "gallery_order.py").read_text())
    order = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and node.targets[0].id == "ORDER"
    )
    assert len(EXAMPLES) >= 7
    assert sorted(order) == [path.name for path in EXAMPLES]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_runs_and_labels_its_figures(path, tiny_mode):
    runpy.run_path(str(path), run_name="__main__")
    _check_figures_are_labelled(path.name)


def _load_images_source(path):
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "load_images":
            return ast.get_source_segment(path.read_text(), node)
    raise AssertionError(f"{path.name} defines no load_images()")


def _write_idx(path, array):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_examples_read_mnist_idx_files(tmp_path, monkeypatch):
    # every example carries the same small loader, so that each runs on its own
    sources = {path.name: _load_images_source(path) for path in EXAMPLES}
    assert len(set(sources.values())) == 1, "the examples' load_images() differ"

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(30, 28, 28))
    labels = np.arange(30) % 10
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels)
    monkeypatch.setenv("SKAUTOENC_MNIST", str(tmp_path))

    namespace = {}
    exec(  # the imports the examples make for it
        "import os\nfrom sklearn.datasets import load_digits\n"
        "from skautoenc.datasets import load_mnist\n" + next(iter(sources.values())),
        namespace,
    )
    X, y, side = namespace["load_images"]()
    assert side == 28
    assert X.shape == (30, 784) and X.min() >= 0 and X.max() <= 1
    np.testing.assert_allclose(X[3], images[3].ravel() / 255.0)
    np.testing.assert_array_equal(y, labels)

    monkeypatch.delenv("SKAUTOENC_MNIST")
    X, y, side = namespace["load_images"]()
    assert (X.shape, side) == ((1797, 64), 8)


def test_every_example_has_a_tiny_mode():
    for path in EXAMPLES:
        assert 'os.environ.get("SKAUTOENC_EXAMPLE_TINY") == "1"' in path.read_text(), path.name


def test_gallery_hides_the_scaffolding():
    # what only the tests need (the tiny mode, the MNIST switch) stays out of the rendered
    # pages: inside sphinx-gallery's ignore markers
    for path in EXAMPLES:
        shown, hidden = [], False
        for line in path.read_text().splitlines():
            if line.strip() == "# sphinx_gallery_start_ignore":
                hidden = True
            elif line.strip() == "# sphinx_gallery_end_ignore":
                hidden = False
            elif not hidden:
                shown.append(line)
        shown = "\n".join(shown)
        for scaffolding in ("SKAUTOENC_EXAMPLE_TINY", "os.environ", "load_images", "load_mnist"):
            assert scaffolding not in shown, (path.name, scaffolding)
