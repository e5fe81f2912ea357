"""Does a default fit survive a busy machine? (issue: threads on a busy machine)

Times one default ``AutoEncoder`` fit (digits scaled to [0, 1], or the MNIST training
split with ``--data``) for each ``n_jobs`` setting in ``--n-jobs``, on an otherwise idle
machine and next to each competing CPU-bound process:

- ``torch loop``: a plain torch training loop of a 784-256-784 network on torch's default
  threads (one per core), as another notebook or script would run it;
- ``skautoenc fit``: another process fitting default ``AutoEncoder`` models on digits
  one after another.

The competitor starts first and runs until the timed fit ends; every measurement is one
fit in this process (after a short warm-up fit for each setting), one after another, so
the contenders never compete with each other. ``n_jobs="auto"`` is the default; ``-1``
(all the cores, fixed) is what earlier versions did, leaving torch at its default of one
thread per core. Reported: fit seconds (idle: the median of ``--repeats`` fits per
setting, in alternation) and the ratio to the same setting's idle time.

    python benchmarks/bench_threads.py --out results/threads.json
"""

import argparse
import statistics
import subprocess
import sys
import time
import warnings

from _data import format_table, load_dataset, machine, write_json
from sklearn.exceptions import ConvergenceWarning

from skautoenc import AutoEncoder

COMPETITORS = {
    "torch loop": """
import torch
net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 784))
opt = torch.optim.Adam(net.parameters())
x = torch.rand(128, 784)
print("ready", flush=True)
while True:
    opt.zero_grad()
    ((net(x) - x) ** 2).mean().backward()
    opt.step()
""",
    "skautoenc fit": """
import warnings
from sklearn.datasets import load_digits
from skautoenc import AutoEncoder
X = load_digits().data / 16
print("ready", flush=True)
warnings.simplefilter("ignore")
while True:
    AutoEncoder(random_state=0, max_iter={max_iter}).fit(X)
""",
}


def start_competitor(name, max_iter):
    """Start the competing process; return it once it computes."""
    code = COMPETITORS[name].replace("{max_iter}", repr(max_iter))
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    process.stdout.readline()  # "ready": imports done
    time.sleep(1.0)  # and it is computing
    return process


def timed_fit(X, n_jobs, max_iter, n_components):
    model = AutoEncoder(n_components=n_components, max_iter=max_iter, n_jobs=n_jobs,
                        random_state=0)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    return time.perf_counter() - start, model.n_iter_


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with the MNIST idx files (default: digits)")
    parser.add_argument("--n-jobs", nargs="+", default=["auto", "1", "-1"],
                        help="n_jobs settings to time (auto, None or integers)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="idle fits per setting (median reported)")
    parser.add_argument("--competitors", nargs="*", default=list(COMPETITORS),
                        choices=list(COMPETITORS))
    parser.add_argument("--max-iter", default="auto",
                        help="the timed fit's max_iter (default: the estimator's default)")
    parser.add_argument("--n-components", type=int, default=None,
                        help="the timed fit's n_components (default: the estimator's)")
    parser.add_argument("--out", help="write the results as JSON to this file")
    args = parser.parse_args()

    max_iter = args.max_iter if args.max_iter == "auto" else int(args.max_iter)
    n_components = args.n_components or AutoEncoder().n_components
    X, _, _, _, name = load_dataset(args.data)
    settings = [v if v == "auto" else None if v == "None" else int(v) for v in args.n_jobs]
    for n_jobs in settings:  # warm-up: the first fit of a process pays one-time costs
        timed_fit(X[:256], n_jobs, 1, n_components)
    rows, idle = [], {}
    # idle: --repeats fits per setting, in alternation, and their median
    times = {n_jobs: [] for n_jobs in settings}
    for _ in range(args.repeats):
        for n_jobs in settings:
            seconds, epochs = timed_fit(X, n_jobs, max_iter, n_components)
            times[n_jobs].append(seconds)
    for n_jobs in settings:
        idle[n_jobs] = statistics.median(times[n_jobs])
        rows.append({"n_jobs": repr(n_jobs), "next to": "idle", "epochs": epochs,
                     "fit s": idle[n_jobs], "x idle": 1.0,
                     "runs": [round(t, 3) for t in times[n_jobs]]})
        print(format_table([{k: v for k, v in rows[-1].items() if k != "runs"}]), flush=True)
    for condition in args.competitors:
        for n_jobs in settings:
            competitor = start_competitor(condition, max_iter)
            try:
                seconds, epochs = timed_fit(X, n_jobs, max_iter, n_components)
            finally:
                competitor.kill()
                competitor.wait()
            rows.append({
                "n_jobs": repr(n_jobs), "next to": condition, "epochs": epochs,
                "fit s": seconds, "x idle": seconds / idle[n_jobs], "runs": [round(seconds, 3)],
            })
            print(format_table([{k: v for k, v in rows[-1].items() if k != "runs"}]), flush=True)
    print()
    print(format_table([{k: v for k, v in row.items() if k != "runs"} for row in rows]))
    write_json(args.out, {
        "machine": machine(), "data": name, "n_samples": len(X),
        "max_iter": max_iter, "n_components": n_components, "results": rows,
    })


if __name__ == "__main__":
    main()
