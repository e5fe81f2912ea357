"""Does the convolutional network beat the MLP on images, at the same code size?

Every model with its default training settings, on the MNIST 8,000 / 2,000 split (or
scikit-learn's digits, 8x8), the MLP (``encoder="mlp"``, the default) next to the conv
family (``encoder="conv"`` with ``image_shape``), in the same run:

1. ``reconstruction``: held-out reconstruction error of ``AutoEncoder(32)`` (squared error
   summed over pixels, mean over images) and fit time, the two fitted in turn
   ``--repeats`` times, the order reversed every other round;
2. ``features``: held-out accuracy of ``LogisticRegression`` on the codes of
   ``DenoisingAutoEncoder`` and ``SparseAutoEncoder`` with 32 and 256 codes;
3. ``vae``: the held-out ELBO of ``VariationalAutoEncoder(20)`` on statically binarised
   images (pixels above 0.5 are 1), the MLP with one hidden layer of 400 (784-400-20);
4. ``imputation``: ``AutoEncoderImputer`` filling a missing 10x10 block in the middle of
   each held-out image (RMSE over the block's pixels);
5. ``channels`` (not run by default): the conv ``AutoEncoder(32)``'s held-out error and
   fit time for each of ``--channels`` and ``--learning-rates``: what chose the default
   ``conv_channels``.

    python benchmarks/bench_networks.py --data ../shared/data/mnist --out results/networks.json
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from _data import alternated, by_rounds, format_table, load_dataset, machine, write_json
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skautoenc import (
    AutoEncoder,
    AutoEncoderImputer,
    DenoisingAutoEncoder,
    SparseAutoEncoder,
    VariationalAutoEncoder,
)

PARTS = ("reconstruction", "features", "vae", "imputation", "channels")
#: Settings every model of a run shares besides the defaults (``--max-iter`` for a smoke
#: run); empty for the recorded runs.
COMMON = {}


def image_shape(n_features):
    side = int(round(n_features**0.5))
    return (side, side)


def network(family, shape, **params):
    """The estimator parameters that choose ``family``."""
    params = {**params, **COMMON}
    return dict(params, encoder="conv", image_shape=shape) if family == "conv" else params


def timed_fit(estimator, X):
    start = time.perf_counter()
    estimator.fit(X)
    return estimator, time.perf_counter() - start


def squared_error(X, X_hat):
    return float(((X - X_hat) ** 2).sum(axis=1).mean())


def bench_reconstruction(X_train, X_test, shape, repeats, seed):
    times = {"mlp": [], "conv": []}
    errors = {}
    for family in alternated(["mlp", "conv"], repeats):
        ae, seconds = timed_fit(AutoEncoder(**network(family, shape, n_components=32,
                                                      random_state=seed)), X_train)
        times[family].append(seconds)
        errors[family] = squared_error(X_test, ae.inverse_transform(ae.transform(X_test)))
        print(f"  AutoEncoder(32, {family}): error {errors[family]:.3f}, {seconds:.1f} s")
    rows = [
        {"AutoEncoder(32)": family, "held-out error": errors[family],
         "error / MLP's": errors[family] / errors["mlp"],
         "fit s (median)": statistics.median(times[family]),
         "time / MLP's (by rounds)": by_rounds(times[family], times["mlp"])}
        for family in ("mlp", "conv")
    ]
    return rows, times


def accuracy(estimator, X_train, y_train, X_test, y_test):
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    classifier.fit(estimator.transform(X_train), y_train)
    return float(classifier.score(estimator.transform(X_test), y_test))


def bench_features(X_train, y_train, X_test, y_test, shape, sizes, seed):
    rows = []
    for cls in (DenoisingAutoEncoder, SparseAutoEncoder):
        for size in sizes:
            row = {"model": f"{cls.__name__}({size})"}
            for family in ("mlp", "conv"):
                est, seconds = timed_fit(
                    cls(**network(family, shape, n_components=size, random_state=seed)),
                    X_train)
                row[f"{family} accuracy"] = accuracy(est, X_train, y_train, X_test, y_test)
                row[f"{family} fit s"] = seconds
                print(f"  {row['model']} {family}: {row[f'{family} accuracy']:.4f}, "
                      f"{seconds:.1f} s")
            rows.append(row)
    return rows


def bench_vae(X_train, X_test, shape, seed):
    B_train, B_test = (X_train > 0.5).astype(float), (X_test > 0.5).astype(float)
    rows = []
    for family, params in (("mlp", {"hidden_layer_sizes": (400,)}), ("conv", {})):
        vae, seconds = timed_fit(VariationalAutoEncoder(
            **network(family, shape, n_components=20, random_state=seed, **params)), B_train)
        rows.append({"VAE(20), binarised": family, "held-out ELBO": vae.score(B_test),
                     "fit s": seconds})
        print(f"  VAE {family}: ELBO {rows[-1]['held-out ELBO']:.2f}, {seconds:.1f} s")
    rows[1]["ELBO - MLP's"] = rows[1]["held-out ELBO"] - rows[0]["held-out ELBO"]
    return rows


def block_holes(X, shape):
    """``X`` with a block in the middle of each image missing (10x10 on MNIST, 4x4 on
    the digits), and the block's mask."""
    height, width = shape
    side = 10 if min(shape) >= 20 else min(shape) // 2
    block = np.zeros(shape, dtype=bool)
    top, left = (height - side) // 2, (width - side) // 2
    block[top: top + side, left: left + side] = True
    holes = X.copy()
    holes[:, block.ravel()] = np.nan
    return holes, block.ravel()


def bench_imputation(X_train, X_test, shape, seed):
    # the imputer trains on images with holes of their own: 20% of the pixels missing
    rng = np.random.RandomState(seed)
    train = X_train.copy()
    train[rng.uniform(size=train.shape) < 0.2] = np.nan
    test, block = block_holes(X_test, shape)
    rows = []
    for family in ("mlp", "conv"):
        imputer, seconds = timed_fit(
            AutoEncoderImputer(**network(family, shape, random_state=seed)), train)
        filled = imputer.transform(test)
        rmse = float(np.sqrt(np.mean((filled[:, block] - X_test[:, block]) ** 2)))
        rows.append({"imputer, 10x10 block": family, "RMSE": rmse, "fit s": seconds})
        print(f"  imputer {family}: RMSE {rmse:.4f}, {seconds:.1f} s")
    return rows


def bench_channels(X_train, X_test, shape, channel_sets, learning_rates, seed):
    rows = []
    for channels in channel_sets:
        for lr in learning_rates:
            ae, seconds = timed_fit(AutoEncoder(**network(
                "conv", shape, n_components=32, conv_channels=channels,
                learning_rate_init=lr, random_state=seed)), X_train)
            error = squared_error(X_test, ae.inverse_transform(ae.transform(X_test)))
            rows.append({"conv_channels": str(tuple(channels)), "learning_rate_init": lr,
                         "held-out error": error, "fit s": seconds, "epochs": ae.n_iter_})
            print(f"  conv_channels={tuple(channels)}, learning_rate_init={lr}: "
                  f"error {error:.3f}, {seconds:.1f} s")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with the MNIST idx files (default: digits)")
    parser.add_argument("--parts", nargs="+", default=list(PARTS[:-1]), choices=PARTS)
    parser.add_argument("--channels", nargs="+", default=["32,64", "16,32,64"],
                        help="conv_channels of the channels part, e.g. 32,64")
    parser.add_argument("--learning-rates", type=float, nargs="+", default=[2e-3, 4e-3])
    parser.add_argument("--repeats", type=int, default=2,
                        help="fits of each network in the reconstruction part")
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 256])
    parser.add_argument("--n-train", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-iter", type=int, help="epochs of every fit (default: auto)")
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    if args.max_iter is not None:
        COMMON["max_iter"] = args.max_iter

    X_train, X_test, y_train, y_test, name = load_dataset(args.data, n_train=args.n_train)
    shape = image_shape(X_train.shape[1])
    print(f"data: {name}, train {X_train.shape}, test {X_test.shape}, images {shape}")
    results = {"machine": machine(), "data": name, "args": vars(args)}
    if "reconstruction" in args.parts:
        rows, times = bench_reconstruction(X_train, X_test, shape, args.repeats, args.seed)
        print(format_table(rows), end="\n\n")
        results["reconstruction"], results["reconstruction_times"] = rows, times
    if "features" in args.parts:
        rows = bench_features(X_train, y_train, X_test, y_test, shape, args.sizes, args.seed)
        print(format_table(rows), end="\n\n")
        results["features"] = rows
    if "vae" in args.parts:
        rows = bench_vae(X_train, X_test, shape, args.seed)
        print(format_table(rows), end="\n\n")
        results["vae"] = rows
    if "imputation" in args.parts:
        rows = bench_imputation(X_train, X_test, shape, args.seed)
        print(format_table(rows), end="\n\n")
        results["imputation"] = rows
    if "channels" in args.parts:
        channel_sets = [tuple(int(c) for c in spec.split(",")) for spec in args.channels]
        rows = bench_channels(X_train, X_test, shape, channel_sets, args.learning_rates,
                              args.seed)
        print(format_table(rows), end="\n\n")
        results["channels"] = rows
    write_json(args.out, results)


if __name__ == "__main__":
    main()
