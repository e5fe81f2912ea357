"""
===========================================================
Pretraining: fine-tuning from stacked RBMs or autoencoders
===========================================================

A deep autoencoder with logistic hidden units is hard to train by backpropagation from a
random start: it first learns to output roughly the average image and can stay on that
plateau for many epochs. Hinton & Salakhutdinov (2006) first trained the network one layer
at a time, as a stack of restricted Boltzmann machines (RBMs), and then fine-tuned the
unrolled stack by backpropagation; Bengio et al. (2007) did the same with a stack of
one-layer autoencoders. :class:`~skautoenc.AutoEncoder` does both with
``pretraining="rbm"`` and ``pretraining="autoencoder"``.

This example fine-tunes the same network (logistic hidden layers of 128 and 64 units, a
linear code of 8 units, the mirrored decoder) from the three starting points and records,
epoch by epoch, the training loss and the error on held-out digits.
"""

# %%
# Data and setting
# ----------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

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
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0, stratify=y)
n_epochs = 2 if TINY else 100
# each call of fit below runs all of its max_iter=1 epochs, which warns: expected here
warnings.filterwarnings("ignore", category=ConvergenceWarning)

# %%
# Fine-tuning, one epoch at a time
# --------------------------------
# With ``warm_start=True`` each call of ``fit`` continues training where the last one
# stopped (pretraining runs only in the first). ``max_iter=0`` in the first call returns
# the network as initialised (random, or the unrolled pretrained stack), so the held-out
# error can be measured before fine-tuning too. The pretraining settings are the
# defaults: 10 epochs per layer.
network = dict(n_components=8, hidden_layer_sizes=(128, 64), activation="logistic")
starts = {
    "random initialisation": dict(pretraining=None),
    "stacked RBMs": dict(pretraining="rbm"),
    "stacked autoencoders": dict(pretraining="autoencoder"),
}
loss_curves, error_curves = {}, {}
for name, start in starts.items():
    ae = AutoEncoder(**network, **start, max_iter=0, warm_start=True, random_state=0)
    ae.fit(X_train)
    errors = [-ae.score(X_test)]  # score: negative squared error per image
    ae.set_params(max_iter=1)
    for _ in range(n_epochs):
        ae.fit(X_train)
        errors.append(-ae.score(X_test))
    loss_curves[name], error_curves[name] = ae.loss_curve_, errors
    print(f"{name:22s} held-out error before fine-tuning {errors[0]:6.2f}, after {errors[-1]:.2f}")

# %%
# Learning curves
# ---------------
# Left: the training loss of fine-tuning, the Bernoulli cross-entropy summed over the 64
# pixels and averaged over images (``loss_curve_``). Right: the squared reconstruction
# error of held-out images, from epoch 0 (before fine-tuning). The randomly initialised
# network sits on a plateau, reproducing the average digit, for tens of epochs; both
# pretrained networks start far lower, already below where the random start ends up
# after 100 epochs, and keep improving.
fig, (ax_loss, ax_error) = plt.subplots(1, 2, figsize=(11, 4.2))
for name, marker in zip(starts, ["s", "o", "^"]):
    epochs = np.arange(1, len(loss_curves[name]) + 1)
    ax_loss.plot(epochs, loss_curves[name], marker=marker, markevery=10, label=name)
    ax_error.plot(np.arange(n_epochs + 1), error_curves[name], marker=marker, markevery=10,
                  label=name)
ax_loss.set_xlabel("fine-tuning epoch")
ax_loss.set_ylabel("training loss (cross-entropy per image)")
ax_loss.set_title("Fine-tuning loss on the training images")
ax_error.set_xlabel("fine-tuning epoch (0: before fine-tuning)")
ax_error.set_ylabel("held-out squared error per image")
ax_error.set_title("Reconstruction error on held-out images")
for ax in (ax_loss, ax_error):
    ax.legend(title="start of fine-tuning")
fig.suptitle(f"{X.shape[1]}-128-64-8 autoencoder with logistic units, fine-tuned with Adam")
fig.tight_layout()
plt.show()

# %%
# See :doc:`/benchmarks` for the same comparison on MNIST with the network shapes of
# Hinton & Salakhutdinov.
