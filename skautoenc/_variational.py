"""The variational autoencoder: a generative model trained on the evidence lower bound."""

import math
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils import check_random_state, check_scalar
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.sparsefuncs import mean_variance_axis
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d
from skorch.callbacks import PassthroughScoring
from skorch.utils import to_tensor

from ._base import BaseAutoEncoder
from ._compat import Interval, StrOptions, _fit_context
from ._docstrings import fill_doc
from ._losses import NegativeELBO, gaussian_log_density
from ._modules import image_channels_and_size, reparameterise
from ._net import AutoEncoderNet
from ._network import (
    MIN_OUTPUT_LOG_VAR,
    ConditionalVariationalModule,
    VariationalModule,
    build_parts,
    check_image_shape,
    check_parts,
    encoder_conditions,
    encoder_width,
)
from ._parallel import refuse_own_rows
from ._runtime import warn_at_caller
from ._validation import check_float32_range, check_unit_interval

#: Fixed draws of eps (common random numbers, drawn at fit time) behind ``score_samples``.
N_SCORE_SAMPLES = 32
#: The first of them serve the validation loss of early stopping, computed every epoch:
#: it only ranks the epochs, which a few fixed draws do alike (the same draws every epoch,
#: so the noise does not change between them), at a fraction of the cost of all 32.
N_VALIDATION_SAMPLES = 4

#: The largest magnitude of the data a Gaussian VAE is fitted on: its networks start at
#: the scale of standardised data, and on the digits' pixels scaled to 0-255 training
#: diverged in its first epoch (tests/test_variational.py) where scaled pixels train.
MAX_GAUSSIAN_MAGNITUDE = 100.0

#: Importance samples pushed through the decoder at once by ``log_likelihood``.
_IMPORTANCE_CHUNK = 64


def _nanvar(X):
    """Variance of each column of a dense ``X``, NaN (missing values) left out; NaN for
    a column with no value."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        return np.nanvar(X, axis=0)


class VariationalNet(AutoEncoderNet):
    """The skorch net of a VAE: the module returns ``(mu, log_var, output)`` and the
    criterion (:class:`~skautoenc._losses.NegativeELBO`) combines the reconstruction
    term and the KL term (:meth:`VariationalMLP.elbo_terms`). Both terms are recorded
    per batch in the history (``train_reconstruction``, ``train_kl``) and averaged per
    epoch."""

    def elbo_terms(self, y_pred, y_true):
        """Per-sample Monte Carlo ``E_q[-log p(x|z)]`` and ``KL(q(z|x) || p(z))``."""
        return self.module_.elbo_terms(to_tensor(y_true, device=self.device), *y_pred)

    def infer(self, x, **fit_params):
        if not self.module_.training and "eps" not in fit_params:  # the validation loss
            fit_params["eps"] = self.module_.score_eps[:N_VALIDATION_SAMPLES, None, :]
        return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        reconstruction, kl = self.elbo_terms(y_pred, y_true)
        if training:  # skorch's training step: the two terms recorded as they are computed
            self.history.record_batch("train_reconstruction", reconstruction.mean().item())
            self.history.record_batch("train_kl", kl.mean().item())
        return self.criterion_(reconstruction, kl)

    def get_default_callbacks(self):
        callbacks = list(super().get_default_callbacks())
        terms = [
            (name, PassthroughScoring(name=name, on_train=True))
            for name in ("train_reconstruction", "train_kl")
        ]
        at = [name for name, _ in callbacks].index("print_log")  # printed with the rest
        return callbacks[:at] + terms + callbacks[at:]


@fill_doc
class VariationalAutoEncoder(BaseAutoEncoder):
    """Variational autoencoder (VAE): a generative model with a Gaussian latent code.

    The encoder maps ``x`` to a Gaussian posterior ``q(z|x) = N(mu(x), diag sigma^2(x))``
    over ``n_components`` latent variables; the decoder maps ``z`` to the parameters
    of ``p(x|z)``; the prior is ``p(z) = N(0, I)``. Encoder and decoder are trained
    together by maximising the evidence lower bound (ELBO) on ``log p(x)``::

        L(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z)),
        KL   = -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)   (closed form),

    where the expectation is estimated with ``n_mc_samples`` reparameterised samples
    ``z = mu + sigma * eps``, ``eps ~ N(0, I)``. The training loss is
    ``-E_q[log p(x|z)] + beta * KL``, averaged over the samples of a batch.

    :meth:`transform` returns ``mu(x)``; :meth:`inverse_transform` the mean of
    ``p(x|z)``; :meth:`sample` draws new data; :meth:`score_samples` and :meth:`score`
    give the ELBO and :meth:`log_likelihood` a tighter importance-sampled estimate of
    ``log p(x)``, all in nats.

    Read more in the :ref:`User Guide <variational>`.

    Parameters
    ----------
    n_components : int, default=32
        Number of latent variables: the number of features :meth:`transform` returns.
        A VAE switches off latent variables it does not need (their posterior stays at
        the prior, with zero KL: see ``kl_curve_``), so this is an upper bound on the
        dimensions used rather than a bottleneck to tune closely; the default leaves
        room for larger data (see :ref:`variational` for the measurements).
    {network}
    hidden_layer_sizes : array-like of int or int, default=(256,)
        Widths of the encoder's hidden layers, from the input towards the code. The
        decoder uses them in reverse order. ``()`` gives linear encoder and decoder.
    likelihood : {"auto", "bernoulli", "gaussian"}, default="auto"
        The decoder's distribution ``p(x|z)``. ``"bernoulli"``:
        ``log p(x|z) = sum_i x_i log y_i + (1 - x_i) log(1 - y_i)`` with
        ``y = sigmoid(decoder(z))``, for data in [0, 1] (e.g. pixel intensities after
        ``MinMaxScaler``); it is a normalised log-probability for binary data, and the
        usual cross-entropy surrogate for grey levels. ``"gaussian"``:
        ``N(x; decoder(z), diag sigma_x^2)`` for real-valued data, where the
        per-feature variances ``sigma_x^2`` are learned with the network (the same for
        every sample; initialised to the variances of the training data and floored
        at 1e-6), so the ELBO is a proper log-density (in nats, per sample, for the
        scale of ``X`` as given: it changes by ``-sum_i log c_i`` when feature ``i``
        is multiplied by ``c_i``). Standardise real-valued data first (e.g. with
        ``StandardScaler``): the encoder, like any MLP, needs inputs of moderate
        scale. ``"auto"`` picks ``"bernoulli"`` when the training data lies in
        [0, 1] and ``"gaussian"`` otherwise.
    n_mc_samples : int, default=1
        Number ``L`` of reparameterised samples of ``z`` per training sample and step.
    beta : float, default=1.0
        Weight of the KL term in the training loss. ``1`` is the VAE of Kingma &
        Welling; larger values give a smoother, more disentangled latent space at the
        cost of reconstruction (the beta-VAE). Scores always report the true ELBO
        (``beta = 1``).
    conditional : bool or {{"classes", "values"}}, default=False
        Learn ``p(x | y)``, a model of ``X`` given a condition ``y`` for each sample (a
        conditional VAE, Sohn et al.), instead of ``p(x)``. ``fit(X, y)`` then needs
        ``y``, the decoder ``p(x | z, y)`` gets the conditions after the code, and
        :meth:`sample` draws data for the conditions it is given. ``"classes"``: ``y``
        holds class labels, one-hot encoded inside (``classes_``). ``"values"``: ``y``
        holds numeric conditions, one or several per sample, standardised inside.
        ``True`` tells them apart as scikit-learn does
        (:func:`~sklearn.utils.multiclass.type_of_target`): binary or multiclass labels
        are classes, continuous values are values. :meth:`transform` needs no labels
        either way (see Notes). ``False``: ``y`` is ignored, and Pipelines that pass
        ``y`` to every step work as with any transformer.
    {activation}
    {solver}
    learning_rate_init : float, default=1e-3
        Initial learning rate. The rate of Kingma & Welling's experiments.
    {learning_rate}
    {alpha}
    {batch_size}
    {max_iter}
    early_stopping : bool or "auto", default="auto"
        ``"auto"``: True from 1,000 training samples on, False below (as
        ``HistGradientBoostingRegressor`` does from 10,000). True: hold out
        ``validation_fraction`` of the training data and stop when the validation loss (the
        negative ELBO with the first 4 of the fixed draws of :meth:`score_samples`) has not
        improved by ``tol`` for ``n_iter_no_change`` epochs; the weights of the best epoch
        are restored. Without early stopping, training stops when the training loss plateaus
        in the same sense.
    {validation_fraction}
    {n_iter_no_change}
    {tol}
    warm_start : bool, default=False
        Continue training the fitted network (and its optimiser state) for ``max_iter``
        more epochs on the next call to ``fit``. The architecture, likelihood,
        ``n_mc_samples``, ``beta`` and optimiser settings of the first fit are kept.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, the validation split, the training
        draws of ``eps`` and the fixed draws behind :meth:`score_samples`. The global
        torch seed is neither used nor changed.
    {missing_values}
    {runtime_settings}

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the torch module. Its history
        holds ``train_reconstruction`` and ``train_kl`` for every epoch and batch.
    likelihood_ : {"bernoulli", "gaussian"}
        The likelihood used.
    {n_iter_}
    loss_curve_ : list of float
        Training loss (negative beta-weighted ELBO, mean per sample) at each epoch.
    reconstruction_curve_ : list of float
        The reconstruction term ``E_q[-log p(x|z)]`` at each epoch, in nats per
        sample (mean over the epoch's training batches).
    kl_curve_ : list of float
        The KL term ``KL(q(z|x) || p(z))`` at each epoch, in nats per sample. A KL
        near zero means the posterior has collapsed onto the prior: the codes carry
        no information about ``x``. ``loss_curve_ = reconstruction_curve_ + beta *
        kl_curve_``.
    {best_loss_}
    {validation_scores_}
    {best_validation_score_}
    conditions_ : {{"classes", "values"}}
        What ``y`` holds, for a conditional model only.
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted, for a model conditioned on classes only. Conditions
        are one-hot vectors in this order (the ONNX decoder's ``conditions`` input too).
    class_count_ : ndarray of shape (n_classes,)
        Training samples of each class (summed over the calls of ``partial_fit``).
    class_prior_ : ndarray of shape (n_classes,)
        The share of each class in the training data: the ``p(y)`` with which
        :meth:`score_samples` without ``y`` and :meth:`sample` without ``y`` marginalise.
    n_conditions_ : int
        The width of the encoded conditions the decoder gets: ``n_classes``, or the
        number of numeric conditions (conditional model only).
    {device_}
    {n_features_in_}
    {feature_names_in_}

    See Also
    --------
    skautoenc.AutoEncoder : The deterministic autoencoder.
    sklearn.decomposition.FactorAnalysis : A linear-Gaussian latent variable model.
    sklearn.mixture.GaussianMixture : A density model whose ``score`` is also a
        mean log-likelihood per sample.

    Notes
    -----
    :meth:`score_samples` must give the same value for a sample whatever the other
    rows passed with it, and the same value on every call. It therefore estimates the
    expectation with 32 draws of ``eps`` fixed at fit time (common random numbers,
    shared by all samples) rather than with fresh noise. The draws are a scrambled
    Sobol design mapped to N(0, I) (randomised quasi-Monte Carlo), whose mean ELBO
    varies less between seeds than that of independent draws (see :ref:`variational`).
    The validation loss of early stopping, computed after every epoch, uses the first
    4 of these draws: it only has to rank the epochs.

    :meth:`log_likelihood` is the importance-weighted bound of Burda et al. with
    ``K`` samples from ``q(z|x)``: ``log 1/K sum_k p(x, z_k) / q(z_k|x)``, which is at
    least the ELBO in expectation and tends to ``log p(x)`` as ``K`` grows; use it to
    compare models.

    A conditional model (``conditional``) maximises the conditional bound
    ``log p(x | y) >= E_q[log p(x | z, y)] - KL(q(z | x, y) || p(z))``. Conditioned on
    classes, its encoder sees the class too, as in Sohn et al.: the code is then free to
    hold what the class does not say (the style of a digit), where an encoder of ``x``
    alone kept encoding the class, and samples drawn for a class came out as other
    digits more often (the user guide has the measurements). :meth:`transform` still
    needs no labels: without ``y`` it gives the mean of ``sum_k p(y_k | x) q(z | x,
    y_k)``, with the model's own ``p(y | x)``. Numeric conditions cannot be summed
    over, so their encoder is ``q(z | x)``. Without ``y``, :meth:`score_samples` of a
    model conditioned on classes is the bound
    ``log sum_k p(y_k) exp(ELBO(x | y_k)) <= log p(x)``, with ``p(y) = class_prior_``.

    References
    ----------
    D. P. Kingma and M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014,
    arXiv:1312.6114.

    Y. Burda, R. Grosse and R. Salakhutdinov, "Importance Weighted Autoencoders",
    ICLR 2016, arXiv:1509.00519.

    I. Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a Constrained
    Variational Framework", ICLR 2017.

    K. Sohn, H. Lee and X. Yan, "Learning Structured Output Representation using Deep
    Conditional Generative Models", NeurIPS 2015.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skautoenc import VariationalAutoEncoder
    >>> X = load_digits().data / 16.0
    >>> vae = VariationalAutoEncoder(n_components=8, max_iter=5, random_state=0)
    >>> codes = vae.fit_transform(X)
    >>> codes.shape
    (1797, 8)
    >>> vae.likelihood_
    'bernoulli'
    >>> new_digits = vae.sample(3, random_state=0)
    >>> new_digits.shape
    (3, 64)
    >>> bool(vae.score(X) < 0)  # mean ELBO in nats: a bound on log p(x)
    True

    Conditioned on the digit's class, it draws the digits asked for:

    >>> digits = load_digits()
    >>> cvae = VariationalAutoEncoder(n_components=8, conditional=True, max_iter=5,
    ...                               random_state=0).fit(X, digits.target)
    >>> cvae.classes_
    array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    >>> sevens = cvae.sample(4, y=7, random_state=0)
    >>> sevens.shape
    (4, 64)
    >>> cvae.score_samples(X[:2], digits.target[:2]).shape  # bounds on log p(x | y)
    (2,)
    """

    _parameter_constraints: dict = {
        **BaseAutoEncoder._parameter_constraints,
        "likelihood": [StrOptions({"auto", "bernoulli", "gaussian"})],
        "n_mc_samples": [Interval(Integral, 1, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "conditional": ["boolean", StrOptions({"classes", "values"})],
    }

    _net_class = VariationalNet

    def __init__(
        self,
        n_components=32,
        *,
        encoder="mlp",
        decoder=None,
        image_shape=None,
        conv_channels=(16, 32, 64),
        hidden_layer_sizes=(256,),
        likelihood="auto",
        n_mc_samples=1,
        beta=1.0,
        conditional=False,
        activation="relu",
        solver="adam",
        learning_rate_init=1e-3,
        learning_rate="linear",
        alpha=0.0,
        batch_size=128,
        max_iter="auto",
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        random_state=None,
        missing_values=None,
        device="cpu",
        mixed_precision=False,
        n_jobs="auto",
        verbose=0,
        **kwargs,
    ):
        self.n_components = n_components
        self.encoder = encoder
        self.decoder = decoder
        self.image_shape = image_shape
        self.conv_channels = conv_channels
        self.hidden_layer_sizes = hidden_layer_sizes
        self.likelihood = likelihood
        self.n_mc_samples = n_mc_samples
        self.beta = beta
        self.conditional = conditional
        self.activation = activation
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.missing_values = missing_values
        self.device = device
        self.mixed_precision = mixed_precision
        self.n_jobs = n_jobs
        self.verbose = verbose
        self._store_routed(kwargs)

    # ------------------------------------------------------------------ fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the VAE on ``X``: a model of ``p(x)``, or of ``p(x | y)`` if conditional.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. A scipy sparse matrix or a ``numpy.memmap`` is converted to
            float32 one minibatch at a time, never as a whole.
        y : array-like of shape (n_samples,) or (n_samples, n_conditions), default=None
            The condition of each sample, for a ``conditional`` model: class labels, or
            numeric values. Ignored when ``conditional=False``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._guarded_fit(X, partial=False, y=y)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, classes=None):
        """Train for one pass of minibatch updates over ``X`` (and its conditions ``y``).

        As :meth:`AutoEncoder.partial_fit <skautoenc.AutoEncoder.partial_fit>`: the
        first call initialises the network, later calls continue training it, each call
        is one epoch over all of ``X``, and ``max_iter``, ``early_stopping`` and
        ``warm_start`` do not apply.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            One chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_conditions), default=None
            The conditions of the chunk's samples, for a ``conditional`` model.
        classes : array-like of shape (n_classes,), default=None
            Every class label that ``y`` may hold, for the first call of a model
            conditioned on classes, whose first chunk may not hold them all (as in
            scikit-learn's incremental classifiers). By default, the labels of the
            first chunk. Later calls may leave it out.

        Returns
        -------
        self : object
            The estimator, trained on one more chunk.
        """
        return self._guarded_fit(X, partial=True, y=y, classes=classes)

    def _fit_conditions(self, y, n_samples, reuse, partial, classes=None):
        # a warm start or a partial_fit keeps the first fit's network, conditional or not
        if reuse:
            kind = getattr(self, "conditions_", None)
            if kind is None:
                return None
        else:
            for name in _CONDITION_ATTRIBUTES:  # a new fit forgets a previous one's
                self.__dict__.pop(name, None)
            if not self.conditional:
                return None
            kind = None
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None: "
                f"with conditional={self.conditional!r} it learns p(x | y), and y holds the "
                "condition of each row of X (class labels, or numeric values). Pass "
                "fit(X, y), or set conditional=False for a model of X alone."
            )
        refuse_own_rows(self)
        if kind is None:
            kind = self._condition_kind(y)
        if kind == "classes":
            return self._fit_classes(y, n_samples, reuse, partial, classes)
        if classes is not None:
            raise ValueError("classes is for a model conditioned on classes; this one is "
                             "conditioned on numeric values (conditions_='values').")
        return self._fit_values(y, n_samples, reuse)

    def _condition_kind(self, y):
        """What ``y`` holds: ``"classes"`` or ``"values"``."""
        if self.conditional in ("classes", "values"):
            return self.conditional
        target = type_of_target(y, input_name="y")
        if target in ("binary", "multiclass"):
            return "classes"
        if target in ("continuous", "continuous-multioutput", "multilabel-indicator"):
            return "values"
        if target == "unknown":
            raise ValueError(
                f"Unknown label type: y holds {np.asarray(y).dtype} values that are "
                "neither class labels nor numbers. Pass labels as ints or strings, or "
                "numeric conditions as floats."
            )
        raise ValueError(
            f"y is of type {target!r}: conditional=True takes class labels (one column) "
            "or numeric values (one or several columns). Set conditional='values' for "
            "numeric conditions, or conditional='classes' for labels."
        )

    def _fit_classes(self, y, n_samples, reuse, partial, classes):
        y = _labels(y, n_samples, "y")
        self.conditions_ = "classes"
        if reuse and classes is not None and not np.array_equal(
            np.unique(classes), self.classes_
        ):
            raise ValueError(f"classes={classes!r} is not the classes_ of the first fit, "
                             f"{self.classes_!r}.")
        if not reuse:
            found = np.unique(y)
            known = found if classes is None else np.unique(classes)
            unknown = np.setdiff1d(found, known)
            if unknown.size:
                raise ValueError(f"y holds labels {unknown.tolist()} that are not in "
                                 f"classes={known.tolist()}.")
            self.classes_ = known
            self.n_conditions_ = len(known)
            self._condition_shift = np.zeros(len(known))
            self._condition_scale = np.ones(len(known))
        index = self._class_index(y, "y")
        counts = np.bincount(index, minlength=len(self.classes_)).astype(np.float64)
        if reuse and partial:  # a stream: the prior of all the chunks so far
            counts = self.class_count_ + counts
        self.class_count_ = counts
        self.class_prior_ = counts / counts.sum()
        return _one_hot(index, len(self.classes_))

    def _class_index(self, labels, name):
        """The index in ``classes_`` of each of ``labels``; an unknown label is refused."""
        # a dict, not searchsorted: labels of another type (str for int classes) are
        # unknown labels, not a TypeError from numpy's comparison
        lookup = {label: i for i, label in enumerate(self.classes_.tolist())}
        index = [lookup.get(label, -1) for label in labels.tolist()]
        index = np.asarray(index, dtype=np.intp)
        if index.size and index.min() < 0:
            unknown = sorted({str(v) for v, i in zip(labels.tolist(), index) if i < 0})
            raise ValueError(
                f"{name} holds labels {unknown} that this model "
                f"was not fitted on; its classes_ are {self.classes_.tolist()}. To train on "
                "labels that come later in a stream, pass them all to the first "
                "partial_fit (classes=...)."
            )
        return index

    def _fit_values(self, y, n_samples, reuse):
        values = _values(y, n_samples, "y")
        self.conditions_ = "values"
        if reuse and values.shape[1] != self.n_conditions_:
            raise ValueError(
                f"y has {values.shape[1]} conditions per sample, but this model was "
                f"fitted on {self.n_conditions_}."
            )
        if not reuse:
            self.n_conditions_ = values.shape[1]
            # the decoder sees standardised conditions, whatever their units
            scale = values.std(axis=0)
            self._condition_shift = values.mean(axis=0)
            self._condition_scale = np.where(scale > 0, scale, 1.0)
        return values.astype(np.float32)

    def _check_training_data(self, X, facts, reuse):
        if reuse:
            likelihood = self.likelihood_
        elif self.likelihood == "auto":
            likelihood = "bernoulli" if facts.unit_interval else "gaussian"
        else:
            likelihood = self.likelihood
        self.likelihood_ = likelihood
        if likelihood == "bernoulli":
            check_unit_interval(facts, "The Bernoulli likelihood",
                                alternative="likelihood='gaussian'")
        elif not reuse and max(abs(facts.low), abs(facts.high)) > MAX_GAUSSIAN_MAGNITUDE:
            # a warning, not an error: such data can train (scikit-learn's checks fit
            # values near 100), but often diverge, and the cause is known before training
            warn_at_caller(
                f"X ranges over [{facts.low:.4g}, {facts.high:.4g}]: scale it before "
                "fitting a VariationalAutoEncoder, with StandardScaler (a Gaussian "
                "likelihood), or to [0, 1] with MinMaxScaler or X / X.max() for "
                "intensities such as pixels (a Bernoulli likelihood). Its networks start "
                "at the scale of standardised data, and on values beyond "
                f"{MAX_GAUSSIAN_MAGNITUDE:g} training often diverges or gives a poor model.",
                UserWarning,
            )
        if reuse:
            return
        # A Gaussian decoder starts from each feature's variance in the data: the
        # right scale for unscaled data, where a unit variance would be far off.
        self._output_log_var_init = None
        if likelihood == "gaussian":
            # NaN (missing values) left out; a feature never observed starts at the floor
            variance = (
                mean_variance_axis(X, axis=0)[1] if sp.issparse(X) else _nanvar(X)
            )
            self._output_log_var_init = np.log(
                np.maximum(np.nan_to_num(variance), np.exp(MIN_OUTPUT_LOG_VAR))
            )

    def _bernoulli_input(self):
        return self.likelihood_ == "bernoulli"

    def _build_module(self, n_features):
        n_conditions = getattr(self, "n_conditions_", 0) if self._is_conditional() else 0
        condition_encoder = n_conditions > 0 and self._encoder_sees_conditions()
        encoder, decoder = build_parts(self, n_features, variational=True,
                                       n_conditions=n_conditions,
                                       condition_encoder=condition_encoder)
        image_shape = check_image_shape(self.image_shape, n_features)
        layout = encoder_conditions(self.encoder, image_shape) if condition_encoder else None
        check_parts(encoder, decoder, n_features, self.n_components, variational=True,
                    n_conditions=n_conditions,
                    n_encoder_inputs=encoder_width(n_features, n_conditions, layout,
                                                   image_shape))
        settings = dict(
            likelihood=self.likelihood_,
            n_mc_samples=self.n_mc_samples,
            n_score_samples=N_SCORE_SAMPLES,
            output_log_var_init=self._output_log_var_init,
            fill_missing=self._allows_nan(),
        )
        if not n_conditions:
            return VariationalModule(encoder, decoder, n_features, self.n_components,
                                     **settings)
        pixels = 1
        if layout == "channels":
            _, height, width = image_channels_and_size(image_shape)
            pixels = height * width
        module = ConditionalVariationalModule(
            encoder, decoder, n_features, self.n_components, n_conditions,
            encoder_layout=layout, image_pixels=pixels, **settings)
        module.set_condition_scaling(self._condition_shift, self._condition_scale)
        if self.conditions_ == "classes":
            module.set_class_prior(self.class_prior_)
        return module

    def _encoder_sees_conditions(self):
        """Whether the encoder of a conditional model is ``q(z | x, y)``: for classes,
        which transform sums over without labels; numeric conditions cannot be summed
        over, so their encoder sees x alone (the user guide compares the two encoders)."""
        return self.conditions_ == "classes"

    def _is_conditional(self):
        """Whether the fitted model (or the one being fitted) has conditions."""
        return getattr(self, "conditions_", None) is not None

    def _net_params(self):
        return {
            "criterion": NegativeELBO,
            "criterion__beta": self.beta,
            # No weight decay on biases nor on the Gaussian decoder's log-variances.
            "optimizer__param_groups": [
                ("*bias", {"weight_decay": 0.0}),
                ("output_log_var", {"weight_decay": 0.0}),
            ],
        }

    def _after_fit(self, X):
        super()._after_fit(X)
        if getattr(self, "conditions_", None) == "classes":
            # partial_fit moves the prior: the labels-free codes weigh the classes by it
            self.net_.module_.set_class_prior(self.class_prior_)
        history = self.net_.history
        self.reconstruction_curve_ = (
            [float(v) for v in history[:, "train_reconstruction"]] if len(history) else []
        )
        self.kl_curve_ = [float(v) for v in history[:, "train_kl"]] if len(history) else []

    # ---------------------------------------------------------------- inference
    def _encode(self, batch):
        return self._module().encode(batch)[0]

    def _encode_given(self, rows):
        module = self._module()
        batch, conditions = module.split(rows)
        return module.encode(batch, conditions=conditions)[0]

    def transform(self, X, y=None):
        """Encode ``X`` as the mean ``mu(x)`` of the posterior ``q(z|x)``.

        Deterministic: no noise is drawn. A model conditioned on classes encodes with
        ``q(z | x, y)``: given ``y``, the mean for those classes; without ``y`` (in a
        Pipeline), the mean of ``sum_k p(y_k | x) q(z | x, y_k)``, with ``p(y | x)`` the
        model's own, from the class prior and the ELBO given each class (4 of the fixed
        draws of :meth:`score_samples`): no labels needed. A model conditioned on numeric
        values encodes with ``q(z | x)`` and ignores ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.
        y : array-like of shape (n_samples,), default=None
            The classes of the samples, for a model conditioned on classes.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            The posterior means, in the float dtype of ``X``.
        """
        if y is None or getattr(self, "conditions_", None) != "classes":
            if y is not None:
                self._conditions(y, _num_rows(y), "encode X")  # refused without conditions
            return super().transform(X)
        check_is_fitted(self)
        X = self._validate_input(X)
        conditions = self._conditions(y, X.shape[0], "encode X")
        return self._batched(self._encode_given, X, X.dtype, conditions=conditions)

    def _validate_scoring_data(self, X):
        check_is_fitted(self)
        # _batched checks the range, and warns about data outside [0, 1] (Bernoulli)
        return self._validate_input(X)

    def _conditions(self, y, n_rows, what, one_for_all=False):
        """The encoded conditions ``y`` of ``n_rows`` rows (float32), or None where ``y``
        is None. ``one_for_all``: one condition (a label, or one row of values) stands
        for all the rows. ``what`` the method does, for the messages."""
        if not self._is_conditional():
            if y is not None:
                raise ValueError(
                    f"y was given, but this {type(self).__name__} was fitted without "
                    "conditions (conditional=False): it models X alone. To "
                    f"{what} given y, fit it with conditional=True and y."
                )
            return None
        if y is None:
            return None
        if self.conditions_ == "classes":
            labels = np.asarray(y)
            if one_for_all and labels.ndim == 0:
                labels = np.repeat(labels, n_rows)
            index = self._class_index(_labels(labels, n_rows, "y"), "y")
            return _one_hot(index, self.n_conditions_)
        values = np.asarray(y)
        width = self.n_conditions_
        if one_for_all and (values.ndim == 0 or values.shape in ((width,), (1, width))):
            values = np.broadcast_to(values.reshape(1, -1), (n_rows, width))
        values = _values(values, n_rows, "y")
        if values.shape[1] != width:
            raise ValueError(f"y has {values.shape[1]} conditions per sample, but this "
                             f"model was fitted on {width}.")
        return values.astype(np.float32)

    def _missing_conditions(self, what):
        return ValueError(
            f"This {type(self).__name__} is conditioned on numeric values "
            f"(conditions_='values'): to {what}, pass y, the conditions of the rows."
        )

    def _given_conditions(self, fn, X, y, what, draws):
        """``fn`` (rows -> per-row values in nats) over ``X`` given the conditions ``y``;
        without ``y``, for a model conditioned on classes, marginalised over the classes
        with the prior ``class_prior_``: ``log sum_k p(y_k) exp(fn(x, y_k))``."""
        conditions = self._conditions(y, X.shape[0], what)
        if self._is_conditional() and conditions is None:
            if self.conditions_ == "values":
                raise self._missing_conditions(what)
            # the classes one after the other, each on the whole chunk: the same
            # memory per call as one class
            fn = self._over_classes(fn)
        return self._batched(fn, X, X.dtype, draws=draws, conditions=conditions)

    def _over_classes(self, fn):
        seen = np.flatnonzero(self.class_prior_ > 0)  # a class of prior 0 adds nothing
        n_classes = self.n_conditions_

        def marginal(batch):
            one_hot = torch.eye(n_classes, device=batch.device)
            log_prior = torch.as_tensor(np.log(self.class_prior_[seen]),
                                        dtype=batch.dtype, device=batch.device)
            per_class = torch.stack([
                fn(torch.cat([batch, one_hot[k].expand(len(batch), n_classes)], dim=1))
                for k in seen
            ])
            return torch.logsumexp(per_class + log_prior[:, None], dim=0)

        return marginal

    def _elbo(self, batch):
        module = self._module()
        # evaluation mode: the fixed draws score_eps
        reconstruction, kl = module.elbo_terms(batch, *module(batch))
        return -(reconstruction + kl)

    def score_samples(self, X, y=None):
        """Evidence lower bound (ELBO) of each sample, in nats.

        ``E_q[log p(x|z)] - KL(q(z|x) || p(z))``, a lower bound on ``log p(x)``,
        whatever ``beta`` was used for training. The expectation is estimated with 32
        draws of ``eps`` fixed at fit time (a scrambled Sobol design) and shared by
        all samples, so the result is deterministic and does not depend on the other
        rows of ``X``. For a conditional model given ``y``, the conditional bound
        ``E_q[log p(x|z,y)] - KL(q(z|x) || p(z)) <= log p(x | y)``; without ``y``, a
        model conditioned on classes gives the bound on ``log p(x)`` that sums over the
        classes, ``log sum_k p(y_k) exp(ELBO(x | y_k))`` with ``p(y) = class_prior_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score. In [0, 1] for a Bernoulli likelihood.
        y : array-like of shape (n_samples,) or (n_samples, n_conditions), default=None
            The conditions of the samples, for a conditional model only.

        Returns
        -------
        elbo : ndarray of shape (n_samples,)
            The ELBO of each sample, in the float dtype of ``X``. Higher is better.
        """
        X = self._validate_scoring_data(X)
        return self._given_conditions(self._elbo, X, y, "score samples", N_SCORE_SAMPLES)

    def score(self, X, y=None):
        """Mean ELBO per sample, in nats (higher is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.
        y : array-like of shape (n_samples,) or (n_samples, n_conditions), default=None
            The conditions of the samples: the mean of the conditional bound, for a
            conditional model. Ignored by a model of ``X`` alone, so that model
            selection can pass targets to it.

        Returns
        -------
        score : float
            Mean of :meth:`score_samples`.
        """
        check_is_fitted(self)
        return float(np.mean(self.score_samples(X, y if self._is_conditional() else None)))

    def log_likelihood(self, X, y=None, n_importance_samples=1000, random_state=None):
        """Importance-sampled estimate of ``log p(x)`` for each sample, in nats.

        The importance-weighted bound of Burda et al. (2016)::

            log p(x) ~ log 1/K sum_k p(x|z_k) p(z_k) / q(z_k|x),   z_k ~ q(z|x),

        computed with ``logsumexp``. It lies below ``log p(x)`` in expectation, is at
        least as high as the ELBO, and tightens as ``K = n_importance_samples`` grows.
        The same ``K`` draws of ``eps`` serve every sample, so for a fixed
        ``random_state`` each sample's value does not depend on the other rows.

        For a conditional model given ``y``, the same estimate of ``log p(x | y)``;
        without ``y``, a model conditioned on classes sums over them as
        :meth:`score_samples` does.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score. In [0, 1] for a Bernoulli likelihood.
        y : array-like of shape (n_samples,) or (n_samples, n_conditions), default=None
            The conditions of the samples, for a conditional model only.
        n_importance_samples : int, default=1000
            Number ``K`` of samples from ``q(z|x)`` per data sample.
        random_state : int, RandomState instance or None, default=None
            Determines the draws of ``eps`` (with numpy; torch's global generator is
            not used). Pass an int for reproducible results.

        Returns
        -------
        log_likelihood : ndarray of shape (n_samples,)
            Estimated ``log p(x)`` of each sample, in the float dtype of ``X``.
        """
        X = self._validate_scoring_data(X)
        check_scalar(n_importance_samples, "n_importance_samples", Integral, min_val=1)
        rng = check_random_state(random_state)
        eps = rng.standard_normal((n_importance_samples, self.n_components))
        eps = torch.as_tensor(eps, dtype=torch.float32, device=self.device_)
        log_k = math.log(n_importance_samples)

        def importance_weighted(rows):
            module = self._module()
            batch, conditions = module.split(rows)
            mu, log_var = module.encode(batch, conditions=conditions)
            parts = []
            for start in range(0, n_importance_samples, _IMPORTANCE_CHUNK):
                z = reparameterise(mu, log_var, eps[start : start + _IMPORTANCE_CHUNK, None])
                log_w = (
                    module.log_likelihood(module.decoder_output(z, conditions), batch)
                    + gaussian_log_density(z, 0.0, torch.zeros_like(z))
                    - gaussian_log_density(z, mu, log_var)
                )
                parts.append(torch.logsumexp(log_w, dim=0))
            return torch.logsumexp(torch.stack(parts), dim=0) - log_k

        draws = min(n_importance_samples, _IMPORTANCE_CHUNK)
        return self._given_conditions(importance_weighted, X, y, "estimate log p(x)",
                                      draws)

    def inverse_transform(self, X, y=None):
        """Decode codes back to input space: the mean of ``p(x | z)`` (given ``y``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, as returned by :meth:`transform`.
        y : array-like of shape (n_samples,) or (n_samples, n_conditions), default=None
            The conditions to decode the codes with: required by a conditional model,
            whose decoder is ``p(x | z, y)``.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The mean of ``p(x | z)``: probabilities for a Bernoulli likelihood.
        """
        X = self._validate_codes(X)
        conditions = self._conditions(y, X.shape[0], "decode codes")
        if self._is_conditional() and conditions is None:
            raise ValueError(
                f"This {type(self).__name__} decodes p(x | z, y): pass the conditions "
                "of the codes, inverse_transform(codes, y)."
            )
        return self._batched(lambda codes: self._module().decode(codes), X, X.dtype,
                             samples=False, conditions=conditions)

    def sample(self, n_samples=1, y=None, random_state=None):
        """Generate data from the model: ``z ~ N(0, I)``, decoded to input space.

        Returns the mean of ``p(x|z)`` for each draw of ``z`` (probabilities in
        [0, 1] for a Bernoulli likelihood), not a draw from it: the means are the
        usual picture of what the model generates, free of pixel noise. A conditional
        model decodes each draw with its condition, from ``y``; without ``y``, a model
        conditioned on classes draws each sample's class from ``class_prior_`` first
        (samples of ``p(x)``).

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.
        y : label, array-like of shape (n_samples,) or (n_samples, n_conditions), \
default=None
            The conditions to generate for (a conditional model only): one condition
            (a class label, or one sample's numeric values) for all the samples, or one
            per sample. ``sample(10, y=3)`` draws ten samples of class 3;
            ``sample(20, y=np.repeat([0, 1], 10))`` ten of each.
        random_state : int, RandomState instance or None, default=None
            Determines the draws of ``z`` (and of the classes, without ``y``), with
            numpy; torch's global generator is neither used nor changed. Pass an int
            for reproducible output.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            Generated samples, as float64.
        """
        check_is_fitted(self)
        check_scalar(n_samples, "n_samples", Integral, min_val=1)
        conditions = self._conditions(y, n_samples, "sample", one_for_all=True)
        rng = check_random_state(random_state)
        z = rng.standard_normal((n_samples, self.n_components))
        if self._is_conditional() and conditions is None:
            if self.conditions_ == "values":
                raise self._missing_conditions("sample")
            labels = rng.choice(self.n_conditions_, size=n_samples, p=self.class_prior_)
            conditions = _one_hot(labels, self.n_conditions_)
        return self._batched(lambda codes: self._module().decode(codes), z, np.float64,
                             samples=False, conditions=conditions)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = bool(self.conditional)
        return tags


#: What a conditional fit sets, and a new fit without conditions forgets.
_CONDITION_ATTRIBUTES = ("conditions_", "classes_", "class_count_", "class_prior_",
                         "n_conditions_", "_condition_shift", "_condition_scale")


def _labels(y, n_rows, name):
    """Class labels ``y`` as a 1-D array of ``n_rows``."""
    labels = column_or_1d(check_array(y, ensure_2d=False, dtype=None, input_name=name),
                          warn=True)
    if len(labels) != n_rows:
        raise ValueError(f"{name} has {len(labels)} labels, but there are {n_rows} rows: "
                         "give one label per row.")
    return labels


def _values(y, n_rows, name):
    """Numeric conditions ``y`` as a float 2-D array of ``n_rows``, finite in float32."""
    values = check_array(y, ensure_2d=False, dtype=[np.float64, np.float32],
                         input_name=name)
    if values.ndim == 1:
        values = values[:, None]
    if len(values) != n_rows:
        raise ValueError(f"{name} has {len(values)} rows of conditions, but there are "
                         f"{n_rows} rows: give one condition per row.")
    return check_float32_range(values, name)


def _num_rows(y):
    """The number of conditions in ``y`` (one for a scalar)."""
    return max(1, len(y)) if np.ndim(y) else 1


def _one_hot(index, n_classes):
    """Rows of the identity of ``n_classes``, float32, one per entry of ``index``."""
    one_hot = np.zeros((len(index), n_classes), dtype=np.float32)
    one_hot[np.arange(len(index)), index] = 1.0
    return one_hot
