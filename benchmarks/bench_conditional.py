"""Conditional generation: VariationalAutoEncoder(conditional=True) against the same VAE
without conditions, on statically binarised images.

What it answers (issue "Conditional generation"):

- **held-out bound**: the mean conditional bound ``log p(x | y)`` of the held-out images
  against the unconditional model's ``log p(x)`` bound, both as the ELBO
  (``score_samples``) and as the importance-weighted bound (``log_likelihood``, K
  samples). Since ``log p(x | y) = log p(x) + log p(y | x) - log p(y)``, the gap should
  be near ``log 10 = 2.303`` nats on ten balanced classes that the image tells apart;
- **class fidelity**: a ``LogisticRegression`` trained on the real (binarised) training
  images classifies ``--per-class`` conditional samples of each class; the share
  labelled as the class asked for, for the Bernoulli means and for binary draws of them;
- **diversity**: the mean pairwise Euclidean distance between 100 conditional samples
  of a class, against that between 100 real held-out images of the class;
- with ``--encoder-of-x-alone``, **which encoder**: the held-out conditional ELBO and
  the fidelity of a conditional VAE whose encoder sees ``x`` alone, ``q(z | x)``,
  against the estimator's ``q(z | x, y)``.

Each of those is measured for every latent size of ``--n-components``.

Statically binarised: each pixel intensity is replaced, once and with a fixed seed, by a
Bernoulli draw of it (the images stay the same binary images in every epoch and run).
Both models have the same architecture, settings and seed; they are fitted one after
the other, in alternating order over the seeds, in one process.

Run ``python benchmarks/bench_conditional.py --data ../shared/data/mnist`` (the MNIST
8,000 / 2,000 split; scikit-learn's digits without ``--data``). Writes
``benchmarks/results/conditional.json`` (``--out``) and, with ``--figure``, a PNG grid
of conditional samples (one row per class) for the docs.
"""

import argparse
import itertools
import math
import time
import warnings

import numpy as np
from _data import load_dataset, machine, write_json
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import pairwise_distances

from skautoenc import VariationalAutoEncoder


class EncoderOfXAlone(VariationalAutoEncoder):
    """The conditional VAE with the encoder ``q(z | x)`` of the unconditional one: the
    design the estimator did not take, measured here against ``q(z | x, y)``."""

    def _encoder_sees_conditions(self):
        return False


def binarise(X, seed):
    """A fixed Bernoulli draw of each pixel intensity in [0, 1]."""
    return (np.random.RandomState(seed).uniform(size=X.shape) < X).astype(np.float64)


def mean_pairwise_distance(X):
    """Mean Euclidean distance between two different rows of ``X``."""
    distances = pairwise_distances(X)
    n = len(X)
    return float(distances.sum() / (n * (n - 1)))


def fit_timed(model, X, y=None):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return time.perf_counter() - start


def run_seed(seed, n_components, data, args, classifier):
    X_train, X_test, y_train, y_test = data
    params = dict(n_components=n_components, hidden_layer_sizes=tuple(args.hidden),
                  random_state=seed)
    if args.max_iter is not None:
        params["max_iter"] = args.max_iter
    models = {"conditional": VariationalAutoEncoder(conditional=True, **params),
              "unconditional": VariationalAutoEncoder(**params)}
    if args.encoder_of_x_alone:
        models["encoder_of_x_alone"] = EncoderOfXAlone(conditional=True, **params)
    order = list(models) if seed % 2 == 0 else list(models)[::-1]
    seconds = {}
    for name in order:
        seconds[name] = fit_timed(models[name], X_train,
                                  None if name == "unconditional" else y_train)
    cond, uncond = models["conditional"], models["unconditional"]
    K = args.importance_samples
    result = {
        "seed": seed,
        "n_components": n_components,
        "fit_seconds": seconds,
        "epochs": {name: m.n_iter_ for name, m in models.items()},
        "elbo": {
            "conditional": float(cond.score(X_test, y_test)),
            "conditional_summed_over_classes": float(np.mean(cond.score_samples(X_test))),
            "unconditional": float(uncond.score(X_test)),
        },
        "iwae": {
            "conditional": float(np.mean(cond.log_likelihood(
                X_test, y_test, n_importance_samples=K, random_state=seed))),
            "unconditional": float(np.mean(uncond.log_likelihood(
                X_test, n_importance_samples=K, random_state=seed))),
        },
        "kl_last_epoch": {name: models[name].kl_curve_[-1]
                          for name in ("conditional", "unconditional")},
    }
    alone = models.get("encoder_of_x_alone")
    if alone is not None:
        labels = np.repeat(alone.classes_, args.per_class)
        samples = alone.sample(len(labels), y=labels, random_state=seed)
        result["encoder_of_x_alone"] = {
            "elbo": float(alone.score(X_test, y_test)),
            "fidelity_means": float(np.mean(classifier.predict(samples) == labels)),
            "kl_last_epoch": alone.kl_curve_[-1],
        }
    result["gap_elbo"] = result["elbo"]["conditional"] - result["elbo"]["unconditional"]
    result["gap_iwae"] = result["iwae"]["conditional"] - result["iwae"]["unconditional"]

    rng = np.random.RandomState(seed)
    fidelity = {"means": {}, "binary": {}}
    diversity = {"means": {}, "binary": {}, "real": {}}
    for label in cond.classes_:
        means = cond.sample(args.per_class, y=label, random_state=rng)
        binary = (rng.uniform(size=means.shape) < means).astype(np.float64)
        for kind, samples in (("means", means), ("binary", binary)):
            fidelity[kind][str(label)] = float(np.mean(classifier.predict(samples) == label))
            diversity[kind][str(label)] = mean_pairwise_distance(samples[:100])
        real = X_test[y_test == label][:100]
        diversity["real"][str(label)] = mean_pairwise_distance(real)
    result["fidelity"] = {k: {"per_class": v, "mean": float(np.mean(list(v.values())))}
                          for k, v in fidelity.items()}
    result["diversity"] = {k: {"per_class": v, "mean": float(np.mean(list(v.values())))}
                           for k, v in diversity.items()}
    return result, cond


def save_figure(model, path, image_side, seed, n_columns=10):
    """A grid of Bernoulli means: one row per class, ``n_columns`` draws each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = np.repeat(model.classes_, n_columns)
    samples = model.sample(len(labels), y=labels, random_state=seed)
    n_rows = len(model.classes_)
    fig, axes = plt.subplots(n_rows, n_columns, figsize=(n_columns * 0.6, n_rows * 0.6))
    for ax, image in zip(axes.ravel(), samples, strict=True):
        ax.imshow(image.reshape(image_side, image_side), cmap="gray_r", vmin=0, vmax=1)
        ax.set_axis_off()
    fig.subplots_adjust(wspace=0.05, hspace=0.05, left=0, right=1, top=1, bottom=0)
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with the MNIST idx files (default: digits)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--n-components", type=int, nargs="+", default=[2, 4, 8, 16, 32])
    parser.add_argument("--figure-components", type=int,
                        help="the size whose samples --figure draws (default: the first)")
    parser.add_argument("--hidden", type=int, nargs="+", default=[256])
    parser.add_argument("--max-iter", type=int, help="epochs (default: max_iter='auto')")
    parser.add_argument("--per-class", type=int, default=1000,
                        help="conditional samples per class for the fidelity")
    parser.add_argument("--importance-samples", type=int, default=1000)
    parser.add_argument("--figure", help="PNG of conditional samples, one row per class")
    parser.add_argument("--encoder-of-x-alone", action="store_true",
                        help="also fit the conditional VAE with the encoder q(z | x)")
    parser.add_argument("--out", default="benchmarks/results/conditional.json")
    args = parser.parse_args(argv)

    X_train, X_test, y_train, y_test, name = load_dataset(args.data)
    X_train, X_test = binarise(X_train, 0), binarise(X_test, 1)
    classifier = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    classifier_accuracy = float(classifier.score(X_test, y_test))
    print(f"{name}: {len(X_train)} / {len(X_test)} binarised images; the classifier "
          f"labels {classifier_accuracy:.4f} of the real held-out ones right")
    runs, figure_model = [], None
    shown = args.figure_components or args.n_components[0]
    for seed, n_components in itertools.product(args.seeds, args.n_components):
        result, model = run_seed(seed, n_components, (X_train, X_test, y_train, y_test),
                                 args, classifier)
        runs.append(result)
        if n_components == shown:
            figure_model = model
        print(f"seed {seed}, {n_components} components: ELBO gap "
              f"{result['gap_elbo']:.3f}, IWAE gap {result['gap_iwae']:.3f} nats "
              f"(log 10 = {math.log(10):.3f}); fidelity "
              f"{result['fidelity']['means']['mean']:.4f} (means), "
              f"{result['fidelity']['binary']['mean']:.4f} (binary); diversity "
              f"{result['diversity']['means']['mean']:.3f} (means), "
              f"{result['diversity']['binary']['mean']:.3f} (binary), "
              f"{result['diversity']['real']['mean']:.3f} (real)")
    if args.figure and figure_model is not None:
        save_figure(figure_model, args.figure, int(round(math.sqrt(X_train.shape[1]))),
                    args.seeds[-1])
    write_json(args.out, {
        "data": name,
        "n_train": len(X_train),
        "n_test": len(X_test),
        "binarisation": "static: one Bernoulli draw per pixel, seeds 0 (train) and 1 (test)",
        "settings": {"n_components": args.n_components, "figure_components": shown,
                     "hidden_layer_sizes": args.hidden,
                     "max_iter": args.max_iter or "auto", "per_class": args.per_class,
                     "importance_samples": args.importance_samples},
        "classifier_accuracy_on_real_test_images": classifier_accuracy,
        "log_10": math.log(10),
        "runs": runs,
        "machine": machine(),
    })


if __name__ == "__main__":
    main()
