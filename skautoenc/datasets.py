"""Readers for image data sets stored in the idx format (MNIST and its relatives).

Nothing here downloads anything: point the functions at files you have.
"""

import gzip
from pathlib import Path

import numpy as np

__all__ = ["load_idx", "load_mnist"]


def load_idx(path):
    """Read an idx file of unsigned bytes (optionally gzipped) into an array.

    Parameters
    ----------
    path : str or Path
        An idx file such as ``t10k-images-idx3-ubyte.gz``.

    Returns
    -------
    array : ndarray of uint8
        The values, in the shape the file's header declares.

    Examples
    --------
    >>> import gzip, struct, tempfile, numpy as np
    >>> from skautoenc.datasets import load_idx
    >>> path = tempfile.mkdtemp() + "/labels-idx1-ubyte.gz"
    >>> with gzip.open(path, "wb") as f:
    ...     _ = f.write(struct.pack(">HBBI", 0, 8, 1, 3) + bytes([7, 2, 1]))
    >>> load_idx(path)
    array([7, 2, 1], dtype=uint8)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise ValueError(f"{path} is not an idx file of unsigned bytes.")
    n_dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(n_dims))
    values = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * n_dims)
    if values.size != int(np.prod(shape)):
        raise ValueError(f"{path} holds {values.size} values, its header says {shape}.")
    return values.reshape(shape)


def load_mnist(folder, kind="t10k"):
    """MNIST images and labels from a folder of idx files.

    Parameters
    ----------
    folder : str or Path
        A folder holding ``{kind}-images-idx3-ubyte[.gz]`` and
        ``{kind}-labels-idx1-ubyte[.gz]``.
    kind : {"t10k", "train"}, default="t10k"
        Which of the two MNIST sets to read.

    Returns
    -------
    X : ndarray of shape (n_images, 784)
        Pixel intensities scaled to [0, 1], as float64.
    y : ndarray of shape (n_images,)
        The digits, as int64.
    """
    folder = Path(folder)
    found = {}
    for part, stem in (("images", "images-idx3-ubyte"), ("labels", "labels-idx1-ubyte")):
        candidates = [folder / f"{kind}-{stem}{suffix}" for suffix in (".gz", "")]
        existing = [path for path in candidates if path.exists()]
        if not existing:
            raise FileNotFoundError(
                f"No MNIST {part} file ({candidates[0].name} or {candidates[1].name}) "
                f"in {folder}."
            )
        found[part] = existing[0]
    images = load_idx(found["images"])
    X = images.reshape(len(images), -1).astype(np.float64) / 255.0
    return X, load_idx(found["labels"]).astype(np.int64)
