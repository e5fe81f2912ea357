r"""
=================================================
Sparse codes: activations and learned filters
=================================================

A :class:`~skautoenc.SparseAutoEncoder` has a sigmoid code layer, so each code unit's
activation :math:`h_j = f_j(x)` lies in (0, 1). Its training objective adds to the
reconstruction error a penalty :math:`\beta \sum_j \mathrm{KL}(\rho \,\|\, \hat\rho_j)`
that pulls the mean activation :math:`\hat\rho_j` of every unit towards a small target
:math:`\rho` (``sparsity_target``, 0.05 by default): each unit then responds to few images.

This example compares the codes of a sparse autoencoder with those of the same network
trained without the penalty (``sparsity_weight=0``), then shows the filters that a
single-layer sparse autoencoder learns.
"""

# %%
# Data
# ----
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skautoenc import SparseAutoEncoder

# sphinx_gallery_start_ignore
# isort: split
# Not shown in the gallery: the tests run every example in seconds
# (SKAUTOENC_EXAMPLE_TINY=1; tests/test_examples.py also caps the epochs), and
# SKAUTOENC_MNIST=folder runs it on the MNIST idx files there.
import os
import warnings

from sklearn.exceptions import ConvergenceWarning

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

# %%
# Sparse and plain codes
# ----------------------
# Both networks have 64 sigmoid code units behind one hidden layer of 256 ReLU units;
# ``sparsity_weight`` (:math:`\beta`) is the only difference. Each trains for 200 epochs,
# to keep the example short: the default budget (``max_iter="auto"``) gives the sparse
# model about 5,000 updates, 715 epochs on these 1,347 images.
rho = 0.05
models = {
    f"sparse (beta=3, rho={rho})": SparseAutoEncoder(
        n_components=64, sparsity_target=rho, sparsity_weight=3.0, max_iter=200,
        random_state=0,
    ),
    "no penalty (beta=0)": SparseAutoEncoder(
        n_components=64, sparsity_weight=0.0, max_iter=200, random_state=0
    ),
}
# sphinx_gallery_start_ignore
# 200 epochs end before a plateau: the ConvergenceWarning is expected
warnings.filterwarnings("ignore", category=ConvergenceWarning)
# sphinx_gallery_end_ignore
codes = {}
for name, model in models.items():
    model.fit(X_train)
    codes[name] = model.transform(X_test)
    print(
        f"{name:28s} held-out reconstruction error {-model.score(X_test):.2f}, "
        f"mean activation {codes[name].mean():.3f}"
    )

# %%
# Left: the distribution of all code activations over the held-out images. With the
# penalty most activations sit close to 0 and few exceed 0.5: each image activates few
# units strongly. Without it they spread over the whole interval. Right: the mean
# activation of each unit, sorted; the penalty holds every unit at the target.
fig, (ax_hist, ax_mean) = plt.subplots(1, 2, figsize=(11, 4))
bins = np.linspace(0, 1, 41)
for (name, h), color in zip(codes.items(), ["C0", "C1"]):
    ax_hist.hist(h.ravel(), bins=bins, alpha=0.6, color=color, label=name)
    ax_mean.plot(np.sort(h.mean(axis=0))[::-1], "o-", ms=3, color=color, label=name)
ax_hist.set_yscale("log")
ax_hist.set_xlabel("activation of a code unit for one image")
ax_hist.set_ylabel("count (unit, image pairs), log scale")
ax_hist.set_title("Code activations on held-out images")
ax_hist.legend()
ax_mean.axhline(rho, color="gray", linestyle=":", label=f"target rho = {rho}")
ax_mean.set_xlabel("code unit, sorted by mean activation")
ax_mean.set_ylabel("mean activation over held-out images")
ax_mean.set_title("Mean activation per code unit")
ax_mean.legend()
fig.tight_layout()

# %%
# Learned filters
# ---------------
# With ``hidden_layer_sizes=()`` the encoder is a single layer:
# :math:`h = \sigma(W x + b)`. Row :math:`j` of :math:`W`, drawn as an image, is the
# *filter* of code unit :math:`j`: ink on red pixels raises the unit's activation, ink on
# blue pixels lowers it. Here 100 units (more than the 64 pixels: an overcomplete code,
# which the sparsity penalty, not a bottleneck, keeps from copying the input) learn
# filters shaped like digit parts: rings, bars and strokes, often as a blue shape (the
# unit stays silent when those pixels are inked) with a few red pixels. Weight decay
# (``alpha=0.01``, more than the sparse model's default of 0.003) smooths the filters at
# some cost in reconstruction and sets the weights of pixels that are blank in every image
# to zero, instead of leaving them at their random initial values; a larger learning rate
# than the default trains this small network in fewer epochs.
single = SparseAutoEncoder(
    n_components=100, hidden_layer_sizes=(), alpha=1e-2, learning_rate_init=1e-2,
    max_iter=300, random_state=0,
).fit(X_train)
# sphinx_gallery_thumbnail_number = 2
W = single.net_.module_.encoder.layers[0].weight.detach().cpu().numpy()  # (n_components, n_pixels)

fig, axes = plt.subplots(10, 10, figsize=(8, 8.6))
for ax, w in zip(axes.ravel(), W):
    limit = np.abs(w).max()
    ax.imshow(w.reshape(side, side), cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(
    "Encoder filters of a single-layer sparse autoencoder\n"
    "(one per code unit; ink on red pixels excites the unit, ink on blue pixels inhibits it)"
)
fig.tight_layout()
plt.show()
