"""``skautoenc demo``: every estimator on scikit-learn's digits, next to PCA."""

import json
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._autoencoder import AutoEncoder
from ._denoising import DenoisingAutoEncoder
from ._sparse import SparseAutoEncoder
from ._variational import VariationalAutoEncoder


def demo_models(n_components, random_state):
    """The models the demo compares, by display name (each with default settings)."""
    return {
        "AutoEncoder": AutoEncoder(n_components, random_state=random_state),
        "AutoEncoder (RBM-pretrained)": AutoEncoder(
            n_components,
            hidden_layer_sizes=(128, 64),
            activation="logistic",
            pretraining="rbm",
            random_state=random_state,
        ),
        "DenoisingAutoEncoder": DenoisingAutoEncoder(n_components, random_state=random_state),
        "SparseAutoEncoder": SparseAutoEncoder(n_components, random_state=random_state),
        "VariationalAutoEncoder": VariationalAutoEncoder(
            n_components, random_state=random_state
        ),
    }


def _accuracy(codes_train, y_train, codes_test, y_test):
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return clf.fit(codes_train, y_train).score(codes_test, y_test)


def _reconstruction_error(X, X_hat):
    """Mean over images of the squared error summed over pixels."""
    return float(((X - X_hat) ** 2).sum(axis=1).mean())


def run_demo(output_dir="demo_output", n_components=16, random_state=0, models=None):
    """Fit the estimators on digits, print a comparison table and save a figure.

    Parameters
    ----------
    output_dir : str or Path, default="demo_output"
        Where ``reconstructions.png`` and ``results.json`` are written.
    n_components : int, default=16
        Code size of every model (and of PCA).
    random_state : int, default=0
        Seeds the split and the models.
    models : dict or None
        Name to estimator; ``None`` uses :func:`demo_models`.

    Returns
    -------
    rows : list of dict
        One row per model, as printed.
    """
    X, y = load_digits(return_X_y=True)
    X = X / 16.0  # pixel intensities in [0, 1]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=random_state, stratify=y
    )
    if models is None:
        models = demo_models(n_components, random_state)

    rows = [
        {
            "model": "raw pixels",
            "code size": X.shape[1],
            "recon. error": 0.0,
            "LogReg acc.": _accuracy(X_train, y_train, X_test, y_test),
            "fit time (s)": 0.0,
            "held-out score": float("nan"),
        }
    ]
    reconstructions = {}
    for name, model in {"PCA": PCA(n_components), **models}.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            codes_train = model.fit_transform(X_train)
        fit_time = time.perf_counter() - start
        codes_test = model.transform(X_test)
        X_hat = model.inverse_transform(codes_test)
        reconstructions[name] = X_hat
        rows.append(
            {
                "model": name,
                "code size": n_components,
                "recon. error": _reconstruction_error(X_test, X_hat),
                "LogReg acc.": _accuracy(codes_train, y_train, codes_test, y_test),
                "fit time (s)": fit_time,
                "held-out score": float(model.score(X_test)),
            }
        )

    print(format_table(rows))
    print(
        "recon. error: held-out squared error per image (sum over 64 pixels in [0, 1]); "
        "held-out score: the model's own score (autoencoders: negative error; "
        "VariationalAutoEncoder: ELBO in nats; PCA: Gaussian log-likelihood)."
    )
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "results.json").write_text(json.dumps(rows, indent=2))
    figure = _plot_reconstructions(X_test[:10], reconstructions, output_dir)
    if figure is not None:
        print(f"Figure of originals and reconstructions: {figure}")
    return rows


def format_table(rows, float_format="{:.3f}"):
    """Render rows (dicts with the same keys) as an aligned text table."""
    columns = list(rows[0])

    def cell(value):
        if isinstance(value, float):
            return "-" if np.isnan(value) else float_format.format(value)
        return str(value)

    cells = [[cell(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)


def _plot_reconstructions(originals, reconstructions, output_dir):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no figure (pip install 'skautoenc[demo]').")
        return None
    rows = {"original": originals, **{k: v[: len(originals)] for k, v in reconstructions.items()}}
    fig, axes = plt.subplots(
        len(rows), len(originals), figsize=(len(originals), 1.1 * len(rows)), squeeze=False
    )
    for r, (name, images) in enumerate(rows.items()):
        for c, image in enumerate(images):
            ax = axes[r, c]
            ax.imshow(np.clip(image, 0, 1).reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle("Held-out digits and their reconstructions")
    path = output_dir / "reconstructions.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path
