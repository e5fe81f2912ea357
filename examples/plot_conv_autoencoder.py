"""
=====================================================
A convolutional autoencoder next to the MLP
=====================================================

Every skautoenc estimator takes its network as a parameter: ``encoder="mlp"`` (the
default) or ``encoder="conv"``, stride-2 convolutions over the image each row holds
(``image_shape``), or a torch module of your own (see the user guide's "Your own
network"). This example fits both built-in networks at the same code size on held-out
digits, and sets their reconstructions and their codes (as features for a classifier)
side by side.
"""

# %%
# Data
# ----
# Each row of ``load_digits().data`` is an 8x8 image flattened in C order: that is what
# ``image_shape=(8, 8)`` tells the conv network. ``X`` stays two-dimensional.

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skautoenc import AutoEncoder

# sphinx_gallery_start_ignore
# isort: split
# Not shown in the gallery: the tests run every example in seconds
# (SKAUTOENC_EXAMPLE_TINY=1; tests/test_examples.py also caps the epochs), and
# SKAUTOENC_MNIST=folder runs it on the MNIST idx files there.
import os

from skautoenc.datasets import load_mnist

TINY = os.environ.get("SKAUTOENC_EXAMPLE_TINY") == "1"


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
X, y, side = digits.data / 16.0, digits.target, 8
# sphinx_gallery_start_ignore
X, y, side = load_images()
# sphinx_gallery_end_ignore
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)

# %%
# The same estimator, two networks
# --------------------------------
# Only ``encoder`` and ``image_shape`` differ; everything else is the default.

models = {
    "MLP": AutoEncoder(n_components=16, random_state=0),
    "conv": AutoEncoder(n_components=16, encoder="conv", image_shape=(side, side),
                        random_state=0),
}
for name, model in models.items():
    model.fit(X_train)
    error = ((model.inverse_transform(model.transform(X_test)) - X_test) ** 2).sum(1).mean()
    classifier = LogisticRegression(max_iter=2000).fit(model.transform(X_train), y_train)
    accuracy = classifier.score(model.transform(X_test), y_test)
    print(f"{name:>4}: held-out reconstruction error {error:.3f}, "
          f"accuracy of LogisticRegression on its codes {accuracy:.3f}")

# %%
# Reconstructions
# ---------------
# Held-out digits (top) and their reconstructions from 16 numbers by each network.

n_images = 8
fig, axes = plt.subplots(3, n_images, figsize=(n_images * 1.1, 3.6))
rows = [("held-out", X_test[:n_images])] + [
    (name, model.inverse_transform(model.transform(X_test[:n_images])))
    for name, model in models.items()
]
for ax_row, (name, images) in zip(axes, rows):
    for ax, image in zip(ax_row, images):
        ax.imshow(image.reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    ax_row[0].set_ylabel(name)
fig.suptitle("Reconstructions from 16-number codes")
fig.tight_layout()

# %%
# Codes
# -----
# The first two principal directions of each network's codes of the held-out digits,
# coloured by digit: how the two networks lay out the classes.

from sklearn.decomposition import PCA  # noqa: E402

fig, axes = plt.subplots(1, 2, figsize=(9, 4.2))
for ax, (name, model) in zip(axes, models.items()):
    projected = PCA(2).fit_transform(model.transform(X_test))
    for digit in range(10):
        ax.scatter(*projected[y_test == digit].T, s=8, color=plt.cm.tab10(digit),
                   label=str(digit))
    ax.set_title(f"{name} codes")
    ax.set_xlabel("first principal component of the codes")
    ax.set_ylabel("second principal component")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(title="digit", fontsize=7, ncol=2, markerscale=2)
fig.tight_layout()
plt.show()

# %%
# On MNIST, with every estimator
# ------------------------------
# ``benchmarks/bench_networks.py`` compares the two networks on MNIST for every estimator
# (reconstruction, codes as features, the VAE's ELBO, inpainting with the imputer);
# :doc:`/performance_notes` has the recorded figures and the machine they ran on.
