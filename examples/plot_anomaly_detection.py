r"""
==============================================
Outlier detection with an autoencoder
==============================================

An autoencoder trained on one kind of data reconstructs that kind well and anything else
poorly. :class:`~skautoenc.AutoEncoderOutlierDetector` turns that into a scikit-learn
outlier detector, with the API of :class:`~sklearn.ensemble.IsolationForest`:
``score_samples`` (higher is more normal), ``decision_function`` (negative for outliers),
``predict`` (-1 for an outlier, +1 for an inlier) and ``contamination``, which sets the
threshold.

This example trains on images of the digits 0 to 4 only and scores held-out images of all
ten digits: the digits 5 to 9, which no model saw, play the anomalies. scikit-learn's
detectors, trained on the same images, are the baselines.
"""

# %%
# Data: normal digits for training, all digits for testing
# --------------------------------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor
from sklearn.svm import OneClassSVM

from skautoenc import AutoEncoder, AutoEncoderOutlierDetector

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
    X, y, test_size=0.4, random_state=0, stratify=y
)
X_train = X_train[y_train <= 4]  # train on normal digits only
is_anomaly = y_test >= 5
print(f"{len(X_train)} training images of 0-4; held-out: {np.sum(~is_anomaly)} images of "
      f"0-4 (normal), {np.sum(is_anomaly)} of 5-9 (anomalies)")

# %%
# Fit the detectors
# -----------------
# The autoencoder detector, on pixels in [0, 1]: one autoencoder sized to the data, whose
# relative reconstruction error is the score (the squared error divided by the image's
# energy, its sum of squares and its reconstruction's, plus a floor).
# ``contamination=0.05`` sets the threshold so that 5% of the training images fall below
# it.
#
# By default the network trains for a short budget, about 150 minibatch updates (here 30
# epochs), chosen on normal data of one kind (one digit), where longer training ranked no
# better and learnt the outliers among the training data. Normal data of several kinds,
# here five digits, take longer to learn, so this detector's network trains for 120
# epochs: an integer ``max_iter`` is kept. 120 epochs is the plan, not a failure to
# converge, so the warning that the network stopped at ``max_iter`` is silenced. The
# detector with its defaults is kept for comparison.
network = AutoEncoder(n_components=16, max_iter=120)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    detector = AutoEncoderOutlierDetector(network, contamination=0.05, random_state=0)
    detector.fit(X_train)
default = AutoEncoderOutlierDetector(contamination=0.05, random_state=0).fit(X_train)
baselines = {
    "IsolationForest": IsolationForest(contamination=0.05, random_state=0),
    "LocalOutlierFactor": LocalOutlierFactor(novelty=True, contamination=0.05),
    "OneClassSVM": OneClassSVM(gamma="scale", nu=0.05),
}
for model in baselines.values():
    model.fit(X_train)

flagged = detector.predict(X_train) == -1
print(f"training images flagged: {flagged.mean():.1%}")

# %%
# How well each detector ranks the held-out images
# ------------------------------------------------
# The area under the ROC curve (AUROC) is the probability that a random anomaly gets a
# lower ``score_samples`` than a random normal image: 1 ranks every anomaly first, 0.5 is
# chance.
scores = {"AutoEncoderOutlierDetector": detector.score_samples(X_test),
          "... with its defaults": default.score_samples(X_test)}
scores.update({name: model.score_samples(X_test) for name, model in baselines.items()})
for name, score in scores.items():
    # roc_auc_score expects higher values for the positive class: the anomalies
    print(f"{name:27s} AUROC {roc_auc_score(is_anomaly, -score):.3f}")

# The threshold was set on the training images, which the networks reconstruct better
# than new images of the same digits: on held-out data it flags more than 5% of the
# normal images. Set ``contamination`` lower, or move ``offset_`` to a quantile of the
# scores of held-out normal data, where false alarms cost more than misses.
predicted = detector.predict(X_test)
print(f"with the threshold: {np.mean(predicted[is_anomaly] == -1):.1%} of the anomalies "
      f"and {np.mean(predicted[~is_anomaly] == -1):.1%} of the normal images flagged")

# %%
# Scores, threshold and ROC curves
# --------------------------------
# Left: the detector's scores of normal and anomalous held-out images, and the threshold
# ``offset_`` that ``contamination=0.05`` set on the training images: ``predict`` flags
# every image to its left. The two distributions overlap: some anomalies (a 9 looks much
# like a 4) are reconstructed well. Right: the ROC curves of the detectors, as the
# threshold varies.
fig, (ax_hist, ax_roc) = plt.subplots(1, 2, figsize=(11, 4.4))
score = scores["AutoEncoderOutlierDetector"]
bins = np.linspace(np.percentile(score, 0.5), score.max(), 40)
ax_hist.hist(score[~is_anomaly], bins=bins, alpha=0.6, label="normal: digits 0-4")
ax_hist.hist(score[is_anomaly], bins=bins, alpha=0.6, label="anomalies: digits 5-9")
ax_hist.axvline(detector.offset_, color="black", linestyle="--",
                label="threshold (contamination=0.05)")
ax_hist.set_xlabel("score_samples (negative relative reconstruction error)")
ax_hist.set_ylabel("number of held-out images")
ax_hist.set_title("AutoEncoderOutlierDetector trained on digits 0-4")
ax_hist.legend(loc="upper left")

for name, score in scores.items():
    false_positive_rate, true_positive_rate, _ = roc_curve(is_anomaly, -score)
    auc = roc_auc_score(is_anomaly, -score)
    ax_roc.plot(false_positive_rate, true_positive_rate, label=f"{name}, AUROC {auc:.3f}")
ax_roc.plot([0, 1], [0, 1], color="gray", linestyle=":", label="chance (AUROC 0.5)")
ax_roc.set_xlabel("false positive rate (normal images flagged)")
ax_roc.set_ylabel("true positive rate (anomalies flagged)")
ax_roc.set_title("Detecting digits 5-9 by a low score")
ax_roc.legend(loc="lower right")
ax_roc.set_xlim(-0.01, 1)
ax_roc.set_ylim(0, 1.01)
fig.tight_layout()
plt.show()

# %%
# The most anomalous images
# -------------------------
# The twelve held-out images with the lowest scores, with their digit, and below each
# its reconstruction by the detector's network: what the network expected to see.
network = detector.estimators_[0]
worst = np.argsort(detector.score_samples(X_test))[:12]
reconstructions = network.inverse_transform(network.transform(X_test[worst]))
fig, axes = plt.subplots(2, 12, figsize=(12, 2.6))
for column, row in enumerate(worst):
    axes[0, column].imshow(X_test[row].reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
    axes[0, column].set_title(f"a {y_test[row]}", fontsize=9)
    axes[1, column].imshow(reconstructions[column].reshape(side, side), cmap="gray_r",
                           vmin=0, vmax=1)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
axes[0, 0].set_ylabel("image", fontsize=9)
axes[1, 0].set_ylabel("reconstruction", fontsize=9)
fig.suptitle("The 12 held-out images with the lowest scores")
fig.tight_layout()
plt.show()
