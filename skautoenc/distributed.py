"""Data-parallel training: one model, trained by several processes on one or more machines,
with PyTorch's own ``torch.distributed``.

Inside a ``torch.distributed`` job (a script started by ``torchrun``, or any process whose
default process group has more than one process), ``fit`` and ``partial_fit`` of every
skautoenc estimator train data-parallel, with nothing to change in the code:

- every process passes the same ``X`` and trains on its share of the rows, as
  ``DistributedSampler`` shares them out; inside ``config(rows="own")`` each process
  passes rows of its own instead, for data that no single machine holds;
- ``batch_size`` is the *global* minibatch: each step, the processes' shares make up one
  minibatch of ``batch_size`` rows, and their gradients are averaged over those rows
  (``DistributedDataParallel``'s averaging), so that the step is the one a single process
  takes on that minibatch. The same parameters then mean the same training, whatever
  the number of processes: the learning rate, ``max_iter="auto"``'s number of updates and
  a search's results carry over;
- the validation split, early stopping, the learning-rate schedule, ``n_iter_``, the
  loss curves and ``verbose`` (printed by rank 0 only) agree across the processes, which
  all end with identical weights: each holds an ordinary fitted estimator;
- a process that fails, dies or stops answering for ``timeout`` seconds ends the fit on
  every process with an error (:class:`WorkerLostError` on the others), and leaves the
  estimators as they were; Ctrl+C stops every process after the same step, each keeping
  the weights reached, as a single process does.

Without a job, nothing changes. :func:`fit` starts a job from Python: processes on this
machine, or one process on each worker of a Dask cluster.

Read more in the :ref:`User Guide <scaling_out>`.
"""

import math
import numbers
import os
import pickle
import signal
import socket
import time
from urllib.parse import urlparse

import numpy as np
import scipy.sparse as sp
import torch
import torch.multiprocessing as mp
from sklearn.utils.validation import check_array

from ._compat import validate_params
from ._parallel import DEFAULT_TIMEOUT, WorkerLostError, init_group, using

__all__ = ["WorkerLostError", "config", "fit"]


def config(*, rows=None, timeout=None, enabled=None):
    """Settings of the data-parallel fits started inside the ``with`` block.

    Parameters
    ----------
    rows : {"same", "own"}, default="same"
        ``"same"``: every process passes the same ``X`` to ``fit`` and trains on its
        share of the rows. ``"own"``: each process passes rows of its own (its shard);
        the fit learns from all of them, the ranges and fill values of missing data
        included. Each process then needs at least as many rows as an epoch has
        minibatch updates, about ``total rows / batch_size``.
    timeout : float, default=300
        Seconds a process waits for the others at each exchange before the fit stops
        with :class:`WorkerLostError`, where skautoenc starts the process group
        (``torchrun`` scripts, and :func:`fit`). A group that you initialise keeps the
        ``timeout`` you give ``torch.distributed.init_process_group``.
    enabled : bool, default=True
        ``False``: fits inside the block train in this process alone, even inside a job.

    Returns
    -------
    context : context manager

    Examples
    --------
    >>> import numpy as np
    >>> from skautoenc import AutoEncoder
    >>> from skautoenc.distributed import config
    >>> X = np.random.RandomState(0).rand(100, 8)
    >>> with config(rows="own"):  # in a torchrun script: each rank passes its own rows
    ...     model = AutoEncoder(2, max_iter=3, random_state=0).fit(X)
    """
    changes = {}
    if rows is not None:
        if rows not in ("same", "own"):
            raise ValueError(f"rows must be 'same' or 'own', got {rows!r}.")
        changes["rows"] = rows
    if timeout is not None:
        changes["timeout"] = _check_timeout(timeout)
    if enabled is not None:
        if not isinstance(enabled, bool):
            raise TypeError(f"enabled must be True or False, got {enabled!r}.")
        changes["enabled"] = enabled
    return using(**changes)


def _check_timeout(timeout):
    if (
        not isinstance(timeout, numbers.Real)
        or isinstance(timeout, bool)
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}.")
    return float(timeout)


def fit(estimator, X, y=None, *, n_workers=None, client=None, timeout=DEFAULT_TIMEOUT,
        partial=False):
    """Fit ``estimator`` on ``X`` data-parallel, on processes started for it; return it.

    Without ``client``: ``n_workers`` processes on this machine (``torch.multiprocessing``,
    gloo between them, NCCL between GPUs). With a ``dask.distributed`` ``client``: one
    process on each of ``n_workers`` of its workers. The processes train one model
    together, as under ``torchrun`` (see :mod:`skautoenc.distributed`), and ``estimator``
    is fitted in place in this process, as ``estimator.fit(X)`` would fit it.

    The data are not sent through this process or the scheduler:

    - a ``numpy.memmap`` is opened by every process (with Dask, the file must be at the
      same path on every worker), and each reads its share of the rows;
    - another array, a DataFrame or a sparse matrix is copied once into shared memory,
      from which the local processes read their rows; with Dask, each worker receives
      its own contiguous block of rows, straight from this process;
    - a dask array is persisted, and each worker trains on the chunks that live on it
      (those on workers that take no part are moved to one that does).

    Parameters
    ----------
    estimator : skautoenc estimator
        Fitted in place (also when ``fit`` continues a fitted one: ``warm_start``).
    X : {array-like, sparse matrix, numpy.memmap, dask array} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,) or (n_samples, n_conditions), default=None
        The conditions of a conditional :class:`~skautoenc.VariationalAutoEncoder`,
        passed to its ``fit`` on every process (ignored by the other estimators, as by
        their ``fit``). Every process trains on its share of the same rows, so with
        ``client``, ``X`` must then be a ``numpy.memmap``.
    n_workers : int, default=None
        The number of processes: by default the CPUs this process may use (the GPUs,
        where the estimator's ``device`` asks for CUDA and there are some), or all the
        workers of ``client``.
    client : dask.distributed.Client, default=None
        Run on the workers of this Dask cluster instead of on this machine. Each takes
        one process of the job; it needs a free thread.
    timeout : float, default=300
        Seconds after which a process that stopped answering ends the fit on all of them
        with :class:`WorkerLostError`; a process that dies ends it at once.
    partial : bool, default=False
        Call ``partial_fit`` (one epoch over all the rows) instead of ``fit``.

    Returns
    -------
    estimator : object
        The fitted ``estimator``.

    Raises
    ------
    WorkerLostError
        A process died or stopped answering; ``estimator`` is unchanged.
    KeyboardInterrupt
        Ctrl+C: every process stopped after the same step, and ``estimator`` holds the
        weights reached, as after an interrupted ``estimator.fit(X)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skautoenc import AutoEncoder
    >>> from skautoenc import distributed
    >>> X = np.random.RandomState(0).rand(400, 16).astype(np.float32)
    >>> model = AutoEncoder(4, max_iter=3, random_state=0)
    >>> model = distributed.fit(model, X, n_workers=2)  # doctest: +SKIP
    >>> model.transform(X).shape  # doctest: +SKIP
    (400, 4)
    """
    timeout = _check_timeout(timeout)
    if n_workers is not None and (
        not isinstance(n_workers, numbers.Integral) or isinstance(n_workers, bool)
        or n_workers < 1
    ):
        raise ValueError(f"n_workers must be a positive integer, got {n_workers!r}.")
    if not hasattr(estimator, "partial_fit" if partial else "fit"):
        raise TypeError(f"{type(estimator).__name__} has no {'partial_' * partial}fit.")
    validate_params(estimator)  # a bad parameter fails here, not in n processes
    payload = pickle.dumps((estimator, y))
    if client is not None:
        if y is not None and not (isinstance(X, np.memmap) and X.filename is not None):
            raise ValueError(
                "With a Dask client, each worker trains on a block of rows of its own, and "
                "a conditional fit (y) trains every process on its share of the same rows: "
                "pass X as a numpy.memmap that every worker opens, or fit on this machine "
                "(client=None)."
            )
        outcome = _run_on_dask(payload, X, client, n_workers, timeout, partial)
    else:
        outcome = _run_here(estimator, payload, X, n_workers, timeout, partial)
    status, fitted, message = outcome
    fitted = pickle.loads(fitted)
    estimator.__dict__.clear()
    estimator.__dict__.update(fitted.__dict__)
    if status == "interrupted":
        raise KeyboardInterrupt(message)
    return estimator


# ------------------------------------------------------------------------ each process
def _train(rank, world, init_method, timeout, payload, X, rows, local_rank, partial):
    """What every process of a job runs: join the group, fit, leave the group. Returns
    ``(status, pickled estimator or None, message)``; the estimator comes from rank 0."""
    import torch.distributed as dist

    try:
        init_group(timeout, init_method=init_method, rank=rank, world_size=world)
    except RuntimeError as exc:  # torch's DistStoreError, DistNetworkError
        raise WorkerLostError(
            f"The {world} processes of the data-parallel fit did not all meet at "
            f"{init_method} within timeout={timeout} s ({type(exc).__name__}: {exc}). "
            "The estimator is unchanged."
        ) from exc
    try:
        estimator, y = pickle.loads(payload)
        status, message = "fitted", None
        with using(rows=rows, local_rank=local_rank, timeout=timeout, enabled=True):
            try:
                (estimator.partial_fit if partial else estimator.fit)(X, y)
            except KeyboardInterrupt as exc:
                status, message = "interrupted", str(exc)
        dist.barrier()  # nobody leaves while another still talks to it
        return status, pickle.dumps(estimator) if rank == 0 else None, message
    finally:
        # a Dask worker may take part in another job later: leave this one's group
        dist.destroy_process_group()


# ------------------------------------------------------------------ on this machine
def _share(X):
    """``X`` as something a spawned process opens without a copy through a pipe: a
    memmap's file, or tensors in shared memory. Returns ``(descriptor, rows)``."""
    if isinstance(X, np.memmap) and X.filename is not None and X.ndim == 2:
        order = "F" if X.flags.f_contiguous and not X.flags.c_contiguous else "C"
        return ("memmap", X.filename, X.dtype.str, X.shape, X.offset, order), "same"
    columns = list(X.columns) if hasattr(X, "columns") else None  # feature names
    X = _checked(X)
    if sp.issparse(X):
        parts = [torch.from_numpy(np.ascontiguousarray(a)).share_memory_()
                 for a in (X.data, X.indices, X.indptr)]
        return ("csr", parts, X.shape), "same"
    return ("dense", torch.from_numpy(np.ascontiguousarray(X)).share_memory_(), columns), "same"


def _checked(X):
    """``X`` as a float array or CSR matrix to share out; the fit checks its values."""
    return check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32],
                       ensure_all_finite=False, ensure_min_samples=2)


def _open(descriptor):
    kind = descriptor[0]
    if kind == "memmap":
        _, path, dtype, shape, offset, order = descriptor
        return np.memmap(path, dtype=np.dtype(dtype), mode="r", shape=tuple(shape),
                         offset=offset, order=order)
    if kind == "csr":
        _, (data, indices, indptr), shape = descriptor
        return sp.csr_matrix((data.numpy(), indices.numpy(), indptr.numpy()), shape=shape)
    _, values, columns = descriptor
    if columns is None:
        return values.numpy()
    import pandas as pd

    return pd.DataFrame(values.numpy(), columns=columns, copy=False)


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def _default_workers(estimator):
    device = str(getattr(estimator, "device", "cpu"))
    if device in ("auto", "cuda") and torch.cuda.is_available():
        return torch.cuda.device_count()
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _local_process(rank, world, port, timeout, payload, descriptor, rows, partial,
                   threads, queue):
    # A process group of its own: Ctrl+C in a terminal reaches the launcher alone, which
    # passes it on once (the ranks must all see one interrupt, at the same step).
    os.setpgrp()
    torch.set_num_threads(threads)
    try:
        outcome = _train(rank, world, f"tcp://127.0.0.1:{port}", timeout, payload,
                         _open(descriptor), rows, rank, partial)
        queue.put(("done", rank, outcome))
    except BaseException as exc:  # reported to the launcher, which raises it
        queue.put(("error", rank, _picklable(exc)))


def _picklable(exc):
    try:
        pickle.dumps(exc)
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def _run_here(estimator, payload, X, n_workers, timeout, partial):
    world = n_workers or _default_workers(estimator)
    descriptor, rows = _share(X)
    threads = max(1, torch.get_num_threads() // world)
    context = mp.get_context("spawn")
    queue = context.SimpleQueue()
    port = _free_port()
    processes = [
        context.Process(
            target=_local_process,
            args=(rank, world, port, timeout, payload, descriptor, rows, partial, threads,
                  queue),
            daemon=True,
        )
        for rank in range(world)
    ]
    for process in processes:
        process.start()
    reports, forwarded, deadline, finished = {}, False, None, False
    try:
        while len(reports) < world:
            try:
                while not queue.empty():
                    kind, rank, value = queue.get()
                    reports[rank] = (kind, value)
                dead = [r for r, p in enumerate(processes)
                        if r not in reports and not p.is_alive()]
                if dead and queue.empty():
                    code = processes[dead[0]].exitcode
                    how = (f"signal {signal.Signals(-code).name}" if code and code < 0
                           else f"exit code {code}")
                    raise WorkerLostError(
                        f"Process {dead[0]} of the data-parallel fit died ({how}); the "
                        f"fit was stopped on all {world} processes and the estimator is "
                        "unchanged."
                    )
                if reports and deadline is None and any(k == "error" for k, _ in reports.values()):
                    deadline = time.monotonic() + timeout  # for the others to stop
                if deadline is not None and time.monotonic() > deadline:
                    missing = sorted(set(range(world)) - set(reports))
                    raise WorkerLostError(
                        f"Processes {missing} of the data-parallel fit did not answer "
                        f"within timeout={timeout} s of a failure; they were terminated "
                        "and the estimator is unchanged."
                    )
                time.sleep(0.05)
            except KeyboardInterrupt:
                if forwarded:
                    raise
                forwarded = True
                for process in processes:
                    if process.is_alive():
                        os.kill(process.pid, signal.SIGINT)
        finished = True
    finally:
        for process in processes:
            if finished:  # all reported: they are on their way out
                process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
    return _outcome(reports)


def _outcome(reports):
    """The result of rank 0, or the error that stopped the job: a process's own error
    rather than the others' report that they lost it."""
    errors = [(rank, value) for rank, (kind, value) in sorted(reports.items())
              if kind == "error"]
    if errors:
        causes = [e for e in errors if not isinstance(e[1], WorkerLostError)] or errors
        rank, exc = causes[0]
        exc.add_note(f"(raised by process {rank} of the data-parallel fit)")
        raise exc
    return reports[0][1]


# ------------------------------------------------------------------------- on Dask
def _dask_process(rank, world, init_method, timeout, payload, descriptor, rows,
                  local_rank, partial, *chunks):
    if descriptor is not None:
        X = _open(descriptor)
    elif len(chunks) == 1:
        X = chunks[0]
    else:
        X = sp.vstack(chunks, format="csr") if sp.issparse(chunks[0]) else np.concatenate(chunks)
    return _train(rank, world, init_method, timeout, payload, X, rows, local_rank, partial)


def _run_on_dask(payload, X, client, n_workers, timeout, partial):
    from distributed import wait

    workers = sorted(client.scheduler_info()["workers"])
    if n_workers is not None:
        if n_workers > len(workers):
            raise ValueError(f"n_workers={n_workers}, but the cluster has {len(workers)} workers.")
        workers = workers[:n_workers]
    world = len(workers)
    hosts = [urlparse(w).hostname for w in workers]
    local_ranks = [hosts[:r].count(h) for r, h in enumerate(hosts)]
    port = client.run(_free_port, workers=[workers[0]])[workers[0]]
    init_method = f"tcp://{hosts[0]}:{port}"
    shares = _dask_shares(X, client, workers)
    futures = [
        client.submit(
            _dask_process, rank, world, init_method, timeout, payload, descriptor, rows,
            local_ranks[rank], partial, *chunks,
            workers=[worker], allow_other_workers=False, pure=False, retries=0,
            key=f"skautoenc-fit-{rank}-{os.urandom(4).hex()}",
        )
        for rank, (worker, (descriptor, rows, chunks)) in enumerate(zip(workers, shares,
                                                                         strict=True))
    ]
    try:
        pending, failed = set(futures), False
        while pending and not failed:
            try:
                done, pending = wait(pending, return_when="FIRST_COMPLETED")
            except Exception:  # a task cancelled: its worker died, the scheduler forgot it
                break
            failed = any(f.status == "error" for f in done)
        if any(f.status != "finished" for f in futures):
            try:
                wait(pending, timeout=timeout + 10)  # the others see the loss and stop
            except Exception:  # timed out, or more tasks cancelled
                pass
            errors = {}
            for rank, future in enumerate(futures):
                if future.status == "error":
                    errors[rank] = ("error", _picklable(future.exception()))
                elif future.status == "cancelled":
                    errors[rank] = ("error", WorkerLostError(
                        f"Process {rank} of the data-parallel fit (Dask worker "
                        f"{workers[rank]}) was lost with its worker; the estimator is "
                        "unchanged."))
                elif future.status != "finished":
                    errors[rank] = ("error", WorkerLostError(
                        f"Process {rank} of the data-parallel fit (Dask worker "
                        f"{workers[rank]}) did not finish; the estimator is unchanged."))
            _outcome(errors)
        return futures[0].result()
    finally:
        client.cancel(futures)


def _dask_shares(X, client, workers):
    """For each worker: ``(descriptor, rows, chunks)``, what its process trains on."""
    world = len(workers)
    if isinstance(X, np.memmap) and X.filename is not None:
        descriptor, rows = _share(X)
        return [(descriptor, rows, ())] * world
    if hasattr(X, "dask") and hasattr(X, "chunks"):  # a dask array
        return _dask_array_shares(X, client, workers)
    X = _checked(X)
    bounds = np.linspace(0, X.shape[0], world + 1).astype(int)
    shares = []
    for worker, start, stop in zip(workers, bounds[:-1], bounds[1:], strict=True):
        [future] = client.scatter([X[start:stop]], workers=[worker], direct=True)
        shares.append((None, "own", (future,)))
    return shares


def _dask_array_shares(X, client, workers):
    from distributed import futures_of

    if X.ndim != 2:
        raise ValueError(f"X must be a 2-d dask array, got {X.ndim} dimensions.")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})  # whole rows in each chunk
    X = client.persist(X)
    futures = sorted(futures_of(X), key=lambda f: f.key[1])
    holders = client.who_has(futures)
    rows = dict(zip((f.key for f in futures), X.chunks[0], strict=True))
    assigned = {w: [] for w in workers}
    load = dict.fromkeys(workers, 0)
    for future in futures:
        local = [w for w in holders.get(future.key, ()) if w in assigned]
        worker = min(local or workers, key=lambda w: load[w])
        assigned[worker].append(future)
        load[worker] += rows[future.key]
    empty = [w for w in workers if not assigned[w]]
    if empty:
        raise ValueError(
            f"X has {len(futures)} row chunks for {len(workers)} workers: each worker "
            "trains on the chunks it holds, so rechunk X into at least as many row "
            "chunks as workers (e.g. X.rechunk({0: len(X) // n_workers}))."
        )
    return [(None, "own", tuple(assigned[w])) for w in workers]
