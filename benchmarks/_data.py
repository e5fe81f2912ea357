"""Data loading shared by the benchmark scripts.

:func:`load_dataset` reads the MNIST images from a folder of gzipped idx files
(``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz``, as in
``shared/data/mnist``), or falls back to scikit-learn's 8x8 digits without a path.
"""

import gzip
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

#: File names looked for in an MNIST folder, first match wins.
MNIST_FILES = {
    "images": ["t10k-images-idx3-ubyte.gz", "train-images-idx3-ubyte.gz"],
    "labels": ["t10k-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte.gz"],
}


def read_idx(path):
    """Read a (possibly gzipped) idx file into a numpy array of its declared shape."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise ValueError(f"{path} is not an idx file of unsigned bytes.")
    n_dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(n_dims))
    values = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * n_dims)
    if values.size != int(np.prod(shape)):
        raise ValueError(f"{path} holds {values.size} values, its header says {shape}.")
    return values.reshape(shape)


def load_mnist(path):
    """MNIST images as ``(n_samples, 784)`` floats in [0, 1], and their labels."""
    folder = Path(path)
    found = {}
    for kind, names in MNIST_FILES.items():
        for name in names:
            if (folder / name).exists():
                found[kind] = folder / name
                break
        else:
            raise FileNotFoundError(f"No MNIST {kind} file ({' or '.join(names)}) in {folder}.")
    images = read_idx(found["images"])
    labels = read_idx(found["labels"])
    X = images.reshape(len(images), -1).astype(np.float32) / 255.0
    return X, labels.astype(np.int64)


def load_dataset(path=None, random_state=0):
    """Train/test split of MNIST (from ``path``) or, when ``path`` is None, of digits.

    MNIST is split 8000/2000 (of the 10,000 test-set images); digits 80/20. Pixel
    values are scaled to [0, 1].

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray
    """
    if path is None:
        digits = load_digits()
        X, y = digits.data.astype(np.float32) / 16.0, digits.target
        test_size = 0.2
    else:
        X, y = load_mnist(path)
        X, y = X[:10000], y[:10000]
        test_size = 2000 if len(X) >= 10000 else 0.2
    return train_test_split(X, y, test_size=test_size, random_state=random_state)
