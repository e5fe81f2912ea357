"""The estimator base class that every skautoenc estimator extends, and its hooks.

An estimator *holds* a skorch :class:`~skorch.NeuralNet` (``net_``) that it builds in
``fit``. ``fit`` is three steps: one validation pass over ``X`` that returns a record of
facts about it (:class:`~skautoenc._validation.DataFacts`: its size, its range, whether
any entry is observed), which :meth:`BaseAutoEncoder._check_training_data` turns into the fitted
settings that depend on the data (a loss, a likelihood); one hook,
:meth:`BaseAutoEncoder._build_module`, that builds the network from them through the
network contract (:mod:`skautoenc._network`); and one training call. What differs
between the estimators is supplied by those hooks and by ``_net_class``,
:meth:`BaseAutoEncoder._net_params`, :meth:`BaseAutoEncoder._pretrain`,
:meth:`BaseAutoEncoder._after_fit`, :meth:`BaseAutoEncoder._encode`,
:meth:`BaseAutoEncoder._reconstruct`, :meth:`BaseAutoEncoder._bernoulli_input` and the
class attribute ``_auto_max_epochs``. No estimator overrides another private method of
this class, and nothing here reaches into a network's layers: the base talks to its
module through ``encode``, ``decode``, ``forward`` and ``set_fill_values`` only.

The rest of the machinery lives next to this file, one concept per module:
``_network`` (the contract, the wrapper modules and the routed ``encoder__``
parameters), ``_modules`` (the built-in families, ``"mlp"`` and ``"conv"``),
``_validation`` (checks of the data), ``_data`` (datasets and batch iterators),
``_inference`` (chunked inference, the same for every row), ``_net``
(the skorch net subclass, its callbacks and the snapshot that undoes a failed fit),
``_progress`` (what ``verbose`` prints), ``_parallel`` (what a fit does differently on
one process of a ``torch.distributed`` job), ``_runtime`` (threads, subnormal numbers and
warnings around each call), ``_persistence`` (the net as plain data), ``_pretraining``,
``_losses`` and ``_docstrings`` (shared docstring entries). The public
``skautoenc.onnx`` (the ONNX converters) exports a fitted network with ``torch.onnx``
through the same contract.
"""

import math
import threading
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    validate_data,
)
from skorch.dataset import ValidSplit

from . import __version__
from ._compat import Interval, StrOptions, _fit_context
from ._data import RowDataset, TensorBatchIterator
from ._inference import batched
from ._losses import ReconstructionLoss
from ._net import (
    AutoEncoderNet,
    ConvergenceMonitor,
    LinearDecay,
    TrainingSnapshot,
)
from ._network import RoutedParams
from ._parallel import current_job, data_parallel
from ._persistence import FORMAT_VERSION, check_format, net_from_state, net_to_state
from ._runtime import compute_settings, fast_bfloat16, resolve_device, warn_at_caller
from ._validation import (
    check_float32_range,
    check_rows_observed,
    check_training_data,
    is_memory_mapped,
    observed_sums,
)

_FLOAT_DTYPES = [np.float64, np.float32]

#: ``max_iter="auto"`` trains for about this many minibatch updates ...
AUTO_STEPS = 5000
#: ... in at least this many epochs, and at most ``_auto_max_epochs`` (a class attribute).
AUTO_MIN_EPOCHS = 10
#: ``early_stopping="auto"`` holds out a validation split from this many samples on.
AUTO_EARLY_STOPPING_MIN_SAMPLES = 1000

#: Where the documentation is published; the HTML repr links each estimator's page there
#: (the pages are those that docs/api.rst generates into gen_modules/).
DOCS_URL = "https://skautoenc.readthedocs.io/en/stable/"

#: Training seeds torch's process-wide generator (inside ``fork_rng``, which restores it
#: afterwards). Fits running in threads of one process (joblib's threading backend, Dask
#: workers with several threads) would draw from it in turn and lose reproducibility, so
#: seeded training holds this lock: such fits run one at a time, each with its own draws.
_TORCH_RNG_LOCK = threading.RLock()


class BaseAutoEncoder(
    RoutedParams,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
    metaclass=ABCMeta,
):
    """Base class of the skautoenc estimators. Not for direct use.

    Subclasses set ``_net_class`` and implement :meth:`_build_module`; they may
    extend :meth:`_net_params` and :meth:`_check_training_data`. Their ``__init__`` takes
    ``**kwargs`` (the ``encoder__`` and ``decoder__`` parameters) and passes them to
    ``_store_routed``.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        # an instance passes here, for build_parts to say that the class is wanted
        "encoder": [StrOptions({"mlp", "conv"}), type, torch.nn.Module],
        "decoder": [None, StrOptions({"mlp", "conv"}), type, torch.nn.Module],
        "image_shape": [None, "array-like"],
        "conv_channels": ["array-like"],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "solver": [StrOptions({"adam", "sgd"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "linear"})],
        "max_iter": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "device": [str],  # "cuda:1" and "mps" too: _resolve_device checks it
        "mixed_precision": ["boolean", StrOptions({"auto"})],
        "missing_values": [None, "nan"],
        "n_jobs": [
            StrOptions({"auto"}),
            Interval(Integral, None, -1, closed="right"),
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
        "verbose": ["verbose"],
    }

    _net_class = AutoEncoderNet
    # the "?" of the HTML repr (Jupyter) links the estimator's API page
    _doc_link_module = "skautoenc"
    _doc_link_template = DOCS_URL + "gen_modules/{estimator_module}.{estimator_name}.html"
    #: The most epochs ``max_iter="auto"`` stands for: on a few hundred samples, 5,000
    #: updates would take thousands of epochs and overfit (user guide, "Training
    #: defaults"). A hook: an estimator whose objective needs its updates sets its own.
    _auto_max_epochs = 200

    @abstractmethod
    def _build_module(self, n_features):
        """Hook: the (untrained) network for rows of ``n_features``, built through the
        network contract (:mod:`skautoenc._network`) from the parameters and the fitted
        settings that :meth:`_check_training_data` set. Persistence calls it again to
        rebuild a saved network before loading its weights."""

    def _net_params(self):
        """Extra keyword arguments for the skorch net (criterion, etc.)."""
        return {}

    def _check_training_data(self, X, facts, reuse):
        """Check ``X`` against the objective; set data-dependent fitted attributes.

        ``facts`` is the :class:`~skautoenc._validation.DataFacts` of ``X`` (its size, its
        range, whether any entry is observed), from the one validation pass of ``fit``.
        ``reuse`` is True when training continues a fitted net (warm start or
        ``partial_fit``): settings taken from the first fit's data must then be kept.
        """

    # ------------------------------------------------------------------ fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder to reproduce ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. A scipy sparse matrix or a ``numpy.memmap`` is converted to
            float32 one minibatch at a time, never as a whole.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._guarded_fit(X, partial=False, y=y)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train for one pass of minibatch updates over ``X``.

        The first call initialises the network; later calls continue from the current
        weights and optimiser state (also after ``fit``) and require the same number of
        features. ``max_iter``, ``early_stopping``, ``n_iter_no_change``, ``tol`` and
        ``warm_start`` do not apply: each call is exactly one epoch over ``X``, on all
        of it (no validation split), and the caller decides when to stop. A diverging
        loss still raises. Use it to train on data that arrives in chunks, or that does
        not fit in memory (e.g. with ``dask_ml.wrappers.Incremental``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            One chunk of training data.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The estimator, trained on one more chunk.
        """
        return self._guarded_fit(X, partial=True, y=y)

    def _guarded_fit(self, X, partial, y=None, **condition_params):
        # A failed fit must leave a previously fitted estimator as it was: the
        # attributes are put back on failure, and so is the state of a net that was
        # being trained further (warm start, partial_fit). A new fit builds a new net.
        previous = self.__dict__.copy()
        reuse = hasattr(self, "net_") and (partial or self.warm_start)
        snapshot = None
        job = current_job()  # None outside a torch.distributed job
        try:
            X, facts = self._validate_training_data(X, reset=not reuse, partial=partial,
                                                    job=job)
            conditions = self._conditions_of_job(y, X.shape[0], reuse, partial, job,
                                                 condition_params)
            if reuse:
                snapshot = TrainingSnapshot(self.net_)
            with compute_settings(self.n_jobs):
                interrupted = self._fit(X, facts, reuse=reuse, partial=partial, job=job,
                                        conditions=conditions)
        except BaseException:
            if snapshot is not None:
                snapshot.restore()
            self.__dict__.clear()
            self.__dict__.update(previous)
            raise
        if interrupted:
            # skorch swallows Ctrl+C and returns; the estimator keeps what it learnt,
            # and the interrupt goes on, so that a loop, a search or a notebook cell
            # stops as it would with scikit-learn's own estimators
            raise KeyboardInterrupt(interrupted)
        return self

    def _fit_conditions(self, y, n_samples, reuse, partial, **params):
        """Hook: the conditions of the training rows, from ``y``, as a float32 array of
        ``(n_samples, n_conditions)`` that the network gets appended to each row; None
        (the default: ``y`` is ignored) for a model of ``X`` alone. ``reuse`` as in
        :meth:`_check_training_data`; ``params`` are those of a ``partial_fit`` that
        takes more (``classes``)."""
        return None

    def _conditions_of_job(self, y, n_samples, reuse, partial, job, params):
        """:meth:`_fit_conditions`; in a data-parallel ``job``, compared between the
        ranks, which fail together (as :meth:`_validate_training_data`)."""
        try:
            conditions, error = self._fit_conditions(y, n_samples, reuse, partial,
                                                     **params), None
        except (ValueError, TypeError) as exc:
            if job is None:
                raise
            conditions, error = None, exc
        if job is not None:
            job.agree_on_conditions(conditions, error)
        return conditions

    def _resolve_early_stopping(self, n_samples):
        """Whether a fit on ``n_samples`` samples holds out a validation split.

        ``early_stopping="auto"``: from :data:`AUTO_EARLY_STOPPING_MIN_SAMPLES` samples
        on, where a tenth of the data is enough to see overfitting.
        """
        if self.early_stopping == "auto":
            return n_samples >= AUTO_EARLY_STOPPING_MIN_SAMPLES
        return bool(self.early_stopping)

    def _steps_per_epoch(self, n_samples, early_stopping):
        n_train = n_samples * (1 - self.validation_fraction if early_stopping else 1)
        return max(1, math.ceil(n_train / self.batch_size))

    def _epochs(self, n_samples, early_stopping=None, steps=None):
        """The epochs one ``fit`` runs: ``max_iter``, or the number ``"auto"`` stands for.

        ``"auto"``: enough epochs for about ``steps`` (by default :data:`AUTO_STEPS`)
        minibatch updates on ``n_samples`` samples (less the validation split), at least
        :data:`AUTO_MIN_EPOCHS` and at most ``_auto_max_epochs``.
        """
        if self.max_iter != "auto":
            return self.max_iter
        if early_stopping is None:
            early_stopping = self._resolve_early_stopping(n_samples)
        steps_per_epoch = self._steps_per_epoch(n_samples, early_stopping)
        epochs = math.ceil((AUTO_STEPS if steps is None else steps) / steps_per_epoch)
        return max(AUTO_MIN_EPOCHS, min(self._auto_max_epochs, epochs))

    def _hidden_layer_sizes(self):
        return _positive_ints(self.hidden_layer_sizes, "hidden_layer_sizes")

    def _conv_channels(self):
        channels = _positive_ints(self.conv_channels, "conv_channels")
        if not channels:
            raise ValueError("conv_channels must name at least one layer, e.g. (32, 64).")
        return channels

    def _resolve_device(self, job=None):
        # in a data-parallel job, "auto" and "cuda" are each rank's own GPU
        return resolve_device(self.device, None if job is None else job.local_rank)

    def _fit(self, X, facts, reuse, partial=False, job=None, conditions=None):
        """Train on validated ``X`` (whose :class:`DataFacts` are ``facts``); return a
        message if training was interrupted.

        The message is that of the ``KeyboardInterrupt`` that :meth:`fit` raises once
        the estimator holds the weights reached so far; ``None`` otherwise.
        """
        if not reuse:
            # decided once, by the first fit's data: the net's validation split
            self.do_early_stopping_ = self._resolve_early_stopping(facts.n_samples)
        early_stopping = self.do_early_stopping_
        if early_stopping and not partial:
            self._check_validation_split(facts.n_samples)
        if facts.all_missing:
            raise ValueError("X has no observed entry: every value is missing (NaN).")
        self._check_training_data(X, facts, reuse)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        if reuse:
            # continued training draws new shuffles and noise, reproducibly: offset the
            # seed by the number of epochs already run
            seed = (seed + len(self.net_.history)) % np.iinfo(np.int32).max
        device = self.device_ if reuse else self._resolve_device(job)
        data = _training_dataset(X, device, conditions)
        devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
        epochs = self._epochs(facts.n_samples, early_stopping)
        with _TORCH_RNG_LOCK, torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            if reuse:
                net = self.net_  # trained in place: _guarded_fit rolls back a failure
            else:
                net = self._new_net(X, facts, data, device, seed, early_stopping, job)
            n_before = len(net.history)
            if job is None:
                converged = self._train(net, data, epochs, partial, facts.n_samples)
            else:
                # the same weights on every rank, and then draws of their own (noise,
                # dropout): rank 0 draws what a single process would
                job.broadcast_module(net.module_)
                torch.manual_seed(seed + job.rank)
                with data_parallel(net, job, seed):
                    converged = self._train(net, data, epochs, partial, facts.n_samples)
        interrupted = self._record(net, device, early_stopping, n_before, epochs, partial,
                                   converged)
        self._after_fit(X)
        return (
            "Training was interrupted (KeyboardInterrupt) after "
            f"{len(net.history) - n_before} complete epochs. The estimator keeps the "
            "weights reached so far; fit again with warm_start=True (or call partial_fit) "
            "to continue."
        ) if interrupted else None

    def _check_validation_split(self, n_samples):
        n_valid = int(np.ceil(self.validation_fraction * n_samples))
        if n_valid < 1 or n_samples - n_valid < 1:
            raise ValueError(
                f"early_stopping with validation_fraction={self.validation_fraction} "
                f"leaves no training or no validation sample with n_samples={n_samples}; "
                "use more samples, another validation_fraction or early_stopping=False."
            )

    def _new_net(self, X, facts, data, device, seed, early_stopping, job=None):
        """A new, initialised (and pretrained, where asked) net for the training data."""
        # the network is built, and checked on one small batch, before any training: a
        # module that does not keep the contract fails here
        net = self._make_net(self._build_module(facts.n_features), device, seed,
                             early_stopping)
        net.initialize()
        if self._allows_nan():
            totals, counts = observed_sums(X)
            if job is not None:
                totals, counts = job.sum_over_rows(totals, counts)
            means = np.divide(totals, counts, out=np.zeros_like(totals), where=counts > 0)
            net.module_.set_fill_values(torch.as_tensor(means, dtype=torch.float32))
        self._build_params = self.get_params(deep=False)
        self._pretrain(net, data)
        return net

    def _train(self, net, data, epochs, partial, n_samples):
        """The one training call: ``epochs`` epochs of ``fit``, or the one epoch of
        ``partial_fit`` on all of ``data`` at ``learning_rate_init``. Returns whether the
        convergence monitor saw a plateau."""
        callbacks = dict(net.callbacks_)
        schedule = callbacks.get("lr_schedule")
        callbacks["print_log"].total_epochs = None if partial else epochs
        if partial:
            train_split, net.train_split = net.train_split, None
            if schedule is not None:
                schedule.total_steps = None  # one epoch at learning_rate_init
            try:
                net.partial_fit(data, epochs=1)
            finally:
                net.train_split = train_split
        elif epochs > 0:
            if schedule is not None:
                steps = self._steps_per_epoch(n_samples, self.do_early_stopping_)
                schedule.total_steps = epochs * steps
            net.partial_fit(data, epochs=epochs)
        return callbacks["convergence"].converged_

    def _record(self, net, device, early_stopping, n_before, epochs, partial, converged):
        """Set the fitted attributes from the trained ``net``; return whether training
        was interrupted (Ctrl+C) before its epochs ran out or it converged."""
        if len(net.history) > n_before and "train_loss" not in net.history[-1]:
            # skorch ends training quietly on KeyboardInterrupt, possibly mid-epoch:
            # keep the weights, drop the unfinished epoch from the record
            net.history.pop()
            interrupted = True
        else:
            interrupted = not partial and not converged and (
                len(net.history) - n_before < epochs
            )
        # max_iter="auto" is a budget that training is meant to spend: only an explicit
        # number of epochs that runs out before a plateau is worth a warning
        explicit = self.max_iter != "auto"
        if explicit and not interrupted and not partial and epochs > 0 and not converged:
            warn_at_caller(
                f"Maximum iterations ({epochs}) reached and the optimization "
                "hasn't converged yet.",
                ConvergenceWarning,
            )
        self.net_ = net
        self.device_ = device
        self.n_iter_ = len(net.history)
        self.loss_curve_ = [float(row["train_loss"]) for row in net.history]
        if early_stopping:
            self.validation_scores_ = [
                -float(row["valid_loss"]) for row in net.history if "valid_loss" in row
            ]
            self.best_validation_score_ = max(self.validation_scores_, default=None)
            self.best_loss_ = None
        else:
            self.best_loss_ = min(self.loss_curve_, default=None)
        self._n_features_out = self.n_components
        return interrupted

    def _pretrain(self, net, data):
        """Hook: initialise a freshly built ``net`` before training, from the training
        ``data`` (a :class:`~skautoenc._data.RowDataset`). Nothing here; estimators with
        greedy layer-wise pretraining do it (:meth:`AutoEncoder._pretrain`)."""

    def _after_fit(self, X):
        """Hook: set fitted attributes that need the trained net, after every ``fit`` and
        ``partial_fit`` (also one that Ctrl+C ended early), on the validated ``X``."""

    def _make_net(self, module, device, seed, early_stopping):
        """A new skorch net around the torch ``module``, from the current parameters.

        ``early_stopping`` (a bool: ``"auto"`` resolved) says whether the net holds out
        a validation split.
        """
        monitor = ConvergenceMonitor(
            monitor="valid_loss" if early_stopping else "train_loss",
            patience=self.n_iter_no_change,
            tol=self.tol,
            restore_best=early_stopping,
        )
        callbacks = [("convergence", monitor)]
        if self.learning_rate == "linear":
            callbacks.append(("lr_schedule", LinearDecay()))
        if self.solver == "adam":
            # torch's fused Adam: one kernel per parameter instead of a dozen per-tensor
            # operations, the same update to rounding; measured in docs/performance_notes.md
            optimizer, optimizer_params = torch.optim.Adam, {"optimizer__fused": True}
        else:
            optimizer = torch.optim.SGD
            optimizer_params = {"optimizer__momentum": 0.9, "optimizer__nesterov": True}
        params = dict(
            module=module,
            criterion=ReconstructionLoss,
            optimizer=optimizer,
            lr=self.learning_rate_init,
            optimizer__weight_decay=self.alpha,
            # The L2 penalty applies to weights, not to biases (as in MLPRegressor).
            optimizer__param_groups=[("*bias", {"weight_decay": 0.0})],
            batch_size=self.batch_size,
            max_epochs=1,  # unused: _fit always names the epochs (see _epochs)
            iterator_train=TensorBatchIterator,
            iterator_train__shuffle=True,
            iterator_valid=TensorBatchIterator,
            train_split=(
                ValidSplit(self.validation_fraction, random_state=seed)
                if early_stopping
                else None
            ),
            callbacks=callbacks,
            device=device,
            verbose=self.verbose,
            mixed_precision=(
                fast_bfloat16(device) if self.mixed_precision == "auto" else self.mixed_precision
            ),
            **optimizer_params,
        )
        params.update(self._net_params())
        return self._net_class(**params)

    def _validate_input(self, X, reset=False):
        """``validate_data`` for samples (dense or CSR) to encode or score.

        The range check (which also finds NaN and infinity) is left to :meth:`_batched`,
        which makes it on each chunk as it converts it to float32: one pass less over
        ``X`` on the way to the network.
        """
        return validate_data(
            self,
            X,
            dtype=_FLOAT_DTYPES,
            accept_sparse="csr",
            reset=reset,
            ensure_all_finite=False,  # _batched checks it
        )

    def _validate_training_data(self, X, reset, partial, job=None):
        """``validate_data`` for training samples, and the one pass over their values
        that checks them and returns their :class:`~skautoenc._validation.DataFacts`.

        ``fit`` needs two samples at least, as ``PCA`` does (one sample has nothing to
        learn a code from); ``partial_fit`` takes a chunk of any size. In a data-parallel
        ``job`` the ranks then compare their data: a failure on one rank fails them all,
        and the facts returned are those of all the ranks' rows."""
        try:
            X = validate_data(
                self,
                X,
                dtype=_FLOAT_DTYPES,
                accept_sparse="csr",
                reset=reset,
                ensure_all_finite=False,  # check_training_data checks it, in the same pass
                ensure_min_samples=1 if partial else 2,
            )
            facts, error = check_training_data(X, self, allow_nan=self._allows_nan()), None
        except (ValueError, TypeError) as exc:
            if job is None:
                raise
            facts, error = None, exc
        if job is not None:

            def holdout(n_samples):
                """The share of the rows held out for validation, for all the ranks'."""
                if partial:
                    return 0.0
                early = (self.do_early_stopping_ if not reset
                         else self._resolve_early_stopping(n_samples))
                return self.validation_fraction if early else 0.0

            facts = job.agree_on_data(X, facts, error, self.batch_size, holdout)
        return X, facts

    def _allows_nan(self):
        """Whether NaN entries are missing values (``missing_values=np.nan``)."""
        return self.missing_values is not None

    # ---------------------------------------------------------------- inference
    def _module(self):
        module = self.net_.module_
        if module.training:  # eval() walks every submodule: once, not per chunk
            module.eval()
        return module

    def _bernoulli_input(self):
        """Whether the model was trained with an objective defined only for data in
        [0, 1] (a hook: the VAE's is its Bernoulli likelihood)."""
        return getattr(self, "loss_", None) == "bce"

    def _warn_outside_unit_interval(self, low, high):
        warn_at_caller(
            f"X ranges over [{low:.4g}, {high:.4g}], but this {type(self).__name__} was "
            "trained with an objective for data in [0, 1]: its codes and scores for "
            "values outside that range mean little. Scale X as for training; a "
            "MinMaxScaler fitted on the training data gives held-out data outside "
            "[0, 1] unless it is created with clip=True.",
            UserWarning,
        )

    def _batched(self, fn, X, dtype, draws=1, samples=True, conditions=None):
        """Apply ``fn`` (tensor -> tensor) to ``X`` in batches of a fixed number of rows,
        without autograd, checking each chunk (:func:`~skautoenc._inference.batched`)."""
        return batched(self, fn, X, dtype, draws=draws, samples=samples,
                       conditions=conditions)

    def _encode(self, batch):
        """Hook: the codes of a float32 ``batch`` (a tensor on the device), no autograd."""
        return self._module().encode(batch)

    def _reconstruct(self, batch):
        """Hook: the reconstruction of a float32 ``batch``, decoded from its codes."""
        return self._module().decode(self._encode(batch))

    def transform(self, X):
        """Encode ``X`` into codes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            The codes, in the float dtype of ``X``.
        """
        check_is_fitted(self)
        X = self._validate_input(X)  # _batched checks the range
        return self._batched(self._encode, X, X.dtype)

    def inverse_transform(self, X):
        """Decode codes back to input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The decoder's output (its mean, for a Bernoulli output).
        """
        X = self._validate_codes(X)
        return self._batched(lambda z: self._module().decode(z), X, X.dtype, samples=False)

    def _validate_codes(self, X):
        """Codes to decode, checked: finite, float, of width ``n_components``."""
        check_is_fitted(self)
        X = check_float32_range(check_array(X, dtype=_FLOAT_DTYPES), "X")
        if X.shape[1] != self.n_components:
            raise ValueError(
                f"X has {X.shape[1]} features, but inverse_transform expects codes of "
                f"width n_components={self.n_components}."
            )
        return X

    def score_samples(self, X):
        """Negative squared reconstruction error of each sample.

        ``-sum_i (x_i - x_hat_i) ** 2`` with ``x_hat = inverse_transform(transform(x))``,
        whatever the training loss, so that models trained with different losses can be
        compared. Higher is better; low values flag samples unlike the training data.
        With ``missing_values=np.nan``, the sum runs over a sample's observed entries and
        is scaled by ``n_features`` over their number, so that scores of samples with
        more or fewer missing entries compare; a sample with none observed has no score
        (``ValueError``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = self._validate_input(X)  # _batched checks the range
        if not self._allows_nan():
            return self._batched(
                lambda b: -((self._reconstruct(b) - b) ** 2).sum(dim=1), X, X.dtype
            )
        check_rows_observed(X)

        def scores(batch):
            observed = ~torch.isnan(batch)
            error = torch.where(observed, self._reconstruct(batch) - batch, 0.0) ** 2
            return -error.sum(dim=1) * batch.shape[1] / observed.sum(dim=1).clamp(min=1)

        return self._batched(scores, X, X.dtype)

    def score(self, X, y=None):
        """Mean of :meth:`score_samples`: negative mean squared reconstruction error.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    # -------------------------------------------------------------- persistence
    def __getstate__(self):
        # The net is stored as plain data (numpy arrays, lists, dicts): its module's state
        # and the parameters it was built from, no torch object and no device in the
        # state, which pickle, joblib and skops.io all use. A user's module class is
        # stored by reference, as pickle stores any class.
        state = dict(super().__getstate__())
        if "net_" in state:
            state["net_"] = net_to_state(state["net_"], state.pop("_build_params"))
        state["_skautoenc_version"] = __version__
        state["_skautoenc_format"] = FORMAT_VERSION
        return state

    def __setstate__(self, state):
        state = dict(state)
        net_state = state.pop("net_", None)
        saved_version = state.pop("_skautoenc_version", None)
        # refused before anything is set: a newer or incompatible layout, named
        check_format(self, state.pop("_skautoenc_format", FORMAT_VERSION), saved_version)
        if saved_version != __version__ and (
            net_state is None or net_state.get("format") == FORMAT_VERSION
        ):
            warn_at_caller(
                f"This {type(self).__name__} was saved with skautoenc {saved_version} and "
                f"is loaded with skautoenc {__version__}; check its results, or refit.",
                UserWarning,
            )
        super().__setstate__(state)
        if net_state is not None:
            self.net_ = net_from_state(self, net_state, saved_version)
            self._build_params = net_state["build_params"]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = self._allows_nan()
        return tags


def _training_dataset(X, device, conditions=None):
    """The training rows of validated ``X`` as a :class:`~skautoenc._data.RowDataset`,
    with ``conditions`` (float32, a row per row of ``X``, or None) appended to them."""
    if sp.issparse(X) or is_memory_mapped(X):
        # converted to float32 one batch at a time
        conditions = None if conditions is None else torch.as_tensor(conditions)
        return RowDataset(X, conditions)
    # one float32 copy (half the size of float64 X), moved to the device once: slicing it
    # per batch is the fastest way to feed the network. Row-major: a minibatch of a
    # column-major copy (a DataFrame's values, a column selection) gathers its rows entry
    # by entry, several times slower. Conditions go in the same copy, as its last columns
    if conditions is None:
        X_float = np.ascontiguousarray(X, dtype=np.float32)
    else:
        X_float = np.empty((X.shape[0], X.shape[1] + conditions.shape[1]), np.float32)
        X_float[:, : X.shape[1]] = X
        X_float[:, X.shape[1] :] = conditions
    return RowDataset(torch.as_tensor(X_float, device=device))


def _positive_ints(value, name):
    """An int or a sequence of ints, as a tuple of positive ints (``name`` for errors)."""
    sizes = [value] if isinstance(value, Integral) else list(value)
    if not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
        raise ValueError(f"{name} must hold positive integers, got {value!r}.")
    return tuple(int(s) for s in sizes)
