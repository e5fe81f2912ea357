"""Do the default settings converge, fast, to a model that wins? (issue: time to a good model)

Side by side in one run, on the MNIST 8,000 / 2,000 split (or digits without ``--data``),
every estimator with its default settings apart from ``n_components``:

1. ``BernoulliRBM(256)`` with scikit-learn's example settings: the fit time to beat;
2. each estimator at each code size (``--sizes``): fit time, epochs, held-out
   reconstruction error (the VAE: held-out ELBO), and the held-out accuracy of
   LogisticRegression on the codes for the sparse and the denoising model;
3. PCA at the same sizes and the raw pixels, for reference;
4. with ``--budget-factor F``: the same models trained with F times the default number of
   epochs (everything else default), to see whether the defaults stop short;
5. the VAE target: a 784-400-20 Bernoulli VAE with default training on statically
   binarised images against a plain torch VAE of the same shape, whose held-out ELBO is
   measured after every epoch and taken at its best epoch (an oracle stop);
6. with ``--time-repeats N``: the RBM and the slowest default fit of item 2 (or
   ``--time-model``) timed again N times each, alternated, the order reversed every other
   round: a shared machine's speed drifts by tens of percent within minutes, so single
   fits minutes apart can favour either. Their medians are the robust comparison.

    python benchmarks/bench_defaults.py --data ../shared/data/mnist --out results/defaults.json
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _data import alternated, format_table, load_dataset, machine, measured_on, write_json
from bench_features import ESTIMATORS, classifier
from bench_quality import TorchVAETrainer, reconstruction_error
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import BernoulliRBM

from skautoenc import VariationalAutoEncoder

#: Estimators whose codes are judged by a classifier, and at which sizes.
PROBED = {"SparseAutoEncoder": {256}, "DenoisingAutoEncoder": {32, 128, 256}}


def timed_fit(model, X):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    return time.perf_counter() - start


def probe(codes_train, y_train, codes_test, y_test):
    return float(classifier().fit(codes_train, y_train).score(codes_test, y_test))


def evaluate(name, model, X_train, y_train, X_test, y_test, size):
    history = model.net_.history
    # the curve behind the default: validation loss and time after every epoch
    row = {"validation loss": [-v for v in getattr(model, "validation_scores_", [])],
           "seconds": np.cumsum(history[:, "dur"]).tolist() if len(history) else []}
    if name == "VariationalAutoEncoder":
        row["held-out ELBO"] = float(model.score(X_test))
    X_hat = model.inverse_transform(model.transform(X_test))
    row["held-out error"] = reconstruction_error(X_test, X_hat)
    if size in PROBED.get(name, ()):
        row["accuracy"] = probe(model.transform(X_train), y_train,
                                model.transform(X_test), y_test)
    return row


#: Settings every skautoenc estimator gets on top of its defaults (``--tiny`` sets a few
#: epochs, for the smoke test), and the RBM's epochs.
OVERRIDES = {}
RBM_EPOCHS = 20


def reference_rbm(seed):
    """``BernoulliRBM(256)`` with scikit-learn's example settings: the fit time to beat."""
    return BernoulliRBM(256, learning_rate=0.06, n_iter=RBM_EPOCHS, batch_size=10,
                        random_state=seed)


def bench_defaults(X_train, y_train, X_test, y_test, sizes, names, factor, factor_sizes,
                   seed, log):
    rows = [{"model": "raw pixels", "size": X_train.shape[1],
             "accuracy": probe(X_train, y_train, X_test, y_test)}]
    rbm = reference_rbm(seed)
    log("BernoulliRBM(256) ...")
    seconds = timed_fit(rbm, X_train)
    rows.append({"model": "BernoulliRBM", "size": 256, "fit s": seconds,
                 "accuracy": probe(rbm.transform(X_train), y_train,
                                   rbm.transform(X_test), y_test)})
    for size in sizes:
        pca = PCA(size, random_state=seed)
        seconds = timed_fit(pca, X_train)
        rows.append({"model": "PCA", "size": size, "fit s": seconds,
                     "held-out error": reconstruction_error(X_test, pca.inverse_transform(
                         pca.transform(X_test))),
                     "accuracy": probe(pca.transform(X_train), y_train,
                                       pca.transform(X_test), y_test)})
    for name in names:
        for size in sizes:
            model = ESTIMATORS[name](size, random_state=seed, **OVERRIDES)
            log(f"{name}({size}) ...")
            seconds = timed_fit(model, X_train)
            row = {"model": name, "size": size, "budget": "default", "fit s": seconds,
                   "epochs": model.n_iter_,
                   **evaluate(name, model, X_train, y_train, X_test, y_test, size)}
            rows.append(row)
            log(f"  {row}")
            if factor and size in factor_sizes:
                longer = ESTIMATORS[name](size, random_state=seed,
                                          max_iter=factor * model.n_iter_)
                log(f"{name}({size}), {factor}x the epochs ...")
                seconds = timed_fit(longer, X_train)
                row = {"model": name, "size": size, "budget": f"{factor}x", "fit s": seconds,
                       "epochs": longer.n_iter_,
                       **evaluate(name, longer, X_train, y_train, X_test, y_test, size)}
                rows.append(row)
                log(f"  {row}")
    return rows


def bench_timings(X_train, name, size, repeats, seed, log):
    """:func:`reference_rbm` and ``name(size)`` with its defaults, fitted ``repeats``
    times each in alternation, the order reversed every other round: their fit times and
    medians, and the ratio of the medians."""
    contenders = {
        "BernoulliRBM(256)": lambda: reference_rbm(seed),
        f"{name}({size})": lambda: ESTIMATORS[name](size, random_state=seed, **OVERRIDES),
    }
    seconds = {label: [] for label in contenders}
    for label in alternated(contenders, repeats):
        seconds[label].append(timed_fit(contenders[label](), X_train))
        log(f"  {label}: {seconds[label][-1]:.1f} s")
    rbm, ours = (float(np.median(values)) for values in seconds.values())
    return {"model": f"{name}({size})", "seconds": seconds, "RBM median s": rbm,
            "model median s": ours, "ratio": ours / rbm}


def bench_vae_oracle(X_train, X_test, seed, max_epochs, log):
    hidden, latent = 400, 20
    rng = np.random.RandomState(seed)
    # static binarisation: one Bernoulli draw of every image, kept for all epochs
    X_train = (rng.uniform(size=X_train.shape) < X_train).astype(np.float64)
    X_test = (rng.uniform(size=X_test.shape) < X_test).astype(np.float64)
    vae = VariationalAutoEncoder(latent, hidden_layer_sizes=(hidden,), random_state=seed,
                                 **OVERRIDES)
    log("VariationalAutoEncoder(20, hidden_layer_sizes=(400,)), defaults ...")
    seconds = timed_fit(vae, X_train)
    ours = {"VAE 784-400-20": "skautoenc, default training", "held-out ELBO":
            float(vae.score(X_test)), "epochs": vae.n_iter_, "fit s": seconds}
    log(f"  {ours}")
    # the reference: Adam at 1e-3, batch 100, the held-out ELBO after every epoch
    trainer = TorchVAETrainer(X_train.shape[1], hidden, latent, 100, 1e-3, seed)
    X_t = torch.tensor(X_test, dtype=torch.float32)
    eps = torch.randn((32, len(X_t), latent), generator=torch.Generator().manual_seed(seed))
    curve, seconds = [], 0.0
    log(f"plain torch VAE, {max_epochs} epochs, held-out ELBO after each ...")
    for _ in range(max_epochs):
        start = time.perf_counter()
        trainer.epoch(X_train)
        seconds += time.perf_counter() - start
        with torch.no_grad():
            curve.append(float(trainer.vae.elbo(X_t, eps).mean()))
    best = int(np.argmax(curve))
    reference = {"VAE 784-400-20": "plain torch, oracle stop", "held-out ELBO": curve[best],
                 "epochs": best + 1, "fit s": seconds * (best + 1) / max_epochs}
    return [ours, reference], curve


def _rst_table(header, rows):
    """A reStructuredText simple table."""
    cells = [[str(c) for c in header]] + [["-" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    rule = "  ".join("=" * w for w in widths)
    lines = [rule, "  ".join(c.ljust(w) for c, w in zip(cells[0], widths)), rule]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells[1:]]
    return "\n".join([*lines, rule])


def write_rst(payload, path):
    """The results as the reStructuredText that the user guide includes."""
    rows = payload["defaults"]
    rbm = next(r for r in rows if r["model"] == "BernoulliRBM")
    pca = {r["size"]: r for r in rows if r["model"] == "PCA"}
    raw = next(r for r in rows if r["model"] == "raw pixels")
    longer = {(r["model"], r["size"]): r for r in rows if r.get("budget", "default") != "default"}
    label = next(iter(longer.values()))["budget"] if longer else "longer"
    table = []
    for r in rows:
        if r.get("budget") != "default":
            continue
        twin = longer.get((r["model"], r["size"]))
        quality = "held-out ELBO" if "held-out ELBO" in r else "held-out error"

        def fmt(value, digits=2):
            return None if value is None else f"{value:.{digits}f}"

        table.append([
            f"{r['model']}({r['size']})", fmt(r["fit s"], 1),
            fmt(r["fit s"] / rbm["fit s"]), r["epochs"], fmt(r["held-out error"]),
            fmt(r["held-out error"] / pca[r["size"]]["held-out error"]),
            fmt(r.get("held-out ELBO"), 1), fmt(r.get("accuracy"), 4),
            fmt(twin[quality], 2 if quality == "held-out error" else 1) if twin else None,
            fmt(twin["fit s"], 1) if twin else None,
        ])
    machine = payload["machine"]
    text = [
        f"{measured_on(machine)} with {machine['torch_threads']} threads; "
        f"{payload['n_train']} training and {payload['n_test']} held-out {payload['dataset']} "
        "images. Generated by ``benchmarks/bench_defaults.py --rst``.",
        "",
        f"BernoulliRBM(256): {rbm['fit s']:.1f} s, accuracy of LogisticRegression on its "
        f"codes {rbm['accuracy']:.4f} (raw pixels: {raw['accuracy']:.4f}). PCA: "
        + ", ".join(f"{size} components error {r['held-out error']:.2f}, accuracy "
                    f"{r['accuracy']:.4f}" for size, r in pca.items()) + ".",
        "",
        _rst_table(["model", "fit s", "vs RBM", "epochs", "error", "vs PCA", "ELBO",
                    "accuracy", f"{label} budget", f"{label} fit s"], table),
        "",
        "*error*: held-out squared error summed over the pixels, mean over images; "
        "*ELBO*: held-out, in nats; *accuracy*: LogisticRegression on the codes; "
        f"*{label} budget*: the error (ELBO for the VAE) of the same model trained for "
        f"{label} the default epochs.",
    ]
    if payload.get("timings"):
        t = payload["timings"]
        n = len(t["seconds"][t["model"]])
        text += [
            "",
            f"Timed again in alternation ({n} fits each, the order reversed every other "
            f"round): BernoulliRBM(256) median {t['RBM median s']:.1f} s, {t['model']} "
            f"({t['chosen as']}) median {t['model median s']:.1f} s: "
            f"**{t['ratio']:.2f} of the RBM's time**.",
        ]
    if "vae" in payload:
        ours, reference = payload["vae"]
        text += [
            "",
            "The VAE target, 784-400-20 on statically binarised images: "
            f"{ours['held-out ELBO']:.2f} nats with skautoenc's default training "
            f"({ours['epochs']} epochs, {ours['fit s']:.1f} s), against "
            f"{reference['held-out ELBO']:.2f} for a plain torch VAE stopped at its best "
            f"held-out epoch ({reference['epochs']} of {len(payload['vae_reference_curve'])}).",
        ]
    Path(path).write_text("\n".join(text) + "\n")
    print(f"wrote {path}")


def plot_curves(payload, path):
    """Validation loss against fit time: each default fit, and its longer-budget twin."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in payload["defaults"] if r.get("validation loss") and "budget" in r]
    names = list(dict.fromkeys((r["model"], r["size"]) for r in rows))
    rbm = next((r["fit s"] for r in payload["defaults"] if r["model"] == "BernoulliRBM"), None)
    models = list(dict.fromkeys(name for name, _ in names))
    sizes = sorted({size for _, size in names})
    # a column per estimator, a row per code size
    fig, axes = plt.subplots(len(sizes), len(models), figsize=(3.3 * len(models),
                             2.8 * len(sizes)), squeeze=False)
    for ax in axes.flat:
        ax.set_visible(False)
    for name, size in names:
        ax = axes[sizes.index(size), models.index(name)]
        ax.set_visible(True)
        for row in rows:
            if (row["model"], row["size"]) != (name, size):
                continue
            label = f"{row['budget']} budget ({row['epochs']} epochs)"
            style = "-" if row["budget"] == "default" else ":"
            ax.plot(row["seconds"], row["validation loss"], style, label=label)
            ax.plot(row["seconds"][-1], row["validation loss"][-1], "o", color="k", ms=3)
        if rbm:
            ax.axvline(rbm, color="grey", lw=0.8)
        losses = [v for r in rows if (r["model"], r["size"]) == (name, size)
                  for v in r["validation loss"]]
        low = min(losses)
        ax.set_ylim(low - 0.02 * abs(low), low + 0.3 * abs(low))
        if rbm:
            ax.text(rbm, low - 0.02 * abs(low), "RBM's fit ", color="grey", va="bottom",
                    ha="right", fontsize=7)
        ax.set_title(f"{name}({size})", fontsize=9)
        ax.set_xlabel("fit time (s)")
        ax.legend(fontsize=7, loc="upper right")
    for ax in axes[:, 0]:
        ax.set_ylabel("validation loss")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with the MNIST idx files (default: digits)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 256])
    parser.add_argument("--estimators", nargs="+", default=list(ESTIMATORS),
                        choices=list(ESTIMATORS))
    parser.add_argument("--budget-factor", type=int, default=0,
                        help="also train with this many times the default epochs (0: no)")
    parser.add_argument("--budget-sizes", type=int, nargs="+",
                        help="code sizes that --budget-factor applies to (default: all)")
    parser.add_argument("--vae-epochs", type=int, default=150,
                        help="epochs of the torch VAE whose best one is the oracle stop")
    parser.add_argument("--skip", nargs="*", default=[], choices=["defaults", "vae"])
    parser.add_argument("--time-repeats", type=int, default=0,
                        help="time the RBM and the slowest default fit this many times "
                        "more, alternated")
    parser.add_argument("--time-model", nargs=2, metavar=("ESTIMATOR", "SIZE"),
                        help="the model --time-repeats times (default: the slowest default "
                        "fit of this run)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--plot", help="draw the validation curves into this PNG file")
    parser.add_argument("--rst", help="write the tables as reStructuredText to this file")
    parser.add_argument("--from-json", help="plot the results of an earlier run; run nothing")
    parser.add_argument("--tiny", action="store_true",
                        help="two epochs per model: for testing the script, not the models")
    args = parser.parse_args(argv)
    if args.from_json:
        payload = json.loads(Path(args.from_json).read_text())
        if args.plot:
            plot_curves(payload, args.plot)
        if args.rst:
            write_rst(payload, args.rst)
        return payload
    if args.tiny:
        global RBM_EPOCHS
        OVERRIDES["max_iter"], RBM_EPOCHS = 2, 1

    X_train, X_test, y_train, y_test, dataset = load_dataset(args.data, random_state=args.seed)
    start = time.perf_counter()

    def log(message):
        print(f"[{time.perf_counter() - start:6.1f} s] {message}", flush=True)

    payload = {"machine": machine(), "dataset": dataset,
               "n_train": len(X_train), "n_test": len(X_test)}
    if "defaults" not in args.skip:
        rows = bench_defaults(X_train, y_train, X_test, y_test, args.sizes, args.estimators,
                              args.budget_factor, set(args.budget_sizes or args.sizes),
                              args.seed, log)
        print(format_table([{k: row.get(k) for k in (  # the curves are in the JSON
            "model", "size", "budget", "fit s", "epochs", "held-out error",
            "held-out ELBO", "accuracy")} for row in rows]))
        payload["defaults"] = rows
    if args.time_repeats:
        if args.time_model:
            name, size = args.time_model[0], int(args.time_model[1])
            if name not in ESTIMATORS:
                parser.error(f"--time-model: {name!r} is not one of {list(ESTIMATORS)}")
            why = "named by --time-model"
        elif "defaults" in payload:
            slowest = max((r for r in payload["defaults"] if r.get("budget") == "default"),
                          key=lambda r: r["fit s"])
            name, size = slowest["model"], slowest["size"]
            why = "the slowest default fit above"
        else:
            parser.error("--time-repeats without the defaults' run needs --time-model")
        log(f"BernoulliRBM(256) against {name}({size}), alternated ...")
        payload["timings"] = {**bench_timings(X_train, name, size, args.time_repeats,
                                             args.seed, log), "chosen as": why}
        print({k: v for k, v in payload["timings"].items() if k != "seconds"})
    if "vae" not in args.skip:
        rows, curve = bench_vae_oracle(X_train, X_test, args.seed, args.vae_epochs, log)
        print(format_table(rows))
        payload["vae"] = rows
        payload["vae_reference_curve"] = curve
    write_json(args.out, payload)
    if args.plot and "defaults" in payload:
        plot_curves(payload, args.plot)
    if args.rst and "defaults" in payload:
        write_rst(payload, args.rst)
    return payload


if __name__ == "__main__":
    main()
