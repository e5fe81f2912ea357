"""A fitted net as plain data: numpy arrays, lists, dicts, numbers and strings.

The estimators pickle their skorch net through :func:`net_to_state` and rebuild it with
:func:`net_from_state`: the state of its module (and optimiser, and history), and the
estimator parameters the module was built from, which rebuild it through the network
contract (a user's module class is one of them, stored by reference as pickle stores any
class: it loads wherever that class can be imported). The stored state holds no torch
object, so it is

- device-independent: a model trained on a GPU loads on a CPU-only machine;
- loadable with ``skops.io``, whose secure loader refuses code it was not told to trust
  and cannot load torch tensors at all;
- versioned: a state written in a format this version cannot read fails with a clear
  message instead of a traceback from deep inside torch.
"""

import copy

import numpy as np
import torch
from skorch.history import History

from . import __version__
from ._runtime import available, warn_at_caller

#: Version of the stored layout, recorded in every saved estimator (and in its net's
#: state). Raise it when the layout changes, and keep reading the layouts of released
#: versions: tests/test_stored_models.py loads a model saved by each release. 2 (skautoenc
#: 0.2.0, the first release): the network contract, an encoder and a decoder module
#: inside the estimator's wrapper.
FORMAT_VERSION = 2


def _to_numpy(value):
    if torch.is_tensor(value):
        return value.detach().cpu().numpy()
    if isinstance(value, dict):
        return {k: _to_numpy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_to_numpy(v) for v in value)
    return value


def _optimizer_to_numpy(state_dict):
    # torch keys parameter state by integer; skops stores dict keys as strings only
    return {
        "state": {str(k): _to_numpy(v) for k, v in state_dict["state"].items()},
        "param_groups": _to_numpy(state_dict["param_groups"]),
    }


def _optimizer_from_numpy(state, device):
    return {
        "state": {
            int(k): {n: torch.as_tensor(v, device=device if np.ndim(v) else "cpu")
                     for n, v in s.items()}
            for k, s in state["state"].items()
        },
        "param_groups": state["param_groups"],
    }


def _history_to_columns(history):
    """skorch's history as one array per key: what each epoch recorded (its losses, its
    duration, which losses were the best so far), without the per-batch records, which
    nothing reads once an epoch is over. As arrays, skops stores them as binary files
    instead of a text node per number, which made most of a stored model."""
    keys = sorted({key for row in history for key in row if key != "batches"})
    return {
        "n_epochs": len(history),
        "columns": {
            key: {
                "present": np.array([key in row for row in history], dtype=bool),
                "values": np.array([row.get(key, 0) for row in history]),
            }
            for key in keys
        },
    }


def _history_from_columns(stored):
    rows = [{"batches": []} for _ in range(stored["n_epochs"])]
    for key, column in stored["columns"].items():
        for row, present, value in zip(rows, column["present"], column["values"]):
            if present:
                row[key] = value.item()
    return History(rows)


def net_to_state(net, build_params):
    """The plain-data state of a fitted skorch ``net``.

    ``build_params`` are the estimator parameters the net was built with.
    """
    return {
        "format": FORMAT_VERSION,
        "build_params": dict(build_params),
        "module": {k: _to_numpy(v) for k, v in net.module_.state_dict().items()},
        "optimizer": _optimizer_to_numpy(net.optimizer_.state_dict()),
        "history": _history_to_columns(net.history),
    }


def check_format(estimator, version, saved_version):
    """Refuse a stored state of format ``version`` (written by skautoenc
    ``saved_version``) that this version cannot read, naming both versions."""
    if version != FORMAT_VERSION:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        raise ValueError(
            f"This {type(estimator).__name__} was saved by skautoenc {saved_version} in "
            f"storage format {version!r}, which skautoenc {__version__} cannot read (it "
            f"reads format {FORMAT_VERSION}). "
            + ("Upgrade skautoenc to load it." if newer else
               "Load it with the skautoenc version that saved it and refit, or re-save "
               "it there.")
        )


def net_from_state(estimator, state, saved_version=None):
    """Rebuild the skorch net of ``estimator`` (whose fitted attributes are set), saved
    by skautoenc ``saved_version``."""
    check_format(estimator, state.get("format") if isinstance(state, dict) else None,
                 saved_version)
    device = estimator.device_
    if not available(device):
        warn_at_caller(
            f"This {type(estimator).__name__} was trained on {device!r}, which is not "
            "available here; it is loaded on the CPU.",
            UserWarning,
        )
        device = estimator.device_ = "cpu"

    # the net is built by a copy that holds the parameters it was trained with: the
    # estimator's own parameters (which the user may have set since) are not touched.
    # Its initial weights, overwritten at once, are drawn without touching torch's seed.
    builder = copy.copy(estimator)
    builder.set_params(**state["build_params"])
    with torch.random.fork_rng(devices=[]):
        module = builder._build_module(estimator.n_features_in_)
        net = builder._make_net(module, device, 0, estimator.do_early_stopping_)
        net.initialize()
    net.module_.load_state_dict(
        {k: torch.as_tensor(v, device=device) for k, v in state["module"].items()}
    )
    net.optimizer_.load_state_dict(_optimizer_from_numpy(state["optimizer"], device))
    net.history = _history_from_columns(state["history"])
    return net
