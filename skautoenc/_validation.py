"""Checks of the data given to an estimator: finiteness and the float32 range the networks
compute in, [0, 1] for a Bernoulli objective, memory maps; the conversion to float32; and,
with ``missing_values=np.nan``, the fill values and rows with nothing observed; and the
imputer's placeholder test and mask (:func:`is_nan`, :func:`missing_mask`)."""

import math
import mmap
from dataclasses import dataclass
from numbers import Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.validation import assert_all_finite


def is_nan(value):
    """Whether ``value`` is a NaN number (``np.nan``, ``float("nan")``, a numpy NaN): the
    placeholder test of scikit-learn's imputers, without their private helper."""
    return isinstance(value, Real) and math.isnan(value)


def missing_mask(X, missing_values):
    """Where the dense numeric array ``X`` holds ``missing_values`` (NaN or a number)."""
    return np.isnan(X) if is_nan(missing_values) else X == missing_values


def value_range(X):
    """``(min, max)`` of a dense array or a sparse matrix (implicit zeros included).

    NaN (a missing value, where the estimator accepts them) is left out; the range of
    values that are all NaN is ``(nan, nan)``.
    """
    values = X.data if sp.issparse(X) else X
    values = values if values.size else np.zeros(1)
    # reduce over every axis in place: ravel() would copy a non-contiguous array
    low = float(np.fmin.reduce(values, axis=None))
    high = float(np.fmax.reduce(values, axis=None))
    if sp.issparse(X) and X.nnz < np.prod(X.shape):
        low, high = np.fmin(low, 0.0), np.fmax(high, 0.0)
    return float(low), float(high)


def in_unit_interval(X):
    """Whether every value of ``X`` (dense or sparse) lies in [0, 1]."""
    low, high = value_range(X)
    return low >= 0 and high <= 1


def check_unit_interval(facts, objective, alternative):
    """Refuse data outside [0, 1] for a Bernoulli ``objective``, from their
    :class:`DataFacts` (checked for NaN, infinity and the float32 range already).

    The error names the range of the data and suggests ``alternative``.
    """
    low, high = facts.low, facts.high
    if not facts.unit_interval:
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


def check_float32_range(X, name, estimator=None, allow_nan=False):
    """Refuse NaN, infinity, and values that float32 (the networks' precision) overflows.

    One pass of ``max`` and one of ``min`` over the values: a NaN or an infinity shows
    in them, and only then does scikit-learn's finiteness check run, for its message
    (with its hint at imputers when ``estimator`` names the estimator). With
    ``allow_nan`` (``missing_values=np.nan``), NaN passes and infinity is still refused.
    """
    values = X.data if sp.issparse(X) else X
    if not values.size:
        return X
    if allow_nan:  # value_range leaves NaN out; all NaN gives NaN, and nothing to refuse
        low, high = value_range(X)
        magnitude = 0.0 if np.isnan(high) else max(high, -low)
    else:
        magnitude = max(values.max(), -values.min())  # no temporary copy, unlike abs()
    if not np.isfinite(magnitude):
        try:
            assert_all_finite(
                values,
                allow_nan=allow_nan,
                input_name=name,
                estimator_name=None if estimator is None else type(estimator).__name__,
            )
        except ValueError as exc:
            if estimator is None or allow_nan or not np.isnan(values).any():
                raise
            # scikit-learn's message names imputers; skautoenc can also learn with NaN
            cls = type(estimator).__name__
            raise ValueError(
                f"{exc}\n{cls} refuses NaN by default (missing_values=None). To learn "
                f"from the observed entries instead, treating NaN as missing values, use "
                f"{cls}(missing_values=np.nan)."
            ) from None
    limit = np.finfo(np.float32).max
    if magnitude > limit:
        raise ValueError(
            f"{name} holds values of magnitude up to {magnitude:.3g}, beyond the "
            f"float32 range ({limit:.3g}) the networks compute in. Scale the data first "
            "(e.g. with sklearn.preprocessing.StandardScaler)."
        )
    return X


@dataclass(frozen=True)
class DataFacts:
    """What ``fit`` needs to know about its validated training data, from one pass.

    ``low`` and ``high`` are the smallest and largest values, missing values (NaN) left
    out: both NaN when every entry is missing.
    """

    n_samples: int
    n_features: int
    low: float
    high: float

    @property
    def unit_interval(self):
        """Whether every observed value lies in [0, 1]."""
        return self.low >= 0 and self.high <= 1

    @property
    def all_missing(self):
        """Whether no entry is observed (with missing values allowed)."""
        return math.isnan(self.high)


def check_training_data(X, estimator, allow_nan=False):
    """Check validated training data and return its :class:`DataFacts`.

    The range of ``X`` is computed once (a ``min`` and a ``max`` over the values): NaN
    (where ``allow_nan`` is False), infinity and values beyond float32 show in it and
    get the messages of :func:`check_float32_range`.
    """
    values = X.data if sp.issparse(X) else X
    if allow_nan or not values.size:
        low, high = value_range(X)
    else:
        low, high = float(values.min()), float(values.max())
        if sp.issparse(X) and X.nnz < math.prod(X.shape):
            low, high = min(low, 0.0), max(high, 0.0)
    magnitude = max(abs(low), abs(high))
    if not math.isnan(high) or not allow_nan:
        # a Python float against the float32 limit as a Python float: numpy would cast
        # the magnitude to float32 for the comparison, and warn of the overflow
        if not math.isfinite(magnitude) or magnitude > float(np.finfo(np.float32).max):
            check_float32_range(X, "X", estimator, allow_nan=allow_nan)
    return DataFacts(X.shape[0], X.shape[1], low, high)


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


# ------------------------------------------------------------------ missing values
def observed_sums(X, chunk_rows=4096):
    """The sum of each feature's observed (not NaN) values, and their number: the fill
    values of missing data are their ratio. Dense arrays and memory maps are read
    ``chunk_rows`` rows at a time; in a sparse matrix the implicit zeros are observed
    zeros."""
    n_samples, n_features = X.shape
    totals = np.zeros(n_features)
    counts = np.zeros(n_features)
    for start in range(0, n_samples, chunk_rows):
        chunk = X[start : start + chunk_rows]
        chunk = chunk.toarray() if sp.issparse(chunk) else np.asarray(chunk)
        missing = np.isnan(chunk)
        totals += np.where(missing, 0.0, chunk).sum(axis=0)
        counts += (~missing).sum(axis=0)
    return totals, counts


def check_rows_observed(X):
    """Refuse rows of ``X`` whose every entry is missing (NaN): there is nothing to score
    them on."""
    empty = all_missing_rows(X)
    if len(empty):
        raise ValueError(
            f"Rows {empty[:10].tolist()}{' ...' if len(empty) > 10 else ''} of X have no "
            "observed entry: there is nothing to score them on."
        )


def all_missing_rows(X):
    """Indices of the rows of ``X`` whose every entry is NaN."""
    if sp.issparse(X):
        X = X.tocsr()
        rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        nan_counts = np.bincount(rows, weights=np.isnan(X.data), minlength=X.shape[0])
        return np.flatnonzero(nan_counts == X.shape[1])
    return np.flatnonzero(np.isnan(X).all(axis=1))

