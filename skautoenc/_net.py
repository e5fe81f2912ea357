"""The skorch side of an estimator: the net subclass that trains an autoencoder, its
callbacks (convergence and divergence, the learning-rate decay) and the snapshot that puts a
net back after a failed fit."""

import copy

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback

from ._compat import SkipRedundantModeSwitch
from ._data import RowDataset
from ._progress import ProgressLog


class ConvergenceMonitor(Callback):
    """Stops training on a plateau and refuses to go on when the loss diverges.

    Training stops once ``monitor`` has not improved by at least ``tol`` (relative
    to the last value that did) for ``patience`` epochs in a row: skorch's
    ``EarlyStopping(threshold_mode="rel")``, where ``MLPRegressor``'s ``tol`` is
    absolute. With ``restore_best`` the weights of the epoch with the lowest
    ``monitor`` are put back when training ends. A non-finite
    training or validation loss stops the fit with a :class:`FloatingPointError`.
    """

    def __init__(self, monitor="train_loss", patience=10, tol=1e-4, restore_best=False):
        self.monitor = monitor
        self.patience = patience
        self.tol = tol
        self.restore_best = restore_best

    def initialize(self):
        self.on_train_begin(None)
        return self

    def on_train_begin(self, net, **kwargs):
        self.best_ = np.inf  # lowest value seen: its weights are the ones restored
        self.reference_ = np.inf  # last value that improved by at least tol
        self.misses_ = 0
        self.best_state_ = None
        self.converged_ = False

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        for key in ("train_loss", "valid_loss"):
            if key in row and not np.isfinite(row[key]):
                raise FloatingPointError(
                    f"The {key.replace('_', ' ')} became {row[key]} at epoch "
                    f"{len(net.history)}: training diverged. Lower learning_rate_init, "
                    "or scale the input (e.g. with StandardScaler or MinMaxScaler)."
                )
        if self.monitor not in row:  # partial_fit holds out no validation data
            return
        value = row[self.monitor]
        if value < self.best_:
            self.best_ = value
            if self.restore_best:
                self.best_state_ = copy.deepcopy(net.module_.state_dict())
        if not np.isfinite(self.reference_) or value < self.reference_ - self.tol * abs(
            self.reference_
        ):
            self.reference_ = value
            self.misses_ = 0
            return
        self.misses_ += 1
        if self.misses_ >= self.patience:
            self.converged_ = True
            raise KeyboardInterrupt  # skorch's way to end the fit loop early

    def on_train_end(self, net, **kwargs):
        if self.restore_best and self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)


class LinearDecay(Callback):
    """Decays the learning rate linearly to zero over the minibatch updates of one fit.

    The rate of update ``t`` (counted from 0) of ``total_steps`` is
    ``lr * (1 - t / total_steps)``. A fixed budget of updates spent this way ends closer
    to a minimum than the same budget at a constant rate (Li, Yumer & Ramanan, 2020).
    ``total_steps`` is set before each fit; with ``total_steps=None`` (``partial_fit``)
    the rate stays at ``lr``. The optimiser's rate is ``lr`` again when training ends.
    """

    def __init__(self, total_steps=None):
        self.total_steps = total_steps

    def initialize(self):
        self.step_ = 0
        return self

    def on_train_begin(self, net, **kwargs):
        self.step_ = 0

    def _set_lr(self, net, lr):
        for group in net.optimizer_.param_groups:
            group["lr"] = lr

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if not training or not self.total_steps:
            return
        self._set_lr(net, net.lr * max(0.0, 1.0 - self.step_ / self.total_steps))
        self.step_ += 1

    def on_train_end(self, net, **kwargs):
        self._set_lr(net, net.lr)


class TrainingSnapshot:
    """What training changes in a fitted skorch net, saved to put back after a failure.

    Continued training (warm start, ``partial_fit``) runs on the estimator's own net, so
    that no call pays for a deep copy of it (network, optimiser state and history: as
    costly as a small ``partial_fit`` step). Training changes only
    the module's parameters and buffers (updated in place), the optimiser's state and
    the history (epochs appended at its end); callbacks reset their own state when
    training begins. This saves the first two as copies and the history's length, and
    :meth:`restore` puts them back.
    """

    def __init__(self, net):
        self.net = net
        self.module_state = {
            name: value.detach().clone() for name, value in net.module_.state_dict().items()
        }
        self.optimizer_state = copy.deepcopy(net.optimizer_.state_dict())
        self.n_epochs = len(net.history)

    def restore(self):
        net = self.net
        with torch.no_grad():
            net.module_.load_state_dict(self.module_state)
        net.optimizer_.load_state_dict(self.optimizer_state)
        del net.history[self.n_epochs :]


class AutoEncoderNet(SkipRedundantModeSwitch, NeuralNet):
    """The skorch net of a plain autoencoder: the module returns ``(codes, output)``
    and the loss is the reconstruction error of ``output`` against the clean input.

    With ``mixed_precision=True`` the forward pass of training runs under bfloat16
    autocast (on any device: bfloat16 needs no loss scaling); its outputs are cast
    back to float32 before the loss, and evaluation stays in float32.
    """

    def __init__(self, *args, mixed_precision=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.mixed_precision = mixed_precision

    def get_default_callbacks(self):
        # skorch's table, with colour codes even in files, gives way to one line per
        # epoch with its number of N and the time left
        return [
            (name, ProgressLog()) if name == "print_log" else (name, callback)
            for name, callback in super().get_default_callbacks()
        ]

    def infer(self, x, **fit_params):
        if not (self.mixed_precision and self.module_.training):
            return super().infer(x, **fit_params)
        device_type = torch.device(self.device).type
        with torch.autocast(device_type=device_type, dtype=torch.bfloat16):
            out = super().infer(x, **fit_params)
        if isinstance(out, tuple):
            return tuple(o.float() for o in out)
        return out.float()

    def get_dataset(self, X, y=None):
        if isinstance(X, torch.utils.data.Dataset):
            return X
        return RowDataset(X)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        codes, output = y_pred
        return self.criterion_(output, y_true.to(output.device))
