r"""
=================================================
Imputation: filling holes in images, side by side
=================================================

An :class:`~skautoenc.AutoEncoderImputer` learns to recover deleted pixels from the
others (a denoising autoencoder whose noise deletes entries), then fills the real holes
of new images with its reconstruction. This example punches holes in held-out digits,
scattered pixels and a square block, and shows the fills of three imputers side by side:
scikit-learn's :class:`~sklearn.impute.SimpleImputer` (each pixel's mean),
:class:`~sklearn.impute.KNNImputer` (the mean of the 5 training images closest on the
observed pixels), and the autoencoder.

On these small 8x8 digits (1,347 training images) the nearest neighbours are hard to
beat; on MNIST (8,000 training images of 28x28), the autoencoder fills scattered holes
better, in less time (user guide, :ref:`imputation`).
"""

# %%
# Images with holes
# -----------------
# Every imputer is fitted on the complete training images; the held-out images lose 50%
# of their pixels at random, or a square block (3/8 of the image's width).

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.impute import KNNImputer, SimpleImputer
from sklearn.model_selection import train_test_split

from skautoenc import AutoEncoderImputer

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
# sphinx_gallery_start_ignore
if TINY:  # fewer images to fill
    X, y = X[:600], y[:600]
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0, stratify=y)
# sphinx_gallery_end_ignore

rng = np.random.default_rng(0)
scattered = X_test.copy()
scattered[rng.random(X_test.shape) < 0.5] = np.nan
block = X_test.copy()
width = max(2, side * 3 // 8)  # 3 pixels of 8, 10 of 28
for image in block:
    top, left = rng.integers(0, side - width + 1, size=2)
    image.reshape(side, side)[top : top + width, left : left + width] = np.nan
holes = {"50% of the pixels": scattered, f"a {width}x{width} block": block}

# %%
# Fit the imputers, fill the holes
# --------------------------------
imputers = {
    "SimpleImputer": SimpleImputer(),
    "KNNImputer": KNNImputer(),
    "AutoEncoderImputer": AutoEncoderImputer(random_state=0),
}
fills = {}
for name, imputer in imputers.items():
    imputer.fit(X_train)
    fills[name] = {pattern: imputer.transform(X_holes) for pattern, X_holes in holes.items()}


def rmse(X_filled, X_holes):
    """Root mean squared error over the missing pixels."""
    missing = np.isnan(X_holes)
    return np.sqrt(np.mean((X_filled[missing] - X_test[missing]) ** 2))


for pattern, X_holes in holes.items():
    print(f"missing {pattern}:")
    for name in imputers:
        print(f"  {name:<20} RMSE {rmse(fills[name][pattern], X_holes):.4f}")

# %%
# The fills
# ---------
# Each column is one held-out image: the complete image, the image with its holes (in
# red), and each imputer's fill. The means draw a blurred average digit into every hole;
# the autoencoder and the nearest neighbours draw strokes that continue the observed
# ones.
n_shown = 8
for pattern, X_holes in holes.items():
    rows = {"complete image": X_test, "with holes": X_holes}
    rows.update({
        f"{name}\nRMSE {rmse(fills[name][pattern], X_holes):.3f}": fills[name][pattern]
        for name in imputers
    })
    fig, axes = plt.subplots(
        len(rows), n_shown, figsize=(n_shown + 1.5, 1.1 * len(rows) + 0.6)
    )
    for row, (label, images) in zip(axes, rows.items()):
        for ax, image in zip(row, images):
            image = image.reshape(side, side)
            shown = plt.get_cmap("gray_r")(np.nan_to_num(image))
            shown[np.isnan(image)] = (0.85, 0.2, 0.2, 1)  # holes in red
            ax.imshow(shown)
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(label, rotation=0, ha="right", va="center")
    fig.suptitle(f"Held-out digits missing {pattern}: the imputers' fills")
    fig.tight_layout()

# %%
# In a pipeline
# -------------
# The imputer is a transformer like any other: in front of a classifier, it fills the
# holes of the images the classifier is asked about.
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

y_train, y_test = train_test_split(y, test_size=0.25, random_state=0, stratify=y)
for name, imputer in imputers.items():
    model = make_pipeline(imputer, LogisticRegression(max_iter=1000)).fit(X_train, y_train)
    print(f"{name:<20} accuracy on images missing 50% of their pixels: "
          f"{model.score(scattered, y_test):.3f}")

plt.show()
