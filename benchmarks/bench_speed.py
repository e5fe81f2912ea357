"""Is ``AutoEncoder`` as fast as the torch loop you would write yourself?

Same network (n_features-256-32-256-n_features, ReLU, sigmoid output, Adam 1e-3, batch
128), same data, same epochs, one process, contenders run in alternation (the order
reversed every other round), medians and the median of each round's ratio reported.
Also ``transform`` throughput against a plain ``no_grad`` encoder pass, and the peak
extra memory of ``fit`` and ``transform`` relative to X's float64 size.

With ``--precision``, bfloat16 against float32 as well: the same loops under bfloat16
autocast (``mixed_precision=True``) with the held-out loss each reaches, the plain loop
with fused Adam among them (skautoenc's step without the library), and a default
``AutoEncoder(32)`` fit in float32 against ``mixed_precision="auto"``. Only where the CPU
has bfloat16 matrix instructions: elsewhere torch emulates them, many times slower.
Then where a step of the plain loop goes (forward, loss, backward, optimiser), and the
products' share of it: the most that faster products alone can gain.

With ``--conv``, the same for the conv family: ``AutoEncoder(encoder="conv")`` on the
images against a plain torch loop of the same network (the default ``conv_channels``:
stride-2 3x3 convolutions of 16, 32 and 64 channels, a linear layer to 32 codes, and
their mirror in transposed convolutions), fused Adam, the same batches, alternated; the MLP's
plain loop beside them.

With ``--compile``, the plain loop with its forward pass, loss and backward pass compiled
by ``torch.compile`` (one graph), eager and compiled, in float32 and (where the CPU has
bfloat16 instructions) under bfloat16 autocast, epoch by epoch in alternation: the time
compiling costs in the first epoch, and the epochs after it.

    python benchmarks/bench_speed.py --data ../shared/data/mnist --out results/speed.json
"""

import argparse
import functools
import gc
import importlib.util
import json
import statistics
import time
import warnings

import numpy as np
import torch
from _data import (
    PeakRSS,
    alternated,
    by_rounds,
    format_table,
    load_dataset,
    machine,
    write_json,
)
from sklearn.exceptions import ConvergenceWarning
from torch import nn

from skautoenc import AutoEncoder
from skautoenc._runtime import fast_bfloat16

HIDDEN, CODE, BATCH, LR = 256, 32, 128, 1e-3


def torch_autoencoder(n_features):
    encoder = nn.Sequential(nn.Linear(n_features, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CODE))
    decoder = nn.Sequential(nn.Linear(CODE, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, n_features))
    return encoder, decoder


def fit_plain_torch(X, epochs, fused=False, bfloat16=False, network=torch_autoencoder):
    """The reference: tensors in memory, randperm batches, BCE on logits; with
    ``bfloat16``, the forward pass under bfloat16 autocast and the loss in float32.
    ``network(n_features)`` gives the encoder and the decoder."""
    torch.manual_seed(0)
    encoder, decoder = network(X.shape[1])
    params = [*encoder.parameters(), *decoder.parameters()]
    optimizer = torch.optim.Adam(params, lr=LR, fused=fused)
    X_t = torch.tensor(X, dtype=torch.float32)
    loss_fn = nn.BCEWithLogitsLoss(reduction="none")
    for _ in range(epochs):
        order = torch.randperm(len(X_t))
        for start in range(0, len(X_t), BATCH):
            batch = X_t[order[start : start + BATCH]]
            optimizer.zero_grad()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
                logits = decoder(encoder(batch))
            loss = loss_fn(logits.float(), batch).sum(dim=1).mean()
            loss.backward()
            optimizer.step()
    return encoder, decoder


class _ChannelsLast(nn.Module):
    """Feature maps in the channels-last layout, as skautoenc's conv family keeps them."""

    def forward(self, maps):
        return maps.contiguous(memory_format=torch.channels_last)


def torch_conv_autoencoder(side, channels=(16, 32, 64)):
    """The conv family's network in plain torch layers, for images of ``side`` x ``side``:
    stride-2 3x3 convolutions of ``channels``, a linear layer to the codes, and the
    mirror in transposed convolutions, feature maps channels-last."""
    sizes = [side]
    for _ in channels:
        sizes.append((sizes[-1] + 1) // 2)
    last = sizes[-1]
    encoder = [nn.Unflatten(1, (1, side, side)), _ChannelsLast()]
    for n_in, n_out in zip((1, *channels[:-1]), channels):
        encoder += [nn.Conv2d(n_in, n_out, 3, 2, 1), nn.ReLU()]
    encoder += [nn.Flatten(), nn.Linear(channels[-1] * last * last, CODE)]
    decoder = [nn.Linear(CODE, channels[-1] * last * last), nn.ReLU(),
               nn.Unflatten(1, (channels[-1], last, last)), _ChannelsLast()]
    outputs = [*channels[::-1][1:], 1]
    for i, (n_in, n_out) in enumerate(zip(channels[::-1], outputs)):
        s_in, s_out = sizes[-1 - i], sizes[-2 - i]
        decoder.append(nn.ConvTranspose2d(n_in, n_out, 3, 2, 1,
                                          output_padding=s_out - (2 * s_in - 1)))
        if i < len(channels) - 1:
            decoder.append(nn.ReLU())
    decoder.append(nn.Flatten())
    return nn.Sequential(*encoder), nn.Sequential(*decoder)


def _conv_network(n_features):
    return torch_conv_autoencoder(int(round(n_features**0.5)))


#: The plain loop of :func:`fit_plain_torch`, fused Adam, on the conv network.
fit_plain_conv = functools.partial(fit_plain_torch, fused=True, network=_conv_network)


def fit_skautoenc_conv(X, epochs):
    side = int(round(X.shape[1] ** 0.5))
    return fit_skautoenc(X, epochs, encoder="conv", image_shape=(side, side))


def bench_conv(X, epochs, repeats):
    """The conv family's fit against the plain loop of the same network, alternated; and
    the MLP's plain loop beside them, for what a conv step costs against an MLP step
    whoever implements it."""
    fits = {"conv: plain torch loop, fused Adam": fit_plain_conv,
            "conv: skautoenc AutoEncoder(encoder='conv')": fit_skautoenc_conv,
            "mlp: plain torch loop, fused Adam": functools.partial(fit_plain_torch,
                                                                   fused=True)}
    times = {name: [] for name in fits}
    for name in alternated(fits, repeats):
        times[name].append(timed(fits[name], X, epochs)[0])
    reference = "conv: plain torch loop, fused Adam"
    return [
        {"fit": name, "median s": statistics.median(values),
         "samples/s": len(X) * epochs / statistics.median(values),
         "throughput vs torch": statistics.median(times[reference]) / statistics.median(values),
         "vs torch, by rounds": by_rounds(times[reference], values)}
        for name, values in times.items()
    ]


def fit_skautoenc(X, epochs, mixed_precision=False, **network):
    ae = AutoEncoder(
        n_components=CODE,
        hidden_layer_sizes=(HIDDEN,),
        loss="bce",
        learning_rate_init=LR,
        batch_size=BATCH,
        max_iter=epochs,
        n_iter_no_change=epochs + 1,  # run every epoch, as the others do
        early_stopping=False,  # train on every sample and validate nothing, as they do
        learning_rate="constant",
        random_state=0,
        mixed_precision=mixed_precision,
        **network,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return ae.fit(X)


def fit_skorch(X, epochs):
    from skorch import NeuralNetRegressor

    torch.manual_seed(0)
    encoder, decoder = torch_autoencoder(X.shape[1])
    net = NeuralNetRegressor(
        nn.Sequential(encoder, decoder, nn.Sigmoid()),
        optimizer=torch.optim.Adam,
        lr=LR,
        batch_size=BATCH,
        max_epochs=epochs,
        verbose=0,
    )  # otherwise skorch's defaults: MSELoss, DataLoader, ValidSplit(5), default callbacks
    X32 = X.astype(np.float32)
    return net.fit(X32, X32)


def fit_mlp(X, epochs):
    from sklearn.neural_network import MLPRegressor

    mlp = MLPRegressor(
        hidden_layer_sizes=(HIDDEN, CODE, HIDDEN),
        learning_rate_init=LR,
        batch_size=BATCH,
        max_iter=epochs,
        n_iter_no_change=epochs + 1,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return mlp.fit(X, X)


def fit_pyod(X, epochs):
    from pyod.models.auto_encoder import AutoEncoder as PyodAutoEncoder

    model = PyodAutoEncoder(
        hidden_neuron_list=[HIDDEN, CODE, HIDDEN],
        epoch_num=epochs,
        batch_size=BATCH,
        lr=LR,
        verbose=0,
    )
    return model.fit(X)


def contenders():
    return {
        "plain torch loop": fit_plain_torch,
        # skautoenc uses torch's fused Adam: the same loop with it, for a fair reading
        "plain torch loop, fused Adam": functools.partial(fit_plain_torch, fused=True),
        "skautoenc AutoEncoder": fit_skautoenc,
        "skorch NeuralNetRegressor": fit_skorch,
        "sklearn MLPRegressor": fit_mlp,
    }


def timed(fn, *args):
    gc.collect()
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def bench_fit(X, epochs, repeats):
    fits = contenders()
    times = {name: [] for name in fits}
    for name in alternated(fits, repeats):  # every contender once per round
        times[name].append(timed(fits[name], X, epochs)[0])
    # pyod last, on its own: once it is imported (with numba), the other contenders ran
    # up to 20% slower in this process
    if importlib.util.find_spec("pyod") is None:
        print("pyod is not installed: its row is left out")
    else:
        times["pyod AutoEncoder"] = [timed(fit_pyod, X, epochs)[0] for _ in range(repeats)]
    reference = statistics.median(times["plain torch loop"])
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        rows.append(
            {
                "fit": name,
                "median s": median,
                "samples/s": len(X) * epochs / median,
                "throughput vs torch": reference / median,
                # pyod ran after the others, in rounds of its own
                "vs torch, by rounds": None
                if name == "pyod AutoEncoder"
                else by_rounds(times["plain torch loop"], values),
            }
        )
    return rows


def heldout_bce(model, X_test):
    """Mean over held-out images of the cross-entropy summed over pixels."""
    if isinstance(model, AutoEncoder):
        p = model.inverse_transform(model.transform(X_test))
    else:
        encoder, decoder = model
        with torch.no_grad():
            p = torch.sigmoid(decoder(encoder(torch.tensor(X_test, dtype=torch.float32))))
        p = p.numpy()
    p = np.clip(p.astype(np.float64), 1e-7, 1 - 1e-7)
    return float(-(X_test * np.log(p) + (1 - X_test) * np.log(1 - p)).sum(axis=1).mean())


def bench_precision(X, X_test, epochs, repeats, default_max_iter=None):
    """bfloat16 autocast against float32: throughput against the plain float32 loop, in
    alternation, and the held-out loss each reaches after the same epochs; then a
    default ``AutoEncoder(32)`` in float32 against ``mixed_precision="auto"`` (with
    ``default_max_iter`` epochs instead of the default budget, for the smoke test).

    The plain loop with fused Adam under autocast is what skautoenc's
    ``mixed_precision=True`` step does without the library around it: the ceiling of
    its ratio on the machine at hand. Each round times every fit once, the order
    reversed every other round."""
    fits = {
        "plain torch loop, float32": fit_plain_torch,
        "plain torch loop, bfloat16 autocast": functools.partial(fit_plain_torch, bfloat16=True),
        "plain torch loop, fused Adam, float32": functools.partial(fit_plain_torch, fused=True),
        "plain torch loop, fused Adam, bfloat16 autocast": functools.partial(
            fit_plain_torch, fused=True, bfloat16=True
        ),
        "skautoenc, float32": fit_skautoenc,
        "skautoenc, mixed_precision=True": functools.partial(fit_skautoenc, mixed_precision=True),
    }
    times = {name: [] for name in fits}
    losses = {}
    for name in alternated(fits, repeats):
        seconds, model = timed(fits[name], X, epochs)
        times[name].append(seconds)
        losses[name] = heldout_bce(model, X_test)  # the same seed: the same model
    reference = statistics.median(times["plain torch loop, float32"])
    rows = [
        {
            "fit": name,
            "median s": statistics.median(values),
            "throughput vs float32 torch": reference / statistics.median(values),
            "by rounds": by_rounds(times["plain torch loop, float32"], values),
            "held-out loss": losses[name],
        }
        for name, values in times.items()
    ]
    defaults = {"float32 (default)": False, 'mixed_precision="auto"': "auto"}
    default_times = {name: [] for name in defaults}
    default_rows = {}
    for _ in range(2):
        for name, setting in defaults.items():
            budget = {} if default_max_iter is None else {"max_iter": default_max_iter}
            ae = AutoEncoder(n_components=CODE, random_state=0, mixed_precision=setting, **budget)
            seconds, _ = timed(ae.fit, X)
            default_times[name].append(seconds)
            default_rows[name] = {
                "default fit, 32 codes": name,
                "bfloat16 used": bool(ae.net_.mixed_precision),
                "epochs": ae.n_iter_,
                "held-out error": float(
                    ((ae.inverse_transform(ae.transform(X_test)) - X_test) ** 2).sum(1).mean()
                ),
            }
    float32_time = statistics.median(default_times["float32 (default)"])
    for name, row in default_rows.items():
        row["median s"] = statistics.median(default_times[name])
        row["speed-up"] = float32_time / row["median s"]
    return rows, list(default_rows.values())


def _product_seconds(dtype, repeats=200):
    """Seconds of the matrix products of one training step of the reference network at
    batch ``BATCH`` (forward; the weights' and the inputs' gradients in backward), each
    product timed alone in ``dtype``."""
    sizes = [(784, HIDDEN), (HIDDEN, CODE), (CODE, HIDDEN), (HIDDEN, 784)]
    total = 0.0
    for i, (n_in, n_out) in enumerate(sizes):
        x = torch.rand(BATCH, n_in, dtype=dtype)
        w = torch.rand(n_out, n_in, dtype=dtype)
        g = torch.rand(BATCH, n_out, dtype=dtype)
        products = [(x, w.t()), (g.t(), x)]  # the output; the weights' gradient
        if i > 0:  # the inputs' gradient; the first layer needs none
            products.append((g, w))
        for a, b in products:
            for _ in range(10):
                a @ b
            start = time.perf_counter()
            for _ in range(repeats):
                a @ b
            total += (time.perf_counter() - start) / repeats
    return total


def step_phases(X, steps=200, repeats=3):
    """Where a step of the plain loop goes, in float32 and under bfloat16 autocast: the
    forward pass, the loss, the backward pass and the optimiser step, in milliseconds,
    timed step by step in alternation; then the products' share of the float32 step and
    the most that faster products alone can give (Amdahl's bound)."""
    X_t = torch.tensor(X[: steps * BATCH], dtype=torch.float32)
    n_steps = len(X_t) // BATCH
    warm_up = min(10, n_steps // 2)  # steps left out of the timing
    loss_fn = nn.BCEWithLogitsLoss(reduction="none")
    phases = {False: [], True: []}
    for _ in range(repeats):
        for bfloat16 in phases:
            torch.manual_seed(0)
            encoder, decoder = torch_autoencoder(X.shape[1])
            params = [*encoder.parameters(), *decoder.parameters()]
            optimizer = torch.optim.Adam(params, lr=LR, fused=True)
            totals = np.zeros(4)
            for i, start in enumerate(range(0, n_steps * BATCH, BATCH)):
                t0 = time.perf_counter()
                batch = X_t[start : start + BATCH]
                optimizer.zero_grad()
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
                    logits = decoder(encoder(batch))
                t1 = time.perf_counter()
                loss = loss_fn(logits.float(), batch).sum(dim=1).mean()
                t2 = time.perf_counter()
                loss.backward()
                t3 = time.perf_counter()
                optimizer.step()
                if i >= warm_up:
                    totals += [t1 - t0, t2 - t1, t3 - t2, time.perf_counter() - t3]
            phases[bfloat16].append(totals * 1e3 / (n_steps - warm_up))
    rows = []
    for bfloat16, values in phases.items():
        ms = np.median(values, axis=0)
        rows.append(
            {
                "plain loop step": "bfloat16 autocast" if bfloat16 else "float32",
                **dict(zip(["forward ms", "loss ms", "backward ms", "optimiser ms"], ms.tolist())),
                "step ms": float(ms.sum()),
            }
        )
    products = {dtype: _product_seconds(dtype) * 1e3 for dtype in (torch.float32, torch.bfloat16)}
    share = float(products[torch.float32] / rows[0]["step ms"])
    speedup = products[torch.float32] / products[torch.bfloat16]
    summary = {
        "float32 products ms": products[torch.float32],
        "bfloat16 products ms": products[torch.bfloat16],
        "products' share of the float32 step": share,
        "products' speed-up": speedup,
        "bound on the step's speed-up": 1 / ((1 - share) + share / speedup),
    }
    return rows, summary


def bench_compile(X, X_test, epochs):
    """The plain loop (fused Adam) eager against ``torch.compile`` of its forward pass,
    loss and backward pass, in float32 and under bfloat16 autocast where the CPU has
    bfloat16 instructions. The contenders train one epoch each in turn, so that the
    machine's drift reaches them alike; the first epoch (which compiles) is reported
    apart from the median of the others."""
    X_t = torch.tensor(X, dtype=torch.float32)
    loss_fn = nn.BCEWithLogitsLoss(reduction="none")

    def contender(bfloat16, compiled):
        torch.manual_seed(0)
        encoder, decoder = torch_autoencoder(X.shape[1])
        params = [*encoder.parameters(), *decoder.parameters()]
        optimizer = torch.optim.Adam(params, lr=LR, fused=True)

        def forward_backward(batch):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
                logits = decoder(encoder(batch))
            loss_fn(logits.float(), batch).sum(dim=1).mean().backward()

        step = torch.compile(forward_backward) if compiled else forward_backward
        generator = torch.Generator().manual_seed(0)  # the same batches for every contender
        return {"model": (encoder, decoder), "optimizer": optimizer, "step": step,
                "generator": generator, "epochs": []}

    precisions = [False, True] if fast_bfloat16("cpu") else [False]
    contenders = {
        f"{'bfloat16 autocast' if bfloat16 else 'float32'}, {'compiled' if compiled else 'eager'}":
        contender(bfloat16, compiled)
        for bfloat16 in precisions
        for compiled in (False, True)
    }
    for _ in range(epochs):
        for c in contenders.values():
            order = torch.randperm(len(X_t), generator=c["generator"])
            start = time.perf_counter()
            for first in range(0, len(X_t), BATCH):
                c["optimizer"].zero_grad()
                c["step"](X_t[order[first : first + BATCH]])
                c["optimizer"].step()
            c["epochs"].append(time.perf_counter() - start)
    reference = statistics.median(contenders["float32, eager"]["epochs"][1:] or [np.nan])
    rows = []
    for name, c in contenders.items():
        later = statistics.median(c["epochs"][1:] or [np.nan])
        rows.append(
            {
                "plain loop, fused Adam": name,
                "first epoch s": c["epochs"][0],
                "later epochs s": later,
                "speed vs float32 eager": reference / later,
                "held-out loss": heldout_bce(c["model"], X_test),
            }
        )
    return rows


def plain_encode(encoder, X):
    with torch.no_grad():
        return encoder(torch.tensor(X, dtype=torch.float32)).numpy()


def bench_transform(X, repeats):
    """Time ``transform`` against a plain ``no_grad`` pass of the same encoder.

    A fresh pair of models for each repeat, timed 3 times each in alternation: on this
    virtual machine the time of the same products varies by up to 20% from one set of
    tensors to another (with where they sit in memory), for plain torch and skautoenc
    alike, so the medians are taken over several pairs.
    """
    times = {"plain torch no_grad encoder": [], "skautoenc transform": []}
    for _ in range(repeats):
        ae = fit_skautoenc(X, 1)
        encoder_plain = torch_autoencoder(X.shape[1])[0]
        encoder_plain.load_state_dict(ae.net_.module_.encoder.layers.state_dict())
        encoder_plain.eval()

        for _ in range(3):
            times["plain torch no_grad encoder"].append(timed(plain_encode, encoder_plain, X)[0])
            times["skautoenc transform"].append(timed(ae.transform, X)[0])
    reference = statistics.median(times["plain torch no_grad encoder"])
    return [
        {
            "transform": name,
            "median s": statistics.median(v),
            "samples/s": len(X) / statistics.median(v),
            "throughput vs torch": reference / statistics.median(v),
        }
        for name, v in times.items()
    ]


def memory_probe(kind, data, n_train, epochs, factor):
    """Run in a fresh process: the extra peak RSS of one ``fit`` or ``transform``."""
    X = load_dataset(data, n_train=n_train)[0]
    X = np.tile(X, (factor, 1))
    # warm up torch's kernels and allocator with the same kind of call only: memory that
    # a warm-up of the other kind frees could be reused and hide part of the measurement
    ae = fit_skautoenc(X[:256], 1)
    if kind == "transform":
        ae.transform(X[:256])
    with PeakRSS() as peak:
        if kind == "fit":
            fit_skautoenc(X, epochs)
        else:
            ae.transform(X)
    print(json.dumps({"extra": peak.extra, "n_rows": len(X), "x_bytes": X.nbytes}))


def bench_memory(args):
    """Each measurement in a fresh process, so freed memory of earlier steps cannot hide it."""
    import subprocess
    import sys

    rows = []
    for kind, factor in (("fit", 1), ("transform", 1), ("transform", 4)):
        command = [sys.executable, __file__, "--memory-probe", kind, "--factor", str(factor)]
        command += ["--epochs", str(args.epochs), "--n-train", str(args.n_train)]
        command += ["--data", args.data] if args.data else []
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        probe = json.loads(out.strip().splitlines()[-1])
        row = {
            "memory": f"{kind} ({probe['n_rows']} rows)",
            "extra peak MiB": _mib(probe["extra"]),
            "X float64 MiB": _mib(probe["x_bytes"]),
        }
        row["ratio to X"] = row["extra peak MiB"] / row["X float64 MiB"]
        if kind == "transform":
            row["output MiB"] = _mib(probe["n_rows"] * CODE * 8)
        rows.append(row)
    return rows


def _mib(n_bytes):
    return float("nan") if n_bytes is None else n_bytes / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with the MNIST idx files (default: digits)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=8000)
    parser.add_argument(
        "--precision",
        action="store_true",
        help="also bfloat16 against float32 (CPUs with bfloat16 units only)",
    )
    parser.add_argument("--precision-max-iter", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--compile", action="store_true", help="also the plain loop under torch.compile"
    )
    parser.add_argument("--conv", action="store_true",
                        help="also the conv family against a plain loop of its network")
    parser.add_argument("--skip-mlp", action="store_true",
                        help="leave out the MLP's fit, transform and memory tables")
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--memory-probe", choices=["fit", "transform"], help=argparse.SUPPRESS)
    parser.add_argument("--factor", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        return memory_probe(args.memory_probe, args.data, args.n_train, args.epochs, args.factor)

    X, X_test, _, _, name = load_dataset(args.data, n_train=args.n_train)
    print(f"data: {name}, X {X.shape}; epochs {args.epochs}; repeats {args.repeats}")
    precision_rows = default_precision_rows = phase_rows = phase_summary = None
    if args.precision:
        if not fast_bfloat16("cpu"):
            print("--precision: this CPU has no bfloat16 matrix instructions; skipped")
        else:
            precision_rows, default_precision_rows = bench_precision(
                X, X_test, args.epochs, args.repeats, args.precision_max_iter
            )
            print(format_table(precision_rows), end="\n\n")
            print(format_table(default_precision_rows), end="\n\n")
            phase_rows, phase_summary = step_phases(X)
            print(format_table(phase_rows))
            print(", ".join(f"{k}: {v:.3g}" for k, v in phase_summary.items()), end="\n\n")
    compile_rows = None
    if args.compile:
        compile_rows = bench_compile(X, X_test, max(args.epochs, 2))
        print(format_table(compile_rows), end="\n\n")
    conv_rows = None
    if args.conv:
        conv_rows = bench_conv(X, args.epochs, args.repeats)
        print(format_table(conv_rows), end="\n\n")
    fit_rows = transform_rows = memory_rows = None
    if not args.skip_mlp:
        transform_rows = bench_transform(X, args.repeats)  # first: pyod runs last in fit
        fit_rows = bench_fit(X, args.epochs, args.repeats)
        print(format_table(fit_rows), end="\n\n")
        print(format_table(transform_rows), end="\n\n")
        memory_rows = bench_memory(args)
        print(format_table([{k: r.get(k, float("nan")) for k in memory_rows[-1]}
                            for r in memory_rows]))
    write_json(
        args.out,
        {
            "machine": machine(),
            "data": name,
            "shape": list(X.shape),
            "epochs": args.epochs,
            "fit": fit_rows,
            "transform": transform_rows,
            "memory": memory_rows,
            "precision": precision_rows,
            "precision_defaults": default_precision_rows,
            "step_phases": phase_rows,
            "step_products": phase_summary,
            "compile": compile_rows,
            "conv": conv_rows,
        },
    )


if __name__ == "__main__":
    main()
