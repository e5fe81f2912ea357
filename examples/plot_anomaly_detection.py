r"""
==============================================
Anomaly scores from reconstruction error
==============================================

An autoencoder trained on one kind of data reconstructs that kind well and anything else
poorly. :meth:`~skautoenc.AutoEncoder.score_samples` returns the negative squared
reconstruction error of each sample, so low scores flag samples unlike the training data.
For a :class:`~skautoenc.VariationalAutoEncoder`, ``score_samples`` is the evidence lower
bound (ELBO) on :math:`\log p(x)`, a density score in nats.

This example trains on images of the digits 0 to 4 only and scores held-out images of all
ten digits: the digits 5 to 9, which no model saw, play the anomalies. PCA's
reconstruction error at the same code size is the baseline.
"""

# %%
# Data: normal digits for training, all digits for testing
# --------------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split

from skautoenc import AutoEncoder, VariationalAutoEncoder

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
# Fit the models and score the held-out images
# --------------------------------------------
# All three have 8 code units. Higher scores mean "more like the training data".
n_components = 8
ae = AutoEncoder(n_components=n_components, random_state=0).fit(X_train)
vae = VariationalAutoEncoder(n_components=n_components, random_state=0)
vae.fit(X_train)
pca = PCA(n_components=n_components).fit(X_train)

scores = {
    "autoencoder": ae.score_samples(X_test),  # -squared reconstruction error
    "variational autoencoder (ELBO)": vae.score_samples(X_test),  # nats
    "PCA": -((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2).sum(axis=1),
}
for name, score in scores.items():
    # roc_auc_score expects higher values for the positive class: the anomalies
    print(f"{name:31s} ROC AUC {roc_auc_score(is_anomaly, -score):.3f}")

# %%
# Score distributions and ROC curves
# ----------------------------------
# Left: the autoencoder's scores of normal and anomalous held-out images. The anomalies
# reach much lower scores, but the two distributions overlap: some 5-9 digits (a 9 looks
# much like a 4) are reconstructed well. Right: the ROC curves of the three scores, for
# the detector "anomaly if the score falls below a threshold", as the threshold varies.
# The area under the curve (AUC) is the probability that a random anomaly scores lower
# than a random normal image. The autoencoder's reconstruction error separates the two
# groups best here; the VAE's ELBO, a density score rather than a reconstruction error,
# does no better than PCA on these digits.
fig, (ax_hist, ax_roc) = plt.subplots(1, 2, figsize=(11, 4.4))
score = scores["autoencoder"]
bins = np.linspace(score.min(), score.max(), 40)
ax_hist.hist(score[~is_anomaly], bins=bins, alpha=0.6, label="normal: digits 0-4")
ax_hist.hist(score[is_anomaly], bins=bins, alpha=0.6, label="anomalies: digits 5-9")
ax_hist.set_xlabel("autoencoder score_samples\n(negative squared reconstruction error)")
ax_hist.set_ylabel("number of held-out images")
ax_hist.set_title("Autoencoder trained on digits 0-4")
ax_hist.legend(loc="upper left")

for name, score in scores.items():
    false_positive_rate, true_positive_rate, _ = roc_curve(is_anomaly, -score)
    auc = roc_auc_score(is_anomaly, -score)
    ax_roc.plot(false_positive_rate, true_positive_rate, label=f"{name}, AUC = {auc:.3f}")
ax_roc.plot([0, 1], [0, 1], color="gray", linestyle=":", label="chance (AUC = 0.5)")
ax_roc.set_xlabel("false positive rate (normal images flagged)")
ax_roc.set_ylabel("true positive rate (anomalies flagged)")
ax_roc.set_title("Detecting digits 5-9 by a low score")
ax_roc.legend(loc="lower right")
ax_roc.set_xlim(-0.01, 1)
ax_roc.set_ylim(0, 1.01)
fig.tight_layout()
plt.show()
