"""Data-parallel training inside a ``torch.distributed`` job: what a fit does differently
when it runs on one of several processes.

A fit joins a job when a process group of more than one process is initialised, or when
``torchrun`` started the process (``WORLD_SIZE`` > 1 in the environment; the group is then
initialised here). Every rank runs the same fit. What changes, and where:

- the data: every rank's :class:`~skautoenc._validation.DataFacts` and validation error
  are gathered before training (:meth:`Job.agree_on_data`), so that a bad shard fails
  every rank with the same message and every rank picks the same loss;
- the minibatches: :class:`DistributedBatches` gives each rank its share of each global
  minibatch of ``batch_size`` rows;
- the gradients and the epoch's losses: :class:`StepAverager` sums them over the ranks
  (``DistributedDataParallel``'s averaging, weighted by rows), so that every rank takes the
  same step and sees the same losses, and so stops at the same epoch;
- Ctrl+C: :func:`deferred_interrupt` turns it into a flag that travels with the next
  gradients, so that every rank stops after the same step.

The public side (settings, the launchers) is :mod:`skautoenc.distributed`.
"""

import atexit
import contextlib
import contextvars
import datetime
import hashlib
import math
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
import torch
import torch.distributed as dist
from skorch.callbacks import Callback

from ._data import rows_source
from ._runtime import adapt_threads
from ._validation import DataFacts

#: Seconds a collective operation waits for the other ranks before the fit gives up, where
#: skautoenc initialises the process group (``torchrun`` or its own launchers).
DEFAULT_TIMEOUT = 300.0


@dataclass(frozen=True)
class Settings:
    """The process's data-parallel settings (:func:`skautoenc.distributed.config`)."""

    rows: str = "same"
    timeout: float = DEFAULT_TIMEOUT
    enabled: bool = True
    local_rank: int | None = None


_SETTINGS = contextvars.ContextVar("skautoenc_distributed", default=None)


def settings():
    """The :class:`Settings` in force in this thread (or task)."""
    return _SETTINGS.get() or Settings()


@contextlib.contextmanager
def using(**changes):
    """The settings changed as given inside the block, as before outside it."""
    token = _SETTINGS.set(replace(settings(), **changes))
    try:
        yield
    finally:
        _SETTINGS.reset(token)


class WorkerLostError(RuntimeError):
    """A data-parallel fit stopped because another process died, or stopped answering
    within the timeout. The estimator is left as it was before the fit."""


def default_backend():
    """gloo for tensors on the CPU and, where CUDA and NCCL are there, NCCL for tensors on
    a GPU (a process group with both serves either device)."""
    if torch.cuda.is_available() and dist.is_nccl_available():
        return "cpu:gloo,cuda:nccl"
    return "gloo"


def init_group(timeout, **kwargs):
    """Initialise the default process group with skautoenc's timeout.

    It is not destroyed at exit: a rank that destroys it while another is still leaving
    can abort in gloo (``terminate called without an active exception``)."""
    dist.init_process_group(
        backend=default_backend(), timeout=datetime.timedelta(seconds=timeout), **kwargs
    )
    atexit.register(_leave)


def _leave():
    if dist.is_initialized():
        try:
            dist.barrier()
        finally:
            dist.destroy_process_group()


def current_job():
    """The :class:`Job` a fit started now joins, or None to train in this process alone."""
    config = settings()
    if not config.enabled or not dist.is_available():
        return None
    if not dist.is_initialized():
        # torchrun's environment (WORLD_SIZE, RANK, MASTER_ADDR, ...) is inherited by the
        # processes that a fit's own parallelism starts (a search's n_jobs): those are
        # not ranks of the job, and train alone
        if (int(os.environ.get("WORLD_SIZE", "1")) <= 1
                or multiprocessing.parent_process() is not None):
            return None
        init_group(config.timeout)
    world = dist.get_world_size()
    if world <= 1:
        return None
    local_rank = config.local_rank
    if local_rank is None:
        local_rank = int(os.environ.get("LOCAL_RANK", dist.get_rank()))
    return Job(dist.get_rank(), world, local_rank, config.rows == "own")


@contextlib.contextmanager
def _collective():
    """torch.distributed's error in an exchange (a peer closed the connection, or did not
    answer in time) as a :class:`WorkerLostError` that says what it means for the fit."""
    try:
        yield
    except RuntimeError as exc:
        raise WorkerLostError(
            "The data-parallel fit stopped: another process of the job failed, died or "
            f"did not answer in time ({type(exc).__name__}: {str(exc).strip()[:300]}). "
            "This estimator is unchanged. The job's other processes report the same; the "
            "one that failed first says why."
        ) from exc


@dataclass
class Job:
    """This process's place in a data-parallel fit: its rank among ``world`` processes, the
    GPU it uses (``local_rank``), and whether each rank passed its own rows (``own``)."""

    rank: int
    world: int
    local_rank: int
    own: bool

    def all_reduce(self, tensor, op=dist.ReduceOp.SUM):
        with _collective():
            dist.all_reduce(tensor, op=op)
        return tensor

    def gather(self, obj):
        objects = [None] * self.world
        with _collective():
            dist.all_gather_object(objects, obj)
        return objects

    def broadcast_module(self, module):
        """Give every rank rank 0's parameters and buffers (pretraining, and the fill
        values of missing data, may differ between ranks that hold different rows)."""
        with _collective(), torch.no_grad():
            for tensor in module.state_dict().values():
                dist.broadcast(tensor, src=0)

    def _gather_or_fail(self, report, error, what):
        """Every rank's ``report``, or its ``error`` in making it: if a rank failed, raise
        on every rank, this rank's own error where it has one, otherwise a ``ValueError``
        that says ``what`` of which rank failed, and how."""
        message = None if error is None else f"{type(error).__name__}: {error}"
        gathered = self.gather((message, report))
        for rank, (failed, _) in enumerate(gathered):
            if failed is not None:
                if error is not None:
                    raise error
                raise ValueError(f"{what} of rank {rank} failed: {failed}")
        return [report for _, report in gathered]

    def agree_on_data(self, X, facts, error, batch_size, holdout):
        """Every rank's :class:`DataFacts` (or its validation ``error``), gathered: raise
        the same error on every rank if one failed; return the facts of all the rows.
        Where the ranks are meant to pass the same ``X``, a fingerprint of a few of its
        rows tells a different ``X`` apart.

        ``holdout(n_samples)`` is the fraction of the rows held out for validation (0
        without) when all the ranks hold ``n_samples`` rows.
        """
        mine = None if error is not None else (facts, None if self.own else _fingerprint(X))
        reports = self._gather_or_fail(mine, error, "The training data")
        all_facts = [f for f, _ in reports]
        if len({f.n_features for f in all_facts}) > 1:
            widths = [f.n_features for f in all_facts]
            raise ValueError(f"The ranks' X have different numbers of features: {widths}.")
        if batch_size < self.world:
            raise ValueError(
                f"batch_size={batch_size} is the global minibatch, shared by {self.world} "
                f"processes: use batch_size >= {self.world}, one row per process at least."
            )
        if not self.own:
            if len({(repr(f), print_) for (f, print_) in reports}) > 1:
                raise ValueError(
                    "The ranks passed different X, but each rank is meant to pass the same "
                    "rows and train on its share (skautoenc.distributed.config(rows="
                    "'same'), the default). To have each rank train on rows of its own, "
                    "fit inside skautoenc.distributed.config(rows='own')."
                )
            fraction = holdout(facts.n_samples)
            n_valid = math.ceil(fraction * facts.n_samples)
            if facts.n_samples - n_valid < self.world or 0 < n_valid < self.world:
                raise ValueError(
                    f"{facts.n_samples} rows cannot be shared by {self.world} processes "
                    f"(each needs a training row{' and a validation row' if fraction else ''}"
                    "): use fewer processes, or more rows."
                )
            return facts
        sizes = [f.n_samples for f in all_facts]
        fraction = holdout(sum(sizes))
        n_train = [n - math.ceil(fraction * n) for n in sizes]
        steps = math.ceil(sum(n_train) / batch_size)
        if min(n_train) < steps:
            raise ValueError(
                f"The ranks hold {sizes} rows: each takes part in every one of the "
                f"{steps} minibatch updates of an epoch, so each needs {steps} training "
                "rows at least. Balance the shards, or use a larger batch_size."
            )
        lows, highs = [f.low for f in all_facts], [f.high for f in all_facts]
        observed = [v for v in lows if not math.isnan(v)]
        return DataFacts(
            sum(sizes),
            all_facts[0].n_features,
            min(observed) if observed else math.nan,
            max(v for v in highs if not math.isnan(v)) if observed else math.nan,
        )

    def agree_on_conditions(self, conditions, error):
        """Every rank's encoded ``conditions`` (a conditional model's ``y``), or its
        ``error`` in encoding them: raise the same error on every rank if one failed, and
        refuse ranks that were meant to pass the same ``y`` but did not."""
        mine = None if conditions is None else _fingerprint(conditions)
        if len(set(self._gather_or_fail(mine, error, "The conditions y"))) > 1:
            raise ValueError(
                "The ranks passed different y: every rank is meant to pass the same rows "
                "and the same conditions, and to train on its share of them."
            )

    def sum_over_rows(self, totals, counts):
        """Sums and counts of this rank's rows, summed over the ranks that hold their
        own rows (those that share one X already see them all)."""
        if not self.own:
            return totals, counts
        both = torch.as_tensor(np.concatenate([totals, counts]), dtype=torch.float64)
        both = self.all_reduce(both).numpy()
        return both[: len(totals)], both[len(totals) :]


def _fingerprint(X, n_rows=16):
    """A hash of ``n_rows`` rows of ``X`` spread over it (dense or sparse): equal for the
    same data, almost surely different for different data, at the cost of a few rows."""
    rows = np.unique(np.linspace(0, X.shape[0] - 1, n_rows).astype(int))
    sample = X[rows]
    sample = sample.toarray() if sp.issparse(sample) else np.asarray(sample)
    return hashlib.sha1(np.ascontiguousarray(sample, dtype=np.float64).tobytes()).hexdigest()


def refuse_own_rows(estimator):
    """Refuse a fit on rows of each rank's own: ``estimator`` sets statistics of its whole
    training data (a threshold, fill values) outside its network's training."""
    job = current_job()
    if job is not None and job.own:
        raise ValueError(
            f"{type(estimator).__name__} trains its networks data-parallel on the rows "
            "every rank shares, but not on rows of each rank's own: its statistics of the "
            "training data would differ between ranks. Fit it outside "
            "skautoenc.distributed.config(rows='own'), with the same X on every rank."
        )


def mean_of_rows(values):
    """The mean of the rows of ``values``; in a job whose ranks hold rows of their own,
    the mean over all the ranks' rows."""
    job = current_job()
    if job is None or not job.own:
        return values.mean(axis=0)
    totals, counts = job.sum_over_rows(values.sum(axis=0), np.full(1, len(values)))
    return (totals / counts[0]).astype(values.dtype)


class _InterruptFlag:
    raised = False


@contextlib.contextmanager
def deferred_interrupt():
    """Inside the block, Ctrl+C (SIGINT) sets a flag instead of stopping this process at
    once: the ranks exchange it with the next gradients and all stop after that step. A
    second Ctrl+C stops this process at once. Only the main thread receives signals;
    elsewhere (a Dask worker's thread) nothing changes."""
    flag = _InterruptFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        if flag.raised:
            raise KeyboardInterrupt
        flag.raised = True

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


@dataclass
class Plan:
    """What the minibatches of one data-parallel fit share: the job, the seed of the
    shuffles and the count of the epochs run."""

    job: Job
    seed: int
    epoch: int = 0


class DistributedBatches:
    """This rank's share of each global minibatch of ``batch_size`` rows (skorch's
    ``iterator_train`` and ``iterator_valid`` during a data-parallel fit).

    Same rows on every rank: every rank draws the same permutation of the training rows
    (seeded by the fit's seed and the epoch), cuts it into the global minibatches a
    single process would use, and takes every ``world``-th row of each, starting at its
    rank. The ranks' shares make up each minibatch exactly; the last minibatch is padded
    with rows from the start of the permutation so that every rank gets at least one row
    (as ``DistributedSampler`` pads). Own rows: each rank shuffles its own rows and cuts
    them into as many parts as the epoch has updates, ``ceil(total rows / batch_size)``,
    so that the ranks take their steps together and each contributes in proportion to
    its rows. Validation rows are shared out in the same way, without shuffling.
    """

    def __init__(self, dataset, batch_size, shuffle=False, plan=None):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.plan = plan

    def _parts(self, n):
        job, plan = self.plan.job, self.plan
        if self.shuffle:
            plan.epoch += 1
            generator = torch.Generator().manual_seed(
                (plan.seed + 7919 * plan.epoch + (104729 * job.rank if job.own else 0))
                % (2**63)
            )
            order = torch.randperm(n, generator=generator)
        else:
            order = torch.arange(n)
        if job.own:
            if not self.shuffle:  # validation: this rank's rows, in batches
                return list(torch.split(order, self.batch_size))
            total = job.all_reduce(torch.tensor([n], dtype=torch.float64)).item()
            steps = math.ceil(total / self.batch_size)
            return list(torch.tensor_split(order, steps))
        parts = []
        for start in range(0, n, self.batch_size):
            batch = order[start : start + self.batch_size]
            if len(batch) % job.world:
                batch = torch.cat([batch, order[: job.world - len(batch) % job.world]])
            parts.append(batch[job.rank :: job.world])
        return parts

    def __iter__(self):
        source, indices = rows_source(self.dataset)
        if indices is None:
            indices = torch.arange(len(source))
        for part in self._parts(len(indices)):
            batch = source.rows(indices[part])
            adapt_threads()
            yield batch, batch


class StepAverager(Callback):
    """Sums what the ranks computed, once per minibatch and once per epoch.

    After each backward pass: every rank's gradients, weighted by its rows, summed and
    divided by the minibatch's rows (one ``all_reduce`` of one flat buffer). Each rank's
    loss is a mean over its rows, so this is the gradient of the mean over the whole
    minibatch: the step a single process takes on it. The Ctrl+C flag travels in the same
    buffer. At the end of each epoch: the losses recorded per minibatch (training,
    validation, and the VAE's terms), averaged over all the rows of all the ranks, replace
    this rank's averages in the history, with their ``_best`` marks. The seconds spent in
    ``all_reduce`` are recorded per epoch as ``allreduce_dur``.
    """

    def __init__(self, job, flag):
        self.job = job
        self.flag = flag

    def initialize(self):
        self.comm_seconds_ = 0.0
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.comm_seconds_ = 0.0

    def _reduce(self, tensor):
        start = time.perf_counter()
        self.job.all_reduce(tensor)
        self.comm_seconds_ += time.perf_counter() - start
        return tensor

    def on_grad_computed(self, net, named_parameters, batch=None, training=False, **kwargs):
        params, seen = [], set()
        for _, param in named_parameters:
            if id(param) not in seen:
                seen.add(id(param))
                params.append(param)
        n_rows = float(len(batch[0]))
        device = params[0].device
        flat = torch.cat(
            [
                (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) * n_rows
                for p in params
            ]
            + [torch.tensor([n_rows, float(self.flag.raised)], device=device)]
        )
        self._reduce(flat)
        total, interrupted = flat[-2:].tolist()
        flat = flat[:-2] / total
        offset = 0
        for param in params:
            size = param.numel()
            param.grad = flat[offset : offset + size].view_as(param)
            offset += size
        if interrupted:
            raise KeyboardInterrupt  # every rank, after the same backward pass

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        batches = row.get("batches", [])
        keys = sorted(
            {k for b in batches for k in b if not k.endswith("_batch_size")} & set(row)
        )
        sums = []
        for key in keys:
            size = "valid_batch_size" if key.startswith("valid_") else "train_batch_size"
            sums.append(sum(b[key] * b[size] for b in batches if key in b))
        counts = [
            sum(b.get(size, 0) for b in batches)
            for size in ("train_batch_size", "valid_batch_size")
        ]
        totals = torch.tensor([*sums, *counts, float(self.flag.raised)], dtype=torch.float64)
        totals = self._reduce(totals.to(net.device)).cpu().tolist()
        n_train, n_valid, interrupted = totals[len(keys) :]
        for key, total in zip(keys, totals, strict=False):
            value = total / (n_valid if key.startswith("valid_") else n_train)
            row[key] = value
            if f"{key}_best" in row:
                earlier = [r[key] for r in net.history[:-1] if key in r]
                row[f"{key}_best"] = bool(value < min(earlier, default=math.inf))
        net.history.record("allreduce_dur", self.comm_seconds_)
        if interrupted:
            raise KeyboardInterrupt


@contextlib.contextmanager
def data_parallel(net, job, seed):
    """Train ``net`` data-parallel inside the block: this rank's minibatches, the summed
    gradients and losses, printing on rank 0 only, Ctrl+C deferred to a step all ranks
    take. The net is as before outside the block, an ordinary single-process net."""
    plan = Plan(job, seed)
    if torch.device(net.device).type == "cuda":
        torch.cuda.set_device(net.device)  # NCCL's collectives run on the current GPU
    saved = (net.iterator_train, net.iterator_valid, net.callbacks_, net.verbose)
    with deferred_interrupt() as flag:
        averager = StepAverager(job, flag).initialize()
        names = [name for name, _ in net.callbacks_]
        at = names.index("convergence") if "convergence" in names else len(names) - 1
        net.callbacks_ = [*net.callbacks_[:at], ("data_parallel", averager),
                          *net.callbacks_[at:]]
        net.iterator_train = _bound(plan)
        net.iterator_valid = _bound(plan)
        if job.rank != 0:
            net.verbose = 0
        try:
            yield
        finally:
            net.iterator_train, net.iterator_valid, net.callbacks_, net.verbose = saved


def _bound(plan):
    def make(dataset, batch_size, shuffle=False, **kwargs):
        return DistributedBatches(dataset, batch_size, shuffle=shuffle, plan=plan)

    return make
