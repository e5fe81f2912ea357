"""Input corruption for denoising autoencoders.

Each function returns a corrupted copy of a float tensor ``X`` of shape
``(n_samples, n_features)`` and never changes ``X`` itself. Randomness is drawn from
torch's global generator, which the estimators seed inside a forked RNG during ``fit``.
Entries are corrupted independently of each other, so the fractions below are
expectations, not exact counts.

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
    learns to recover is what it will be asked to fill.

References
----------
P. Vincent, H. Larochelle, Y. Bengio and P.-A. Manzagol, "Extracting and composing
robust features with denoising autoencoders", ICML 2008.
P. Vincent et al., "Stacked denoising autoencoders", JMLR 11, 3371-3408, 2010
(section 4.2 for the three noise types).
"""

import torch

NOISE_TYPES = ("gaussian", "masking", "salt_and_pepper", "missing")

#: Noise types whose ``noise_level`` is a fraction of entries (so at most 1).
FRACTION_NOISE_TYPES = ("masking", "salt_and_pepper", "missing")


def gaussian_noise(X, std, low=None, high=None):
    """Add ``N(0, std ** 2)`` to every entry, then clip to ``[low, high]`` if given.

    ``low`` and ``high`` are scalars or tensors broadcastable to ``X`` (one value per
    feature); pass both or neither.
    """
    noisy = X + std * torch.randn_like(X)
    if low is not None:
        noisy = torch.maximum(torch.minimum(noisy, high), low)
    return noisy


def masking_noise(X, fraction):
    """Set each entry to 0 with probability ``fraction``, independently."""
    keep = torch.rand_like(X) >= fraction
    return X * keep


def missing_noise(X, fraction):
    """Make each entry missing (NaN) with probability ``fraction``, independently."""
    return X.masked_fill(torch.rand_like(X) < fraction, float("nan"))


def salt_and_pepper_noise(X, fraction, low, high):
    """Replace each entry with probability ``fraction``: by ``low`` or ``high``, 1/2 each.

    ``low`` and ``high`` are scalars or tensors broadcastable to ``X`` (one value per
    feature).
    """
    u = torch.rand_like(X)
    half = fraction / 2
    low = torch.as_tensor(low, dtype=X.dtype, device=X.device).expand_as(X)
    high = torch.as_tensor(high, dtype=X.dtype, device=X.device).expand_as(X)
    noisy = torch.where(u < half, low, X)
    return torch.where((u >= half) & (u < fraction), high, noisy)


class Corruption:
    """A picklable corruption ``X -> X~`` with fixed settings, as a skorch net holds it.

    Parameters
    ----------
    noise : {"gaussian", "masking", "salt_and_pepper", "missing"}
        The noise type (see the module docstring for its statistics).
    noise_level : float
        Standard deviation for ``"gaussian"``; fraction of corrupted entries for
        ``"masking"``, ``"salt_and_pepper"`` and ``"missing"``.
    low, high : ndarray of shape (n_features,)
        Per-feature pepper and salt values; for ``"gaussian"`` with ``clip=True``,
        the clipping bounds.
    clip : bool
        Whether gaussian-corrupted input is clipped to ``[low, high]``.
    """

    def __init__(self, noise, noise_level, low, high, clip=False):
        if noise not in NOISE_TYPES:
            raise ValueError(f"noise must be one of {NOISE_TYPES}, got {noise!r}.")
        self.noise = noise
        self.noise_level = float(noise_level)
        self.low = torch.as_tensor(low, dtype=torch.float32)
        self.high = torch.as_tensor(high, dtype=torch.float32)
        self.clip = bool(clip)

    def __call__(self, X):
        if self.noise_level == 0:
            return X
        low = self.low.to(device=X.device, dtype=X.dtype)
        high = self.high.to(device=X.device, dtype=X.dtype)
        if self.noise == "gaussian":
            if self.clip:
                return gaussian_noise(X, self.noise_level, low, high)
            return gaussian_noise(X, self.noise_level)
        if self.noise == "masking":
            return masking_noise(X, self.noise_level)
        if self.noise == "missing":
            return missing_noise(X, self.noise_level)
        return salt_and_pepper_noise(X, self.noise_level, low, high)

    def __repr__(self):
        return (
            f"{type(self).__name__}(noise={self.noise!r}, noise_level={self.noise_level}, "
            f"clip={self.clip})"
        )
