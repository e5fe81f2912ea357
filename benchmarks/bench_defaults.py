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
   measured after every epoch and taken at its best epoch (an oracle stop).

    python benchmarks/bench_defaults.py --data ../shared/data/mnist --out results/defaults.json
"""

import argparse
import platform
import subprocess
import time
import warnings

import numpy as np
import torch
from _data import format_table, load_dataset, machine, write_json
from bench_quality import TorchVAETrainer
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
#: Estimators whose codes are judged by a classifier, and at which sizes.
PROBED = {"SparseAutoEncoder": {256}, "DenoisingAutoEncoder": {32, 128, 256}}


def cpu_description():
    """The CPU's model name and the flags that matter for float32/bfloat16 products."""
    model, flags = platform.processor(), []
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return {"model": model, "flags": flags}
    for line in lscpu.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Model name":
            model = value.strip()
        elif key.strip() == "Flags":
            wanted = {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "fma"}
            flags = sorted(wanted & set(value.split()))
    return {"model": model, "flags": flags}


def timed_fit(model, X):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    return time.perf_counter() - start


def probe(codes_train, y_train, codes_test, y_test):
    clf = LogisticRegression(max_iter=1000)
    return float(clf.fit(codes_train, y_train).score(codes_test, y_test))


def error(X, X_hat):
    return float(((X - X_hat) ** 2).sum(axis=1).mean())


def evaluate(name, model, X_train, y_train, X_test, y_test, size):
    row = {}
    if name == "VariationalAutoEncoder":
        row["held-out ELBO"] = float(model.score(X_test))
    row["held-out error"] = error(X_test, model.inverse_transform(model.transform(X_test)))
    if size in PROBED.get(name, ()):
        row["accuracy"] = probe(model.transform(X_train), y_train,
                                model.transform(X_test), y_test)
    return row


#: Settings every skautoenc estimator gets on top of its defaults (``--tiny`` sets a few
#: epochs, for the smoke test), and the RBM's epochs.
OVERRIDES = {}
RBM_EPOCHS = 20


def bench_defaults(X_train, y_train, X_test, y_test, sizes, names, factor, seed, log):
    rows = [{"model": "raw pixels", "size": X_train.shape[1],
             "accuracy": probe(X_train, y_train, X_test, y_test)}]
    rbm = BernoulliRBM(256, learning_rate=0.06, n_iter=RBM_EPOCHS, batch_size=10,
                       random_state=seed)
    log("BernoulliRBM(256) ...")
    seconds = timed_fit(rbm, X_train)
    rows.append({"model": "BernoulliRBM", "size": 256, "fit s": seconds,
                 "accuracy": probe(rbm.transform(X_train), y_train,
                                   rbm.transform(X_test), y_test)})
    for size in sizes:
        pca = PCA(size, random_state=seed)
        seconds = timed_fit(pca, X_train)
        rows.append({"model": "PCA", "size": size, "fit s": seconds,
                     "held-out error": error(X_test, pca.inverse_transform(
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
            if factor:
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with the MNIST idx files (default: digits)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 256])
    parser.add_argument("--estimators", nargs="+", default=list(ESTIMATORS),
                        choices=list(ESTIMATORS))
    parser.add_argument("--budget-factor", type=int, default=0,
                        help="also train with this many times the default epochs (0: no)")
    parser.add_argument("--vae-epochs", type=int, default=150,
                        help="epochs of the torch VAE whose best one is the oracle stop")
    parser.add_argument("--skip", nargs="*", default=[], choices=["defaults", "vae"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--tiny", action="store_true",
                        help="two epochs per model: for testing the script, not the models")
    args = parser.parse_args(argv)
    if args.tiny:
        global RBM_EPOCHS
        OVERRIDES["max_iter"], RBM_EPOCHS = 2, 1

    X_train, X_test, y_train, y_test, dataset = load_dataset(args.data, random_state=args.seed)
    start = time.perf_counter()

    def log(message):
        print(f"[{time.perf_counter() - start:6.1f} s] {message}", flush=True)

    payload = {"machine": {**machine(), "cpu": cpu_description()}, "dataset": dataset,
               "n_train": len(X_train), "n_test": len(X_test)}
    if "defaults" not in args.skip:
        rows = bench_defaults(X_train, y_train, X_test, y_test, args.sizes, args.estimators,
                              args.budget_factor, args.seed, log)
        print(format_table([{k: row.get(k) for k in (
            "model", "size", "budget", "fit s", "epochs", "held-out error",
            "held-out ELBO", "accuracy")} for row in rows]))
        payload["defaults"] = rows
    if "vae" not in args.skip:
        rows, curve = bench_vae_oracle(X_train, X_test, args.seed, args.vae_epochs, log)
        print(format_table(rows))
        payload["vae"] = rows
        payload["vae_reference_curve"] = curve
    write_json(args.out, payload)
    return payload


if __name__ == "__main__":
    main()
