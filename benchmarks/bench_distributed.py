"""Data-parallel training: does it train the same model, and what does a step cost?

Two parts, both with 2 gloo processes on this machine (the most it has cores for):

- ``agreement``: ``AutoEncoder(32)`` on the MNIST 8,000 / 2,000 split (``--data``; digits
  without it), ``--epochs`` epochs at the global batch ``--batch-size``, no early stopping,
  trained by one process (2 threads), by ``torchrun --standalone --nproc_per_node=2``,
  by ``skautoenc.distributed.fit(n_workers=2)`` and on a ``dask.distributed.LocalCluster``
  of 2 workers. Reported: the held-out mean squared reconstruction error of each and its
  ratio to the single process's, whether the torchrun ranks end with identical weights,
  and the wall time (process start-up included for the launchers).
- ``costs``: inside a 2-process ``torchrun`` job, the time of one training step's compute
  (forward, backward and Adam step of a 784-h-32-h-784 network on 1 thread) for several
  widths ``h`` and rows per process, and of one ``all_reduce`` of as many float32 numbers
  as the network has parameters, each the median of ``--repeats`` timings.

``summarize`` turns the costs into the scaling model of the user guide's "Scaling out":
``t_step(W) = t_compute(B / W) + t_allreduce(P, W)``, with the compute a fitted line in
the rows and a ring all-reduce ``2 (W - 1) latency + 2 (W - 1) / W * 4 P / bandwidth`` on
the links named there.

    python benchmarks/bench_distributed.py --data ../shared/data/mnist \\
        --out benchmarks/recorded/distributed.json
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from _data import load_dataset, machine, write_json

HERE = Path(__file__).resolve().parent

#: Links of the scaling model: (name, bytes per second, latency in seconds). Nominal
#: figures of the standards, not measurements: 1 and 10 Gb/s Ethernet with a typical
#: TCP round trip within a rack.
LINKS = [("1 Gb/s", 125e6, 50e-6), ("10 Gb/s", 1.25e9, 20e-6)]
WORKERS = [1, 2, 4, 8, 16]


def _model(n_components, epochs, batch_size):
    from skautoenc import AutoEncoder

    return AutoEncoder(n_components, max_iter=epochs, batch_size=batch_size,
                       early_stopping=False, random_state=0)


def _held_out_error(model, X_test):
    return float(-model.score(X_test))


def _torchrun(arguments):
    """Run this script under ``torchrun --standalone --nproc_per_node=2``; fail with the
    job's stderr."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node=2", __file__, *arguments]
    result = subprocess.run(command, capture_output=True, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    if result.returncode:
        raise RuntimeError(f"torchrun failed:\n{result.stderr[-3000:]}")


def agreement_worker(args):
    """Run by torchrun: fit on every rank, rank 0 writes the result."""
    import torch
    import torch.distributed as dist

    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    X_train, X_test, *_ = load_dataset(args.data)
    start = time.perf_counter()
    model = _model(args.n_components, args.epochs, args.batch_size).fit(X_train)
    seconds = time.perf_counter() - start
    flat = torch.cat([t.reshape(-1) for t in model.net_.module_.state_dict().values()])
    everyone = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, flat)
    if dist.get_rank() == 0:
        Path(args.worker_out).write_text(json.dumps({
            "fit_seconds": seconds,
            "error": _held_out_error(model, X_test),
            "same_weights": all(torch.equal(flat, w) for w in everyone),
            "allreduce_seconds": float(sum(model.net_.history[:, "allreduce_dur"])),
        }))


def agreement(args):
    import torch
    from distributed import Client, LocalCluster

    from skautoenc import distributed

    warnings.simplefilter("ignore")
    X_train, X_test, *_ = load_dataset(args.data)
    X_train = X_train.astype(np.float32)
    rows = []

    def measured(fit):
        """The held-out error of the model ``fit()`` returns, and the seconds from the
        call to the error (as the torchrun workers time it)."""
        start = time.perf_counter()
        model = fit(_model(args.n_components, args.epochs, args.batch_size))
        return {"error": _held_out_error(model, X_test),
                "wall_seconds": time.perf_counter() - start}

    def single():
        torch.set_num_threads(2)
        return measured(lambda model: model.fit(X_train))

    def torchrun():
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "rank0.json"
            arguments = ["--worker", "agreement", "--worker-out", str(out), "--epochs",
                         str(args.epochs), "--batch-size", str(args.batch_size),
                         "--n-components", str(args.n_components)]
            if args.data:
                arguments += ["--data", args.data]
            start = time.perf_counter()
            _torchrun(arguments)
            result = json.loads(out.read_text())
            result["wall_seconds"] = time.perf_counter() - start
            return result

    def launcher():
        torch.set_num_threads(2)  # one thread for each of the 2 processes
        return measured(lambda model: distributed.fit(model, X_train, n_workers=2))

    def dask():
        with (LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
              as cluster, Client(cluster) as client):
            return measured(lambda model: distributed.fit(model, X_train, client=client))

    for name, run in [("1 process, 2 threads", single), ("torchrun, 2 processes", torchrun),
                      ("distributed.fit, 2 processes", launcher),
                      ("Dask LocalCluster, 2 workers", dask)]:
        result = run()
        rows.append({"how": name, **result})
        print(rows[-1], flush=True)
    reference = rows[0]["error"]
    for row in rows:
        row["error_ratio"] = row["error"] / reference
    return rows


def costs_worker(args):
    """Run by torchrun: step compute and all_reduce times, rank 0 writes them."""
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    results = []
    for width in args.widths:
        net = torch.nn.Sequential(
            torch.nn.Linear(784, width), torch.nn.ReLU(), torch.nn.Linear(width, 32),
            torch.nn.Linear(32, width), torch.nn.ReLU(), torch.nn.Linear(width, 784))
        optimizer = torch.optim.Adam(net.parameters(), fused=True)
        n_params = sum(p.numel() for p in net.parameters())
        for rows in args.rows:
            x = torch.rand(rows, 784)
            timings = []
            for i in range(args.repeats + 2):
                dist.barrier()
                start = time.perf_counter()
                optimizer.zero_grad()
                ((net(x) - x) ** 2).sum(dim=1).mean().backward()
                optimizer.step()
                if i >= 2:
                    timings.append(time.perf_counter() - start)
            results.append({"width": width, "params": n_params, "rows": rows,
                            "compute_seconds": statistics.median(timings)})
        buffer = torch.zeros(n_params)
        timings = []
        for i in range(args.repeats + 2):
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(buffer)
            if i >= 2:
                timings.append(time.perf_counter() - start)
        results.append({"width": width, "params": n_params, "rows": 0,
                        "allreduce_seconds": statistics.median(timings)})
    if rank == 0:
        Path(args.worker_out).write_text(json.dumps(results))
    dist.barrier()
    dist.destroy_process_group()
    # Leave without the interpreter's teardown: with two jobs on the machine at once, a
    # worker here has aborted in it ("terminate called without an active exception"),
    # after its results were written, failing the run.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def costs(args):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "costs.json"
        _torchrun(["--worker", "costs", "--worker-out", str(out), "--repeats",
                   str(args.repeats), "--widths", *map(str, args.widths), "--rows",
                   *map(str, args.rows)])
        return json.loads(out.read_text())


def summarize(payload, batch_sizes=(256, 4096)):
    """The scaling model from the measured costs: per network width, the fitted compute
    line and loopback all-reduce, and the predicted rows per second for 1 to 16 workers at
    each global batch on each link, with the smallest batch at which 2 workers pay."""
    model = []
    measured = payload["costs"]
    for width in sorted({r["width"] for r in measured}):
        steps = [r for r in measured if r["width"] == width and "compute_seconds" in r]
        [reduce] = [r for r in measured if r["width"] == width and "allreduce_seconds" in r]
        rows = np.array([r["rows"] for r in steps], float)
        seconds = np.array([r["compute_seconds"] for r in steps])
        slope, intercept = np.polyfit(rows, seconds, 1)
        n_params = reduce["params"]

        def compute(b, slope=slope, intercept=intercept):
            return max(intercept, 0.0) + slope * b

        entry = {"width": width, "params": n_params, "seconds_per_row": slope,
                 "seconds_per_step": max(intercept, 0.0),
                 "loopback_allreduce_seconds": reduce["allreduce_seconds"],
                 "predictions": []}
        for link, bandwidth, latency in LINKS:
            for batch in batch_sizes:
                speeds = {}
                for w in WORKERS:
                    comm = 0.0 if w == 1 else (2 * (w - 1) * latency
                                               + 2 * (w - 1) / w * 4 * n_params / bandwidth)
                    speeds[w] = batch / (compute(batch / w) + comm)
                entry["predictions"].append({"link": link, "batch": batch,
                                             "rows_per_second": speeds})
            # the smallest global batch at which 2 workers beat 1 on this link
            comm2 = 2 * latency + 4 * n_params / bandwidth
            # b / (c(b/2) + comm) > b / c(b)  <=>  slope * b / 2 > comm
            entry[f"pays_from_batch_{link}"] = 2 * comm2 / slope if slope > 0 else None
        model.append(entry)
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="folder of the MNIST idx files")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--n-components", type=int, default=32)
    parser.add_argument("--widths", type=int, nargs="+", default=[16, 64, 256, 1024, 2048])
    parser.add_argument("--rows", type=int, nargs="+", default=[32, 128, 512, 2048])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--only", nargs="+", choices=["agreement", "costs"],
                        default=["agreement", "costs"])
    parser.add_argument("--out", default=str(HERE / "results" / "distributed.json"))
    parser.add_argument("--worker", choices=["agreement", "costs"], help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker == "agreement":
        return agreement_worker(args)
    if args.worker == "costs":
        return costs_worker(args)
    payload = {"machine": machine(), "data": "mnist" if args.data else "digits",
               "settings": {k: getattr(args, k) for k in
                            ("epochs", "batch_size", "n_components", "widths", "rows",
                             "repeats")}}
    if "agreement" in args.only:
        payload["agreement"] = agreement(args)
    if "costs" in args.only:
        payload["costs"] = costs(args)
        payload["model"] = summarize(payload)
    write_json(args.out, payload)


if __name__ == "__main__":
    main()
