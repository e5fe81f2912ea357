"""Do the estimators give the same results on a GPU as on the CPU, and how much faster?

For each estimator, on MNIST-sized data (the 10,000 MNIST test images from ``--data``,
or random 10,000 x 784 values in [0, 1] when that folder is absent):

- fit and transform on every device of ``--devices`` (and with ``mixed_precision=True``
  on CUDA, where the estimators have that parameter): throughput in samples/s;
- the same fitted model on two devices: the CPU-fitted model is moved to the other
  device through its pickled state (as loading a saved model there does), and the max
  abs difference of the two ``transform`` outputs is reported, relative to the codes'
  scale. This must agree to float32 rounding: the script exits with status 1 otherwise;
- codes from fitting on each device with the same seed: their max abs difference and
  the reconstruction error of each model (floating-point summation order differs
  between devices, so these drift apart during training; their quality should not).

Exits with a message (status 0) when CUDA is requested but unavailable. Expected to take
about a minute on a machine with one H200 and 16 cores (a CPU fit takes about 2 s on an
idle core); ``--devices cpu cpu`` runs every step without a GPU.

    python benchmarks/gpu_check.py --data ../shared/data/mnist --out results/gpu.json
"""

import argparse
import pickle
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _data import format_table, load_mnist, machine, write_json
from sklearn.exceptions import ConvergenceWarning

from skautoenc import (
    AutoEncoder,
    DenoisingAutoEncoder,
    SparseAutoEncoder,
    VariationalAutoEncoder,
)

ESTIMATORS = [AutoEncoder, DenoisingAutoEncoder, SparseAutoEncoder, VariationalAutoEncoder]

#: Max abs difference of the codes of one model on two devices, relative to the largest
#: absolute code, above which the check fails: float32 rounding is about 1e-7, and the
#: summation order of the matrix products differs between devices.
SAME_MODEL_TOLERANCE = 1e-4


def load_data(path, n_samples, seed=0):
    if path and Path(path).is_dir():
        X = load_mnist(path)[0][:n_samples]
        return X, f"MNIST ({path})"
    if path:
        print(f"no MNIST folder at {path}: using random data")
    X = np.random.default_rng(seed).uniform(size=(n_samples, 784))
    return X, "random uniform"


def make(cls, device, epochs, **extra):
    return cls(
        n_components=32,
        hidden_layer_sizes=(256,),
        batch_size=128,
        max_iter=epochs,
        n_iter_no_change=epochs + 1,  # run every epoch
        random_state=0,
        device=device,
        **extra,
    )


def to_device(model, device):
    """A copy of fitted ``model`` whose network lives on ``device``.

    Goes through the pickled state, which holds the network as plain arrays and the
    device it was trained on: what loading a saved model on another machine does.
    """
    # a pickled copy first: the state of a CPU model shares its arrays with the model
    state = pickle.loads(pickle.dumps(model)).__getstate__()
    state["device_"] = device
    moved = type(model).__new__(type(model))
    moved.__setstate__(state)
    return moved


def timed(fn, *args, repeats=1):
    """Median seconds of ``fn(*args)`` over ``repeats`` calls, and its last result."""
    values = []
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        result = fn(*args)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        values.append(time.perf_counter() - start)
    return statistics.median(values), result


def fit(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X)


def reconstruction_error(model, X):
    """Mean squared reconstruction error per sample (summed over features).

    Computed here, not with ``score``: the variational autoencoder's score is the ELBO.
    """
    return float(((model.inverse_transform(model.transform(X)) - X) ** 2).sum(axis=1).mean())


def variants(cls, devices):
    """(label, device, extra params) for every run of ``cls``."""
    runs = [
        (device if device not in devices[:i] else f"{device} (again)", device, {})
        for i, device in enumerate(devices)
    ]
    if "cuda" in devices and "mixed_precision" in cls().get_params():
        runs.append(("cuda, mixed precision", "cuda", {"mixed_precision": True}))
    return runs


def check_estimator(cls, X, devices, epochs):
    throughput, agreement = [], []
    fitted = {}
    for label, device, extra in variants(cls, devices):
        fit_s, model = timed(fit, make(cls, device, epochs, **extra), X)
        transform_s, codes = timed(model.transform, X, repeats=3)
        fitted[label] = model, codes
        throughput.append(
            {
                "estimator": cls.__name__,
                "device": label,
                "fit s": fit_s,
                "fit samples/s": len(X) * epochs / fit_s,
                "transform samples/s": len(X) / transform_s,
                "reconstruction error": reconstruction_error(model, X),
            }
        )
    reference_label = devices[0]
    reference, reference_codes = fitted[reference_label]
    scale = float(np.abs(reference_codes).max())
    for label, (model, codes) in fitted.items():
        if label == reference_label:
            continue
        device = model.device_
        moved_codes = to_device(reference, device).transform(X)
        back_codes = to_device(model, reference.device_).transform(X)
        same_model = np.abs(moved_codes - reference_codes).max() / scale
        agreement.append(
            {
                "estimator": cls.__name__,
                "devices": f"{reference_label} vs {label}",
                "same model, ref fit": same_model,
                "same model, other fit": float(
                    np.abs(back_codes - codes).max() / np.abs(codes).max()
                ),
                "separate fits": float(
                    np.abs(codes - reference_codes).max() / scale
                ),
                "error ratio": reconstruction_error(model, X)
                / reconstruction_error(reference, X),
                "agree": bool(same_model <= SAME_MODEL_TOLERANCE),
            }
        )
    return throughput, agreement


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with the MNIST idx files (default: random data)")
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument(
        "--devices",
        nargs="+",
        default=["cpu", "cuda"],
        help="the first is the reference the others are compared with (default: cpu cuda); "
        "a device named twice is fitted twice (e.g. 'cpu cpu' checks the script without a GPU)",
    )
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if "cuda" in args.devices and not torch.cuda.is_available():
        print("CUDA is not available (torch.cuda.is_available() is False): nothing to check.")
        return 0

    X, name = load_data(args.data, args.n_samples)
    print(f"data: {name}, X {X.shape}; epochs {args.epochs}; devices {args.devices}")
    if torch.cuda.is_available():
        print(f"CUDA device: {torch.cuda.get_device_name(0)}")
        fit(make(AutoEncoder, "cuda", 1), X[:256])  # start CUDA outside the timings
    fit(make(AutoEncoder, "cpu", 1), X[:256])

    throughput, agreement = [], []
    for cls in ESTIMATORS:
        rows = check_estimator(cls, X, args.devices, args.epochs)
        throughput += rows[0]
        agreement += rows[1]
        print(f"{cls.__name__} done", flush=True)
    print()
    print(format_table(throughput), end="\n\n")
    if agreement:
        print(format_table(agreement))
        print(
            "max |difference of codes| / max |code|. same model: one fitted model on both "
            "devices (fitted on the reference, or on the other device); separate fits: the "
            "codes of the two fits. error ratio: reconstruction error, other / reference."
        )
    write_json(
        args.out,
        {
            "machine": machine(),
            "data": name,
            "shape": list(X.shape),
            "epochs": args.epochs,
            "same_model_tolerance": SAME_MODEL_TOLERANCE,
            "throughput": throughput,
            "agreement": agreement,
        },
    )
    failed = [row for row in agreement if not row["agree"]]
    if failed:
        print(f"\nFAILED: {len(failed)} same-model comparisons above {SAME_MODEL_TOLERANCE}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
