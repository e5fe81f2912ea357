"""Which features give LogisticRegression the best held-out accuracy?

``Pipeline([extractor, LogisticRegression])`` for raw pixels, PCA, scikit-learn's
``BernoulliRBM(n_components=256)`` (the settings of scikit-learn's RBM example) and every
skautoenc estimator at several code sizes, each with its default settings apart from
``n_components`` (unless ``--max-iter`` overrides the number of epochs, which the table
then says). Also the extractor's codes concatenated to the raw input (what
``FeatureUnion([("raw", "passthrough"), ("codes", extractor)])`` gives), from the same
fitted extractor. Means and standard deviations over seeds.

    python benchmarks/bench_features.py --data ../shared/data/mnist --out results/features.json

Seeds can run in parallel processes (``--seeds 0 --out s0.json``, ...) and be combined
afterwards with ``--merge s0.json s1.json ... --out features.json --plot features.png``.
"""

import argparse
import json
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
from _data import format_table, load_dataset, machine, write_json
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import BernoulliRBM

from skautoenc import (
    AutoEncoder,
    DenoisingAutoEncoder,
    SparseAutoEncoder,
    VariationalAutoEncoder,
)

ESTIMATORS = {
    "AutoEncoder": AutoEncoder,
    "DenoisingAutoEncoder": DenoisingAutoEncoder,
    "SparseAutoEncoder": SparseAutoEncoder,
    "VariationalAutoEncoder": VariationalAutoEncoder,
}


def classifier():
    return LogisticRegression(max_iter=1000)


def extractors(sizes, seed, max_iter, only):
    """(name, code size, extractor or None for raw pixels)."""
    yield "raw pixels", None, None
    for size in sizes:
        yield "PCA", size, PCA(size, random_state=seed)
    # scikit-learn's "RBM features for digit classification" example settings
    yield "BernoulliRBM", 256, BernoulliRBM(
        n_components=256, learning_rate=0.06, n_iter=10, random_state=seed
    )
    for name, cls in ESTIMATORS.items():
        if only and name not in only:
            continue
        for size in sizes:
            params = {"n_components": size, "random_state": seed}
            if max_iter is not None:
                params["max_iter"] = max_iter
            yield name, size, cls(**params)


def evaluate(extractor, X_train, y_train, X_test, y_test, raw_union=True):
    start = time.perf_counter()
    if extractor is None:
        codes_train, codes_test = X_train, X_test
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            codes_train = extractor.fit_transform(X_train)
        codes_test = extractor.transform(X_test)
    extract_time = time.perf_counter() - start
    start = time.perf_counter()
    accuracy = classifier().fit(codes_train, y_train).score(codes_test, y_test)
    fit_time = extract_time + time.perf_counter() - start
    result = {"accuracy": accuracy, "fit s": fit_time}
    if extractor is not None and raw_union:
        union_train = np.hstack([X_train, codes_train])
        union_test = np.hstack([X_test, codes_test])
        result["accuracy with raw"] = (
            classifier().fit(union_train, y_train).score(union_test, y_test)
        )
    return result


def summarise(runs):
    """Mean and standard deviation over seeds of each (features, code size)."""
    groups = {}
    for run in runs:
        groups.setdefault((run["features"], run["code size"]), []).append(run)
    rows = []
    for (label, size), results in groups.items():
        row = {"features": label, "code size": size, "seeds": len(results)}
        for key in ("accuracy", "accuracy with raw", "fit s"):
            values = [r[key] for r in results if key in r]
            if values:
                row[key] = statistics.mean(values)
                row[key + " sd"] = statistics.stdev(values) if len(values) > 1 else 0.0
        rows.append(row)
    return rows


def plot(rows, path, title):
    """A bar chart of the mean accuracy, with error bars of one standard deviation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted({r["code size"] for r in rows if r["features"] != "raw pixels"})
    labels = [lab for lab in dict.fromkeys(r["features"] for r in rows) if lab != "raw pixels"]
    width = 0.8 / len(labels)
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for k, label in enumerate(labels):
        found = {r["code size"]: r for r in rows if r["features"] == label}
        xs = [i + (k - (len(labels) - 1) / 2) * width for i, s in enumerate(sizes) if s in found]
        ys = [found[s]["accuracy"] for s in sizes if s in found]
        errs = [found[s].get("accuracy sd", 0.0) for s in sizes if s in found]
        ax.bar(xs, ys, width, yerr=errs, capsize=3, label=label)
    raw = [r for r in rows if r["features"] == "raw pixels"]
    if raw:
        ax.axhline(raw[0]["accuracy"], color="k", linestyle=":", label="raw pixels")
    accuracies = [r["accuracy"] for r in rows]
    ax.set_ylim(max(0.0, min(accuracies) - 0.02), min(1.0, max(accuracies) + 0.02))
    ax.set_xticks(range(len(sizes)), [str(s) for s in sizes])
    ax.set_xlabel("code size (n_components)")
    ax.set_ylabel("held-out accuracy of LogisticRegression")
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=3, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with the MNIST idx files (default: digits)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 128, 256])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-iter", type=int, help="override the estimators' epochs")
    parser.add_argument("--only", nargs="*", choices=list(ESTIMATORS), help="estimators to run")
    parser.add_argument("--n-train", type=int, default=8000)
    parser.add_argument("--no-raw-union", action="store_true",
                        help="leave out the codes + raw pixels column: its classifier on "
                             "n_features + n_components columns is most of the run's time")
    parser.add_argument("--merge", nargs="+", metavar="JSON",
                        help="instead of running, combine the runs of earlier --out files "
                             "(e.g. one per seed, run in parallel)")
    parser.add_argument("--plot", help="draw the accuracies as a bar chart into this file")
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args(argv)

    if args.merge:
        loaded = [json.loads(Path(path).read_text()) for path in args.merge]
        runs = [run for result in loaded for run in result["runs"]]
        name, info = loaded[0]["data"], loaded[0]["machine"]
        epochs = loaded[0]["args"]["max_iter"]
    else:
        runs, info, epochs = [], machine(), args.max_iter
        for seed in args.seeds:
            X_train, X_test, y_train, y_test, name = load_dataset(
                args.data, n_train=args.n_train, random_state=seed
            )
            for label, size, extractor in extractors(args.sizes, seed, args.max_iter, args.only):
                result = evaluate(extractor, X_train, y_train, X_test, y_test,
                                  raw_union=not args.no_raw_union)
                size = size if size else X_train.shape[1]
                runs.append({"seed": seed, "features": label, "code size": size, **result})
                print(f"seed {seed} {label} {size}: {result}", flush=True)

    rows = summarise(runs)
    seeds = sorted({run["seed"] for run in runs})
    columns = ["features", "code size", "accuracy", "accuracy sd", "accuracy with raw",
               "accuracy with raw sd", "fit s"]
    epochs_text = epochs if epochs else "each estimator's default"
    print(f"\ndata: {name}; seeds {seeds}; epochs: {epochs_text}")
    print(format_table([{c: r.get(c, float("nan")) for c in columns} for r in rows]))
    payload = {"machine": info, "data": name, "args": {**vars(args), "max_iter": epochs}}
    if args.merge and all("script_seconds" in result for result in loaded):
        # the seeds' runs, one after another: their times add up
        payload["script_seconds"] = sum(result["script_seconds"] for result in loaded)
    write_json(args.out, {**payload, "rows": rows, "runs": runs})
    if args.plot:
        plot(rows, args.plot, f"Codes as features on {name} (mean +- sd over seeds {seeds})")


if __name__ == "__main__":
    main()
