"""The idx readers, on files written here (nothing is downloaded)."""

import gzip
import struct

import numpy as np
import pytest

from skautoenc.datasets import load_idx, load_mnist


def write_idx(path, array, compress=True):
    header = struct.pack(">HBB", 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("compress", [True, False])
def test_load_idx_round_trip(tmp_path, compress):
    array = np.random.default_rng(0).integers(0, 256, size=(5, 3, 4))
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    write_idx(path, array, compress)
    np.testing.assert_array_equal(load_idx(path), array)


def test_load_idx_rejects_other_files(tmp_path):
    (tmp_path / "x").write_bytes(b"not an idx file")
    with pytest.raises(ValueError, match="not an idx file"):
        load_idx(tmp_path / "x")
    write_idx(tmp_path / "short", np.zeros((4, 2)), compress=False)
    (tmp_path / "short").write_bytes((tmp_path / "short").read_bytes()[:-3])
    with pytest.raises(ValueError, match="header says"):
        load_idx(tmp_path / "short")


def test_load_mnist(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(7, 28, 28))
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(7), compress=False)
    X, y = load_mnist(tmp_path)
    assert X.shape == (7, 784) and X.dtype == np.float64
    np.testing.assert_allclose(X[2], images[2].ravel() / 255.0)
    np.testing.assert_array_equal(y, np.arange(7))
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path, kind="train")
