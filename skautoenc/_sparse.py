"""The sparse autoencoder: a KL penalty keeps the mean activation of each code unit low."""

from numbers import Real

from ._autoencoder import AutoEncoder
from ._compat import Interval
from ._docstrings import fill_doc
from ._losses import sparsity_penalty
from ._net import AutoEncoderNet
from ._parallel import mean_of_rows


class _SparseNet(AutoEncoderNet):
    """Adds ``sparsity_weight * sparsity_penalty(codes)`` to the reconstruction loss.

    The penalty uses the mean activation of each code unit over the current
    minibatch, in training and in validation alike.
    """

    def __init__(self, *args, sparsity_target=0.05, sparsity_weight=3.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.sparsity_target = sparsity_target
        self.sparsity_weight = sparsity_weight

    def get_loss(self, y_pred, y_true, X=None, training=False):
        codes, _ = y_pred
        reconstruction = super().get_loss(y_pred, y_true, X=X, training=training)
        if self.sparsity_weight == 0:
            return reconstruction
        penalty = sparsity_penalty(codes, self.sparsity_target)
        return reconstruction + self.sparsity_weight * penalty


@fill_doc
class SparseAutoEncoder(AutoEncoder):
    r"""Sparse autoencoder: codes in (0, 1) whose units are rarely active.

    The code layer uses a sigmoid, so code ``j`` of a sample is an activation
    ``f_j(x)`` in (0, 1). Training minimises, on each minibatch of ``N`` samples,

    .. math::

        E = \frac{1}{N} \sum_{i=1}^N L(x_i, y_i)
            + \beta \sum_{j=1}^{n\_components} \mathrm{KL}(\rho \,\|\, \hat\rho_j),
        \qquad \hat\rho_j = \frac{1}{N} \sum_{i=1}^N f_j(x_i),

    .. math::

        \mathrm{KL}(\rho \,\|\, \hat\rho) = \rho \log \frac{\rho}{\hat\rho}
            + (1 - \rho) \log \frac{1 - \rho}{1 - \hat\rho},

    where ``y_i`` is the reconstruction of ``x_i``, ``rho`` is ``sparsity_target`` and
    ``beta`` is ``sparsity_weight``. The reconstruction loss ``L`` is **summed over the
    features** and **averaged over the samples** of the minibatch: for ``loss="mse"``,
    ``L(x, y) = ||x - y||^2``, and for ``loss="bce"`` the Bernoulli cross-entropy
    summed over features. This scaling fixes the meaning of ``beta``: it weighs the
    penalty against the reconstruction error of one sample. (Ng's notes use
    ``1/2 ||x - y||^2``, so their ``beta`` corresponds to ``2 beta`` here.) ``rho_hat``
    is clamped to ``[1e-6, 1 - 1e-6]`` so that the penalty stays finite.

    The penalty drives the average activation of every code unit towards ``rho``, so
    that each unit responds to few samples. This makes overcomplete codes
    (``n_components`` larger than the number of features) useful: sparsity, not a
    bottleneck, keeps the network from learning the identity.

    The network and its training are otherwise those of :class:`AutoEncoder`.

    Read more in the :ref:`User Guide <sparse>`.

    Parameters
    ----------
    n_components : int, default=32
        Number of code units: the number of features :meth:`transform` returns.
        Larger than ``n_features`` is allowed (an overcomplete code).
    {network}
    hidden_layer_sizes : array-like of int or int, default=(256,)
        Widths of the encoder's hidden layers, from the input towards the code. The
        decoder uses them in reverse order. ``()`` gives the classic single-layer
        sparse autoencoder.
    sparsity_target : float, default=0.05
        ``rho``, the desired mean activation of each code unit, in (0, 1).
    sparsity_weight : float, default=3.0
        ``beta``, the weight of the sparsity penalty (see the objective above).
        ``0`` trains an autoencoder with a sigmoid code layer and no penalty.
    {loss}
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden layers (the code layer always uses a sigmoid).
    {solver}
    learning_rate_init : float, default=1e-3
        Initial learning rate. The sparse model's ``alpha`` and ``max_iter`` were chosen at
        this rate.
    {learning_rate}
    alpha : float, default=3e-3
        L2 penalty on the weights (not the biases), applied as weight decay. Unlike
        :class:`AutoEncoder`, whose default is 0, the sparse model decays its weights
        by default, as Ng's sparse autoencoder does: without it the code activations
        spread less and less as training goes on, and the codes become worse features
        for a classifier. It costs some reconstruction error with large codes
        (``alpha=0`` suits reconstruction). The penalty weighs against the
        reconstruction loss, which is summed over the features: data with few features
        need less of it (see :ref:`sparse` for the measurements).
    batch_size : int, default=128
        Minibatch size. ``rho_hat`` is estimated on each minibatch, so very small
        batches give a noisy penalty.
    max_iter : int or "auto", default="auto"
        Maximum number of epochs (passes over the training data). ``0`` returns the network
        as initialised. ``"auto"``: as many epochs as make about 5,000 minibatch updates,
        ``ceil(5000 / ceil(n_train / batch_size))`` with ``n_train`` the samples left after
        the validation split, at least 10 and at most 1,000 (not 200 as for the other
        estimators: the sparse codes need their updates on small data too): 500 epochs for
        1,347 samples, 88 for 8,000, 12 for 64,000 and 10 from about 71,000 on. A budget of
        updates rather than of epochs suits small and large data alike; the user guide's
        "Training defaults" shows the measurements.
    early_stopping : bool or "auto", default="auto"
        ``"auto"``: True from 1,000 training samples on, False below (as
        ``HistGradientBoostingRegressor`` does from 10,000). True: hold out
        ``validation_fraction`` of the training data and stop when the validation loss (the
        objective ``E`` on the held-out data) has not improved by ``tol`` for
        ``n_iter_no_change`` epochs; the weights of the best epoch are restored. Without
        early stopping, training stops when the training loss plateaus in the same sense.
    {validation_fraction}
    {n_iter_no_change}
    {tol}
    warm_start : bool, default=False
        Continue training the fitted network (and its optimiser state) for ``max_iter``
        more epochs on the next call to ``fit``, instead of starting afresh. The
        architecture, the optimiser settings and the objective (``sparsity_target``,
        ``sparsity_weight``) of the first fit are kept.
    {random_state}
    {pretraining}

        For this model the code layer is logistic: with ``"rbm"`` its units are
        Bernoulli, and the sparsity penalty applies to the fine-tuning epochs only.

    {pretraining_settings}
    {missing_values}
    {runtime_settings}

    Attributes
    ----------
    mean_activation_ : ndarray of shape (n_components,)
        Mean activation of each code unit on the training data, after training: the
        sparsity obtained, to compare with ``sparsity_target``.
    {net_}
    {loss_}
    {n_iter_}
    loss_curve_ : list of float
        Training objective ``E`` (reconstruction plus penalty) at each epoch.
    best_loss_ : float or None
        Lowest training objective; ``None`` with early stopping.
    validation_scores_ : list of float
        Negative validation objective at each epoch. Only with early stopping.
    {best_validation_score_}
    {pretraining_curves_}
    {device_}
    {n_features_in_}
    {feature_names_in_}

    See Also
    --------
    AutoEncoder : The same network without the sparsity penalty and with linear codes.
    DenoisingAutoEncoder : Regularises by corrupting the input instead.
    sklearn.decomposition.DictionaryLearning : Sparse codes by optimisation, linear
        decoder.

    References
    ----------
    A. Ng, "Sparse autoencoder", CS294A lecture notes, Stanford University, 2011.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skautoenc import SparseAutoEncoder
    >>> X = load_digits().data / 16.0
    >>> sae = SparseAutoEncoder(n_components=100, hidden_layer_sizes=(),
    ...                         max_iter=5, random_state=0)
    >>> codes = sae.fit_transform(X)
    >>> codes.shape
    (1797, 100)
    >>> sae.mean_activation_.shape
    (100,)
    """

    _parameter_constraints: dict = {
        **AutoEncoder._parameter_constraints,
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "sparsity_weight": [Interval(Real, 0, None, closed="left")],
    }

    _net_class = _SparseNet
    # the penalty reads each code unit's mean activation, in (0, 1)
    _code_activation = "logistic"
    # the sparse codes need their updates on small data too (docs/performance_notes.md)
    _auto_max_epochs = 1000

    def __init__(
        self,
        n_components=32,
        *,
        encoder="mlp",
        decoder=None,
        image_shape=None,
        conv_channels=(16, 32, 64),
        hidden_layer_sizes=(256,),
        sparsity_target=0.05,
        sparsity_weight=3.0,
        loss="auto",
        activation="relu",
        solver="adam",
        learning_rate_init=1e-3,
        learning_rate="linear",
        alpha=3e-3,
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
        super().__init__(
            n_components,
            encoder=encoder,
            decoder=decoder,
            image_shape=image_shape,
            conv_channels=conv_channels,
            hidden_layer_sizes=hidden_layer_sizes,
            loss=loss,
            activation=activation,
            solver=solver,
            learning_rate_init=learning_rate_init,
            learning_rate=learning_rate,
            alpha=alpha,
            batch_size=batch_size,
            max_iter=max_iter,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            warm_start=warm_start,
            random_state=random_state,
            pretraining=pretraining,
            pretraining_max_iter=pretraining_max_iter,
            pretraining_learning_rate=pretraining_learning_rate,
            pretraining_batch_size=pretraining_batch_size,
            cd_k=cd_k,
            missing_values=missing_values,
            device=device,
            mixed_precision=mixed_precision,
            n_jobs=n_jobs,
            verbose=verbose,
            **kwargs,
        )
        self.sparsity_target = sparsity_target
        self.sparsity_weight = sparsity_weight

    def _net_params(self):
        return {
            **super()._net_params(),
            "sparsity_target": self.sparsity_target,
            "sparsity_weight": self.sparsity_weight,
        }

    def _after_fit(self, X):
        super()._after_fit(X)
        codes = self._batched(self._encode, X, X.dtype)
        self.mean_activation_ = mean_of_rows(codes)  # over every rank's rows in a job
