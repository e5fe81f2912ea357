"""Training with missing values: as good as on complete data, and as imputing first?

``AutoEncoder(missing_values=np.nan)`` fitted on training images with a fraction of their
pixels missing completely at random, against the same model fitted on the complete images
and on the images filled by ``SimpleImputer`` (the column means), all asked to reconstruct
the complete held-out images (squared error summed over pixels, mean over images).

    python benchmarks/bench_missing.py --out results/missing.json                 # digits
    python benchmarks/bench_missing.py --data ../shared/data/mnist --out results/missing.json
"""

import argparse

import numpy as np
from _data import format_table, load_dataset, machine, write_json
from bench_defaults import timed_fit
from bench_quality import reconstruction_error
from sklearn.impute import SimpleImputer

from skautoenc import AutoEncoder


def fit_and_score(model, X_train, X_test):
    """Fit ``model``; its held-out error on the complete ``X_test``, and the fit time."""
    seconds = timed_fit(model, X_train)
    return reconstruction_error(X_test, model.inverse_transform(model.transform(X_test))), seconds


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

    error, seconds = fit_and_score(model(), X_train, X_test)
    rows = [{"missing": 0.0, "training": "complete images",
             "held-out error": error, "fit s": seconds}]
    rng = np.random.RandomState(args.seed + 1)
    for fraction in args.fractions:
        holed = X_train.copy()
        holed[rng.uniform(size=holed.shape) < fraction] = np.nan
        for training, estimator, X in (
            ("missing_values=np.nan", model(missing_values=np.nan), holed),
            ("SimpleImputer, then AutoEncoder", model(), SimpleImputer().fit_transform(holed)),
        ):
            error, seconds = fit_and_score(estimator, X, X_test)
            rows.append({"missing": fraction, "training": training,
                         "held-out error": error, "fit s": seconds})
    for row in rows:
        row["vs complete"] = row["held-out error"] / rows[0]["held-out error"]
    print(f"data: {name}, train {X_train.shape}, held out {X_test.shape}")
    print(format_table(rows))
    write_json(args.out, {"machine": machine(), "data": name, "args": vars(args), "rows": rows})


if __name__ == "__main__":
    main()
