"""Input corruption for denoising autoencoders.

Each function returns a corrupted copy of a float tensor ``X`` of shape
``(n_samples, n_features)`` and never changes ``X`` itself. Randomness is drawn from
torch's global generator, which the estimators seed inside a forked RNG during ``fit``.
Entries are corrupted independently of each other, so the fractions below are
expectations, not exact counts. The fractions are drawn with 16 random bits an entry
(:func:`random_bits`, :func:`drawn`), so a fraction counts in steps of ``2 ** -16``.

The statistics, for a clean entry ``x`` and its corrupted version ``x~``:

``"gaussian"`` (:func:`gaussian_noise`), ``noise_level`` = ``sigma``
    ``x~ = x + e`` with ``e ~ N(0, sigma ** 2)``: ``E[x~ - x] = 0``,
    ``Var[x~ - x] = sigma ** 2`` and every entry changes. With bounds (data in [0, 1]
    and ``clip=True``), ``x~`` is then clipped to ``[0, 1]``; clipping pulls the
    noise towards the inside of the interval, so its mean is no longer 0 near the
    bounds: for ``x`` in [0, 1], with ``a = -x / sigma`` and ``b = (1 - x) / sigma``,
    ``E[x~] = x (Phi(b) - Phi(a)) + sigma (phi(a) - phi(b)) + 1 - Phi(b)`` (``phi``,
    ``Phi``: standard normal density and distribution function), e.g. about
    ``0.4 sigma`` for ``x = 0`` and small ``sigma``. Entries change unless clipped
    back to the value they had (possible only at 0 and 1).
``"masking"`` (:func:`masking_noise`), ``noise_level`` = ``p``
    With probability ``p``, ``x~ = 0``; otherwise ``x~ = x``. ``E[x~] = (1 - p) x``;
    a fraction ``p`` of the entries is set to 0 (entries that already are 0 stay
    unchanged).
``"salt_and_pepper"`` (:func:`salt_and_pepper_noise`), ``noise_level`` = ``p``
    With probability ``p / 2``, ``x~ = low`` (pepper); with probability ``p / 2``,
    ``x~ = high`` (salt); otherwise ``x~ = x``. ``E[x~] = (1 - p) x + p (low + high) / 2``;
    a fraction ``p`` of the entries is replaced, half of them by ``low`` and half by
    ``high``. ``low`` and ``high`` are per-feature values: 0 and 1 for data in [0, 1],
    otherwise each feature's minimum and maximum on the training data.
``"missing"`` (:func:`missing_noise`), ``noise_level`` = ``p``
    With probability ``p``, ``x~`` is missing (NaN); otherwise ``x~ = x``. The network
    then sees a deleted entry exactly as it sees a missing value of the data (for an
    estimator with ``missing_values=np.nan``: its feature's fill value), so that what it
    learns to recover is what it will be asked to fill. With deletion groups (the
    imputer's ``correlated_deletion``), a fraction of the rows instead loses a group of
    correlated features (:func:`group_missing_noise`).

A ``noise_level`` may also be a range ``(low, high)``: each row of each minibatch then
gets its own level, drawn uniformly from it (:func:`row_levels`), and the statistics
above hold row by row, at that row's level. The functions below take either a number
(one level for every entry) or a tensor of shape ``(n_samples, 1)`` (one per row).

References
----------
P. Vincent, H. Larochelle, Y. Bengio and P.-A. Manzagol, "Extracting and composing
robust features with denoising autoencoders", ICML 2008.
P. Vincent et al., "Stacked denoising autoencoders", JMLR 11, 3371-3408, 2010
(section 4.2 for the three noise types).
"""

import numpy as np
import torch
from sklearn.utils import check_random_state

NOISE_TYPES = ("gaussian", "masking", "salt_and_pepper", "missing")

#: Noise types whose ``noise_level`` is a fraction of entries (so at most 1).
FRACTION_NOISE_TYPES = ("masking", "salt_and_pepper", "missing")


def row_levels(X, level_range):
    """One noise level per row of ``X``, uniform over ``level_range`` (a pair): a float
    tensor of shape ``(n_samples, 1)``, on ``X``'s device."""
    low, high = level_range
    u = torch.rand((X.shape[0], 1), device=X.device, dtype=X.dtype)
    return low + (high - low) * u


def gaussian_noise(X, std, low=None, high=None):
    """Add ``N(0, std ** 2)`` to every entry, then clip to ``[low, high]`` if given.

    ``std`` is a number or a tensor of shape ``(n_samples, 1)`` (one per row).
    ``low`` and ``high`` are scalars or tensors broadcastable to ``X`` (one value per
    feature); pass both or neither.
    """
    noisy = X + std * torch.randn_like(X)
    if low is not None:
        noisy = torch.maximum(torch.minimum(noisy, high), low)
    return noisy


def random_bits(X):
    """16 random bits per entry of ``X``: an int16 tensor of its shape, on its device,
    each entry uniform over its 65,536 values, independently (see :func:`drawn`).

    Four entries share one 64-bit draw, which on a CPU takes a quarter of the time of
    ``torch.rand_like`` (0.23 against 0.9 ms for 128 x 784 entries): the uniform floats
    were about 15% of a denoising autoencoder's training step.
    """
    n = X.numel()
    # from -2**63: all 64 bits random (random_() alone leaves the sign bit 0)
    words = torch.empty((n + 3) // 4, dtype=torch.int64, device=X.device)
    words.random_(-(2**63), None)
    return words.view(torch.int16)[:n].view(X.shape)


def drawn(bits, fraction):
    """Where the :func:`random_bits` ``bits`` fall below ``fraction``: each entry True
    with probability ``fraction`` rounded to a multiple of ``2 ** -16``.

    ``fraction`` is a number, or a float tensor that broadcasts against ``bits`` (one
    fraction per row: shape ``(n_samples, 1)``).
    """
    if torch.is_tensor(fraction):
        # int32 thresholds: a fraction of 1 is 32768, outside int16's range
        thresholds = (fraction.clamp(0.0, 1.0) * 65536).round().to(torch.int32) - 32768
        return bits < thresholds
    threshold = round(min(max(fraction, 0.0), 1.0) * 65536) - 32768
    if threshold > 32767:  # always: the threshold is out of int16's range
        return torch.ones(bits.shape, dtype=torch.bool, device=bits.device)
    return bits < threshold


def masking_noise(X, fraction):
    """Set each entry to 0 with probability ``fraction``, independently."""
    keep = ~drawn(random_bits(X), fraction)
    return X * keep


def missing_noise(X, fraction):
    """Make each entry missing (NaN) with probability ``fraction``, independently."""
    return X.masked_fill(drawn(random_bits(X), fraction), float("nan"))


#: :func:`correlated_groups` estimates the correlations from at most this many rows ...
MAX_CORRELATION_ROWS = 10_000
#: ... and keeps at most this many features per group.
MAX_GROUP_SIZE = 1024


def correlated_groups(X, fraction, random_state=None):
    """For each feature, the features most correlated with it: the deletion groups.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training data, NaN where missing. Correlations are computed over the rows where
        both features are observed (from at most :data:`MAX_CORRELATION_ROWS` rows,
        drawn with ``random_state``).
    fraction : float
        Features per group, as a fraction of the features that vary (at least 1, at
        most :data:`MAX_GROUP_SIZE`).
    random_state : int, RandomState instance or None
        Draws the rows, where there are more than :data:`MAX_CORRELATION_ROWS`.

    Returns
    -------
    groups : ndarray of shape (n_features, n_group)
        Row ``j``: feature ``j`` first, then the others by decreasing correlation with
        it. Features that do not vary are in no group but their own: ``n_group`` is at
        most the number of features that vary.
    seeds : ndarray of int
        The features that vary, from which groups are drawn; empty if none does.
    """
    if len(X) > MAX_CORRELATION_ROWS:
        rows = check_random_state(random_state).choice(len(X), MAX_CORRELATION_ROWS, False)
        X = X[np.sort(rows)]
    observed = ~np.isnan(X)
    weights = observed.astype(np.float64)
    counts = np.maximum(weights.sum(axis=0), 1)
    Z = np.where(observed, X, 0.0)
    Z = np.where(observed, Z - Z.sum(axis=0) / counts, 0.0)
    std = np.sqrt((Z**2).sum(axis=0) / counts)
    varying = std > 0
    Z[:, varying] /= std[varying]
    seeds = np.flatnonzero(varying)
    n_features = X.shape[1]
    size = int(max(1, min(round(fraction * len(seeds)), MAX_GROUP_SIZE)))
    groups = np.empty((n_features, size), dtype=np.int64)
    for start in range(0, n_features, 256):
        stop = min(start + 256, n_features)
        corr = (Z[:, start:stop].T @ Z) / np.maximum(weights[:, start:stop].T @ weights, 1)
        corr[:, ~varying] = -np.inf
        corr[np.arange(stop - start), np.arange(start, stop)] = np.inf  # itself first
        top = np.argpartition(-corr, size - 1, axis=1)[:, :size]
        order = np.argsort(-np.take_along_axis(corr, top, axis=1), axis=1, kind="stable")
        groups[start:stop] = np.take_along_axis(top, order, axis=1)
    return groups, seeds


def group_missing_noise(X, fraction, groups, seeds, group_rows):
    """:func:`missing_noise`, except that each row, with probability ``group_rows``,
    instead loses a group of correlated features: a feature drawn from ``seeds`` and the
    first ``k`` features of its row of ``groups``, ``k`` uniform in 1 to ``groups.shape[1]``
    (see :func:`correlated_groups`)."""
    missing = drawn(random_bits(X), fraction)
    in_group = torch.rand(len(X), device=X.device) < group_rows
    n_rows = int(in_group.sum())
    if n_rows and len(seeds):
        size = groups.shape[1]
        first = seeds[torch.randint(len(seeds), (n_rows,), device=X.device)]
        k = torch.randint(1, size + 1, (n_rows, 1), device=X.device)
        chosen = torch.arange(size, device=X.device) < k
        group_mask = torch.zeros((n_rows, X.shape[1]), dtype=torch.bool, device=X.device)
        missing[in_group] = group_mask.scatter_(1, groups[first], chosen)
    return X.masked_fill(missing, float("nan"))


def salt_and_pepper_noise(X, fraction, low, high):
    """Replace each entry with probability ``fraction``: by ``low`` or ``high``, 1/2 each.

    ``low`` and ``high`` are scalars or tensors broadcastable to ``X`` (one value per
    feature).
    """
    bits = random_bits(X)
    pepper = drawn(bits, fraction / 2)
    salt = drawn(bits, fraction) & ~pepper
    low = torch.as_tensor(low, dtype=X.dtype, device=X.device).expand_as(X)
    high = torch.as_tensor(high, dtype=X.dtype, device=X.device).expand_as(X)
    return torch.where(salt, high, torch.where(pepper, low, X))


class Corruption:
    """A picklable corruption ``X -> X~`` with fixed settings, as a skorch net holds it.

    Parameters
    ----------
    noise : {"gaussian", "masking", "salt_and_pepper", "missing"}
        The noise type (see the module docstring for its statistics).
    noise_level : float or pair of floats
        Standard deviation for ``"gaussian"``; fraction of corrupted entries for
        ``"masking"``, ``"salt_and_pepper"`` and ``"missing"``. A pair ``(low, high)``:
        each row's level is drawn uniformly from ``[low, high]`` at every call.
    low, high : ndarray of shape (n_features,)
        Per-feature pepper and salt values; for ``"gaussian"`` with ``clip=True``,
        the clipping bounds.
    clip : bool
        Whether gaussian-corrupted input is clipped to ``[low, high]``.
    groups, seeds : ndarray of int or None
        For ``"missing"``: deletion groups and the features they are drawn from, from
        :func:`correlated_groups`.
    group_rows : float
        For ``"missing"`` with ``groups``: the fraction of rows that lose a group
        instead of scattered entries (:func:`group_missing_noise`).
    """

    def __init__(
        self, noise, noise_level, low, high, clip=False, groups=None, seeds=None, group_rows=0.0
    ):
        if noise not in NOISE_TYPES:
            raise ValueError(f"noise must be one of {NOISE_TYPES}, got {noise!r}.")
        self.noise = noise
        if np.ndim(noise_level):
            self.noise_level = tuple(float(level) for level in noise_level)
        else:
            self.noise_level = float(noise_level)
        self.low = torch.as_tensor(low, dtype=torch.float32)
        self.high = torch.as_tensor(high, dtype=torch.float32)
        self.clip = bool(clip)
        self.group_rows = float(group_rows) if groups is not None else 0.0
        self.groups = None if groups is None else torch.as_tensor(groups, dtype=torch.long)
        self.seeds = None if seeds is None else torch.as_tensor(seeds, dtype=torch.long)

    def __call__(self, X):
        level = self.noise_level
        if isinstance(level, tuple):
            if level[1] == 0:
                return X
            level = row_levels(X, level) if level[0] < level[1] else level[0]
        elif level == 0:
            return X
        low = self.low.to(device=X.device, dtype=X.dtype)
        high = self.high.to(device=X.device, dtype=X.dtype)
        if self.noise == "gaussian":
            if self.clip:
                return gaussian_noise(X, level, low, high)
            return gaussian_noise(X, level)
        if self.noise == "masking":
            return masking_noise(X, level)
        if self.noise == "missing" and self.group_rows > 0:
            return group_missing_noise(
                X,
                level,
                self.groups.to(X.device),
                self.seeds.to(X.device),
                self.group_rows,
            )
        if self.noise == "missing":
            return missing_noise(X, level)
        return salt_and_pepper_noise(X, level, low, high)

    def __repr__(self):
        return (
            f"{type(self).__name__}(noise={self.noise!r}, noise_level={self.noise_level}, "
            f"clip={self.clip}"
            + (f", group_rows={self.group_rows}" if self.group_rows else "")
            + ")"
        )
