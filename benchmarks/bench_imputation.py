"""AutoEncoderImputer against scikit-learn's imputers: error on the missing entries, time.

Images (MNIST, or digits without ``--data``): every imputer is fitted on the complete
training images, then fills held-out images with pixels missing completely at random
(``--fractions``) and with a missing square block (``--block`` pixels wide, at a random
place in each image). Error: RMSE over the missing entries. Time: the imputer's fit plus
its transform of that held-out set. Downstream: a ``LogisticRegression`` fitted on the
complete training images classifies each imputer's fill of the held-out images with the
most missing pixels, which is what ``Pipeline([imputer, LogisticRegression()])`` fitted
on those training images does. A classifier fitted on complete images can read some
fills better than the complete images themselves, so the pipelines are also fitted on
training images with the same fraction of holes (``--no-pipelines`` leaves this out:
on MNIST, the nearest neighbours' fill of every training image takes about 9 minutes
and ``IterativeImputer``'s about 22).

Tables (``load_diabetes``, ``load_breast_cancer``): a fraction ``--table-fraction`` of the
entries missing completely at random in training and held-out rows alike (a 75/25
split), each imputer fitted on the training rows with their holes; RMSE over the
held-out missing entries in units of each feature's standard deviation, mean and
standard deviation over ``--table-seeds`` seeds.

    python benchmarks/bench_imputation.py --out results/imputation.json          # digits
    python benchmarks/bench_imputation.py --data ../shared/data/mnist --out results/imputation.json
"""

import argparse
import time

import numpy as np
from _data import alternated, by_rounds, format_table, load_dataset, machine, write_json
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skautoenc import AutoEncoderImputer

#: IterativeImputer's settings on images: with every one of 784 features modelled from
#: all the others, one round takes minutes; 100 nearest features keep it to seconds.
ITERATIVE_IMAGES = dict(n_nearest_features=100, max_iter=10)


def imputers(seed, images, max_iter="auto"):
    iterative = ITERATIVE_IMAGES if images else {}
    return {
        "SimpleImputer(mean)": SimpleImputer(strategy="mean"),
        "KNNImputer()": KNNImputer(),
        "IterativeImputer(" + ", ".join(f"{k}={v}" for k, v in iterative.items()) + ")":
            IterativeImputer(random_state=seed, **iterative),
        "AutoEncoderImputer()": AutoEncoderImputer(random_state=seed, max_iter=max_iter),
    }


def holes(X, pattern, rng, side=None):
    """A copy of ``X`` with NaN: a fraction of entries at random, or a square block."""
    X = X.copy()
    if pattern == "block":
        width = int(round(np.sqrt(X.shape[1])))
        for row in X:
            top, left = rng.randint(0, width - side + 1, size=2)
            row.reshape(width, width)[top : top + side, left : left + side] = np.nan
    else:
        X[rng.uniform(size=X.shape) < pattern] = np.nan
    return X


def block_side(args):
    """The missing block's side: ``--block`` on MNIST, scaled to 8x8 on the digits."""
    return args.block if args.data else max(2, args.block * 8 // 28)


def rmse_on_missing(X_filled, X_true, X_holes, scale=1.0):
    missing = np.isnan(X_holes)
    errors = ((X_filled - X_true) / scale)[missing]
    return float(np.sqrt(np.mean(errors**2)))


def image_rows(args, seed):
    X_train, X_test, y_train, y_test, name = load_dataset(args.data, n_train=args.n_train)
    rng = np.random.RandomState(seed + 1)
    side = block_side(args)
    patterns = {f"{f:.0%} at random": f for f in args.fractions}
    patterns[f"{side}x{side} block"] = "block"
    held_out = {label: holes(X_test, p, rng, side) for label, p in patterns.items()}
    most = max(args.fractions)
    classifier = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    complete_accuracy = float(classifier.score(X_test, y_test))  # what a fill is read against
    print(f"  LogReg on the complete held-out images: {complete_accuracy:.4f}")
    rows = []
    for imputer_name, imputer in imputers(seed, True, args.max_iter).items():
        start = time.perf_counter()
        imputer.fit(X_train)
        fit_s = time.perf_counter() - start
        for label, X_holes in held_out.items():
            start = time.perf_counter()
            X_filled = imputer.transform(X_holes)
            transform_s = time.perf_counter() - start
            row = {
                "data": name,
                "missing": label,
                "imputer": imputer_name,
                "RMSE": rmse_on_missing(X_filled, X_test, X_holes),
                "fit + transform s": fit_s + transform_s,
            }
            row["LogReg accuracy"] = (  # on the images with the most missing pixels
                float(classifier.score(X_filled, y_test))
                if label == f"{most:.0%} at random" else None
            )
            rows.append(row)
            print(f"  {label}, {imputer_name}: RMSE {row['RMSE']:.4f}, "
                  f"{row['fit + transform s']:.1f} s", flush=True)
    return rows, name, len(X_train), complete_accuracy


def timing_rows(args, seed):
    """The block's fit + transform time of the autoencoder and the nearest neighbours,
    alternated ``--time-repeats`` times, the order reversed every other round: a shared
    machine's speed drifts within minutes, so one timing each, minutes apart, can favour
    either. Also the median of each round's ratio (autoencoder over neighbours)."""
    X_train, X_test, _, _, name = load_dataset(args.data, n_train=args.n_train)
    side = block_side(args)
    X_holes = holes(X_test, "block", np.random.RandomState(seed + 3), side)
    contenders = {
        imputer_name: imputer
        for imputer_name, imputer in imputers(seed, True, args.max_iter).items()
        if imputer_name in ("KNNImputer()", "AutoEncoderImputer()")
    }
    seconds = {imputer_name: [] for imputer_name in contenders}
    for imputer_name in alternated(contenders, args.time_repeats):
        start = time.perf_counter()
        clone(contenders[imputer_name]).fit(X_train).transform(X_holes)
        seconds[imputer_name].append(time.perf_counter() - start)
        print(f"  {side}x{side} block, {imputer_name}: "
              f"{seconds[imputer_name][-1]:.1f} s", flush=True)
    ratio = float(by_rounds(seconds["AutoEncoderImputer()"], seconds["KNNImputer()"]))
    return [
        {"missing": f"{side}x{side} block", "imputer": imputer_name,
         "fit + transform s": values, "median s": float(np.median(values)),
         "vs KNNImputer, by rounds": ratio if imputer_name.startswith("AutoEncoder") else 1.0}
        for imputer_name, values in seconds.items()
    ]


def pipeline_rows(args, seed):
    """``Pipeline([imputer, LogisticRegression()])`` fitted on training images with the
    most missing pixels, scored on held-out images with as many."""
    X_train, X_test, y_train, y_test, name = load_dataset(args.data, n_train=args.n_train)
    most = max(args.fractions)
    rng = np.random.RandomState(seed + 2)
    train_holes, test_holes = holes(X_train, most, rng), holes(X_test, most, rng)
    rows = []
    for imputer_name, imputer in imputers(seed, True, args.max_iter).items():
        start = time.perf_counter()
        pipeline = make_pipeline(imputer, LogisticRegression(max_iter=1000))
        accuracy = float(pipeline.fit(train_holes, y_train).score(test_holes, y_test))
        rows.append({
            "missing": f"{most:.0%} at random, training and held-out images",
            "imputer": imputer_name,
            "pipeline accuracy": accuracy,
            "fit + score s": time.perf_counter() - start,
        })
        print(f"  pipeline with {imputer_name}: accuracy {accuracy:.4f}, "
              f"{rows[-1]['fit + score s']:.1f} s", flush=True)
    return rows


def table_rows(args):
    rows = []
    for name, loader in (("diabetes", load_diabetes), ("breast_cancer", load_breast_cancer)):
        X = loader().data
        errors, seconds = {}, {}
        for seed in range(args.table_seeds):
            X_train, X_test = train_test_split(X, test_size=0.25, random_state=seed)
            rng = np.random.RandomState(seed)
            train_holes = holes(X_train, args.table_fraction, rng)
            test_holes = holes(X_test, args.table_fraction, rng)
            scale = X_train.std(axis=0)
            for imputer_name, imputer in imputers(seed, False, args.max_iter).items():
                start = time.perf_counter()
                X_filled = imputer.fit(train_holes).transform(test_holes)
                seconds.setdefault(imputer_name, []).append(time.perf_counter() - start)
                errors.setdefault(imputer_name, []).append(
                    rmse_on_missing(X_filled, X_test, test_holes, scale)
                )
        for imputer_name in errors:
            rows.append({
                "data": f"{name} {X.shape}",
                "imputer": imputer_name,
                "RMSE (std units)": float(np.mean(errors[imputer_name])),
                "RMSE std": float(np.std(errors[imputer_name])),
                "fit + transform s": float(np.mean(seconds[imputer_name])),
            })
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with the MNIST idx files (default: digits)")
    parser.add_argument("--n-train", type=int, default=8000)
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.2, 0.5])
    parser.add_argument("--block", type=int, default=10, help="side of the missing block")
    parser.add_argument("--table-fraction", type=float, default=0.2)
    parser.add_argument("--table-seeds", type=int, default=3)
    parser.add_argument("--no-tables", action="store_true", help="images only")
    parser.add_argument("--no-pipelines", action="store_true",
                        help="no pipelines fitted on training images with holes")
    parser.add_argument("--time-repeats", type=int, default=0,
                        help="time the block's autoencoder and nearest neighbours this many "
                        "times more, alternated")
    parser.add_argument("--max-iter", type=lambda v: v if v == "auto" else int(v),
                        default="auto", help="AutoEncoderImputer's epochs (smoke tests)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args(argv)
    rows, name, n_train, complete_accuracy = image_rows(args, args.seed)
    print(f"data: {name}")
    print(format_table(rows))
    pipelines = [] if args.no_pipelines else pipeline_rows(args, args.seed)
    if pipelines:
        print(format_table(pipelines))
    timings = timing_rows(args, args.seed) if args.time_repeats else []
    if timings:
        print(format_table([{k: v for k, v in row.items() if k != "fit + transform s"}
                            for row in timings]))
    tables = [] if args.no_tables else table_rows(args)
    if tables:
        print(format_table(tables))
    write_json(args.out, {"machine": machine(), "data": name, "n_train": n_train,
                          "args": vars(args), "rows": rows,
                          "complete images' LogReg accuracy": complete_accuracy,
                          "pipelines": pipelines,
                          "timings": timings,
                          "tables": tables})


if __name__ == "__main__":
    main()
