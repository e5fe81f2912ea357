r"""
=====================================================
Conditional VAE: drawing the digits you ask for
=====================================================

A :class:`~skautoenc.VariationalAutoEncoder` with ``conditional=True`` learns
:math:`p(x \mid y)`: its decoder :math:`p(x \mid z, y)` gets the class :math:`y` of each
image (one-hot) along with the latent code :math:`z`, so that
``sample(n, y=3)`` draws threes. Training maximises the conditional bound

.. math::

   \log p(x \mid y) \ge \mathbb E_{q(z \mid x, y)}\bigl[\log p(x \mid z, y)\bigr]
       - \mathrm{KL}\bigl(q(z \mid x, y) \,\|\, p(z)\bigr).

The encoder sees the class too, so the code is left to hold the rest, the *style* of a
digit: its slant, its width, its stroke. ``transform`` still works without labels, in a
Pipeline as at prediction time: it weighs the classes by the model's own
:math:`p(y \mid x)`.

This example draws a grid of digits, one row per class; checks with a classifier of real
digits that the samples are of the class asked for; and decodes the codes of a few real
digits with every class, which keeps their style and changes their digit.
"""

# %%
# Data and model
# --------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skautoenc import VariationalAutoEncoder

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
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)

cvae = VariationalAutoEncoder(n_components=4, hidden_layer_sizes=(64,),
                              conditional=True, random_state=0)
cvae.fit(X_train, y_train)  # y: the class of each image
print(f"classes: {cvae.classes_}")
print(f"held-out bound on log p(x | y): {cvae.score(X_test, y_test):.1f} nats per image")
# without y, the bound sums over the classes, weighted by their share: log p(x)
print(f"held-out bound on log p(x):     {cvae.score(X_test):.1f} nats per image")

# %%
# One row per class
# -----------------
# :meth:`~skautoenc.VariationalAutoEncoder.sample` with ``y`` draws :math:`z` from the
# prior and decodes it with the class asked for. Each image is the mean of
# :math:`p(x \mid z, y)`, the probability of each pixel being on: a binary draw of those
# probabilities would add pixel noise that is not the model's structure.
n_columns = 10
labels = np.repeat(cvae.classes_, n_columns)
samples = cvae.sample(len(labels), y=labels, random_state=0)
fig, axes = plt.subplots(len(cvae.classes_), n_columns, figsize=(6, 6.4))
for ax, image in zip(axes.ravel(), samples):
    ax.imshow(image.reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
for ax, label in zip(axes[:, 0], cvae.classes_):
    ax.set_ylabel(str(label), rotation=0, labelpad=10)
fig.suptitle("sample(10, y=k) for each class k: one row per class")
fig.tight_layout()

# %%
# Are they of the class asked for?
# --------------------------------
# A logistic regression trained on the real training digits labels 100 samples of each
# class. ``benchmarks/bench_conditional.py`` measures the same on MNIST, with the
# diversity of the samples (see the user guide).
classifier = LogisticRegression(max_iter=2000).fit(X_train, y_train)
asked = np.repeat(cvae.classes_, 100)
drawn = cvae.sample(len(asked), y=asked, random_state=1)
print(f"samples labelled as the class asked for: {np.mean(classifier.predict(drawn) == asked):.0%}")

# %%
# Same style, another digit
# -------------------------
# :meth:`~skautoenc.VariationalAutoEncoder.transform` encodes real held-out digits
# without their labels (the classes weighed by the model's own :math:`p(y \mid x)`);
# :meth:`~skautoenc.VariationalAutoEncoder.inverse_transform` decodes each code with
# every class in turn. Along a row the code, the style, stays the same and only the
# class changes.
real = X_test[:5]
codes = cvae.transform(real)
fig, axes = plt.subplots(len(real), len(cvae.classes_) + 1, figsize=(6.6, 3.4))
for row, (image, code) in enumerate(zip(real, codes)):
    decoded = cvae.inverse_transform(np.repeat(code[None], len(cvae.classes_), axis=0),
                                     y=cvae.classes_)
    for col, picture in enumerate([image, *decoded]):
        axes[row, col].imshow(picture.reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
        axes[row, col].set_xticks([])
        axes[row, col].set_yticks([])
axes[0, 0].set_title("real", fontsize=9)
for col, label in enumerate(cvae.classes_, start=1):
    axes[0, col].set_title(str(label), fontsize=9)
fig.suptitle("A real digit's code decoded with each class")
fig.tight_layout()
plt.show()
