"""
=====================================================
Reconstructions: an autoencoder against PCA
=====================================================

An :class:`~skautoenc.AutoEncoder` and :class:`~sklearn.decomposition.PCA` both compress
each image into a short code of ``n_components`` numbers and decode it back. PCA's
encoder and decoder are linear maps; the autoencoder's are neural networks, so at the same
code size it can keep more of each image. This example compares the two on held-out
digits: first the reconstructed images, then the reconstruction error as the code grows.
"""

# %%
# Data
# ----
# Pixel intensities are scaled to [0, 1], so the autoencoder uses a sigmoid output and
# the Bernoulli cross-entropy loss (``loss="auto"``). Set ``SKAUTOENC_MNIST`` to a folder
# of MNIST idx files to use MNIST instead of the 8x8 digits.

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skautoenc import AutoEncoder

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
print(f"{len(X_train)} training and {len(X_test)} held-out images of {side}x{side} pixels")


# %%
# Fit both models at the same code size
# -------------------------------------
# The autoencoder has one hidden layer of 256 ReLU units on each side of its code
# (the default ``hidden_layer_sizes=(256,)``).
def reconstruction_error(X, X_hat):
    """Mean over images of the squared error summed over pixels."""
    return ((X - X_hat) ** 2).sum(axis=1).mean()


n_components = 8
pca = PCA(n_components=n_components).fit(X_train)
ae = AutoEncoder(n_components=n_components, random_state=0).fit(X_train)

X_pca = pca.inverse_transform(pca.transform(X_test))
X_ae = ae.inverse_transform(ae.transform(X_test))
print(f"held-out error, PCA:         {reconstruction_error(X_test, X_pca):.2f}")
print(f"held-out error, autoencoder: {reconstruction_error(X_test, X_ae):.2f}")

# %%
# Originals and reconstructions
# -----------------------------
# Each column is one held-out image; the row labels give the mean squared error over all
# held-out images. With 8 numbers per image, PCA's reconstructions are
# blurred towards an average digit; the autoencoder's keep more of each digit's shape.
n_shown = 10
rows = {
    "original": X_test,
    f"PCA\nerror {reconstruction_error(X_test, X_pca):.2f}": X_pca,
    f"autoencoder\nerror {reconstruction_error(X_test, X_ae):.2f}": X_ae,
}
fig, axes = plt.subplots(len(rows), n_shown, figsize=(n_shown, 1.1 * len(rows) + 0.6))
for row, (name, images) in zip(axes, rows.items()):
    for ax, image in zip(row, images):
        ax.imshow(image.reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(name, rotation=0, ha="right", va="center")
fig.suptitle(f"Held-out images and their reconstructions from {n_components}-number codes")
fig.tight_layout()

# %%
# Error against code size
# -----------------------
# The gap holds across code sizes: the autoencoder with ``k`` code units reconstructs
# about as well as PCA with roughly twice as many components.
code_sizes = [2, 4] if TINY else [2, 4, 8, 16]
errors = {"PCA": [], "autoencoder": []}
for k in code_sizes:
    pca_k = PCA(n_components=k).fit(X_train)
    errors["PCA"].append(
        reconstruction_error(X_test, pca_k.inverse_transform(pca_k.transform(X_test)))
    )
    ae_k = ae if k == n_components else AutoEncoder(
        n_components=k, random_state=0
    ).fit(X_train)
    errors["autoencoder"].append(-ae_k.score(X_test))  # score: negative squared error

fig, ax = plt.subplots(figsize=(6, 4))
for (name, values), marker in zip(errors.items(), ["s", "o"]):
    ax.plot(code_sizes, values, marker=marker, label=name)
ax.set_xscale("log", base=2)
ax.set_xticks(code_sizes, [str(k) for k in code_sizes])
ax.set_xlabel("code size (n_components)")
ax.set_ylabel("held-out squared error per image\n(summed over pixels)")
ax.set_title("Reconstruction error of held-out images")
ax.legend()
fig.tight_layout()
plt.show()
