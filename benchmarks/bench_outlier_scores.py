"""Outlier scores beyond the detector's options: what else an autoencoder offers on
one-class MNIST, and how far each is from the hand-written baseline.

``bench_outliers.py`` compares the detector's settings; this script asks whether any
score built from the same kind of network ranks the held-out images better. For each
digit it trains one ``DenoisingAutoEncoder(16)`` (the detector's default network on
images) and scores the held-out images by:

- ``reconstruction``: the summed squared error (the detector's score, one network);
- ``cross-entropy``, ``absolute``: the error summed as the network's Bernoulli
  log-loss, or as absolute errors;
- ``masked-0.25``, ``masked-0.5``: the error of reconstructing the clean image from
  copies with that share of the pixels zeroed (4 draws), the denoising network's own
  task at test time;
- ``code-knn-K``, ``pixel-knn-K``: the mean distance to the K nearest training samples,
  in code space or in pixel space (each training sample's own distance leaves itself
  out);
- ``reconstruction+code-knn-5``, ``reconstruction+pixel-knn-5``: the sum of the two,
  each divided by its median over the training samples;
- ``dae-8``, ``dae-32``: the reconstruction error of a network with 8 or 32 codes;
- ``relative-F``: the summed squared error divided by the image's energy (the sum of its
  squares and its reconstruction's) plus ``F`` times the training images' mean sum of
  squares: the detector's ``error="relative"`` with ``error_floor=F``;
- ``smoothed-S``, ``relative-smoothed-S``: the error image smoothed by a Gaussian of
  ``S`` pixels before it is squared and summed (a stroke missing or added counts, a
  stroke shifted by a pixel less), alone and divided as ``relative-1.0`` divides; these
  need the images' shape, which the detector does not take.

In the same run, timed from fit to scores: the hand-written baseline (an
``AutoEncoder(16)``'s ``score_samples``), the detector at pyod's budget (one
``DenoisingAutoEncoder(16)`` of ten epochs, no refit) and pyod's ``AutoEncoder`` with
its defaults (ten epochs), when pyod is installed.

``--contaminated`` adds a study of the detector's two-pass training, on the protocol
with 5% of each digit's training images replaced by other digits (whose rows are known
here): the share of those intruders that each way of flagging training rows puts among
the tenth it flags (the first pass of ``refit=True`` after 10, 30 or 60 epochs, the
fully trained network, the distance to the 10 nearest training images, and the sum of
the ranks of the 30-epoch error and that distance), and the held-out AUROC of one network
trained on every row, on the rows left by two of those flags, on those left when the
30-epoch pass flags 5%, 30% or 50% of them, on those left by three such passes (each trained
on the rows the last left), and on the clean rows only (the oracle no detector has). Then
what leaving rows out costs where none is an intruder (the clean rows without the 5%,
10%, 30% or 50% that a first pass on them flags), and robust training instead of a flag: one
network on every row whose loss leaves out the 10% of each minibatch's rows of the highest
loss (the loss truncation of ALTBI, at a fixed batch size).

Run ``python benchmarks/bench_outlier_scores.py --data ../shared/data/mnist
--contaminated --out benchmarks/recorded/outlier_scores.json``; without ``--data``,
scikit-learn's 8x8 digits (a quick check).
"""

import argparse
import importlib.util
import itertools
import time
import warnings

import numpy as np
from _data import machine, write_json
from bench_outliers import METHODS, digits_tasks, evaluate, mnist_tasks
from scipy.ndimage import gaussian_filter
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

from skautoenc import AutoEncoderOutlierDetector, DenoisingAutoEncoder
from skautoenc._losses import ReconstructionLoss, reconstruction_error
from skautoenc._outlier import _row_errors

#: Numbers of neighbours of the distance scores.
NEIGHBOURS = (1, 5)
#: The floors of the relative errors, as fractions of the training images' mean sum of
#: squares (the detector's ``error_floor``), and the smoothing of the error images.
RELATIVE_FLOORS = (0.25, 0.5, 1.0, 2.0)
SMOOTHING = 1.0
#: Shares of the pixels zeroed for the masked scores, and the draws averaged.
MASKED = (0.25, 0.5)
MASK_DRAWS = 4
#: The contamination study: the first passes' epochs, and the share of rows flagged.
FIRST_PASS_EPOCHS = (10, 30, 60)
FLAGGED_SHARE = 0.1
#: The shares of the training rows that the 30-epoch first pass leaves out, on the
#: contaminated rows and on the clean ones (where leaving rows out costs): 5% is what
#: the first pass of a detector told the true contamination (0.05) would leave out.
LEFT_OUT_SHARES = (0.05, 0.1, 0.3, 0.5)
#: Iterated flags: first passes, each trained on the rows the last one left.
FLAG_ROUNDS = 3
#: Loss truncation: the share of each minibatch's rows, those of the highest loss, left
#: out of its loss.
TRUNCATED_SHARE = 0.1
#: The detector at pyod's budget: the epochs pyod's AutoEncoder trains by default.
PYOD_EPOCHS = 10

TIMED = {
    "autoencoder-16": METHODS["autoencoder-16"],
    "detector-10-epochs": lambda seed, X: AutoEncoderOutlierDetector(
        DenoisingAutoEncoder(n_components=min(16, X.shape[1] // 4), max_iter=PYOD_EPOCHS),
        error="squared", n_estimators=1, refit=False, random_state=seed),
    "pyod-autoencoder": METHODS["pyod-autoencoder"],
}


def knn_distances(train, k, test=None):
    """Mean distance to the ``k`` nearest training rows: of each training row (itself
    left out), and of each test row when ``test`` is given."""
    nn = NearestNeighbors(n_neighbors=k + 1).fit(train)
    on_train = nn.kneighbors(train, n_neighbors=k + 1)[0][:, 1:].mean(axis=1)
    if test is None:
        return on_train
    return on_train, nn.kneighbors(test, n_neighbors=k)[0].mean(axis=1)


class TruncatedLoss(ReconstructionLoss):
    """The reconstruction loss in training without the rows of the :data:`TRUNCATED_SHARE`
    highest losses of each minibatch (the truncation of ALTBI, arXiv:2408.09791, at a
    fixed batch size); the whole batch in evaluation."""

    def forward(self, output, target):
        if not self.training or self.missing:
            return super().forward(output, target)
        losses = reconstruction_error(output, target, self.loss)
        kept = max(1, int(round(len(losses) * (1 - TRUNCATED_SHARE))))
        return losses.sort().values[:kept].mean()


class TruncatedDenoisingAutoEncoder(DenoisingAutoEncoder):
    """A ``DenoisingAutoEncoder`` trained on :class:`TruncatedLoss`."""

    def _net_params(self):
        return {**super()._net_params(), "criterion": TruncatedLoss}


def squared_errors(network, X):
    """Each row's summed squared error: the detector's score of one network."""
    return _row_errors([network], X, np.ones(X.shape[1]))


def candidate_scores(X, X_test, n_components, max_iter, seed=0):
    """``{name: outlier score of each test row}`` (higher: more abnormal)."""
    network = DenoisingAutoEncoder(n_components=n_components, max_iter=max_iter,
                                   random_state=seed).fit(X)
    scores = {}
    recon = network.inverse_transform(network.transform(X_test))
    scores["reconstruction"] = ((recon - X_test) ** 2).sum(axis=1)
    clipped = np.clip(recon, 1e-6, 1 - 1e-6)
    scores["cross-entropy"] = -(X_test * np.log(clipped)
                                + (1 - X_test) * np.log(1 - clipped)).sum(axis=1)
    scores["absolute"] = np.abs(recon - X_test).sum(axis=1)
    energy = (X_test ** 2).sum(axis=1) + (recon ** 2).sum(axis=1)
    mean_squares = (X ** 2).sum(axis=1).mean()
    for floor in RELATIVE_FLOORS:
        scores[f"relative-{floor}"] = scores["reconstruction"] / (
            energy + floor * mean_squares)
    side = int(round(X.shape[1] ** 0.5))
    smoothed = gaussian_filter((recon - X_test).reshape(-1, side, side),
                               sigma=(0, SMOOTHING, SMOOTHING))
    scores[f"smoothed-{SMOOTHING}"] = (smoothed ** 2).reshape(len(X_test), -1).sum(axis=1)
    scores[f"relative-smoothed-{SMOOTHING}"] = scores[f"smoothed-{SMOOTHING}"] / (
        energy + mean_squares)
    rng = np.random.RandomState(seed)
    for share in MASKED:
        total = 0.0
        for _ in range(MASK_DRAWS):
            kept = rng.rand(*X_test.shape) >= share
            masked = network.inverse_transform(network.transform(X_test * kept))
            total = total + ((masked - X_test) ** 2).sum(axis=1)
        scores[f"masked-{share}"] = total / MASK_DRAWS
    on_train = {"reconstruction": squared_errors(network, X)}
    codes, test_codes = network.transform(X), network.transform(X_test)
    for k in NEIGHBOURS:
        on_train[f"code-knn-{k}"], scores[f"code-knn-{k}"] = knn_distances(
            codes, k, test_codes)
        on_train[f"pixel-knn-{k}"], scores[f"pixel-knn-{k}"] = knn_distances(X, k, X_test)
    for other in ("code-knn-5", "pixel-knn-5"):
        scores[f"reconstruction+{other}"] = sum(
            scores[name] / np.median(on_train[name]) for name in ("reconstruction", other))
    for size in (n_components // 2, n_components * 2):
        other = DenoisingAutoEncoder(n_components=size, max_iter=max_iter,
                                     random_state=seed).fit(X)
        scores[f"dae-{size}"] = squared_errors(other, X_test)
    return scores


def contamination_study(tasks, n_components, max_iter, seed=0):
    """Per task: how many intruders each flag finds, and what removing them gives."""
    from scipy.stats import rankdata

    recall, auroc = {}, {}
    for task, X, X_test, normal, intruder in tasks:
        network = DenoisingAutoEncoder(n_components=min(n_components, X.shape[1] // 4),
                                       max_iter=max_iter, random_state=seed)
        epochs = network._epochs(len(X))  # max_iter, or the number "auto" stands for
        flags = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for first in FIRST_PASS_EPOCHS:
                short = clone(network).set_params(max_iter=min(first, epochs)).fit(X)
                flags[f"first pass, {first} epochs"] = squared_errors(short, X)
            full = clone(network).set_params(max_iter=epochs).fit(X)
            flags["fully trained"] = squared_errors(full, X)
            flags["10 nearest, pixel space"] = knn_distances(X, 10)
            flags["first pass, 30 epochs + 10 nearest"] = (
                rankdata(flags[f"first pass, {FIRST_PASS_EPOCHS[1]} epochs"])
                + rankdata(flags["10 nearest, pixel space"]))
            for name, flag in flags.items():
                flagged = flag > np.quantile(flag, 1 - FLAGGED_SHARE)
                recall.setdefault(name, {})[task] = float(intruder[flagged].sum()
                                                          / intruder.sum())
            first = f"first pass, {FIRST_PASS_EPOCHS[1]} epochs"
            kept = {"every row": np.ones(len(X), bool), "clean rows only (oracle)": ~intruder}
            kept[_left_out(FLAGGED_SHARE)] = _without(flags[first], FLAGGED_SHARE)
            kept[f"without the tenth flagged by: {first} + 10 nearest"] = _without(
                flags[f"{first} + 10 nearest"], FLAGGED_SHARE)
            for share in LEFT_OUT_SHARES:
                if share != FLAGGED_SHARE:
                    kept[_left_out(share)] = _without(flags[first], share)
            # the first round is the 30-epoch pass above: same network, seed and rows
            first_pass = clone(network).set_params(max_iter=min(FIRST_PASS_EPOCHS[1], epochs))
            rounds = _without(flags[first], FLAGGED_SHARE)
            for _ in range(FLAG_ROUNDS - 1):
                rounds = _without(squared_errors(clone(first_pass).fit(X[rounds]), X),
                                  FLAGGED_SHARE)
            kept[f"without the tenth flagged by: {FLAG_ROUNDS} first passes, each on the "
                 "rows the last left"] = rounds
            # the cost of leaving rows out where none is an intruder
            clean_errors = squared_errors(clone(first_pass).fit(X[~intruder]), X)
            for share in LEFT_OUT_SHARES:
                kept[_left_out(share, clean=True)] = ~intruder & _without(
                    clean_errors, share, among=~intruder)
            for name, rows in kept.items():
                trained = clone(network).set_params(max_iter=epochs).fit(X[rows])
                auroc.setdefault(name, {})[task] = roc_auc_score(
                    normal, -squared_errors(trained, X_test))
            truncated = TruncatedDenoisingAutoEncoder(**network.get_params()).set_params(
                max_iter=epochs).fit(X)
            auroc.setdefault(f"every row, the {TRUNCATED_SHARE:.0%} of each minibatch of "
                             "the highest loss left out of it (loss truncation)", {})[task] = (
                roc_auc_score(normal, -squared_errors(truncated, X_test)))
        print(f"contaminated {task}: " + ", ".join(
            f"{name} {values[task]:.3f}" for name, values in {**recall, **auroc}.items()),
            flush=True)

    def rows(table, key):
        return [{key: name, "per_task": values,
                 "mean": float(np.mean(list(values.values())))}
                for name, values in table.items()]

    study = {"flagged_share": FLAGGED_SHARE, "recall": rows(recall, "flag"),
             "auroc": rows(auroc, "trained on")}
    return {**study, "left_out": left_out_summary(study["auroc"])}


def _left_out(share, clean=False):
    """The name of the rows left when the 30-epoch first pass flags ``share`` of them:
    of the contaminated rows, or of the clean ones (``clean``)."""
    first = f"first pass, {FIRST_PASS_EPOCHS[1]} epochs"
    if clean:
        return f"clean rows only, without the {share:.0%} flagged by: {first}"
    part = "the tenth" if share == FLAGGED_SHARE else f"the {share:.0%}"
    return f"without {part} flagged by: {first}"


def left_out_summary(auroc_rows):
    """Per share of the rows left out: the mean AUROC on contaminated and on clean rows,
    the drop from one to the other, and how each moved from the tenth the detector's
    default leaves out, in points."""
    mean = {row["trained on"]: row["mean"] for row in auroc_rows}
    shares = [s for s in LEFT_OUT_SHARES if _left_out(s) in mean]
    if FLAGGED_SHARE not in shares:
        return []
    dirty = {share: mean[_left_out(share)] for share in shares}
    clean = {share: mean[_left_out(share, clean=True)] for share in shares}
    base = FLAGGED_SHARE
    return [{"share": share, "contaminated": dirty[share], "clean": clean[share],
             "drop_points": 100 * (clean[share] - dirty[share]),
             "contaminated_gain_points": 100 * (dirty[share] - dirty[base]),
             "clean_loss_points": 100 * (clean[base] - clean[share])}
            for share in shares]


def _without(errors, share, among=None):
    """The rows whose ``errors`` are not among the ``share`` highest of the rows
    ``among`` (all rows by default)."""
    reference = errors if among is None else errors[among]
    return errors <= np.quantile(reference, 1 - share)


def contaminated_tasks(path):
    """``mnist_tasks(contaminated=True)`` with a mask of the replaced rows: its last
    5% of each digit's training rows."""
    for task, X, X_test, normal in (mnist_tasks(path, contaminated=True) if path
                                    else _contaminated_digits()):
        intruder = np.zeros(len(X), bool)
        intruder[len(X) - int(round(0.05 * len(X))):] = True
        yield task, X, X_test, normal, intruder


def _contaminated_digits():
    """The digits' one-class tasks, contaminated as ``mnist_tasks`` contaminates: 5% of
    each digit's training rows replaced by rows of the other digits."""
    rng = np.random.RandomState(0)
    tasks = list(digits_tasks())
    for task, X, X_test, normal in tasks:
        others = np.vstack([other for name, other, _, _ in tasks if name != task])
        n_other = int(round(0.05 * len(X)))
        yield task, np.vstack([X[: len(X) - n_other],
                               others[rng.choice(len(others), n_other, replace=False)]]), \
            X_test, normal


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder of the MNIST idx files (default: "
                        "scikit-learn's digits)")
    parser.add_argument("--tasks", type=int, help="only the first TASKS digits")
    parser.add_argument("--max-iter", default="auto",
                        help="epochs of the candidates' networks (default: theirs)")
    parser.add_argument("--no-timed", dest="timed", action="store_false",
                        help="skip the timed methods")
    parser.add_argument("--contaminated", action="store_true",
                        help="add the study of training data that hold other digits")
    parser.add_argument("--out", default="outlier_scores.json", help="the JSON to write")
    args = parser.parse_args(argv)
    max_iter = args.max_iter if args.max_iter == "auto" else int(args.max_iter)
    tasks = mnist_tasks(args.data, contaminated=False) if args.data else digits_tasks()
    if args.tasks:
        tasks = itertools.islice(tasks, args.tasks)
    timed = list(TIMED) if args.timed else []
    if importlib.util.find_spec("pyod") is None:
        print("pyod is not installed: its row is left out")
        timed = [m for m in timed if not m.startswith("pyod")]
    auroc, seconds = {}, {}
    for task, X, X_test, normal in tasks:
        n_components = min(16, X.shape[1] // 4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            scores = candidate_scores(X, X_test, n_components, max_iter)
            seconds.setdefault("candidates", {})[task] = time.perf_counter() - start
        for name, score in scores.items():
            auroc.setdefault(name, {})[task] = roc_auc_score(normal, -score)
        # the timed methods in turn, the order reversed from task to task
        for method in timed if int(task) % 2 == 0 else timed[::-1]:
            auroc.setdefault(method, {})[task], seconds.setdefault(method, {})[task] = (
                evaluate(TIMED[method], X, X_test, normal,
                         None if max_iter == "auto" else max_iter))
        print(f"digit {task}: " + ", ".join(f"{name} {values[task]:.3f}"
                                            for name, values in auroc.items()), flush=True)
    baseline = "autoencoder-16" if "autoencoder-16" in auroc else "reconstruction"
    rows = []
    for name, values in auroc.items():
        mean = float(np.mean(list(values.values())))
        rows.append({"score": name, "auroc": values, "mean_auroc": mean,
                     "points_above_baseline": 100 * (mean - float(np.mean(list(
                         auroc[baseline].values())))),
                     "total_seconds": (float(sum(seconds[name].values()))
                                       if name in seconds else None)})
    for row in sorted(rows, key=lambda r: -r["mean_auroc"]):
        print(f"{row['score']:30s} {row['mean_auroc']:.4f} "
              f"{row['points_above_baseline']:+.2f}")
    contaminated = None
    if args.contaminated:
        study = contaminated_tasks(args.data)
        if args.tasks:
            study = itertools.islice(study, args.tasks)
        contaminated = contamination_study(study, 16, max_iter)
    write_json(args.out, {
        "machine": machine(),
        "data": (f"the MNIST test set's idx files in {args.data}" if args.data
                 else "scikit-learn's load_digits"),
        "settings": {"n_components": 16, "max_iter": max_iter, "neighbours": NEIGHBOURS,
                     "masked": MASKED, "mask_draws": MASK_DRAWS,
                     "relative_floors": RELATIVE_FLOORS, "smoothing": SMOOTHING,
                     "pyod_epochs": PYOD_EPOCHS, "baseline": baseline},
        "candidates_seconds": seconds.get("candidates"),
        "rows": rows,
        "contaminated": contaminated,
    })


if __name__ == "__main__":
    main()
