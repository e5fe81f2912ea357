"""Greedy layer-wise pretraining of a deep autoencoder, against none and against PCA.

A scaled-down version of Hinton & Salakhutdinov's (2006) MNIST autoencoder
(784-1000-500-250-30, here 784-256-128-30 by default, logistic hidden units) is
trained with no pretraining, with stacked RBMs and with stacked autoencoders, for the
same number of fine-tuning epochs; for reference, the same shape with ReLU hidden units
and no pretraining is trained for as many epochs too. Reported: the held-out
reconstruction error (mean over test images of the squared error summed over pixels)
of the pretrained network before fine-tuning and after it, the pretraining and
fine-tuning times, and PCA with as many components as the code has units.

``--hidden`` takes one shape or several (``--hidden 256,128 1000,500,250``): each is
trained in turn and recorded in the same JSON. The run also measures, on scikit-learn's
digits, what ``tests/test_pretraining.py`` asserts (the held-out errors of the deep
logistic network with and without pretraining, and the first RBM against
``sklearn.neural_network.BernoulliRBM``), so that the figures the docs give next to the
tests' thresholds come from a recorded run too.

Usage (from the repository root, with skautoenc installed)::

    python benchmarks/bench_pretraining.py --data ../shared/data/mnist \
        --hidden 256,128 1000,500,250 --out results.json
    python benchmarks/bench_pretraining.py            # sklearn's digits, a quick check

Without ``--data`` the 8x8 digits are used, with a smaller network (64-128-64-8
unless ``--hidden``/``--code`` say otherwise).
"""

import argparse
import copy
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import load_dataset, machine, write_json  # noqa: E402

from skautoenc import AutoEncoder  # noqa: E402


def reconstruction_error(X, X_hat):
    """Mean over samples of the squared error summed over features."""
    return float(np.mean(np.sum((X - X_hat) ** 2, axis=1)))


def run_autoencoder(pretraining, X_train, X_test, args, activation="logistic"):
    """Pretrain (timed, error measured), then fine-tune for ``args.epochs`` (timed)."""
    ae = AutoEncoder(
        n_components=args.code,
        hidden_layer_sizes=args.hidden,
        activation=activation,
        pretraining=pretraining,
        pretraining_max_iter=args.pretraining_epochs,
        batch_size=args.batch_size,
        learning_rate_init=args.learning_rate,
        max_iter=0,
        # Equal fine-tuning budgets: no stopping on a plateau.
        n_iter_no_change=args.epochs + 1,
        warm_start=True,
        random_state=args.seed,
    )
    start = time.perf_counter()
    ae.fit(X_train)
    pretrain_time = time.perf_counter() - start
    before = -ae.score(X_test)
    ae.set_params(max_iter=args.epochs)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X_train)  # warm start: fine-tune the network built above
    finetune_time = time.perf_counter() - start
    return {
        "method": f"autoencoder ({activation}), pretraining={pretraining}",
        "pretraining": pretraining,
        "activation": activation,
        "pretraining_time_s": pretrain_time,
        "error_before_finetuning": before,
        "finetuning_epochs": ae.n_iter_,
        "finetuning_time_s": finetune_time,
        "test_error": -ae.score(X_test),
        "train_loss_curve": ae.loss_curve_,
        "pretraining_curves": ae.pretraining_curves_,
    }


def run_pca(X_train, X_test, args):
    start = time.perf_counter()
    pca = PCA(n_components=args.code, random_state=args.seed).fit(X_train)
    elapsed = time.perf_counter() - start
    return {
        "method": f"PCA ({args.code} components)",
        "pretraining": None,
        "pretraining_time_s": 0.0,
        "error_before_finetuning": None,
        "finetuning_epochs": 0,
        "finetuning_time_s": elapsed,
        "test_error": reconstruction_error(X_test, pca.inverse_transform(pca.transform(X_test))),
    }


def format_table(results):
    header = (
        "| method | pretraining (s) | error before fine-tuning | fine-tuning epochs "
        "| fine-tuning / fit (s) | held-out error | per-pixel MSE |"
    )
    lines = [header, "|" + "---|" * 7]
    for r in results:
        before = r["error_before_finetuning"]
        lines.append(
            f"| {r['method']} | {r['pretraining_time_s']:.1f} "
            f"| {'-' if before is None else f'{before:.2f}'} | {r['finetuning_epochs']} "
            f"| {r['finetuning_time_s']:.1f} | {r['test_error']:.2f} "
            f"| {r['per_pixel_mse']:.4f} |"
        )
    return "\n".join(lines)


def parse_sizes(text):
    return tuple(int(s) for s in text.split(",") if s.strip())


def measure_test_settings(seed=0):
    """What ``tests/test_pretraining.py`` asserts, measured on its own data and settings:
    ``load_digits`` / 16, a 70/30 split with ``random_state=0``."""
    from sklearn.datasets import load_digits

    X = load_digits().data / 16.0
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
    deep = dict(n_components=8, hidden_layer_sizes=(128, 64), activation="logistic")
    errors = []
    for pretraining in (None, "rbm", "autoencoder"):
        row = {"pretraining": pretraining}
        for max_iter in (0, 10):
            ae = AutoEncoder(pretraining=pretraining, max_iter=max_iter, random_state=seed,
                             **deep)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                ae.fit(X_train)
            row[f"max_iter={max_iter}"] = -ae.score(X_test)
        errors.append(row)

    # The first RBM of the stack against sklearn's, with the same learning rate, batch
    # size and epochs, on all of the digits (as the test trains them).
    settings = dict(learning_rate=0.1, batch_size=10, n_iter=10)
    reference = BernoulliRBM(n_components=64, random_state=seed, **settings).fit(X)
    ae = AutoEncoder(n_components=2, hidden_layer_sizes=(64,), activation="logistic",
                     pretraining="rbm", pretraining_learning_rate=settings["learning_rate"],
                     pretraining_batch_size=settings["batch_size"],
                     pretraining_max_iter=settings["n_iter"], max_iter=0,
                     early_stopping=False, random_state=seed).fit(X)
    module = ae.net_.module_
    encoder = [m for m in module.encoder.layers if isinstance(m, torch.nn.Linear)]
    decoder = [m for m in module.decoder.layers if isinstance(m, torch.nn.Linear)]
    ours = copy.deepcopy(reference)
    ours.components_ = encoder[0].weight.detach().double().numpy()
    ours.intercept_hidden_ = encoder[0].bias.detach().double().numpy()
    ours.intercept_visible_ = decoder[-1].bias.detach().double().numpy()

    def mean_field_error(rbm):  # one-step mean-field reconstruction, summed over pixels
        v = 1 / (1 + np.exp(-(rbm.transform(X) @ rbm.components_ + rbm.intercept_visible_)))
        return float(np.mean(np.sum((v - X) ** 2, axis=1)))

    def pseudo_likelihood(rbm):
        rbm.random_state = 0
        return float(np.mean([rbm.score_samples(X).mean() for _ in range(3)]))

    rbms = [
        {"rbm": name, "reconstruction_error": mean_field_error(rbm),
         "pseudo_likelihood": pseudo_likelihood(rbm)}
        for name, rbm in (("skautoenc", ours), ("sklearn BernoulliRBM", reference))
    ]
    return {"deep_network": "64-128-64-8", "held_out_errors": errors,
            "rbm_settings": settings, "rbm": rbms}


def run_shape(hidden, X_train, X_test, args):
    """PCA, then every (pretraining, activation) pair, on one network shape."""
    args = copy.copy(args)
    args.hidden = hidden
    n_features = X_train.shape[1]
    shape = "-".join(map(str, (n_features, *hidden, args.code)))
    print(f"autoencoder {shape}, {args.pretraining_epochs} pretraining epochs per layer, "
          f"{args.epochs} fine-tuning epochs", flush=True)
    start = time.perf_counter()
    results = [run_pca(X_train, X_test, args)]
    runs = [(None, "logistic"), ("rbm", "logistic"), ("autoencoder", "logistic")]
    if args.relu_baseline:
        runs.append((None, "relu"))
    for pretraining, activation in runs:
        results.append(run_autoencoder(pretraining, X_train, X_test, args, activation))
        r = results[-1]
        print(f"  {r['method']}: held-out error {r['test_error']:.2f}", flush=True)
    for r in results:
        r["per_pixel_mse"] = r["test_error"] / n_features
    print()
    print(format_table(results))
    return {"hidden_layer_sizes": list(hidden), "architecture": shape,
            "total_seconds": time.perf_counter() - start, "results": results}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="folder of MNIST idx files (default: sklearn digits)")
    parser.add_argument("--out", default="bench_pretraining.json", help="JSON results file")
    parser.add_argument("--hidden", type=parse_sizes, nargs="+",
                        help="hidden layer sizes, e.g. 256,128; several shapes run in turn")
    parser.add_argument("--code", type=int, help="code size (default 30 on MNIST, 8 on digits)")
    parser.add_argument("--epochs", type=int, default=20, help="fine-tuning epochs (equal)")
    parser.add_argument("--pretraining-epochs", type=int, default=10, help="epochs per layer")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="fine-tuning (Adam)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-relu-baseline",
        dest="relu_baseline",
        action="store_false",
        help="skip the reference row of a ReLU network without pretraining",
    )
    parser.add_argument("--no-test-settings", dest="test_settings", action="store_false",
                        help="skip the measurements of the tests' settings on digits")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    mnist = args.data is not None
    if args.hidden is None:
        args.hidden = [(256, 128) if mnist else (128, 64)]
    if args.code is None:
        args.code = 30 if mnist else 8

    X_train, X_test, _, _, name = load_dataset(args.data, random_state=args.seed)
    print(f"{name}: {len(X_train)} train / {len(X_test)} test images")
    # Warm torch up so that the first timed fit does not pay its one-off start cost.
    AutoEncoder(n_components=2, hidden_layer_sizes=(8,), max_iter=1).fit(X_train[:64])
    shapes = [run_shape(hidden, X_train, X_test, args) for hidden in args.hidden]
    report = {
        "benchmark": "pretraining",
        "machine": machine(),
        "data": ("the MNIST test set's idx files in " + args.data) if mnist
        else "scikit-learn's load_digits",
        "n_train": len(X_train),
        "n_test": len(X_test),
        "n_features": X_train.shape[1],
        "config": {k: v for k, v in vars(args).items()},
        "sklearn": sklearn.__version__,
        "shapes": shapes,
    }
    if args.test_settings:
        report["test_settings"] = measure_test_settings(args.seed)
        for row in report["test_settings"]["held_out_errors"]:
            print(row)
        for row in report["test_settings"]["rbm"]:
            print(row)
    write_json(args.out, report)


if __name__ == "__main__":
    main()
