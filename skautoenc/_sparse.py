"""The sparse autoencoder: a KL penalty keeps the mean activation of each code unit low."""

from numbers import Real

from sklearn.utils._param_validation import Interval

from ._autoencoder import AutoEncoder
from ._base import AutoEncoderNet
from ._losses import sparsity_penalty
from ._modules import HourglassMLP


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

    Parameters
    ----------
    n_components : int, default=32
        Number of code units: the number of features :meth:`transform` returns.
        Larger than ``n_features`` is allowed (an overcomplete code).
    hidden_layer_sizes : array-like of int or int, default=(256,)
        Widths of the encoder's hidden layers, from the input towards the code. The
        decoder uses them in reverse order. ``()`` gives the classic single-layer
        sparse autoencoder.
    sparsity_target : float, default=0.05
        ``rho``, the desired mean activation of each code unit, in (0, 1).
    sparsity_weight : float, default=3.0
        ``beta``, the weight of the sparsity penalty (see the objective above).
        ``0`` trains an autoencoder with a sigmoid code layer and no penalty.
    loss : {"auto", "bce", "mse"}, default="auto"
        Reconstruction loss. ``"bce"``: Bernoulli cross-entropy with a sigmoid output,
        for data in [0, 1] (e.g. pixel intensities after ``MinMaxScaler``).
        ``"mse"``: squared error with a linear output. ``"auto"`` picks ``"bce"`` when
        the training data lies in [0, 1] and ``"mse"`` otherwise.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden layers (the code layer always uses a sigmoid).
    solver : {"adam", "sgd"}, default="adam"
        Optimiser. ``"sgd"`` uses Nesterov momentum 0.9, as ``MLPRegressor``.
    learning_rate_init : float, default=1e-3
        Initial learning rate. The sparse model's ``alpha`` and ``max_iter`` were chosen at
        this rate.
    learning_rate : {"linear", "constant"}, default="linear"
        Learning-rate schedule of ``fit``. ``"linear"``: the rate decays linearly from
        ``learning_rate_init`` to zero over the minibatch updates of the ``max_iter``
        epochs, which ends a fixed budget of updates nearer a minimum than a constant
        rate (Li, Yumer & Ramanan, 2020); a fit that stops early stops the decay with
        it. ``"constant"``: ``learning_rate_init`` throughout. ``partial_fit`` always
        trains at ``learning_rate_init``; a warm start decays anew over its epochs.
    alpha : float, default=3e-3
        L2 penalty on the weights (not the biases), applied as weight decay. Unlike
        :class:`AutoEncoder`, whose default is 0, the sparse model decays its weights
        by default, as Ng's sparse autoencoder does: without it the code activations
        spread less and less as training goes on (on MNIST their standard deviation
        halved from epoch 30 to epoch 200), and the codes become worse features for a
        classifier. It costs some reconstruction error with large codes (``alpha=0``
        suits reconstruction). The penalty weighs against the reconstruction loss,
        which is summed over the features: data with few features need less of it
        (on the 64-pixel digits, ``alpha=1e-2`` was too strong).
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
    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping.
    n_iter_no_change : int, default=10
        Epochs without improvement before training stops.
    tol : float, default=1e-4
        Relative improvement of the monitored loss that counts as progress.
    warm_start : bool, default=False
        Continue training the fitted network (and its optimiser state) for ``max_iter``
        more epochs on the next call to ``fit``, instead of starting afresh. The
        architecture, the optimiser settings and the objective (``sparsity_target``,
        ``sparsity_weight``) of the first fit are kept.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split. The global
        torch seed is neither used nor changed.
    pretraining : {None, "rbm", "autoencoder"}, default=None
        Greedy layer-wise pretraining of the network before the ``max_iter`` epochs of
        backpropagation fine-tuning. Each layer, from the input towards the code, is
        trained alone on the previous layer's hidden activations of the training data
        (the validation split is left out); the trained layers then initialise the
        encoder and, mirrored, the decoder, whose weights stay free (untied) during
        fine-tuning. With ``max_iter=0`` the pretrained network is kept as it is.
        Not repeated on a warm start.
        For this model the code layer is logistic: with ``"rbm"`` its units are
        Bernoulli, and the sparsity penalty applies to the fine-tuning epochs only.

        - ``"rbm"``: a stack of restricted Boltzmann machines trained by contrastive
          divergence (CD-``cd_k``) and unrolled (Hinton & Salakhutdinov, 2006): the
          encoder layer gets the RBM's weights ``W`` and hidden biases, the mirrored
          decoder layer ``W`` transposed and the visible biases. The input units are
          Bernoulli for ``loss_="bce"`` and Gaussian (linear, unit variance: standardise
          the input, e.g. with ``StandardScaler``) for ``loss_="mse"``; the hidden
          layers' units are Bernoulli and the code units Gaussian (linear). With hidden
          layers, needs ``activation="logistic"``, whose units are those of a
          Bernoulli RBM; other activations raise a ValueError in ``fit``. The updates
          use momentum 0.5 for the first 5 epochs, then 0.9, and weight decay 2e-4 on
          the weights.
        - ``"autoencoder"``: a stack of one-hidden-layer autoencoders, trained with
          ``solver``, each reconstructing its input through the activation that the
          deep decoder applies there (Bengio et al., 2007). Works with any
          ``activation``.

    pretraining_max_iter : int, default=10
        Epochs of pretraining for each layer.
    pretraining_learning_rate : float or None, default=None
        Learning rate of pretraining. ``None`` means 0.1 for ``"rbm"`` and
        0.01 for ``"autoencoder"`` (larger steps than fine-tuning's, as each layer only
        gets a few epochs). RBMs with Gaussian units (the code layer, or a Gaussian
        input) use a tenth of it, as their unbounded units need smaller steps.
    pretraining_batch_size : int or None, default=None
        Minibatch size of pretraining. ``None`` means ``batch_size``.
    cd_k : int, default=1
        Number of alternating Gibbs sampling steps of contrastive divergence (CD-k),
        for ``pretraining="rbm"``.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to train and infer. ``"auto"`` uses CUDA when available.
    mixed_precision : bool, default=False
        Run the forward pass of training under bfloat16 autocast, which is faster
        on GPUs with bfloat16 support (and on CPUs with bfloat16 instructions). The
        loss, the weights and all inference stay in float32.
    n_jobs : "auto" or int, default="auto"
        The CPU threads torch runs this estimator's training and inference on, set for
        the duration of each call and put back afterwards
        (:func:`torch.set_num_threads`). ``"auto"``: as many as other processes leave
        cores free, measured every quarter of a second while the call runs, up to
        torch's thread count when the call begins (one per core unless
        ``OMP_NUM_THREADS`` or threadpoolctl says less). torch's threads wait for each
        other at every operation, so on a fixed count a fit slows down many times over
        when another process takes a core. An integer fixes the count, as scikit-learn
        counts jobs: ``None`` means 1 unless in a :func:`joblib.parallel_config`
        context, ``-1`` all the CPUs this process may use. See :ref:`threads`.
    verbose : int, default=0
        Print a line per epoch (skorch's ``PrintLog``) when positive.

    Attributes
    ----------
    mean_activation_ : ndarray of shape (n_components,)
        Mean activation of each code unit on the training data, after training: the
        sparsity obtained, to compare with ``sparsity_target``.
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the torch module.
    loss_ : {"bce", "mse"}
        The reconstruction loss used.
    n_iter_ : int
        Number of epochs run (over all warm starts).
    loss_curve_ : list of float
        Training objective ``E`` (reconstruction plus penalty) at each epoch.
    best_loss_ : float or None
        Lowest training objective; ``None`` with early stopping.
    validation_scores_ : list of float
        Negative validation objective at each epoch. Only with early stopping.
    best_validation_score_ : float
        Best of ``validation_scores_``. Only with early stopping.
    pretraining_curves_ : list of list of float
        For each pretrained layer, from the input towards the code, its reconstruction
        error on its own training input after each pretraining epoch: the mean over
        samples of the squared error summed over units, for the one-step mean-field
        reconstruction of an RBM or the output of a one-layer autoencoder. Empty
        without pretraining.
    device_ : str
        The device used.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when they are all strings.

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
    # the sparse codes need their updates on small data too (benchmarks/README.md)
    _auto_max_epochs = 1000

    def __init__(
        self,
        n_components=32,
        *,
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
        device="cpu",
        mixed_precision=False,
        n_jobs="auto",
        verbose=0,
    ):
        super().__init__(
            n_components,
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
            device=device,
            mixed_precision=mixed_precision,
            n_jobs=n_jobs,
            verbose=verbose,
        )
        self.sparsity_target = sparsity_target
        self.sparsity_weight = sparsity_weight

    def _make_module(self, n_features):
        return HourglassMLP(
            n_features,
            self.n_components,
            hidden_layer_sizes=self._hidden_layer_sizes(),
            activation=self.activation,
            code_activation="logistic",
            output_activation="logistic" if self.loss_ == "bce" else "identity",
        )

    def _net_params(self):
        return {
            **super()._net_params(),
            "sparsity_target": self.sparsity_target,
            "sparsity_weight": self.sparsity_weight,
        }

    def _fit(self, X, reuse, partial=False):
        interrupted = super()._fit(X, reuse, partial)
        self.mean_activation_ = self._batched(self._encode, X, X.dtype).mean(axis=0)
        return interrupted
