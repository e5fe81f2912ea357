r"""
=========================================================
Denoising: training data, noisy input, autoencoder output
=========================================================

A :class:`~skautoenc.DenoisingAutoEncoder` is trained to reconstruct each clean image
:math:`x` from a corrupted copy :math:`\hat x = x + r`, where :math:`r` is fresh random
noise for every minibatch of every epoch. To undo noise it has never seen, the network
must learn what digits look like rather than copy pixels, so it also cleans up new noisy
images: ``inverse_transform(transform(X_noisy))``.

This example trains one on digits with Gaussian noise of standard deviation 0.3 and shows,
for held-out images, the clean image, the noisy input and the output, next to a plain
:class:`~skautoenc.AutoEncoder` trained on clean images only.
"""

# %%
# Data
# ----
# Pixels in [0, 1]; the noisy inputs are clipped back to [0, 1], as the estimator does
# with its own training noise (``clip=True``).

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skautoenc import AutoEncoder, DenoisingAutoEncoder

# sphinx_gallery_start_ignore
# isort: split
# Not shown in the gallery: the tests run every example in seconds
# (SKAUTOENC_EXAMPLE_TINY=1; tests/test_examples.py also caps the epochs), and
# SKAUTOENC_MNIST=folder runs it on the MNIST idx files there.
import os

from skautoenc.datasets import load_mnist

TINY = os.environ.get("SKAUTOENC_EXAMPLE_TINY") == "1"  # a few seconds, for the tests


def load_images():
    """Images as rows of pixels in [0, 1], their labels, and the side of an image."""
    folder = os.environ.get("SKAUTOENC_MNIST")
    if not folder:
        digits = load_digits()
        return digits.data / 16.0, digits.target, 8
    X, y = load_mnist(folder)
    return X[:6000], y[:6000], 28
# sphinx_gallery_end_ignore


digits = load_digits()
X, y, side = digits.data / 16.0, digits.target, 8  # pixels in [0, 1], 8x8 images
# sphinx_gallery_start_ignore
X, y, side = load_images()  # the same, or MNIST where SKAUTOENC_MNIST is set
# sphinx_gallery_end_ignore
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0, stratify=y)

noise_level = 0.3
rng = np.random.default_rng(0)
X_test_noisy = np.clip(X_test + rng.normal(scale=noise_level, size=X_test.shape), 0, 1)

# %%
# Train a denoising and a plain autoencoder
# -----------------------------------------
# Both have the same network: 64 code units, one hidden layer of 256 ReLU units on each
# side. Only the training input differs.
dae = DenoisingAutoEncoder(
    n_components=64, noise="gaussian", noise_level=noise_level,
    random_state=0,
).fit(X_train)
ae = AutoEncoder(n_components=64, random_state=0).fit(X_train)

outputs = {
    "denoising autoencoder": dae.inverse_transform(dae.transform(X_test_noisy)),
    "plain autoencoder": ae.inverse_transform(ae.transform(X_test_noisy)),
}


def error(X_hat):
    """Mean over images of the squared error against the clean image, summed over pixels."""
    return ((X_hat - X_test) ** 2).sum(axis=1).mean()


# %%
# Clean, noisy and denoised images
# --------------------------------
# Each column is one held-out image. The denoising autoencoder returns a clean digit; the
# plain autoencoder, which learned to reproduce its input, keeps much of the noise.
rows = {
    "clean image\n(target)": X_test,
    f"noisy input\nerror {error(X_test_noisy):.2f}": X_test_noisy,
    **{f"{name}\noutput, error {error(X_hat):.2f}": X_hat for name, X_hat in outputs.items()},
}
n_shown = 10
fig, axes = plt.subplots(len(rows), n_shown, figsize=(n_shown + 1, 1.1 * len(rows) + 0.6))
for row, (name, images) in zip(axes, rows.items()):
    for ax, image in zip(row, images):
        ax.imshow(image.reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(name, rotation=0, ha="right", va="center")
fig.suptitle(
    f"Held-out images with Gaussian noise (std {noise_level}); "
    "error = squared distance to the clean image"
)
fig.tight_layout()

# %%
# Denoising across noise levels
# -----------------------------
# The same two models on noisier and cleaner test images. The denoising autoencoder was
# trained at one noise level only, yet from moderate noise on it brings the error far below
# that of the noisy input, also at levels above the training one; the plain autoencoder
# removes little noise. On nearly clean images the denoiser's own reconstruction error (a
# slight blur) is larger than the noise it removes.
levels = [0.1, 0.3] if TINY else [0.05, 0.1, 0.2, 0.3, 0.4, 0.5]
curves = {"noisy input (no model)": [], "plain autoencoder": [], "denoising autoencoder": []}
for level in levels:
    X_noisy = np.clip(X_test + rng.normal(scale=level, size=X_test.shape), 0, 1)
    curves["noisy input (no model)"].append(error(X_noisy))
    curves["plain autoencoder"].append(error(ae.inverse_transform(ae.transform(X_noisy))))
    curves["denoising autoencoder"].append(error(dae.inverse_transform(dae.transform(X_noisy))))

fig, ax = plt.subplots(figsize=(6, 4))
for (name, values), marker in zip(curves.items(), ["x", "s", "o"]):
    ax.plot(levels, values, marker=marker, label=name)
ax.axvline(noise_level, color="gray", linestyle=":", label="training noise level")
ax.set_xlabel("standard deviation of the Gaussian noise on the test images")
ax.set_ylabel("squared error to the clean image\n(per image, summed over pixels)")
ax.set_title("Denoising held-out images")
ax.legend()
fig.tight_layout()
plt.show()
