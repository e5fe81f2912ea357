"""Checks of the data given to an estimator: finiteness and the float32 range the networks
compute in, [0, 1] for a Bernoulli objective, memory maps; and the conversion to float32."""

import mmap

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.validation import assert_all_finite


def value_range(X):
    """``(min, max)`` of a dense array or a sparse matrix (implicit zeros included)."""
    if sp.issparse(X):
        values = X.data
        if X.nnz < np.prod(X.shape):
            values = np.append(values, 0)
        return float(values.min()), float(values.max())
    return float(X.min()), float(X.max())


def in_unit_interval(X):
    """Whether every value of ``X`` (dense or sparse) lies in [0, 1]."""
    low, high = value_range(X)
    return low >= 0 and high <= 1


def check_unit_interval(X, objective, alternative):
    """Refuse ``X`` outside [0, 1] for a Bernoulli ``objective``, from one range computation.

    The error names the range of ``X`` and suggests ``alternative``. NaN, infinity and
    values beyond float32 get the messages of :func:`check_float32_range` instead.
    """
    low, high = value_range(X)
    if not (low >= 0 and high <= 1):  # False for NaN too
        check_float32_range(X, "X")
        raise ValueError(
            f"{objective} needs data in [0, 1], but X ranges over [{low:.4g}, {high:.4g}]. "
            f"Scale it with sklearn.preprocessing.MinMaxScaler, or use {alternative}."
        )


def is_memory_mapped(X):
    """Whether ``X`` is (a view of) a memory-mapped file."""
    while X is not None:
        if isinstance(X, np.memmap | mmap.mmap):
            return True
        X = getattr(X, "base", None)
    return False


def check_float32_range(X, name, estimator=None):
    """Refuse NaN, infinity, and values that float32 (the networks' precision) overflows.

    One pass of ``max`` and one of ``min`` over the values: a NaN or an infinity shows
    in them, and only then does scikit-learn's finiteness check run, for its message
    (with its hint at imputers when ``estimator`` names the estimator).
    """
    values = X.data if sp.issparse(X) else X
    if not values.size:
        return X
    magnitude = max(values.max(), -values.min())  # no temporary copy, unlike abs()
    if not np.isfinite(magnitude):
        assert_all_finite(
            values,
            input_name=name,
            estimator_name=None if estimator is None else type(estimator).__name__,
        )
    limit = np.finfo(np.float32).max
    if magnitude > limit:
        raise ValueError(
            f"{name} holds values of magnitude up to {magnitude:.3g}, beyond the "
            f"float32 range ({limit:.3g}) the networks compute in. Scale the data first "
            "(e.g. with sklearn.preprocessing.StandardScaler)."
        )
    return X


def _copy_to_float32(dest, rows):
    """Copy the numpy array ``rows`` into the float32 tensor ``dest`` of the same shape.

    Torch's copy converts on all of torch's threads, several times faster than numpy's
    single-threaded cast; read-only arrays (which torch does not wrap without a warning)
    and negative strides take numpy's. Values beyond the float32 range become infinite.
    """
    if rows.flags.writeable and min(rows.strides, default=0) >= 0:
        dest.copy_(torch.from_numpy(rows))
    else:
        with np.errstate(over="ignore"):
            dest.numpy()[...] = rows
