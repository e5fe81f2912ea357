"""
=====================================================================
Autoencoder features in a Pipeline, tuned with GridSearchCV
=====================================================================

An :class:`~skautoenc.AutoEncoder` is a scikit-learn transformer: it fits in a
:class:`~sklearn.pipeline.Pipeline` in front of a classifier, and
:class:`~sklearn.model_selection.GridSearchCV` tunes its parameters together with the
classifier's by cross-validation. The autoencoder is trained without the labels; only the
classifier sees them.

This example tunes the code size of the autoencoder and the regularisation of a
:class:`~sklearn.linear_model.LogisticRegression` on its codes, and compares the result
with the same pipeline built on :class:`~sklearn.decomposition.PCA` and with logistic
regression on the raw pixels.
"""

# %%
# Data
# ----
from shutil import rmtree
from tempfile import mkdtemp

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skautoenc import AutoEncoder

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
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)
# a fit that runs all max_iter epochs warns (ConvergenceWarning): expected here
warnings.filterwarnings("ignore", category=ConvergenceWarning)

# %%
# Three pipelines, one grid search each
# -------------------------------------
# The codes are standardised before the classifier, as their scales differ from unit to
# unit. ``memory`` caches the fitted transformers of the pipeline, so the autoencoder is
# trained once per code size and fold, not again for every value of ``C``. Each
# autoencoder gets 50 epochs (``max_iter=50``) to keep the search short.
code_sizes = [8, 16] if TINY else [8, 16, 32]
Cs = [1.0] if TINY else [0.1, 1.0, 10.0]
classifier = LogisticRegression(max_iter=2000)
cache_dir = mkdtemp()
searches = {
    "autoencoder codes": GridSearchCV(
        Pipeline(
            [
                ("reduce", AutoEncoder(max_iter=50, random_state=0)),
                ("scale", StandardScaler()),
                ("classify", classifier),
            ],
            memory=cache_dir,
        ),
        {"reduce__n_components": code_sizes, "classify__C": Cs},
        cv=3,
    ),
    "PCA codes": GridSearchCV(
        Pipeline([("reduce", PCA()), ("scale", StandardScaler()), ("classify", classifier)]),
        {"reduce__n_components": code_sizes, "classify__C": Cs},
        cv=3,
    ),
    "raw pixels": GridSearchCV(
        Pipeline([("scale", StandardScaler()), ("classify", classifier)]),
        {"classify__C": Cs},
        cv=3,
    ),
}
test_accuracy = {}
for name, search in searches.items():
    search.fit(X_train, y_train)
    test_accuracy[name] = search.score(X_test, y_test)
    print(f"{name:18s} best {search.best_params_}, test accuracy {test_accuracy[name]:.3f}")
rmtree(cache_dir)

# %%
# Results
# -------
# Left: the cross-validated accuracy of each code size (with its best ``C``). Longer codes
# classify better, for both models. Although the autoencoder reconstructs the digits much
# better than PCA at the same code size (see
# :ref:`sphx_glr_auto_examples_plot_reconstruction.py`), its codes do not classify better:
# it is trained to reproduce the images, not to separate the classes. Right: the accuracy
# of the three tuned pipelines on the held-out images. On these small, clean digits a
# linear classifier on the raw pixels is already hard to beat; the codes buy a
# representation several times smaller at almost the same accuracy.
fig, (ax_cv, ax_test) = plt.subplots(1, 2, figsize=(11, 4.2), width_ratios=[1.2, 1])
for name, marker in [("autoencoder codes", "o"), ("PCA codes", "s")]:
    results = searches[name].cv_results_
    best_per_size = [
        np.max(results["mean_test_score"][results["param_reduce__n_components"] == k])
        for k in code_sizes
    ]
    ax_cv.plot(code_sizes, best_per_size, marker=marker, label=name)
ax_cv.axhline(searches["raw pixels"].best_score_, color="gray", linestyle=":",
              label=f"raw pixels ({X.shape[1]} features)")
ax_cv.set_xscale("log", base=2)
ax_cv.set_xticks(code_sizes, [str(k) for k in code_sizes])
ax_cv.set_xlabel("code size (n_components)")
ax_cv.set_ylabel("mean cross-validated accuracy")
ax_cv.set_title("Grid search: accuracy against code size")
ax_cv.legend()

names = list(test_accuracy)
bars = ax_test.bar(names, [test_accuracy[n] for n in names], color=["C0", "C1", "gray"])
ax_test.bar_label(bars, fmt="%.3f")
ax_test.set_ylim(0, 1.08)
ax_test.set_xlabel("input of the logistic regression")
ax_test.set_ylabel("accuracy on held-out images")
ax_test.set_title("Tuned pipelines on held-out images")
fig.suptitle("Logistic regression on autoencoder codes, PCA codes and raw pixels")
fig.tight_layout()
plt.show()
