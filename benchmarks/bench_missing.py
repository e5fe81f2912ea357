"""Training with missing values: as good as on complete data, and as imputing first?

``AutoEncoder(missing_values=np.nan)`` fitted on training images with a fraction of their
pixels missing completely at random, against the same model fitted on the complete images
and on the images filled by ``SimpleImputer`` (the column means), all asked to reconstruct
the complete held-out images (squared error summed over pixels, mean over images).

    python benchmarks/bench_missing.py --out results/missing.json                 # digits
    python benchmarks/bench_missing.py --data ../shared/data/mnist --out results/missing.json
"""

import argparse
import time
import warnings

import numpy as np
from _data import format_table, load_dataset, machine, write_json
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer

from skautoenc import AutoEncoder


def reconstruction_error(model, X):
    return float(((model.inverse_transform(model.transform(X)) - X) ** 2).sum(axis=1).mean())


def timed_fit(model, X):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    return model, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with the MNIST idx files (default: digits)")
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.3, 0.5])
    parser.add_argument("--n-components", type=int, default=8)
    parser.add_argument("--max-iter", type=int, default=100,
                        help="epochs of every fit (the same budget for all)")
    parser.add_argument("--n-train", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args(argv)
    X_train, X_test, _, _, name = load_dataset(args.data, n_train=args.n_train)

    def model(**params):
        return AutoEncoder(n_components=args.n_components, max_iter=args.max_iter,
                           random_state=args.seed, **params)

    complete, seconds = timed_fit(model(), X_train)
    rows = [{"missing": 0.0, "training": "complete images",
             "held-out error": reconstruction_error(complete, X_test), "fit s": seconds}]
    rng = np.random.RandomState(args.seed + 1)
    for fraction in args.fractions:
        holed = X_train.copy()
        holed[rng.uniform(size=holed.shape) < fraction] = np.nan
        ours, seconds = timed_fit(model(missing_values=np.nan), holed)
        rows.append({"missing": fraction, "training": "missing_values=np.nan",
                     "held-out error": reconstruction_error(ours, X_test), "fit s": seconds})
        imputed, seconds = timed_fit(model(), SimpleImputer().fit_transform(holed))
        rows.append({"missing": fraction, "training": "SimpleImputer, then AutoEncoder",
                     "held-out error": reconstruction_error(imputed, X_test), "fit s": seconds})
    for row in rows:
        row["vs complete"] = row["held-out error"] / rows[0]["held-out error"]
    print(f"data: {name}, train {X_train.shape}, held out {X_test.shape}")
    print(format_table(rows))
    write_json(args.out, {"machine": machine(), "data": name, "args": vars(args), "rows": rows})


if __name__ == "__main__":
    main()
