"""What skautoenc does around an estimator call: process-wide torch settings changed only
for its duration, attributes put back when a fit fails, and warnings that point at the
user's line."""

import contextlib
import functools
import math
import os
import sys
import threading
import time
import warnings
from pathlib import Path

import joblib
import sklearn
import skorch
import torch

#: Frames under these folders are library code: a warning points at the first frame
#: outside them (skautoenc itself, scikit-learn, skorch, and joblib, whose ``Memory``
#: fits every step of a ``Pipeline`` but the last).
_LIBRARY_DIRS = tuple(
    str(Path(path).resolve().parent) + os.sep
    for path in (__file__, sklearn.__file__, skorch.__file__, joblib.__file__)
)


def _flushing_denormals():
    """Whether the calling thread's floating-point unit flushes subnormal float32 to zero.

    torch has no getter for :func:`torch.set_flush_denormal`: multiply a subnormal
    number by one and see whether it survives.
    """
    return bool((torch.full((1,), 1e-40) * 1.0).item() == 0.0)


@contextlib.contextmanager
def flush_denormal():
    """Treat subnormal float32 numbers as zero inside the block, as before it outside.

    Subnormal numbers (magnitudes below about 1e-38) take a slow path on many x86 CPUs,
    tens of times slower per operation, and training produces them: the squared-gradient
    averages of Adam decay towards them for units that a sigmoid has saturated (the user
    guide's "Training defaults" has the measurements). Flushing them changes a result by
    less than the smallest normal float32 number.

    The setting is that of the process (torch's ``set_flush_denormal``), so torch code
    that the user runs in another thread at the same time flushes too; the previous
    setting is put back when the block ends, whatever way it ends. Where the CPU has no
    such mode, this does nothing.
    """
    if _flushing_denormals():
        yield
        return
    supported = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if supported:
            torch.set_flush_denormal(False)


#: ``/proc`` counts CPU time in ticks of 10 ms: the load is measured over windows of at
#: least this many seconds.
LOAD_WINDOW = 0.25
#: A measurement this recent (seconds) decides the threads a new call starts with.
LOAD_MEMORY = 10.0


def available(device):
    """Whether the torch ``device`` (a string such as ``"cuda:1"``) exists on this machine."""
    kind = torch.device(device)
    if kind.type == "cpu":
        return True
    if kind.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        return (kind.index or 0) < count
    if kind.type == "mps":
        return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    return False


def resolve_device(device, local_rank=None):
    """The torch device a fit runs on, from the estimator's ``device`` parameter: ``"cpu"``,
    ``"cuda"`` or ``"cuda:N"``, ``"mps"``, or ``"auto"`` (CUDA where available). A device
    that torch does not know, or that this machine lacks, is a ``ValueError`` that says
    which devices there are. With ``local_rank`` (a process of a data-parallel job),
    ``"auto"`` and ``"cuda"`` are the GPU of that number, one per process on a machine."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and local_rank is not None and torch.cuda.is_available():
        device = f"cuda:{local_rank % torch.cuda.device_count()}"
    try:
        kind = torch.device(device)
    except (RuntimeError, TypeError):
        kind = None
    if kind is None or kind.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            f"device={device!r} is not a device skautoenc runs on: use 'cpu', 'cuda' (or "
            "'cuda:N' for the N-th GPU), 'mps' (Apple GPUs) or 'auto'."
        )
    if not available(device):
        n_cuda = torch.cuda.device_count() if torch.cuda.is_available() else 0
        have = ["'cpu'"] + [f"'cuda:{i}'" for i in range(n_cuda)]
        if available("mps"):
            have.append("'mps'")
        raise ValueError(
            f"device={device!r} was requested, but torch finds no such device on this "
            f"machine; it has {', '.join(have)}. Use one of them, or device='auto'."
        )
    return "cpu" if kind.type == "cpu" else str(kind)


def fast_bfloat16(device):
    """Whether bfloat16 matrix products run faster than float32 ones on ``device``.

    On a CUDA device: whether it supports bfloat16 (Ampere and later). On the CPU: whether
    it has bfloat16 matrix instructions (``lscpu`` flags ``avx512_bf16`` or
    ``amx_bf16``), as the kernel lists them in ``/proc/cpuinfo``. Without them torch
    emulates bfloat16 products, which is many times slower than float32. Where the flags
    cannot be read (not Linux), the answer is no: ``mixed_precision="auto"`` then stays
    in float32, which is never slower than emulated bfloat16.
    """
    if torch.device(device).type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    return bool(_cpu_flags() & {"avx512_bf16", "amx_bf16"})


@functools.cache
def _cpu_flags():
    """The CPU's feature flags, from ``/proc/cpuinfo`` (empty where it cannot be read)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def _usable_cpus():
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


def _busy_ticks(cpus):
    """CPU time spent on ``cpus`` (all processes, kernel included), in ticks."""
    wanted, busy = {f"cpu{i}" for i in cpus}, 0
    with open("/proc/stat") as f:
        for line in f:
            fields = line.split()
            if fields and fields[0] in wanted:
                # user nice system idle iowait irq softirq steal: all but idle, iowait
                values = [int(v) for v in fields[1:9]]
                busy += sum(values) - values[3] - values[4]
    return busy


def _own_ticks():
    """CPU time of this process, all its threads, in ticks (``/proc/self/stat``)."""
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime and stime, fields 14 and 15


class AdaptiveThreads:
    """Runs torch on as many threads as other processes leave cores free, rechecked as the
    call goes on: ``n_jobs="auto"``.

    torch's threads wait for each other, spinning, at the end of every operation, so a
    thread that loses its core to another process holds up all of them, while one thread
    leaves idle cores unused (the user guide's "Threads, and a busy machine" has the
    measurements of ``benchmarks/bench_threads.py``). So every :data:`LOAD_WINDOW`
    seconds (checked once per minibatch, at the cost of a clock read), this reads how
    much CPU time the other processes took on this process's CPUs (``/proc/stat`` less
    ``/proc/self/stat``) and sets the threads to the cores they left free, from 1 to
    ``max_threads``. A call starts with the last measurement of the process if it is
    recent, with 1 thread otherwise. Where ``/proc`` cannot be read (not Linux), it stays
    at 1 thread.
    """

    _last = (-math.inf, None)  # (time, threads) of the process's last measurement

    def __init__(self, max_threads):
        self.cpus = _usable_cpus()
        self.max_threads = max(1, min(max_threads, len(self.cpus)))
        when, threads = AdaptiveThreads._last
        recent = time.monotonic() - when < LOAD_MEMORY and threads is not None
        self.threads = min(threads, self.max_threads) if recent else 1
        self._mark = self._sample() if self.max_threads > 1 else None
        self._next = time.monotonic() + LOAD_WINDOW

    def _sample(self):
        try:
            return time.monotonic(), _busy_ticks(self.cpus), _own_ticks()
        except (OSError, ValueError, IndexError):
            return None

    def check(self):
        """Re-measure if a window has passed; return the threads to run on."""
        if self._mark is None or time.monotonic() < self._next:
            return self.threads
        mark = self._sample()
        if mark is None:
            self._mark = None
            return self.threads
        (t0, busy0, own0), (t1, busy1, own1) = self._mark, mark
        ticks_per_second = os.sysconf("SC_CLK_TCK")
        others = max(0, (busy1 - busy0) - (own1 - own0)) / ticks_per_second / (t1 - t0)
        free = len(self.cpus) - others
        self.threads = max(1, min(self.max_threads, math.floor(free + 0.25)))
        self._mark, self._next = mark, t1 + LOAD_WINDOW
        AdaptiveThreads._last = (t1, self.threads)
        return self.threads


_current = threading.local()


def n_threads(n_jobs):
    """The fixed torch threads that an integer or ``None`` ``n_jobs`` stands for,
    counted as scikit-learn counts jobs.

    ``None`` means 1 (unless inside a ``joblib.parallel_config`` block that says
    otherwise), ``-1`` all the CPUs this process may use (affinity and container limits
    respected), ``-2`` all but one, and so on.
    """
    return max(1, joblib.effective_n_jobs(n_jobs))


def adapt_threads():
    """Let the running call's ``n_jobs="auto"`` re-measure the load and change its torch
    threads. Called once per minibatch; costs a clock read between measurements."""
    governor = getattr(_current, "governor", None)
    if governor is not None:
        threads = governor.check()
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)


@contextlib.contextmanager
def torch_threads(n_jobs):
    """Run torch's CPU operations on the threads ``n_jobs`` asks for inside the block, on
    as many as before outside it.

    ``"auto"``: :class:`AdaptiveThreads`, up to the threads torch had when the block began
    (by default one per core; ``OMP_NUM_THREADS``, ``torch.set_num_threads`` and
    threadpoolctl limits lower it). Otherwise :func:`n_threads`. :func:`torch.set_num_threads`
    changes a process-wide setting: the previous value is put back when the block ends,
    whatever way it ends.
    """
    previous = torch.get_num_threads()
    outer = getattr(_current, "governor", None)
    if n_jobs == "auto" and outer is not None:  # inside an "auto" call: it decides
        yield
        return
    governor = AdaptiveThreads(previous) if n_jobs == "auto" else None
    threads = governor.threads if governor is not None else n_threads(n_jobs)
    _current.governor = governor
    if threads != previous:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        _current.governor = outer
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


@contextlib.contextmanager
def compute_settings(n_jobs):
    """The settings every fit and inference call runs under: torch threads as ``n_jobs``
    says (:func:`torch_threads`) and subnormal numbers flushed to zero
    (:func:`flush_denormal`)."""
    with torch_threads(n_jobs), flush_denormal():
        yield


@contextlib.contextmanager
def unchanged_on_failure(estimator):
    """Put ``estimator``'s attributes back as they were if the block raises: a failed
    ``fit`` leaves a fitted estimator as it was, not half changed."""
    previous = estimator.__dict__.copy()
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(previous)
        raise


def warn_at_caller(message, category):
    """``warnings.warn`` pointing at the first frame outside skautoenc, scikit-learn and
    skorch: the user's own line, whatever chain of methods (and scikit-learn's
    ``_fit_context`` wrapper) led to the warning."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.realpath(frame.f_code.co_filename).startswith(
        _LIBRARY_DIRS
    ):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level + 1)
