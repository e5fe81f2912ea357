"""A fitted net as plain data: numpy arrays, lists, dicts, numbers and strings.

The estimators pickle their skorch net through :func:`net_to_state` and rebuild it with
:func:`net_from_state`. The stored state holds no torch object, so it is

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
from ._runtime import warn_at_caller

#: Version of the stored layout. Raise it when the layout changes, and keep reading
#: the older layouts where possible.
FORMAT_VERSION = 1

#: Parameters added since models were first saved, each with the value that describes
#: how a model saved without it was trained (and trains on, with a warm start): they fill
#: in both the estimator's parameters and those its net is rebuilt with.
PARAMETERS_ADDED = {"learning_rate": "constant", "n_jobs": "auto", "missing_values": None}


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


def net_to_state(net, build_params):
    """The plain-data state of a fitted skorch ``net``.

    ``build_params`` are the estimator parameters the net was built with.
    """
    return {
        "format": FORMAT_VERSION,
        "build_params": dict(build_params),
        "module": {k: _to_numpy(v) for k, v in net.module_.state_dict().items()},
        "optimizer": _optimizer_to_numpy(net.optimizer_.state_dict()),
        "history": _to_numpy(list(net.history)),
        # how a row with holes is encoded (HourglassMLP.encode): one pass in models saved
        # before the two-pass encoding, which lack the key, and keep encoding as trained
        "refills_missing": bool(net.module_.refills_missing),
    }


def net_from_state(estimator, state):
    """Rebuild the skorch net of ``estimator`` (whose fitted attributes are set)."""
    version = state.get("format") if isinstance(state, dict) else None
    if version != FORMAT_VERSION:
        raise ValueError(
            f"This {type(estimator).__name__} was saved in storage format {version!r}, "
            f"which skautoenc {__version__} cannot read (it reads format {FORMAT_VERSION}). "
            "Load it with the skautoenc version that saved it and refit, or re-save it there."
        )
    device = estimator.device_
    if device.startswith("cuda") and not torch.cuda.is_available():
        warn_at_caller(
            f"This {type(estimator).__name__} was trained on {device!r}, which is not "
            "available here; it is loaded on the CPU.",
            UserWarning,
        )
        device = estimator.device_ = "cpu"

    build_params = {**PARAMETERS_ADDED, **state["build_params"]}
    # the net is built by a copy that holds the parameters it was trained with: the
    # estimator's own parameters (which the user may have set since) are not touched
    builder = copy.copy(estimator)
    builder.set_params(**build_params)
    net = builder._make_net(estimator.n_features_in_, device, 0, estimator.do_early_stopping_)
    net.initialize()
    net.module_.load_state_dict(
        {k: torch.as_tensor(v, device=device) for k, v in state["module"].items()}
    )
    net.optimizer_.load_state_dict(_optimizer_from_numpy(state["optimizer"], device))
    net.history = History(state["history"])
    net.module_.refills_missing = bool(state.get("refills_missing", False))
    return net
