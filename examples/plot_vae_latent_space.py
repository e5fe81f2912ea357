r"""
=====================================================
Variational autoencoder: latent space and samples
=====================================================

A :class:`~skautoenc.VariationalAutoEncoder` is a generative model. Its encoder maps an
image :math:`x` to a Gaussian :math:`q(z \mid x) = \mathcal N(\mu(x), \mathrm{diag}\,
\sigma^2(x))` over latent variables :math:`z`; its decoder maps :math:`z` to the
probability of each pixel being on, :math:`p(x \mid z)`; the prior is
:math:`p(z) = \mathcal N(0, I)`. Training maximises a lower bound on :math:`\log p(x)`
(the ELBO), which makes the codes of the data fill the prior.

With two latent variables the whole latent space can be drawn. This example shows where
the held-out digits land (coloured by class), what the decoder makes of a regular lattice
of latent points, and new digits drawn from the model with
:meth:`~skautoenc.VariationalAutoEncoder.sample`.
"""

# %%
# Data and model
# --------------
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm
from sklearn.datasets import load_digits
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

# Pixels in [0, 1]: likelihood="auto" picks the Bernoulli likelihood.
# sphinx_gallery_thumbnail_number = 2
vae = VariationalAutoEncoder(n_components=2, random_state=0)
vae.fit(X_train)
print(f"likelihood: {vae.likelihood_}")
print(f"held-out ELBO: {vae.score(X_test):.1f} nats per image")
print(f"KL term after training: {vae.kl_curve_[-1]:.2f} nats per image")

# %%
# The latent space
# ----------------
# :meth:`~skautoenc.VariationalAutoEncoder.transform` returns the posterior mean
# :math:`\mu(x)` of each held-out image. Digits of the same class gather in the same
# region, although the model never saw a label; similar-looking classes are neighbours.
codes = vae.transform(X_test)
fig, ax = plt.subplots(figsize=(7, 6))
for digit in np.unique(y_test):
    points = codes[y_test == digit]
    ax.scatter(points[:, 0], points[:, 1], s=8, color=plt.cm.tab10(digit), label=str(digit))
ax.set_xlabel("latent variable $z_1$ (posterior mean)")
ax.set_ylabel("latent variable $z_2$ (posterior mean)")
ax.set_title("Held-out digits in the 2-D latent space of the VAE")
ax.legend(title="digit", markerscale=2, loc="center left", bbox_to_anchor=(1, 0.5))
fig.tight_layout()

# %%
# Decoding a lattice of latent points
# -----------------------------------
# A 15 x 15 grid of latent points, placed at quantiles of the prior (from 5% to 95% in
# each direction, so equal steps in probability), decoded with
# :meth:`~skautoenc.VariationalAutoEncoder.inverse_transform`. Moving across the latent
# space morphs one digit smoothly into another.
n_grid = 15
quantiles = norm.ppf(np.linspace(0.05, 0.95, n_grid))
z1, z2 = np.meshgrid(quantiles, quantiles[::-1])  # z_2 grows upwards, as in the scatter
lattice = np.column_stack([z1.ravel(), z2.ravel()])
decoded = vae.inverse_transform(lattice)

tiles = decoded.reshape(n_grid, n_grid, side, side)
tiles = np.pad(tiles, ((0, 0), (0, 0), (1, 1), (1, 1)))  # a blank border around each digit
canvas = tiles.transpose(0, 2, 1, 3).reshape(n_grid * (side + 2), n_grid * (side + 2))
fig, ax = plt.subplots(figsize=(7, 7))
half = (quantiles[1] - quantiles[0]) / 2
ax.imshow(
    canvas, cmap="gray_r", vmin=0, vmax=1,
    extent=(quantiles[0] - half, quantiles[-1] + half, quantiles[0] - half, quantiles[-1] + half),
)
ax.set_xlabel("latent variable $z_1$")
ax.set_ylabel("latent variable $z_2$")
ax.set_title("Decoder output over a lattice of latent points\n(5% to 95% quantiles of the prior)")
fig.tight_layout()

# %%
# Random samples
# --------------
# :meth:`~skautoenc.VariationalAutoEncoder.sample` draws :math:`z \sim \mathcal N(0, I)`
# and decodes it into a new image: the mean of :math:`p(x \mid z)`, the probability of
# each pixel being on. Two latent variables are enough for a map, but squeeze ten classes
# into a plane: many samples of the 2-D model fall between classes and come out as blurred
# 8s, 9s and 5s. A VAE with 8 latent variables, fitted the same way, draws a wider variety
# of digits, still blurred: each image is a mean, not a draw of pixels.
vae8 = VariationalAutoEncoder(n_components=8, random_state=0)
vae8.fit(X_train)
models = {"2 latent variables (the model above)": vae, "8 latent variables": vae8}
fig = plt.figure(figsize=(10, 4.6), layout="constrained")
for subfig, (name, model) in zip(fig.subfigures(1, 2, wspace=0.05), models.items()):
    axes = subfig.subplots(4, 5)
    for ax, image in zip(axes.ravel(), model.sample(20, random_state=0)):
        ax.imshow(image.reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    subfig.suptitle(f"VAE with {name}")
fig.suptitle("New digits sampled from the VAE: z drawn from the prior, then decoded")
plt.show()
