"""Outlier detection: AutoEncoderOutlierDetector against scikit-learn's detectors and pyod.

Six protocols (the last two for the budget study only), each scored by the AUROC of
the held-out samples (normal = positive):

- ``mnist``: one-class MNIST as in Ruff et al. (2018, Table 1), on the 8,000 / 2,000
  split of the MNIST test set: for each digit, train on that digit's training images
  and score all 2,000 held-out images, that digit normal and the others anomalies.
- ``mnist-contaminated``: the same, with 5% of each digit's training images replaced by
  images of other digits.
- ``wbc``: ``load_breast_cancer`` as ODDS's "WBC": the benign rows normal, malignant
  rows subsampled to 5% of the data; a 70/30 split, scaled on the training part (which
  keeps its anomalies, as unsupervised detection meets them); 5 random subsamples.
- ``digits``: ``load_digits`` one-class, each digit in turn (75/25 split).
- ``mnist-nine-digits`` (budget study only): for each digit, train on the other nine
  digits' training images and score the held-out images, that digit the anomaly: ten
  times the rows of one-class MNIST, where a budget in updates is a few epochs.
- ``digits-five`` (budget study only): ``load_digits`` with five digits normal (0-4, then
  5-9) and the other five the anomalies, the 60/40 split of the gallery example, three
  splits: normal data of several modes.

Run ``python benchmarks/bench_outliers.py --data ../shared/data/mnist``; ``--only``
picks protocols and ``--methods`` methods. Writes ``benchmarks/results/outliers.json``
(``--out``). The methods run in turn on each task, in alternating order, one process.

The training budget against quality, recorded in ``recorded/outliers_budget.json``:
``--study budget`` (the methods of ``BUDGET_METHODS``, on all six protocols).
"""

import argparse
import importlib.util
import itertools
import json
import math
import time
import warnings
from pathlib import Path

import numpy as np
from _data import load_dataset, machine
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

from skautoenc import (
    AutoEncoder,
    AutoEncoderOutlierDetector,
    DenoisingAutoEncoder,
    VariationalAutoEncoder,
)
from skautoenc._outlier import default_estimator
from skautoenc._validation import in_unit_interval

PROTOCOLS = ("mnist", "mnist-contaminated", "wbc", "digits", "mnist-nine-digits",
             "digits-five")


def _pyod(name):
    def make(seed, X):
        from pyod.models.auto_encoder import AutoEncoder as PyodAE
        from pyod.models.vae import VAE

        model = {"pyod-autoencoder": PyodAE, "pyod-vae": VAE}[name](random_state=seed,
                                                                    verbose=0)
        return _PyodScores(model)

    return make


class _PyodScores:
    """pyod's decision_function is higher for outliers: negate it to a normality score."""

    def __init__(self, model):
        self.model = model

    def fit(self, X):
        self.model.fit(X)
        return self

    def score_samples(self, X):
        return -self.model.decision_function(X)


def _side(X):
    """The side of the square images that the rows of ``X`` hold."""
    side = int(round(X.shape[1] ** 0.5))
    if side * side != X.shape[1]:
        raise ValueError(f"rows of {X.shape[1]} features are not square images")
    return side


def _size(X):
    """The size of the default network for ``X``."""
    network = default_estimator(X.shape[1], in_unit_interval(X))
    return dict(n_components=network.n_components,
                hidden_layer_sizes=network.hidden_layer_sizes)


def _sized(**params):
    """A detector on the default network for the data, with ``params`` changed."""
    def make(seed, X):
        network = default_estimator(X.shape[1], in_unit_interval(X))
        return AutoEncoderOutlierDetector(network.set_params(**params), random_state=seed)
    return make


def _steps_per_epoch(network, n_samples):
    return network._steps_per_epoch(n_samples, network._resolve_early_stopping(n_samples))


def _updates(updates):
    """One default network trained for about ``updates`` minibatch updates, however few
    epochs they make (the detector's own budget trains at least ten)."""
    def make(seed, X):
        network = default_estimator(X.shape[1], in_unit_interval(X))
        epochs = math.ceil(updates / _steps_per_epoch(network, len(X)))
        return AutoEncoderOutlierDetector(network.set_params(max_iter=epochs),
                                          random_state=seed)
    return make


def _full_budget(seed, X):
    """The detector's default before its budget: three default networks trained for the
    epochs of their own ``max_iter="auto"`` (about 5,000 updates, at most 200 epochs),
    with the refit."""
    network = default_estimator(X.shape[1], in_unit_interval(X))
    return AutoEncoderOutlierDetector(network.set_params(max_iter=network._epochs(len(X))),
                                      n_estimators=3, refit=True, random_state=seed)


#: The budgets of the budget study: minibatch updates on the four protocols, epochs on
#: the nine-digit one (whose ~7,000 training rows make 150 updates three epochs).
BUDGET_UPDATES = (50, 100, 150, 200, 300, 600)
BUDGET_EPOCHS = (1, 3, 5, 10, 20)


#: name -> function of a seed and the training data giving an unfitted model with fit
#: and score_samples
METHODS = {
    # the hand-written baseline of the issue: a default AutoEncoder(16)'s own scores
    "autoencoder-16": lambda seed, X: AutoEncoder(n_components=16, random_state=seed),
    "detector": lambda seed, X: AutoEncoderOutlierDetector(random_state=seed),
    "detector-refit": lambda seed, X: AutoEncoderOutlierDetector(refit=True,
                                                                 random_state=seed),
    "detector-3-networks": lambda seed, X: AutoEncoderOutlierDetector(n_estimators=3,
                                                                      random_state=seed),
    "detector-full-budget": _full_budget,
    "detector-standardized": lambda seed, X: AutoEncoderOutlierDetector(
        error="standardized", random_state=seed),
    # the two other sums of the errors, with the default's network: against "detector"
    "detector-squared": lambda seed, X: AutoEncoderOutlierDetector(error="squared",
                                                                   random_state=seed),
    "detector-relative": lambda seed, X: AutoEncoderOutlierDetector(error="relative",
                                                                    random_state=seed),
    # the default network for a table with other noise levels
    "detector-dae-default-noise": _sized(noise_level=(0.0, 0.6)),
    "detector-dae-noise-0.5": _sized(noise_level=0.5),
    "detector-dae-noise-0.7": _sized(noise_level=0.7),
    # one network of the default's size, without noise (on a table), with the denoising
    # defaults (on images: the network of the default before relative errors), and as a
    # VAE (its reconstruction error: the ELBO ranked worse in a first trial), all with
    # the detector's budget: against "detector"
    "detector-autoencoder": lambda seed, X: AutoEncoderOutlierDetector(
        AutoEncoder(**_size(X)), random_state=seed),
    "detector-denoising": lambda seed, X: AutoEncoderOutlierDetector(
        DenoisingAutoEncoder(**_size(X)), random_state=seed),
    "detector-vae": lambda seed, X: AutoEncoderOutlierDetector(
        VariationalAutoEncoder(**_size(X)), random_state=seed),
    # images as images: the conv network, for square images (MNIST, digits)
    "detector-conv": lambda seed, X: AutoEncoderOutlierDetector(
        DenoisingAutoEncoder(n_components=16, encoder="conv",
                             image_shape=(_side(X), _side(X))), random_state=seed),
    # the budget study: one default network of that many updates or epochs (ten epochs
    # are pyod's budget, the epochs its AutoEncoder trains by default)
    **{f"detector-{updates}-updates": _updates(updates) for updates in BUDGET_UPDATES},
    **{f"detector-{epochs}-epochs": _sized(max_iter=epochs) for epochs in BUDGET_EPOCHS},
    "isolation-forest": lambda seed, X: IsolationForest(random_state=seed),
    "local-outlier-factor": lambda seed, X: LocalOutlierFactor(novelty=True),
    "one-class-svm": lambda seed, X: OneClassSVM(gamma="scale", nu=0.1),
    "pyod-autoencoder": _pyod("pyod-autoencoder"),
    "pyod-vae": _pyod("pyod-vae"),
}


BASELINES = ["isolation-forest", "local-outlier-factor", "one-class-svm", "pyod-autoencoder"]
#: What each protocol compares by default: the variants of the detector that answer what
#: the default is measured against, and the peers (on contaminated MNIST, the ones whose
#: drop the docs report).
DEFAULT_METHODS = {
    "mnist": ["autoencoder-16", "detector", "detector-refit", "detector-3-networks",
              "detector-full-budget", "detector-squared", "detector-standardized",
              "detector-denoising", "detector-vae", "detector-conv", "detector-10-epochs",
              *BASELINES, "pyod-vae"],
    "mnist-contaminated": ["autoencoder-16", "detector", "detector-refit",
                           "detector-full-budget", "detector-squared", *BASELINES],
    "wbc": ["autoencoder-16", "detector", "detector-refit", "detector-3-networks",
            "detector-full-budget", "detector-relative", "detector-standardized",
            "detector-dae-default-noise", "detector-dae-noise-0.5", "detector-dae-noise-0.7",
            "detector-autoencoder", "detector-vae", *BASELINES, "pyod-vae"],
}
# on images the default network is an AutoEncoder: the denoising one is the variant
DEFAULT_METHODS["digits"] = [m for m in DEFAULT_METHODS["mnist"]
                             if m not in ("detector-conv", "detector-10-epochs")]
#: ``--study budget``: the detector's budget in updates against the default's, with the
#: baseline and the peer whose time the default must beat; in epochs on the nine-digit
#: protocol, where the default's floor of ten epochs sets the budget; and on normal data
#: of several modes (five digits), where longer budgets rank higher.
BUDGET_METHODS = {
    **{protocol: ["autoencoder-16", "detector",
                  *(f"detector-{u}-updates" for u in BUDGET_UPDATES if u != 150),
                  "isolation-forest", "pyod-autoencoder"]
       for protocol in ("mnist", "mnist-contaminated", "wbc", "digits")},
    "mnist-nine-digits": ["detector", "detector-150-updates",
                          *(f"detector-{e}-epochs" for e in BUDGET_EPOCHS),
                          "isolation-forest"],
    "digits-five": ["autoencoder-16", "detector", "detector-300-updates",
                    "detector-600-updates", "detector-full-budget", "isolation-forest",
                    "local-outlier-factor"],
}


def capped(model, max_iter, X):
    """``model`` with its networks trained for ``max_iter`` epochs."""
    if isinstance(model, AutoEncoderOutlierDetector):
        network = model.estimator or default_estimator(X.shape[1], in_unit_interval(X))
        return model.set_params(estimator=network.set_params(max_iter=max_iter))
    if hasattr(model, "max_iter"):
        return model.set_params(max_iter=max_iter)
    if isinstance(model, _PyodScores):
        model.model.epoch_num = max_iter
    return model


def evaluate(make, X_train, X_test, normal, max_iter=None, seed=0):
    """AUROC (normal samples positive) and fit + score time of one model."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make(seed, X_train)
        if max_iter is not None:
            model = capped(model, max_iter, X_train)
        model = model.fit(X_train)
        scores = model.score_samples(X_test)
    return roc_auc_score(normal, scores), time.perf_counter() - start


def mnist_tasks(path, contaminated):
    X_train, X_test, y_train, y_test, _ = load_dataset(path)
    rng = np.random.RandomState(0)
    for digit in range(10):
        X = X_train[y_train == digit]
        if contaminated:
            # 5% of the rows replaced by images of the other digits
            n_other = int(round(0.05 * len(X)))
            others = np.flatnonzero(y_train != digit)
            X = np.vstack([X[: len(X) - n_other],
                           X_train[rng.choice(others, n_other, replace=False)]])
        yield str(digit), X, X_test, y_test == digit


def nine_digit_tasks(path):
    """For each digit, the other nine digits' training images (~7,200 rows), that digit
    the anomaly among the held-out images."""
    X_train, X_test, y_train, y_test, _ = load_dataset(path)
    for digit in range(10):
        yield str(digit), X_train[y_train != digit], X_test, y_test != digit


def five_digit_tasks():
    """``load_digits``: the digits 0-4, then 5-9, normal, the others anomalies; for each
    of three 60/40 splits."""
    X, y = load_digits(return_X_y=True)
    for split in range(3):
        X_train, X_test, y_train, y_test = train_test_split(
            X / 16.0, y, test_size=0.4, random_state=split, stratify=y)
        for half, (low, high) in enumerate(((0, 4), (5, 9))):
            normal = (y_test >= low) & (y_test <= high)
            kept = (y_train >= low) & (y_train <= high)
            yield str(2 * split + half), X_train[kept], X_test, normal


def wbc_tasks():
    X, y = load_breast_cancer(return_X_y=True)
    benign, malignant = X[y == 1], X[y == 0]
    n_malignant = int(round(0.05 * len(benign) / 0.95))  # 5% of the data
    for subsample in range(5):
        rng = np.random.RandomState(subsample)
        rows = np.vstack([benign, malignant[rng.choice(len(malignant), n_malignant,
                                                       replace=False)]])
        normal = np.r_[np.ones(len(benign), bool), np.zeros(n_malignant, bool)]
        X_train, X_test, _, n_test = train_test_split(
            rows, normal, test_size=0.3, random_state=subsample, stratify=normal)
        scaler = StandardScaler().fit(X_train)
        yield str(subsample), scaler.transform(X_train), scaler.transform(X_test), n_test


def digits_tasks():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.25, random_state=0, stratify=y)
    for digit in range(10):
        yield str(digit), X_train[y_train == digit], X_test, y_test == digit


def run_protocol(name, tasks, methods, max_iter=None):
    results = {m: {"auroc": {}, "seconds": {}} for m in methods}
    for task, X_train, X_test, normal in tasks:
        # alternate the order of the methods from task to task
        order = methods if int(task) % 2 == 0 else methods[::-1]
        for method in order:
            auroc, seconds = evaluate(METHODS[method], X_train, X_test, normal, max_iter)
            results[method]["auroc"][task] = auroc
            results[method]["seconds"][task] = seconds
        print(f"{name} {task}: " + ", ".join(
            f"{m} {results[m]['auroc'][task]:.3f}" for m in methods), flush=True)
    for method in methods:
        aurocs = list(results[method]["auroc"].values())
        results[method]["mean_auroc"] = float(np.mean(aurocs))
        results[method]["total_seconds"] = float(sum(results[method]["seconds"].values()))
    return results


def summarize(protocols):
    """The differences the docs quote, in AUROC points (hundredths): each method against
    the hand-written baseline and against ``IsolationForest``, and each method's drop
    from clean to contaminated one-class MNIST."""
    summary = {}
    for name, results in protocols.items():
        for reference in ("autoencoder-16", "isolation-forest"):
            if reference in results:
                summary[f"{name}: points above {reference}"] = {
                    method: 100 * (r["mean_auroc"] - results[reference]["mean_auroc"])
                    for method, r in results.items() if method != reference
                }
    if "mnist" in protocols and "mnist-contaminated" in protocols:
        clean, dirty = protocols["mnist"], protocols["mnist-contaminated"]
        summary["mnist-contaminated: drop in points"] = {
            method: 100 * (clean[method]["mean_auroc"] - dirty[method]["mean_auroc"])
            for method in dirty if method in clean
        }
    return summary


def format_table(name, results):
    lines = [f"\n{name}", f"{'method':28s} {'mean AUROC':>10s} {'seconds':>8s}"]
    for method, r in sorted(results.items(), key=lambda kv: -kv[1]["mean_auroc"]):
        lines.append(f"{method:28s} {r['mean_auroc']:10.4f} {r['total_seconds']:8.1f}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder of the MNIST idx files (for the mnist "
                        "protocols; without it they are skipped)")
    parser.add_argument("--study", choices=("comparison", "budget"), default="comparison",
                        help="the methods of DEFAULT_METHODS on the first four protocols, "
                        "or those of BUDGET_METHODS on all six")
    parser.add_argument("--only", nargs="+", choices=PROTOCOLS,
                        help="the protocols (default: those of the study)")
    parser.add_argument("--methods", nargs="+", choices=list(METHODS),
                        help="the methods to compare (default: those of the study for "
                        "each protocol)")
    parser.add_argument("--tasks", type=int, help="only the first TASKS digits or "
                        "subsamples of each protocol (default: all)")
    parser.add_argument("--max-iter", type=int, help="epochs of every network (default: "
                        "each method's own; for smoke tests)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" /
                                              "outliers.json"), help="the JSON to write")
    args = parser.parse_args(argv)
    study = DEFAULT_METHODS if args.study == "comparison" else BUDGET_METHODS
    args.only = args.only or list(study)
    sources = {"mnist": f"the MNIST test set's idx files in {args.data}",
               "wbc": "scikit-learn's load_breast_cancer", "digits": "scikit-learn's load_digits"}
    record = {"machine": machine(), "protocols": {}, "data": "; ".join(dict.fromkeys(
        sources[p.split("-")[0]] for p in args.only
        if args.data or not p.startswith("mnist")))}
    for protocol in args.only:
        if protocol.startswith("mnist"):
            if not args.data:
                continue
            tasks = (nine_digit_tasks(args.data) if protocol == "mnist-nine-digits" else
                     mnist_tasks(args.data, contaminated=protocol.endswith("contaminated")))
        else:
            tasks = {"wbc": wbc_tasks, "digits": digits_tasks,
                     "digits-five": five_digit_tasks}[protocol]()
        # a protocol of the other study: its methods there
        methods = args.methods or study.get(protocol) or BUDGET_METHODS[protocol]
        if importlib.util.find_spec("pyod") is None:
            print("pyod is not installed: its rows are left out")
            methods = [m for m in methods if not m.startswith("pyod")]
        if args.tasks:
            tasks = itertools.islice(tasks, args.tasks)
        record["protocols"][protocol] = run_protocol(protocol, tasks, methods, args.max_iter)
        print(format_table(protocol, record["protocols"][protocol]), flush=True)
        record["summary"] = summarize(record["protocols"])
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
