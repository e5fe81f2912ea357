"""Data and measurement helpers shared by the benchmark scripts."""

import json
import os
import platform
import statistics
import time
from pathlib import Path

from skautoenc._demo import _json_ready
from skautoenc._demo import format_table as demo_format_table
from skautoenc.datasets import load_mnist

#: When the script that imports these helpers started (near enough: they are imported
#: first), so that each recorded run says how long it took.
_STARTED = time.perf_counter()


def load_dataset(path=None, n_train=8000, n_test=2000, random_state=0):
    """X_train, X_test, y_train, y_test scaled to [0, 1], and the data's name.

    MNIST from the idx files in ``path`` (an 8,000 / 2,000 split of the 10,000 test
    images by default); scikit-learn's digits (75 / 25 split) when ``path`` is None.
    """
    from sklearn.model_selection import train_test_split

    if path is None:
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        X = X / 16.0
        split = train_test_split(X, y, test_size=0.25, random_state=random_state, stratify=y)
        return (*split, "digits")
    X, y = load_mnist(path)
    split = train_test_split(
        X, y, train_size=n_train, test_size=n_test, random_state=random_state, stratify=y
    )
    return (*split, "mnist")


def cpu_description():
    """The CPU's model name (``lscpu``) and the flags that matter for float32 and bfloat16
    matrix products: benchmark figures are comparable only between like CPUs."""
    import subprocess

    model, flags = platform.processor() or platform.machine(), []
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return {"model": model, "flags": flags}
    for line in lscpu.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Model name":
            model = value.strip()
        elif key.strip() == "Flags":
            wanted = {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "fma"}
            flags = sorted(wanted & set(value.split()))
    return {"model": model, "flags": flags}


def machine():
    """A short description of where the benchmark ran."""
    import torch

    return {
        "date": time.strftime("%Y-%m-%d"),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu": cpu_description(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def measured_on(info):
    """``"Measured on DATE: CPU (N cores; flags: ...), torch VERSION"``: how the generated
    reStructuredText tables open, from a :func:`machine` record."""
    cpu = info.get("cpu", {})
    flags = ", ".join(cpu.get("flags", [])) or "none"
    return (f"Measured on {info['date']}: {cpu.get('model', info['processor'])} "
            f"({info['cpu_count']} cores; flags: {flags}), torch {info['torch']}")


def alternated(names, repeats):
    """The order in which to time the contenders ``names``, ``repeats`` times each: in
    turn, the order reversed every other round, so that a machine whose speed drifts
    within minutes favours none of them."""
    names = list(names)
    for round_ in range(repeats):
        yield from names[::-1] if round_ % 2 else names


def by_rounds(reference, values):
    """The median over rounds of ``reference / value`` within each round: the ratio of two
    contenders timed next to each other, less exposed than the ratio of their medians to
    a machine whose speed drifts over a run (both are reported)."""
    return statistics.median(r / v for r, v in zip(reference, values))


def format_table(rows):
    """Rows (dicts with the same keys) as an aligned text table, 4 significant digits."""
    return demo_format_table(rows, float_format="{:.4g}")


def write_json(path, payload):
    """Write ``payload`` as strict JSON: numpy numbers as floats, NaN and infinity as null;
    with ``script_seconds``, the time from the script's start to this write, unless the
    payload has it (a merge of earlier runs)."""
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        payload = {**payload, "script_seconds": payload.get(
            "script_seconds", time.perf_counter() - _STARTED)}
        payload = _json_ready(json.loads(json.dumps(payload, default=float)))
        Path(path).write_text(json.dumps(payload, indent=2, allow_nan=False))
        print(f"wrote {path}")


class PeakRSS:
    """Peak resident memory growth of this process inside a ``with`` block, in bytes.

    Linux only: resets the kernel's high-water mark (``/proc/self/clear_refs``) on entry
    and reads ``VmHWM`` on exit. ``extra`` is None where that is not possible.
    """

    @staticmethod
    def _status(field):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        raise OSError(field)

    def __enter__(self):
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.start = self._status("VmRSS")
        except OSError:
            self.start = None
        return self

    def __exit__(self, *exc):
        self.extra = None if self.start is None else self._status("VmHWM") - self.start
        return False


class PeakAnon:
    """Peak growth of this process's anonymous resident memory inside a ``with`` block.

    Anonymous memory is what the process allocates for itself (arrays, tensors). Unlike
    the high-water mark of :class:`PeakRSS` it leaves out the pages of a memory-mapped
    file, which the kernel can drop at any time and reads back on demand. Linux only:
    ``RssAnon`` is sampled by a thread every ``interval`` seconds, so a spike shorter
    than that can be missed. ``extra`` (bytes) is None where it cannot be read.
    """

    def __init__(self, interval=0.002):
        self.interval = interval

    def _sample(self):
        try:
            return PeakRSS._status("RssAnon")
        except OSError:
            return None

    def _poll(self):
        while not self._done.wait(self.interval):
            self.peak = max(self.peak, self._sample())

    def __enter__(self):
        import threading

        self.start = self._sample()
        self.peak = self.start
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        if self.start is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        if self.start is None:
            self.extra = None
            return False
        self._thread.join()
        self.peak = max(self.peak, self._sample())
        self.extra = self.peak - self.start
        return False
