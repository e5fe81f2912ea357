"""
=====================================================================
Codes as features for a classifier: against PCA and an RBM
=====================================================================

The most common reason to put an autoencoder in a scikit-learn
:class:`~sklearn.pipeline.Pipeline` is to give a classifier better features. This example
fits ``Pipeline([extractor, LogisticRegression()])`` with each skautoenc estimator as the
extractor, **with its default settings apart from** ``n_components``, and compares the
held-out accuracy with logistic regression on the raw pixels, on
:class:`~sklearn.decomposition.PCA` codes, and on the features of scikit-learn's
:class:`~sklearn.neural_network.BernoulliRBM` (with the settings of scikit-learn's own
"RBM features for digit classification" example), the strongest unsupervised feature
extractor scikit-learn has for images.

Every pipeline is fitted on the same split of the data (seed 0), so that the example runs
in about a minute; ``benchmarks/bench_features.py`` runs the same comparison on MNIST at
several code sizes, over several seeds (see :ref:`features-for-classifiers`).
"""

# %%
# Data
# ----
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import Pipeline

from skautoenc import (
    AutoEncoder,
    DenoisingAutoEncoder,
    SparseAutoEncoder,
    VariationalAutoEncoder,
)

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
seed = 0
n_codes = 256  # code units of the learned extractors: more than the pixels of a digit

# %%
# The extractors
# --------------
# Each skautoenc estimator gets ``n_components`` and a seed, nothing else. PCA cannot have
# more components than there are pixels.


def extractors(seed):
    n_pca = min(n_codes, X.shape[1])
    return {
        "raw pixels": "passthrough",
        f"PCA({n_pca})": PCA(n_pca, random_state=seed),
        f"BernoulliRBM({n_codes})": BernoulliRBM(
            n_components=n_codes, learning_rate=0.06, n_iter=1 if TINY else 10,
            random_state=seed,
        ),
        **{
            f"{cls.__name__}({n_codes})": cls(n_components=n_codes, random_state=seed)
            for cls in (AutoEncoder, DenoisingAutoEncoder, SparseAutoEncoder,
                        VariationalAutoEncoder)
        },
    }


accuracy, fit_time = {}, {}
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=seed, stratify=y
)
for name, extractor in extractors(seed).items():
    pipe = Pipeline([("features", extractor),
                     ("classifier", LogisticRegression(max_iter=50 if TINY else 1000))])
    start = time.perf_counter()
    pipe.fit(X_train, y_train)
    fit_time[name] = time.perf_counter() - start
    accuracy[name] = pipe.score(X_test, y_test)
    print(f"{name:32s} accuracy {accuracy[name]:.4f}, fit {fit_time[name]:5.1f} s")

# %%
# Accuracy and fit time
# ---------------------
# Left: the held-out accuracy of logistic regression on each kind of feature. Right: the
# time to fit the whole pipeline (extractor and classifier).
#
# On these small 8x8 digits the raw pixels are already a strong baseline (0.969 on this
# split; PCA with all 64 components is a rotation of them and scores the same). The
# denoising autoencoder's codes, trained to fill in pixels masked at random, do best
# (0.982), and the plain autoencoder's match the pixels; the sparse codes (0.936) and the
# VAE's (0.900), trained for the likelihood of the data rather than for features, fall
# below. The RBM with the settings scikit-learn's example uses for MNIST-like data does
# poorly here. On MNIST, with 784 pixels and more images, the order changes: the sparse
# autoencoder's codes are the best features and beat the RBM's in about its fit time
# (``benchmarks/bench_features.py``; see :ref:`features-for-classifiers`).
names = list(accuracy)
means = np.array([accuracy[n] for n in names])
colors = ["0.6", "0.6", "0.35"] + ["C0", "C1", "C2", "C3"]
positions = np.arange(len(names))

fig, (ax_acc, ax_time) = plt.subplots(
    1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [2, 1]}
)
ax_acc.bar(positions, means, color=colors, label=f"held-out quarter of the digits (seed {seed})")
for x, m in zip(positions, means):
    ax_acc.text(x, m, f"{m:.3f}", ha="center", va="bottom", fontsize=8,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
ax_acc.set_ylim(max(0.0, means.min() - 0.03), min(1.0, means.max() + 0.02))
ax_acc.set_xticks(positions, names, rotation=30, ha="right")
ax_acc.set_xlabel("features given to LogisticRegression")
ax_acc.set_ylabel("held-out accuracy")
ax_acc.set_title("Logistic regression on learned features")
ax_acc.legend(loc="lower right")

ax_time.barh(positions, [np.mean(fit_time[n]) for n in names], color=colors,
             label="extractor and classifier")
ax_time.set_yticks(positions, names)
ax_time.invert_yaxis()
ax_time.set_xlabel("pipeline fit time (s)")
ax_time.set_ylabel("features")
ax_time.set_title("Fit time")
ax_time.legend(loc="lower right")
fig.tight_layout()
plt.show()
