"""Does ``AutoEncoder`` train on data larger than memory? Sparse, memory-mapped, chunked.

(a) sparse: a 50,000 x 20,000 CSR matrix at 0.1% density, values in [0, 1], fitted for
    one epoch; the extra peak memory of the fit against the matrix's dense float64 size
    (7.45 GiB), which a fit that densified the whole matrix would need at least;
(b) memmap: the same dense float32 matrix (250,000 x 784) fitted from a ``numpy.memmap``
    and from memory: the data resident before the fit, the extra peak memory of the fit,
    and its time;
(c) chunks: ``partial_fit`` over chunks of a 50,000 x 784 array (and ``dask-ml``'s
    ``Incremental`` over a chunked ``dask.array``, when installed) against one ``fit``
    epoch over the whole array: throughput and the overhead of each call.

The model is small (n_features-64-16-64-n_features, the default batch of 128, one epoch):
memory is about the data path, not the network. Each memory measurement runs in a fresh
process, so that memory freed by an earlier step cannot hide growth. "extra peak RSS" is
the growth of the resident set's high-water mark (it includes the pages of a memory-mapped
file, which the kernel can drop at any time); "extra peak anon" is the sampled growth of
the memory the process allocates for itself.

    python benchmarks/bench_scale.py --threads 1 --out results/scale.json
    python benchmarks/bench_scale.py --tiny      # a seconds-long smoke run of every step
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from _data import PeakAnon, PeakRSS, format_table, machine, write_json
from sklearn.exceptions import ConvergenceWarning

from skautoenc import AutoEncoder

SETTINGS = {
    "full": {
        "sparse": {"n_samples": 50_000, "n_features": 20_000, "density": 0.001},
        "memmap": {"n_samples": 250_000, "n_features": 784},
        "chunks": {"n_samples": 50_000, "n_features": 784, "chunk_rows": [500, 5_000, 25_000]},
    },
    "tiny": {
        "sparse": {"n_samples": 2_000, "n_features": 1_000, "density": 0.01},
        "memmap": {"n_samples": 4_000, "n_features": 64},
        "chunks": {"n_samples": 2_000, "n_features": 64, "chunk_rows": [500]},
    },
}

#: Rows written to (and generated for) the memory-mapped file at a time.
WRITE_ROWS = 25_000


def make_model(epochs=1):
    """The benchmarked model: small, so that the data path dominates memory."""
    return AutoEncoder(
        n_components=16,
        hidden_layer_sizes=(64,),
        max_iter=epochs,
        n_iter_no_change=epochs + 1,  # run every epoch
        random_state=0,
    )


def fit(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X)


def sparse_matrix(n_samples, n_features, density, seed=0):
    """A CSR matrix with ``density * n_samples * n_features`` values uniform in [0, 1)."""
    rng = np.random.default_rng(seed)
    try:
        return sp.random(n_samples, n_features, density=density, format="csr", rng=rng)
    except TypeError:  # scipy < 1.15 calls it random_state
        return sp.random(n_samples, n_features, density=density, format="csr", random_state=rng)


def low_rank_rows(start, stop, n_features, seed=0):
    """Rows ``start:stop`` of a dataset in (0, 1) with 16 latent factors, as float32.

    Each block of :data:`WRITE_ROWS` rows has its own generator, so the rows are the same
    whether the data is made at once or block by block.
    """
    factors = np.random.default_rng(seed).normal(size=(16, n_features)) / 4
    blocks = []
    for block in range(start // WRITE_ROWS, -(-stop // WRITE_ROWS)):
        rng = np.random.default_rng([seed, block])
        rows = rng.normal(size=(WRITE_ROWS, 16)) @ factors
        lo, hi = block * WRITE_ROWS, (block + 1) * WRITE_ROWS
        blocks.append(rows[max(start, lo) - lo : min(stop, hi) - lo])
    rows = np.concatenate(blocks)
    return (1 / (1 + np.exp(-rows))).astype(np.float32)


def write_memmap(path, n_samples, n_features):
    """Write the low-rank dataset to ``path`` block by block, never whole in memory."""
    out = np.memmap(path, dtype=np.float32, mode="w+", shape=(n_samples, n_features))
    for start in range(0, n_samples, WRITE_ROWS):
        stop = min(start + WRITE_ROWS, n_samples)
        out[start:stop] = low_rank_rows(start, stop, n_features)
    out.flush()
    del out


# ------------------------------------------------------------------ memory probes
def measured_fit(X, n_features):
    """Fit once on a little in-memory data (torch's allocator and kernels warm up, no
    page of X is read), then measure a one-epoch fit on ``X``."""
    fit(make_model(), low_rank_rows(0, 256, n_features))
    model = make_model()
    with PeakRSS() as rss, PeakAnon() as anon:
        start = time.perf_counter()
        fit(model, X)
        seconds = time.perf_counter() - start
    return {"extra_rss": rss.extra, "extra_anon": anon.extra, "seconds": seconds}


def probe(name, settings, path):
    """One memory measurement; run in a fresh process. Prints one JSON line."""
    if name == "sparse":
        s = settings["sparse"]
        X = sparse_matrix(s["n_samples"], s["n_features"], s["density"])
        result = measured_fit(X, s["n_features"])
        result["nnz"] = int(X.nnz)
        result["csr_bytes"] = int(X.data.nbytes + X.indices.nbytes + X.indptr.nbytes)
        result["dense_bytes"] = s["n_samples"] * s["n_features"] * 8
    else:
        s = settings["memmap"]
        shape = (s["n_samples"], s["n_features"])
        if name == "memmap":
            X = np.memmap(path, dtype=np.float32, mode="r", shape=shape)
            resident = 0
        else:
            X = np.fromfile(path, dtype=np.float32).reshape(shape)
            resident = X.nbytes
        result = measured_fit(X, s["n_features"])
        result["data_bytes"] = int(np.prod(shape)) * 4
        result["resident_bytes"] = resident
    print(json.dumps({"probe": name, **result}))


def run_probes(names, args, path):
    """Each probe in a fresh process (all in one process with ``--tiny``, to stay quick)."""
    groups = [names] if args.tiny else [[name] for name in names]
    results = {}
    for group in groups:
        command = [sys.executable, __file__, "--probe", ",".join(group), "--memmap-path", path]
        command += ["--tiny"] if args.tiny else []
        command += ["--threads", str(args.threads)] if args.threads else []
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"probe {group} failed:\n{done.stderr}")
        for line in done.stdout.splitlines():
            if line.startswith("{"):
                row = json.loads(line)
                results[row.pop("probe")] = row
    return results


def _mib(n_bytes):
    return float("nan") if n_bytes is None else n_bytes / 2**20


def sparse_rows(settings, result):
    s = settings["sparse"]
    return [
        {
            "sparse fit": f"{s['n_samples']} x {s['n_features']} CSR, density {s['density']}",
            "nnz": result["nnz"],
            "CSR MiB": _mib(result["csr_bytes"]),
            "dense float64 MiB": _mib(result["dense_bytes"]),
            "extra peak RSS MiB": _mib(result["extra_rss"]),
            "extra peak anon MiB": _mib(result["extra_anon"]),
            "RSS / dense": _ratio(result["extra_rss"], result["dense_bytes"]),
            "fit s": result["seconds"],
        }
    ]


def memmap_rows(settings, results):
    s = settings["memmap"]
    rows = []
    for name, label in (("memory", "in-memory ndarray"), ("memmap", "numpy.memmap")):
        r = results[name]
        rows.append(
            {
                f"dense fit ({s['n_samples']} x {s['n_features']} float32)": label,
                "data MiB": _mib(r["data_bytes"]),
                "resident before fit MiB": _mib(r["resident_bytes"]),
                "extra peak RSS MiB": _mib(r["extra_rss"]),
                "extra peak anon MiB": _mib(r["extra_anon"]),
                "fit s": r["seconds"],
                "samples/s": s["n_samples"] / r["seconds"],
            }
        )
    return rows


def _ratio(a, b):
    return float("nan") if a is None else a / b


# ------------------------------------------------------------------ chunked training
def partial_fit_chunks(X, chunk_rows):
    model = make_model()
    for start in range(0, len(X), chunk_rows):
        model.partial_fit(X[start : start + chunk_rows])
    return model


def incremental_chunks(X, chunk_rows):
    import dask
    import dask.array as da
    from dask_ml.wrappers import Incremental

    X_dask = da.from_array(X, chunks=(chunk_rows, X.shape[1]))
    with dask.config.set(scheduler="sync"):
        return Incremental(make_model(), shuffle_blocks=False).fit(X_dask)


def chunk_rows_table(settings, repeats):
    s = settings["chunks"]
    X = low_rank_rows(0, s["n_samples"], s["n_features"])
    fit(make_model(), X[:256])  # warm-up
    contenders = {("fit (one epoch)", len(X)): lambda: fit(make_model(), X)}
    for rows in s["chunk_rows"]:
        contenders[("partial_fit loop", rows)] = lambda rows=rows: partial_fit_chunks(X, rows)
    try:
        import dask_ml  # noqa: F401

        rows = max(s["chunk_rows"])
        contenders[("dask-ml Incremental", rows)] = lambda: incremental_chunks(X, rows)
    except ImportError:
        print("dask-ml is not installed: its row is left out")
    times = {key: [] for key in contenders}
    for _ in range(repeats):  # alternate: every contender once per round
        for key, run in contenders.items():
            start = time.perf_counter()
            run()
            times[key].append(time.perf_counter() - start)
    reference = statistics.median(times[("fit (one epoch)", len(X))])
    table = []
    for (method, rows), values in times.items():
        median = statistics.median(values)
        calls = -(-len(X) // rows)
        table.append(
            {
                f"one epoch over {len(X)} x {X.shape[1]}": method,
                "chunk rows": rows,
                "calls": calls,
                "median s": median,
                "samples/s": len(X) / median,
                "throughput vs fit": reference / median,
                "overhead ms / call": (median - reference) / calls * 1000 if calls > 1 else 0.0,
            }
        )
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of the chunk timing")
    parser.add_argument(
        "--threads",
        type=int,
        help="torch threads (default: torch's choice); 1 gives steadier times on a busy machine",
    )
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--memmap-path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    settings = SETTINGS["tiny" if args.tiny else "full"]
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.probe:
        for name in args.probe.split(","):
            probe(name, settings, args.memmap_path)
        return

    with tempfile.TemporaryDirectory(prefix="bench_scale_") as folder:
        path = str(Path(folder) / "X.f32")
        s = settings["memmap"]
        write_memmap(path, s["n_samples"], s["n_features"])
        results = run_probes(["sparse", "memory", "memmap"], args, path)
    sparse = sparse_rows(settings, results["sparse"])
    print(format_table(sparse), end="\n\n")
    memmap = memmap_rows(settings, results)
    print(format_table(memmap), end="\n\n")
    chunks = chunk_rows_table(settings, 1 if args.tiny else args.repeats)
    print(format_table(chunks))
    write_json(
        args.out,
        {
            "machine": machine(),
            "data": "generated (sparse uniform values; dense low-rank rows)",
            "settings": settings,
            "sparse": sparse,
            "memmap": memmap,
            "chunks": chunks,
        },
    )


if __name__ == "__main__":
    main()
