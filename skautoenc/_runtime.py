"""What skautoenc does around an estimator call: process-wide torch settings changed only
for its duration, and warnings that point at the user's line."""

import contextlib
import os
import sys
import warnings
from pathlib import Path

import sklearn
import skorch
import torch

#: Frames under these folders are library code: a warning points at the first frame
#: outside them (skautoenc itself, scikit-learn, skorch).
_LIBRARY_DIRS = tuple(
    str(Path(path).resolve().parent) + os.sep
    for path in (__file__, sklearn.__file__, skorch.__file__)
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
