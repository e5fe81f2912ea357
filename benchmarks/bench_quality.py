"""Are the codes better than PCA's, and is the VAE as good as a plain torch VAE?

1. Held-out reconstruction error (squared error summed over pixels, mean over images) of
   AutoEncoder, DenoisingAutoEncoder, SparseAutoEncoder and the VariationalAutoEncoder's
   decoded mean, against PCA, at several code sizes; and the held-out accuracy of
   LogisticRegression on the codes of each (and on PCA codes and raw pixels).
2. The target row: AutoEncoder(n_components=32) against PCA(32), with its fit time.
3. A 784-400-20 Bernoulli VAE on dynamically binarised data (a fresh binarisation every
   epoch, through ``partial_fit``) against a plain-torch VAE of the same shape trained
   the same way in the same run, epochs alternating between the two: held-out ELBO,
   importance-sampled log-likelihood and fit time.

    python benchmarks/bench_quality.py --data ../shared/data/mnist --out results/quality.json
"""

import argparse
import math
import time
import warnings

import numpy as np
import torch
from _data import format_table, load_dataset, machine, write_json
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn
from torch.nn import functional as F

from skautoenc import (
    AutoEncoder,
    DenoisingAutoEncoder,
    SparseAutoEncoder,
    VariationalAutoEncoder,
)


def reconstruction_error(X, X_hat):
    return float(((X - X_hat) ** 2).sum(axis=1).mean())


def accuracy(codes_train, y_train, codes_test, y_test):
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return float(clf.fit(codes_train, y_train).score(codes_test, y_test))


def models(n_components, epochs, seed):
    common = dict(n_components=n_components, max_iter=epochs, random_state=seed)
    return {
        "PCA": PCA(n_components, random_state=seed),
        "AutoEncoder": AutoEncoder(**common),
        "DenoisingAutoEncoder": DenoisingAutoEncoder(**common),
        "SparseAutoEncoder": SparseAutoEncoder(**common),
        "VariationalAutoEncoder": VariationalAutoEncoder(**common),
    }


def evaluate(model, X_train, y_train, X_test, y_test):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        codes_train = model.fit_transform(X_train)
    fit_time = time.perf_counter() - start
    codes_test = model.transform(X_test)
    return {
        "recon. error": reconstruction_error(X_test, model.inverse_transform(codes_test)),
        "LogReg acc.": accuracy(codes_train, y_train, codes_test, y_test),
        "fit s": fit_time,
    }


def bench_code_sizes(X_train, y_train, X_test, y_test, sizes, epochs, seed):
    rows = [
        {
            "model": "raw pixels",
            "n_components": X_train.shape[1],
            "recon. error": 0.0,
            "LogReg acc.": accuracy(X_train, y_train, X_test, y_test),
            "fit s": 0.0,
        }
    ]
    for n_components in sizes:
        for name, model in models(n_components, epochs, seed).items():
            row = {"model": name, "n_components": n_components}
            row.update(evaluate(model, X_train, y_train, X_test, y_test))
            rows.append(row)
            print(format_table([row]).splitlines()[-1], flush=True)
    pca = {r["n_components"]: r["recon. error"] for r in rows if r["model"] == "PCA"}
    for row in rows:
        row["error vs PCA"] = row["recon. error"] / pca.get(row["n_components"], np.nan)
    return rows


def bench_target(X_train, y_train, X_test, y_test, seed, epochs):
    """AutoEncoder(32) vs PCA(32): the issue's target is <= 0.5x the error in <= 60 s."""
    ae = AutoEncoder(n_components=32, max_iter=epochs, random_state=seed)
    result = evaluate(ae, X_train, y_train, X_test, y_test)
    pca = evaluate(PCA(32, random_state=seed), X_train, y_train, X_test, y_test)
    return [
        {"model": "PCA(32)", **pca, "error vs PCA": 1.0},
        {
            "model": f"AutoEncoder(32), max_iter={epochs}",
            **result,
            "error vs PCA": result["recon. error"] / pca["recon. error"],
            "epochs run": ae.n_iter_,
        },
    ]


# --------------------------------------------------------------------- VAE reference
class TorchVAE(nn.Module):
    """The reference: a textbook VAE, 784-400-20, ReLU, Bernoulli decoder."""

    def __init__(self, n_features, hidden, latent):
        super().__init__()
        self.hidden = nn.Linear(n_features, hidden)
        self.mu = nn.Linear(hidden, latent)
        self.log_var = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(
            nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, n_features)
        )

    def encode(self, x):
        h = F.relu(self.hidden(x))
        return self.mu(h), self.log_var(h)

    def elbo(self, x, eps):
        """Per-sample ELBO with the draws ``eps`` of shape (L, n, latent)."""
        mu, log_var = self.encode(x)
        z = mu + torch.exp(0.5 * log_var) * eps
        logits = self.decoder(z)
        log_px = -F.binary_cross_entropy_with_logits(
            logits, x.expand_as(logits), reduction="none"
        ).sum(-1)
        kl = -0.5 * (1 + log_var - mu**2 - log_var.exp()).sum(-1)
        return log_px.mean(0) - kl

    def log_likelihood(self, x, n_samples, generator):
        """Importance-sampled log p(x) (Burda et al. 2016) with the posterior as proposal."""
        mu, log_var = self.encode(x)
        std = torch.exp(0.5 * log_var)
        log_w = []
        for start in range(0, n_samples, 50):
            k = min(50, n_samples - start)
            eps = torch.randn((k, *mu.shape), generator=generator)
            z = mu + std * eps
            logits = self.decoder(z)
            log_px = -F.binary_cross_entropy_with_logits(
                logits, x.expand_as(logits), reduction="none"
            ).sum(-1)
            log_pz = -0.5 * (z**2 + math.log(2 * math.pi)).sum(-1)
            log_qz = -0.5 * (eps**2 + log_var + math.log(2 * math.pi)).sum(-1)
            log_w.append(log_px + log_pz - log_qz)
        return torch.logsumexp(torch.cat(log_w), 0) - math.log(n_samples)


class TorchVAETrainer:
    """The plain torch training loop of ``TorchVAE``, one epoch per call of :meth:`epoch`.

    Seeds torch's global generator once; its shuffles and draws of ``eps`` come from it.
    """

    def __init__(self, n_features, hidden, latent, batch_size, lr, seed):
        torch.manual_seed(seed)
        self.vae = TorchVAE(n_features, hidden, latent)
        self.optimizer = torch.optim.Adam(self.vae.parameters(), lr=lr)
        self.latent, self.batch_size = latent, batch_size

    def epoch(self, X):
        X_t = torch.tensor(X, dtype=torch.float32)
        order = torch.randperm(len(X_t))
        for start in range(0, len(X_t), self.batch_size):
            batch = X_t[order[start : start + self.batch_size]]
            eps = torch.randn((1, len(batch), self.latent))
            loss = -self.vae.elbo(batch, eps).mean()
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()


def bench_vae(X_train, X_test, epochs, n_importance, seed):
    hidden, latent, batch_size, lr = 400, 20, 100, 1e-3
    rng = np.random.RandomState(seed)
    # dynamic binarisation: a fresh Bernoulli draw of the training images every epoch
    binarised = [(rng.uniform(size=X_train.shape) < X_train).astype(np.float64)
                 for _ in range(epochs)]
    X_test_bin = (rng.uniform(size=X_test.shape) < X_test).astype(np.float64)

    def make_vae():
        return VariationalAutoEncoder(
            n_components=latent,
            hidden_layer_sizes=(hidden,),
            likelihood="bernoulli",
            batch_size=batch_size,
            learning_rate_init=lr,
            random_state=seed,
        )

    # Epochs alternate between the two, so that both see the same machine load; our
    # estimator forks torch's generator, so the reference's draws are as if it ran alone.
    # A short warm-up first spares both a cold start in the timing.
    make_vae().partial_fit(binarised[0][:1000])
    TorchVAETrainer(X_train.shape[1], hidden, latent, batch_size, lr, seed).epoch(
        binarised[0][:1000]
    )
    vae, ours_time, ref_time = make_vae(), 0.0, 0.0
    ref_trainer = TorchVAETrainer(X_train.shape[1], hidden, latent, batch_size, lr, seed)
    for X in binarised:
        start = time.perf_counter()
        vae.partial_fit(X)
        ours_time += time.perf_counter() - start
        start = time.perf_counter()
        ref_trainer.epoch(X)
        ref_time += time.perf_counter() - start
    ref = ref_trainer.vae
    ours_elbo = float(vae.score(X_test_bin))
    ours_ll = float(
        vae.log_likelihood(X_test_bin, n_importance_samples=n_importance, random_state=seed).mean()
    )

    generator = torch.Generator().manual_seed(seed)
    X_t = torch.tensor(X_test_bin, dtype=torch.float32)
    with torch.no_grad():
        eps = torch.randn((32, len(X_t), latent), generator=generator)
        ref_elbo = float(ref.elbo(X_t, eps).mean())
        ref_ll = float(ref.log_likelihood(X_t, n_importance, generator).mean())
    return [
        {"VAE 784-400-20": "skautoenc (partial_fit per epoch)", "held-out ELBO": ours_elbo,
         "IS log p(x)": ours_ll, "fit s": ours_time},
        {"VAE 784-400-20": "plain torch reference", "held-out ELBO": ref_elbo,
         "IS log p(x)": ref_ll, "fit s": ref_time},
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with the MNIST idx files (default: digits)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--epochs", type=int, default=20, help="epochs of the size sweep")
    parser.add_argument("--target-epochs", type=int, default=30)
    parser.add_argument("--vae-epochs", type=int, default=20)
    parser.add_argument("--importance-samples", type=int, default=500)
    parser.add_argument("--n-train", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip", nargs="*", default=[], choices=["sizes", "target", "vae"])
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args(argv)

    X_train, X_test, y_train, y_test, name = load_dataset(args.data, n_train=args.n_train)
    print(f"data: {name}, train {X_train.shape}, test {X_test.shape}")
    results = {"machine": machine(), "data": name, "args": vars(args)}
    if "sizes" not in args.skip:
        rows = bench_code_sizes(
            X_train, y_train, X_test, y_test, args.sizes, args.epochs, args.seed
        )
        print(format_table(rows), end="\n\n")
        results["code_sizes"] = rows
    if "target" not in args.skip:
        rows = bench_target(X_train, y_train, X_test, y_test, args.seed, args.target_epochs)
        print(format_table(rows), end="\n\n")
        results["target"] = rows
    if "vae" not in args.skip:
        rows = bench_vae(X_train, X_test, args.vae_epochs, args.importance_samples, args.seed)
        print(format_table(rows))
        results["vae"] = rows
    write_json(args.out, results)


if __name__ == "__main__":
    main()
