"""``skautoenc demo``: each estimator at what it is for, on scikit-learn's digits.

Five short tasks, each against the baseline a data scientist would try first:

1. reconstruction from a small code: :class:`AutoEncoder` against PCA;
2. denoising: :class:`DenoisingAutoEncoder` against PCA, both given the same corrupted
   held-out images and scored against the clean ones;
3. features for a classifier: :class:`SparseAutoEncoder` (an overcomplete code) against
   the raw pixels, PCA and ``BernoulliRBM``;
4. a generative model of black-and-white digits: the held-out log-likelihood of
   :class:`VariationalAutoEncoder` against independent pixels, and samples;
5. greedy pretraining with stacked RBMs against random initialisation, at the same
   fine-tuning budget.

Every model keeps its default settings but for its code size (and, in task 5, the
network and the fine-tuning budget under comparison).
"""

import json
import math
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._autoencoder import AutoEncoder
from ._denoising import DenoisingAutoEncoder
from ._sparse import SparseAutoEncoder
from ._variational import VariationalAutoEncoder

#: Fraction of the pixels of each held-out image set to 0 in the denoising task.
MASKED_FRACTION = 0.3


class _Progress:
    """Prints what the demo is doing, with the time since it started."""

    def __init__(self, quiet=False):
        self.start = time.perf_counter()
        self.quiet = quiet

    def __call__(self, message):
        if not self.quiet:
            print(f"[{time.perf_counter() - self.start:5.1f} s] {message}", flush=True)


def _fit(model, X, progress, label=None):
    """Fit ``model`` on ``X``; return the seconds it took."""
    label = label or type(model).__name__
    progress(f"  fitting {label} ...")
    start = time.perf_counter()
    with warnings.catch_warnings():
        # the demo's fits are judged by held-out results, printed below
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    seconds = time.perf_counter() - start
    epochs = getattr(model, "n_iter_", None)
    progress(f"  fitted {label} in {seconds:.1f} s" + (f" ({epochs} epochs)" if epochs else ""))
    return seconds


def _squared_error(X, X_hat):
    """Mean over images of the squared error summed over pixels."""
    return float(((X - X_hat) ** 2).sum(axis=1).mean())


def _cross_entropy(X, P):
    """Mean over images of the Bernoulli cross-entropy of ``X`` under pixel
    probabilities ``P``, summed over pixels: the loss the logistic networks train on."""
    P = np.clip(P, 1e-7, 1 - 1e-7)
    return float(-(X * np.log(P) + (1 - X) * np.log(1 - P)).sum(axis=1).mean())


def _accuracy(codes_train, y_train, codes_test, y_test):
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return float(clf.fit(codes_train, y_train).score(codes_test, y_test))


def _reconstruction(X_train, X_test, random_state, progress, budget):
    n_components = 8
    pca = PCA(n_components, random_state=random_state)
    ae = AutoEncoder(n_components, random_state=random_state, **budget)
    rows, images = [], {}
    for name, model in {"PCA": pca, "AutoEncoder": ae}.items():
        seconds = _fit(model, X_train, progress, name)
        X_hat = model.inverse_transform(model.transform(X_test))
        images[name] = X_hat
        rows.append({"model": name, "code size": n_components,
                     "held-out error": _squared_error(X_test, X_hat), "fit s": seconds})
    return rows, images


def _denoising(X_train, X_test, random_state, progress, budget):
    n_components = 32
    rng = np.random.default_rng(random_state)
    X_noisy = X_test * (rng.uniform(size=X_test.shape) >= MASKED_FRACTION)
    models = {
        "PCA": PCA(n_components, random_state=random_state),
        "DenoisingAutoEncoder": DenoisingAutoEncoder(
            n_components, random_state=random_state, **budget
        ),
    }
    rows = [{"model": "corrupted input itself", "code size": None,
             "error vs clean": _squared_error(X_test, X_noisy), "fit s": None}]
    images = {"corrupted": X_noisy}
    for name, model in models.items():
        seconds = _fit(model, X_train, progress, name)
        X_hat = model.inverse_transform(model.transform(X_noisy))
        images[name] = X_hat
        rows.append({"model": name, "code size": n_components,
                     "error vs clean": _squared_error(X_test, X_hat), "fit s": seconds})
    return rows, images


def _features(X_train, X_test, y_train, y_test, random_state, progress, budget):
    rbm_iter = 1 if budget else 20
    models = {
        "PCA": PCA(32, random_state=random_state),
        # scikit-learn's own example settings for BernoulliRBM on digits
        "BernoulliRBM": BernoulliRBM(256, learning_rate=0.06, n_iter=rbm_iter,
                                     batch_size=10, random_state=random_state),
        "SparseAutoEncoder": SparseAutoEncoder(256, random_state=random_state, **budget),
    }
    rows = [{"features": "raw pixels", "size": X_train.shape[1],
             "accuracy": _accuracy(X_train, y_train, X_test, y_test), "fit s": None}]
    for name, model in models.items():
        seconds = _fit(model, X_train, progress, f"{name}({model.n_components})")
        rows.append({
            "features": name, "size": model.n_components,
            "accuracy": _accuracy(model.transform(X_train), y_train,
                                  model.transform(X_test), y_test),
            "fit s": seconds,
        })
    return rows


def _generative(X_train, X_test, random_state, progress, budget):
    # black-and-white images (pixels above half ink are 1), as generative models of
    # digits are usually compared: a Bernoulli likelihood is then a true probability
    X_train, X_test = (X_train > 0.5).astype(float), (X_test > 0.5).astype(float)
    vae = VariationalAutoEncoder(8, random_state=random_state, **budget)
    seconds = _fit(vae, X_train, progress, "VariationalAutoEncoder(8)")
    progress("  importance-sampled log-likelihood of the held-out images ...")
    log_likelihood = float(vae.log_likelihood(X_test, n_importance_samples=200,
                                              random_state=random_state).mean())
    # the baseline: every pixel an independent Bernoulli with its training mean
    p = np.clip(X_train.mean(axis=0), 1e-3, 1 - 1e-3)
    independent = float((X_test * np.log(p) + (1 - X_test) * np.log(1 - p)).sum(axis=1).mean())
    rows = [
        {"model": "independent pixels", "held-out log-likelihood": independent, "fit s": None},
        {"model": "VariationalAutoEncoder: ELBO", "held-out log-likelihood": vae.score(X_test),
         "fit s": seconds},
        {"model": "VariationalAutoEncoder: log p(x)", "held-out log-likelihood": log_likelihood,
         "fit s": None},
    ]
    return rows, vae.sample(20, random_state=random_state)


def _pretraining(X_train, X_test, random_state, progress, budget):
    # a deep network of logistic units (Hinton & Salakhutdinov's setting), fine-tuned
    # for the same number of epochs with and without a stack of RBMs to start from
    common = dict(hidden_layer_sizes=(128, 64), activation="logistic",
                  max_iter=budget.get("max_iter", 30), random_state=random_state)
    models = {
        "random initialisation": AutoEncoder(8, **common),
        "stacked-RBM pretraining": AutoEncoder(
            8, pretraining="rbm",
            pretraining_max_iter=budget.get("pretraining_max_iter", 10), **common
        ),
    }
    rows, curves = [], {}
    for name, model in models.items():
        seconds = _fit(model, X_train, progress, f"AutoEncoder(8), {name}")
        X_hat = model.inverse_transform(model.transform(X_test))
        curves[name] = [-v for v in model.validation_scores_] if hasattr(
            model, "validation_scores_") else model.loss_curve_
        rows.append({"initialisation": name, "fine-tuning epochs": model.n_iter_,
                     "held-out cross-entropy": _cross_entropy(X_test, X_hat),
                     "fit s": seconds})
    return rows, curves


def run_demo(output_dir="demo_output", random_state=0, quick=False, quiet=False):
    """Run the five tasks on digits, print a table for each and save their figures.

    Parameters
    ----------
    output_dir : str or Path, default="demo_output"
        Where the figures (PNG) and ``results.json`` are written.
    random_state : int, default=0
        Seeds the split, the corruption and the models.
    quick : bool, default=False
        Train every model for a few epochs only: for testing the demo, not its results.
    quiet : bool, default=False
        Print nothing.

    Returns
    -------
    results : dict
        Task name to its rows, as printed and as written to ``results.json``.
    """
    progress = _Progress(quiet)
    say = (lambda *a: None) if quiet else print
    X, y = load_digits(return_X_y=True)
    X = X / 16.0  # pixel intensities in [0, 1]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=random_state, stratify=y
    )
    # quick: a few epochs each; otherwise every model keeps its default training budget
    nets = dict(max_iter=2) if quick else {}
    budget = dict(max_iter=2, pretraining_max_iter=1) if quick else {}
    say(f"skautoenc demo: scikit-learn's digits, {len(X_train)} training and "
        f"{len(X_test)} held-out images of 8x8 pixels in [0, 1].")
    results, figures = {}, {}

    progress("1/5 Reconstruction from 8 numbers per image: AutoEncoder vs PCA")
    results["reconstruction"], images = _reconstruction(
        X_train, X_test, random_state, progress, nets)
    figures["reconstruction"] = (_plot_images, {"original": X_test, **images},
                                 "Held-out digits reconstructed from 8 numbers")
    _print(say, results["reconstruction"],
           "held-out error: squared error per image, summed over its 64 pixels")

    progress(f"2/5 Denoising: {MASKED_FRACTION:.0%} of each held-out image's pixels "
             "deleted (set to 0)")
    results["denoising"], images = _denoising(X_train, X_test, random_state, progress, nets)
    figures["denoising"] = (_plot_images, {"clean": X_test, **images},
                            "Corrupted held-out digits, restored")
    _print(say, results["denoising"], "error vs clean: squared error per image against "
           "the uncorrupted image")

    progress("3/5 Features for LogisticRegression: an overcomplete sparse code vs raw "
             "pixels, PCA and BernoulliRBM")
    results["features"] = _features(X_train, X_test, y_train, y_test, random_state,
                                    progress, nets)
    figures["features"] = (partial(_plot_accuracies, n_test=len(X_test)), results["features"],
                           "Held-out accuracy of LogisticRegression on each feature set")
    _print(say, results["features"], "accuracy: held-out, StandardScaler + "
           "LogisticRegression on the features")

    progress("4/5 A generative model of black-and-white digits: VariationalAutoEncoder vs "
             "independent pixels")
    results["generative"], samples = _generative(X_train, X_test, random_state, progress,
                                                 nets)
    figures["samples"] = (_plot_images,
                          {"draws 1-10": samples[:10], "draws 11-20": samples[10:]},
                          "Digits generated by the VariationalAutoEncoder: each pixel's "
                          "probability of ink (grey: uncertain)")
    _print(say, results["generative"], "nats per held-out black-and-white image; higher "
           "is better")

    progress("5/5 Greedy pretraining: stacked RBMs vs random initialisation, "
             "same fine-tuning")
    results["pretraining"], curves = _pretraining(X_train, X_test, random_state, progress,
                                                  budget)
    figures["pretraining"] = (_plot_curves, curves,
                              "Deep logistic autoencoder 64-128-64-8: validation "
                              "cross-entropy per image during fine-tuning")
    _print(say, results["pretraining"], "held-out cross-entropy per image, summed over "
           "its 64 pixels: the loss the figure shows, lower is better")

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "results.json").write_text(
        json.dumps(_json_ready(results), indent=2, allow_nan=False)
    )
    plt = _pyplot()
    if plt is None:
        progress("matplotlib is not installed: no figures (pip install 'skautoenc[demo]')")
    else:
        written = []
        for name, (plot, data, title) in figures.items():
            fig = plot(plt, data, title)
            written.append(output_dir / f"{name}.png")
            fig.savefig(written[-1], dpi=100, bbox_inches="tight")
            plt.close(fig)
        progress(f"figures: {', '.join(str(p) for p in written)}")
    progress(f"results: {output_dir / 'results.json'}")
    return results


def _json_ready(value):
    """``value`` with NaN and infinity as ``None`` (JSON has neither)."""
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _print(say, rows, note):
    say(format_table(rows))
    say(f"({note})\n")


def format_table(rows, float_format="{:.3f}"):
    """Render rows (dicts with the same keys) as an aligned text table."""
    columns = list(rows[0])

    def cell(value):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return "-"
        if isinstance(value, float):
            return float_format.format(value)
        return str(value)

    cells = [[cell(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _mosaic(images, side=8, gap=2):
    """Images (rows of ``side * side`` pixels) side by side in one array, blank between."""
    tiles = np.zeros((side, len(images) * (side + gap) - gap))
    for i, image in enumerate(images):
        tiles[:, i * (side + gap) : i * (side + gap) + side] = image.reshape(side, side)
    return tiles


def _plot_images(plt, rows, title, n_images=10):
    # one axes per row of images: a grid of one axes per image draws several times slower
    fig, axes = plt.subplots(len(rows), 1, figsize=(n_images, 1.05 * len(rows)),
                             squeeze=False)
    for ax, (name, images) in zip(axes[:, 0], rows.items()):
        ax.imshow(np.clip(_mosaic(images[:n_images]), 0, 1), cmap="gray_r", vmin=0,
                  vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(title)
    return fig


def _plot_accuracies(plt, rows, title, n_test):
    """Accuracies as points with their 95% intervals (normal approximation over the
    ``n_test`` held-out images): a reader sees which differences are noise."""
    names = [f"{row['features']}\n({row['size']})" for row in rows]
    accuracies = np.array([row["accuracy"] for row in rows])
    half = 1.96 * np.sqrt(accuracies * (1 - accuracies) / n_test)
    fig, ax = plt.subplots(figsize=(6.5, 3))
    positions = np.arange(len(rows))[::-1]
    colors = ["tab:blue"] * (len(rows) - 1) + ["tab:orange"]  # the sparse autoencoder
    for y, value, error, color in zip(positions, accuracies, half, colors):
        ax.errorbar(value, y, xerr=error, fmt="o", color=color, capsize=4)
        ax.text(value, y + 0.18, f"{value:.3f}", ha="center", fontsize=8)
    ax.set_yticks(positions, names)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    start = max(0.0, float((accuracies - half).min()) - 0.02)
    ax.set_xlim(start, min(1.0, float((accuracies + half).max()) + 0.01))
    ax.set_xlabel(f"held-out accuracy (axis from {start:.2f}; bars: 95% interval over "
                  f"{n_test} images)")
    ax.set_title(title, fontsize=10)
    return fig


def _plot_curves(plt, curves, title):
    fig, ax = plt.subplots(figsize=(6, 3))
    for name, curve in curves.items():
        ax.plot(np.arange(1, len(curve) + 1), curve, label=name)
    ax.set_xlabel("fine-tuning epoch")
    ax.set_ylabel("validation cross-entropy per image")
    ax.set_title(title, fontsize=10)
    ax.legend()
    return fig
