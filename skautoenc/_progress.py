"""What ``verbose`` prints while a net trains: one line per epoch."""

import math
import sys
import time

from skorch.callbacks import PrintLog

#: History entries that are not a quantity to print.
_SKIPPED = {"epoch", "dur", "batches"}
_GREEN, _RESET = "\033[32m", "\033[0m"


def format_duration(seconds):
    """``12.3 s``, ``4 min 05 s``, ``1 h 02 min``: durations as a person reads them."""
    if not math.isfinite(seconds):
        return "?"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class ProgressLog(PrintLog):
    """One line per epoch of training, printed when the net's ``verbose`` is set::

        epoch 12/88  train_loss 13.37  valid_loss 14.02*  0.11 s/epoch  1.3 s elapsed,
        at most 8.4 s left

    (one line, wrapped here).

    ``total_epochs`` (set before each fit) gives the "of N" and the time left, which is
    an upper bound: the fit may stop early on a plateau. Without it (``partial_fit``)
    the line shows the net's epoch count and no time left. A value
    that is the best so far (skorch's ``*_best`` entries) is marked with ``*``, and
    shown in green instead when ``sink`` is a terminal: no escape codes reach a file, a
    pipe or a notebook's captured output. Replaces skorch's ``PrintLog`` (same place
    among the callbacks: last, so it sees what the others recorded for the epoch).
    """

    def __init__(self, total_epochs=None, sink=None):
        self.total_epochs = total_epochs
        self.sink = sink

    def initialize(self):
        self.start_ = None
        self.first_epoch_ = 0
        return self

    def on_train_begin(self, net, **kwargs):
        self.start_ = time.perf_counter()
        self.first_epoch_ = len(net.history)

    def _stream(self):
        return self.sink if self.sink is not None else sys.stdout

    def format_line(self, row, done, elapsed, colour):
        """The line for history ``row``, the ``done``-th epoch of this fit."""
        total = self.total_epochs
        width = len(str(total)) if total else 1
        parts = [f"epoch {done:>{width}}/{total}" if total else f"epoch {done}"]
        keys = [k for k in row if k not in _SKIPPED and not k.endswith("_best")
                and not k.endswith("_batch_count") and not k.startswith("event_")
                and isinstance(row[k], int | float)]
        # the losses first, in the order training reports them
        keys.sort(key=lambda k: (k not in ("train_loss", "valid_loss"), k))
        for key in keys:
            value = f"{row[key]:.4g}"
            if row.get(f"{key}_best"):
                value = f"{_GREEN}{value}{_RESET}" if colour else f"{value}*"
            parts.append(f"{key} {value}")
        parts.append(f"{row.get('dur', float('nan')):.2g} s/epoch")
        timing = f"{format_duration(elapsed)} elapsed"
        if total and done < total:
            left = elapsed / done * max(0, total - done)
            timing += f", at most {format_duration(left)} left"
        parts.append(timing)
        return "  ".join(parts)

    def on_epoch_end(self, net, **kwargs):
        if not net.verbose:
            return
        stream = self._stream()
        colour = bool(getattr(stream, "isatty", lambda: False)())
        # without a total (partial_fit: one epoch per call), the net's epoch count
        done = len(net.history) - (self.first_epoch_ if self.total_epochs else 0)
        elapsed = time.perf_counter() - self.start_
        print(self.format_line(net.history[-1], done, elapsed, colour), file=stream, flush=True)
