"""The feature-extraction autoencoder."""

from numbers import Integral, Real

from ._base import BaseAutoEncoder
from ._compat import Interval, StrOptions
from ._docstrings import fill_doc
from ._network import AutoEncoderModule, build_parts, check_parts
from ._pretraining import pretrain_net
from ._runtime import warn_at_caller
from ._validation import check_unit_interval


def resolve_reconstruction_loss(loss, facts, previous=None):
    """Pick the reconstruction loss for data of :class:`DataFacts` ``facts`` and check
    that the data suit it.

    ``"auto"`` means ``"bce"`` when every value lies in [0, 1] and ``"mse"`` otherwise.
    On a warm start, ``previous`` (the fitted loss) is kept.
    """
    unit = facts.unit_interval
    if previous is not None:
        loss = previous
    elif loss == "auto":
        loss = "bce" if unit else "mse"
        if not unit and facts.low >= 0:
            # non-negative data beyond 1 are often intensities left unscaled (0-255,
            # 0-16): say which loss that chose, where a user sees it
            warn_at_caller(
                f"X ranges over [{facts.low:.4g}, {facts.high:.4g}], outside [0, 1], so "
                "loss='auto' chose the squared error (loss='mse'). For intensities such "
                "as pixels, scale X to [0, 1] (MinMaxScaler, or X / X.max()) to train "
                "with the Bernoulli cross-entropy; pass loss='mse' to keep this choice "
                "without this warning.",
                UserWarning,
            )
    if loss == "bce" and not unit:
        check_unit_interval(
            facts, "The Bernoulli cross-entropy loss (loss='bce')", alternative="loss='mse'"
        )
    return loss


@fill_doc
class AutoEncoder(BaseAutoEncoder):
    """Feature-extraction autoencoder: an hourglass MLP trained to reproduce its input.

    The encoder maps ``n_features -> hidden_layer_sizes -> n_components``; the decoder
    mirrors it back to ``n_features``. The network is trained by minibatch
    backpropagation to minimise the reconstruction error, summed over features and
    averaged over the samples of a batch. :meth:`transform` returns the codes (the
    activations of the narrow middle layer, which are linear), :meth:`inverse_transform`
    decodes codes back to input space.

    Read more in the :ref:`User Guide <autoencoder>`.

    Parameters
    ----------
    {n_components}
    {network}
    {hidden_layer_sizes}
    {loss}
    {activation}
    {solver}
    learning_rate_init : float, default=2e-3
        Initial learning rate. Twice the usual Adam rate: with the linear decay it reached a
        lower held-out reconstruction error within the default budget than 1e-3 (see the
        user guide, "Training defaults").
    {learning_rate}
    {alpha}
    {batch_size}
    {max_iter}
    early_stopping : bool or "auto", default="auto"
        ``"auto"``: True from 1,000 training samples on, False below (as
        ``HistGradientBoostingRegressor`` does from 10,000). True: hold out
        ``validation_fraction`` of the training data and stop when the validation loss has
        not improved by ``tol`` for ``n_iter_no_change`` epochs; the weights of the best
        epoch are restored. Without early stopping, training stops when the training loss
        plateaus in the same sense.
    {validation_fraction}
    {n_iter_no_change}
    {tol}
    warm_start : bool, default=False
        Continue training the fitted network (and its optimiser state) for ``max_iter``
        more epochs on the next call to ``fit``, instead of starting afresh. The
        architecture and optimiser settings of the first fit are kept.
    {random_state}
    {pretraining}

    {pretraining_settings}
    {missing_values}
    {runtime_settings}

    Attributes
    ----------
    {net_}
    {loss_}
    {n_iter_}
    loss_curve_ : list of float
        Training loss at each epoch.
    {best_loss_}
    {validation_scores_}
    {best_validation_score_}
    {pretraining_curves_}
    {device_}
    {n_features_in_}
    {feature_names_in_}

    See Also
    --------
    sklearn.decomposition.PCA : The linear counterpart.
    sklearn.neural_network.BernoulliRBM : A single-layer generative feature extractor.

    References
    ----------
    G. E. Hinton and R. R. Salakhutdinov, "Reducing the dimensionality of data with
    neural networks", Science 313(5786), 504-507, 2006.

    Y. Bengio, P. Lamblin, D. Popovici and H. Larochelle, "Greedy layer-wise training
    of deep networks", Advances in Neural Information Processing Systems 19, 2007.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skautoenc import AutoEncoder
    >>> X = load_digits().data / 16.0
    >>> ae = AutoEncoder(n_components=8, max_iter=5, random_state=0)
    >>> codes = ae.fit_transform(X)
    >>> codes.shape
    (1797, 8)
    >>> ae.inverse_transform(codes).shape
    (1797, 64)

    Pretrain a stack of RBMs, then fine-tune:

    >>> ae = AutoEncoder(n_components=8, hidden_layer_sizes=(32,), activation="logistic",
    ...                  pretraining="rbm", pretraining_max_iter=2, max_iter=2,
    ...                  random_state=0).fit(X)
    >>> [len(curve) for curve in ae.pretraining_curves_]
    [2, 2]
    """

    _parameter_constraints: dict = {
        **BaseAutoEncoder._parameter_constraints,
        "loss": [StrOptions({"auto", "bce", "mse"})],
        "pretraining": [None, StrOptions({"rbm", "autoencoder"})],
        "pretraining_max_iter": [Interval(Integral, 1, None, closed="left")],
        "pretraining_learning_rate": [None, Interval(Real, 0, None, closed="neither")],
        "pretraining_batch_size": [None, Interval(Integral, 1, None, closed="left")],
        "cd_k": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_components=32,
        *,
        encoder="mlp",
        decoder=None,
        image_shape=None,
        conv_channels=(16, 32, 64),
        hidden_layer_sizes=(256,),
        loss="auto",
        activation="relu",
        solver="adam",
        learning_rate_init=2e-3,
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
        pretraining=None,
        pretraining_max_iter=10,
        pretraining_learning_rate=None,
        pretraining_batch_size=None,
        cd_k=1,
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
        self.loss = loss
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
        self.pretraining = pretraining
        self.pretraining_max_iter = pretraining_max_iter
        self.pretraining_learning_rate = pretraining_learning_rate
        self.pretraining_batch_size = pretraining_batch_size
        self.cd_k = cd_k
        self.missing_values = missing_values
        self.device = device
        self.mixed_precision = mixed_precision
        self.n_jobs = n_jobs
        self.verbose = verbose
        self._store_routed(kwargs)

    #: The activation the network applies to the encoder's output (a hook: the sparse
    #: penalty reads codes in (0, 1)).
    _code_activation = "identity"
    #: Whether a row with missing entries is encoded in two passes (a hook: the imputer's
    #: network encodes in one, :class:`~skautoenc._network.AutoEncoderModule`).
    _refills_missing = True

    def _check_training_data(self, X, facts, reuse):
        if self.pretraining is not None and not reuse:
            if self._allows_nan():
                raise ValueError(  # greedy pretraining reads raw rows
                    f"pretraining={self.pretraining!r} does not take missing values: use "
                    "pretraining=None with missing_values=np.nan, or impute X first."
                )
            if self.encoder != "mlp" or self.decoder not in (None, "mlp"):
                raise ValueError(
                    f"pretraining={self.pretraining!r} stacks the layers of the built-in "
                    "MLP (encoder='mlp'); it has no layer-wise scheme for "
                    f"encoder={_name(self.encoder)}, decoder={_name(self.decoder)}. Use "
                    "pretraining=None with that network."
                )
        previous = self.loss_ if reuse else None
        self.loss_ = resolve_reconstruction_loss(self.loss, facts, previous)

    def _pretrain(self, net, data):
        """Greedy layer-wise pretraining of a freshly initialised ``net``, as
        ``pretraining`` says (:func:`~skautoenc._pretraining.pretrain_net`); sets
        ``pretraining_curves_``."""
        self.pretraining_curves_ = pretrain_net(
            net,
            data,
            self.pretraining,
            max_iter=self.pretraining_max_iter,
            learning_rate=self.pretraining_learning_rate,
            batch_size=self.pretraining_batch_size or self.batch_size,
            cd_k=self.cd_k,
            solver=self.solver,
            verbose=self.verbose,
        )

    def _build_module(self, n_features):
        encoder, decoder = build_parts(self, n_features)
        check_parts(encoder, decoder, n_features, self.n_components)
        return AutoEncoderModule(
            encoder,
            decoder,
            n_features,
            code_activation=self._code_activation,
            output_activation="logistic" if self.loss_ == "bce" else "identity",
            fill_missing=self._allows_nan(),
            refills_missing=self._allows_nan() and self._refills_missing,
        )

    def _net_params(self):
        return {"criterion__loss": self.loss_, "criterion__missing": self._allows_nan()}


def _name(spec):
    """How a network parameter reads in a message: a family's name or a class's."""
    return repr(spec) if spec is None or isinstance(spec, str) else spec.__name__
