"""Inference in chunks: how ``transform``, ``inverse_transform`` and the scores run a
fitted network over any number of rows, with bounded memory, a check of every chunk, and
codes of a row that do not depend on the other rows of the call."""

import math

import numpy as np
import scipy.sparse as sp
import torch

from ._runtime import adapt_threads, compute_settings
from ._validation import _copy_to_float32, check_float32_range

#: Rows per forward pass on the CPU in ``transform``, ``inverse_transform`` and scoring.
#: Memory stays bounded whatever the number of samples, and the last chunk is
#: zero-padded to this size: every row then goes through matrix products of the same
#: shape, so a sample's codes do not depend on which other samples share its call
#: (float32 matrix kernels may sum in a different order for a different number of rows).
#: The padding sets the cost of a small call; docs/performance_notes.md ("transform") has the
#: measurements behind the size.
INFERENCE_BATCH_SIZE = 512
#: Rows per forward pass on a GPU, where each chunk also pays for transfers and a
#: synchronisation: larger chunks keep those per row small.
CUDA_INFERENCE_BATCH_SIZE = 2048


def batched(estimator, fn, X, dtype, draws=1, samples=True, conditions=None):
    """Apply ``fn`` (tensor -> tensor) to ``X`` in batches, without autograd.

    Returns a numpy array of ``dtype``. Memory beyond the output is bounded by
    :data:`INFERENCE_BATCH_SIZE` rows (:data:`CUDA_INFERENCE_BATCH_SIZE` on a GPU).
    ``fn`` that runs its network on ``draws`` rows per sample (the VAE's scores
    decode several draws of ``z`` per sample) gets chunks ``draws`` times smaller,
    so that its matrix products keep that size and a small call stays cheap.
    Each chunk of ``X`` is checked once converted to float32, where NaN, infinity
    and values beyond the float32 range all show as non-finite;
    :func:`check_float32_range` then says which, for all of ``X``. When ``X`` holds
    ``samples`` (not codes) and the model's objective needs data in [0, 1]
    (:meth:`_bernoulli_input`), values outside it give one warning per call.
    ``conditions`` (a float32 array with a row per row of ``X``) are appended to each
    chunk's rows after its checks: ``fn`` then gets rows as a conditional model's
    network takes them.
    """
    n_samples = X.shape[0]
    cuda = estimator.device_.startswith("cuda")
    size = CUDA_INFERENCE_BATCH_SIZE if cuda else INFERENCE_BATCH_SIZE
    size = max(1, size // draws)
    out = None
    batch = torch.empty((size, *X.shape[1:]), dtype=torch.float32)  # reused per chunk
    check_unit = samples and estimator._bernoulli_input()
    allow_nan = samples and estimator._allows_nan()
    low, high = 0.0, 1.0
    with torch.no_grad(), compute_settings(estimator.n_jobs):
        for start in range(0, n_samples, size):
            adapt_threads()
            chunk = X[start : start + size]
            if sp.issparse(chunk):
                chunk = chunk.toarray()
            n_rows = len(chunk)
            rows = batch[:n_rows]
            _copy_to_float32(rows, chunk)  # beyond float32: inf, refused below
            if allow_nan:
                # missing values pass: only infinity (and the range) is checked
                finite = not bool(torch.isinf(rows).any())
                if check_unit and finite:
                    chunk_low = float(torch.nan_to_num(rows, nan=math.inf).min())
                    chunk_high = float(torch.nan_to_num(rows, nan=-math.inf).max())
                    low, high = min(low, chunk_low), max(high, chunk_high)
            elif check_unit:
                # one pass gives the range, and rules out NaN and infinity with it
                extremes = torch.aminmax(rows)
                chunk_low, chunk_high = float(extremes.min), float(extremes.max)
                finite = math.isfinite(chunk_low) and math.isfinite(chunk_high)
                low, high = min(low, chunk_low), max(high, chunk_high)
            else:
                # a finite sum (one fast pass) rules out NaN and infinity
                finite = bool(torch.isfinite(rows.sum()))
            if not finite and (allow_nan or not torch.isfinite(rows).all()):
                # raises, naming the problem (a sum can overflow on finite values)
                check_float32_range(X, "X", estimator, allow_nan=allow_nan)
            batch[n_rows:] = 0
            inputs = batch
            if conditions is not None:
                inputs = torch.zeros((size, conditions.shape[1]), dtype=torch.float32)
                inputs[:n_rows] = torch.from_numpy(conditions[start : start + size])
                inputs = torch.cat([batch, inputs], dim=1)
            result = fn(inputs.to(estimator.device_))[:n_rows].cpu().numpy()
            if not np.isfinite(result).all():
                raise ValueError(
                    f"{type(estimator).__name__} produced non-finite values for rows "
                    f"{start} to {start + n_rows - 1}: their values are too large for "
                    "the network. Scale the data as for training."
                )
            if out is None:
                out = np.empty((n_samples, *result.shape[1:]), dtype=dtype)
            out[start : start + n_rows] = result
    if low < 0 or high > 1:
        estimator._warn_outside_unit_interval(low, high)
    return out
