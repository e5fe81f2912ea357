"""One noise level for every training row, or a level per row? (DenoisingAutoEncoder)

Side by side in one run, on the MNIST 8,000 / 2,000 split (or digits without ``--data``):
``DenoisingAutoEncoder`` with its defaults apart from ``noise_level``, trained with each
of ``--levels`` (a number: every row gets that level; ``low-high``: each row of each
minibatch gets a level drawn uniformly from that range), then asked to reconstruct
held-out images with a fraction of their pixels deleted (set to 0, as masking noise
does; ``--test-fractions``, 0 for the clean images that ``transform`` is meant for).
Also: the held-out accuracy of LogisticRegression on the codes of clean images, and PCA
given the same corrupted images, for reference.

    python benchmarks/bench_noise_levels.py --data ../shared/data/mnist \\
        --out results/noise_levels.json --plot ../docs/images/noise_levels.png \\
        --rst ../docs/user_guide/noise_levels_results.rst

The user guide's figure and table come from the run recorded in
``benchmarks/recorded/noise_levels.json`` (redraw them with ``--from-json`` that file).
"""

import argparse
import json
from pathlib import Path

import numpy as np
from _data import format_table, load_dataset, machine, measured_on, write_json
from bench_defaults import _rst_table, probe, timed_fit
from bench_quality import reconstruction_error
from sklearn.decomposition import PCA

from skautoenc import DenoisingAutoEncoder


def parse_level(text):
    """``"0.3"`` -> 0.3; ``"0-0.6"`` -> (0.0, 0.6)."""
    low, _, high = text.partition("-")
    return (float(low), float(high)) if high else float(low)


def level_label(text):
    """``"0.3"`` -> ``"0.3"``; ``"0-0.6"`` -> ``"(0.0, 0.6)"``: the estimator's parameter."""
    return repr(parse_level(text))


def corrupted(X, fractions, seed):
    """``X`` with each fraction of its entries set to 0, by fraction (the same draws for
    every model)."""
    rng = np.random.default_rng(seed)
    return {f: X * (rng.uniform(size=X.shape) >= f) for f in fractions}


def bench(X_train, y_train, X_test, y_test, levels, fractions, size, seed, noise, max_iter,
          log):
    tests = corrupted(X_test, fractions, seed + 1000)

    def errors(model):
        """The fitted ``model``'s error against ``X_test``, by deleted fraction."""
        return {f"error at {f:g}": reconstruction_error(
                    X_test, model.inverse_transform(model.transform(Xf)))
                for f, Xf in tests.items()}

    pca = PCA(size, random_state=seed).fit(X_train)
    rows = [{"model": "PCA", "noise_level": None, "seed": seed, "size": size,
             **errors(pca)}]
    extra = {} if max_iter is None else {"max_iter": max_iter}
    for text in levels:
        model = DenoisingAutoEncoder(size, noise=noise, noise_level=parse_level(text),
                                     random_state=seed, **extra)
        log(f"DenoisingAutoEncoder({size}, noise={noise!r}, noise_level={text}), "
            f"seed {seed} ...")
        seconds = timed_fit(model, X_train)
        row = {"model": "DenoisingAutoEncoder", "noise_level": text, "seed": seed,
               "size": size, "fit s": seconds, "epochs": model.n_iter_, **errors(model),
               "accuracy": probe(model.transform(X_train), y_train,
                                 model.transform(X_test), y_test)}
        rows.append(row)
        log(f"  {row}")
    return rows


def summary(rows, fractions):
    """Mean over seeds of each model and training level."""
    keys = [f"error at {f:g}" for f in fractions] + ["accuracy", "fit s", "epochs"]
    out = []
    for model, level in dict.fromkeys((r["model"], r["noise_level"]) for r in rows):
        group = [r for r in rows if (r["model"], r["noise_level"]) == (model, level)]
        row = {"model": model, "noise_level": level, "seeds": len(group)}
        for key in keys:
            if key in group[0]:
                row[key] = float(np.mean([r[key] for r in group]))
        out.append(row)
    return out


def plot(means, fractions, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for row in means:
        label = ("PCA" if row["model"] == "PCA"
                 else f"DenoisingAutoEncoder, noise_level={level_label(row['noise_level'])}")
        style = {"color": "0.5", "linestyle": ":"} if row["model"] == "PCA" else {}
        ax.plot(fractions, [row[f"error at {f:g}"] for f in fractions], marker="o",
                label=label, **style)
    ax.set_xlabel("fraction of each held-out image's pixels deleted (set to 0)")
    ax.set_ylabel("squared error per image vs clean")
    ax.set_title("Reconstructing held-out images from corrupted copies")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_rst(payload, path):
    """The means as the reStructuredText table that the user guide includes."""
    fractions = payload["args"]["test_fractions"]
    table = []
    for row in payload["means"]:
        name = ("PCA" if row["model"] == "PCA"
                else f"noise_level={level_label(row['noise_level'])}")
        accuracy = row.get("accuracy")
        table.append([name, *(f"{row[f'error at {f:g}']:.2f}" for f in fractions),
                      None if accuracy is None else f"{accuracy:.4f}",
                      None if "fit s" not in row else f"{row['fit s']:.1f}"])
    args = payload["args"]
    text = [
        f"{measured_on(payload['machine'])}; {args['n_train']} training images of "
        f"{payload['data']}, "
        f"{args['size']} codes, noise={args['noise']!r}, means over seeds "
        f"{', '.join(map(str, args['seeds']))}. Generated by "
        "``benchmarks/bench_noise_levels.py --rst``.",
        "",
        _rst_table(["trained with", *(f"{f:.0%} deleted" for f in fractions),
                    "accuracy", "fit s"], table),
        "",
        "*N% deleted*: held-out squared error per image against the clean image, with N% "
        "of its pixels set to 0 before encoding; *accuracy*: LogisticRegression on the "
        "codes of the clean images.",
    ]
    Path(path).write_text("\n".join(text) + "\n")
    print(f"wrote {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with the MNIST idx files (default: digits)")
    parser.add_argument("--levels", nargs="+", default=["0.3", "0-0.6"],
                        help="training noise levels: a number, or low-high for a level "
                             "per row drawn uniformly from that range")
    parser.add_argument("--noise", default="masking", help="the training noise type")
    parser.add_argument("--test-fractions", type=float, nargs="+",
                        default=[0.0, 0.1, 0.3, 0.5, 0.7])
    parser.add_argument("--size", type=int, default=32, help="code size")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-iter", type=int, help="epochs (default: the estimator's)")
    parser.add_argument("--n-train", type=int, default=8000)
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--plot", help="draw the errors against the deleted fraction here")
    parser.add_argument("--rst", help="write the user guide's table of the means here")
    parser.add_argument("--from-json", help="only redraw --plot and --rst from this JSON")
    args = parser.parse_args(argv)
    if args.from_json:
        payload = json.loads(Path(args.from_json).read_text())
        if args.plot:
            plot(payload["means"], payload["args"]["test_fractions"], args.plot)
        if args.rst:
            write_rst(payload, args.rst)
        return
    X_train, X_test, y_train, y_test, name = load_dataset(args.data, n_train=args.n_train)
    rows = []
    for seed in args.seeds:
        rows += bench(X_train, y_train, X_test, y_test, args.levels, args.test_fractions,
                      args.size, seed, args.noise, args.max_iter, log=print)
    means = summary(rows, args.test_fractions)
    print(f"data: {name}, train {X_train.shape}, held out {X_test.shape}, "
          f"noise={args.noise!r}; means over seeds {args.seeds}")
    print(format_table(means))
    payload = {"machine": machine(), "data": name, "args": vars(args), "rows": rows,
               "means": means}
    write_json(args.out, payload)
    if args.plot:
        plot(means, args.test_fractions, args.plot)
    if args.rst:
        write_rst(payload, args.rst)


if __name__ == "__main__":
    main()
