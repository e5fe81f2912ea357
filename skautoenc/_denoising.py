"""The denoising autoencoder: trained to reconstruct clean input from a corrupted copy."""

from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval, StrOptions
from skorch.dataset import unpack_data

from ._autoencoder import AutoEncoder
from ._base import AutoEncoderNet, in_unit_interval
from ._corruption import FRACTION_NOISE_TYPES, NOISE_TYPES, Corruption


class _DenoisingNet(AutoEncoderNet):
    """Corrupts the input of every training minibatch; the target stays clean.

    Fresh noise is drawn for each minibatch of each epoch. Validation (early
    stopping) and inference see clean input.
    """

    def __init__(self, *args, corruption=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.corruption = corruption

    def train_step_single(self, batch, **fit_params):
        Xi, yi = unpack_data(batch)
        return super().train_step_single((self.corruption(Xi), yi), **fit_params)


class DenoisingAutoEncoder(AutoEncoder):
    """Denoising autoencoder: learns to reconstruct clean input from a corrupted copy.

    During training every minibatch ``x`` is corrupted into ``x~`` (fresh noise for
    each minibatch of each epoch) and the network is trained to reproduce the clean
    ``x`` from ``x~``: it minimises ``mean_i L(x_i, g(f(x~_i)))``, with ``L`` the
    reconstruction loss summed over features (see ``loss``), ``f`` the encoder and
    ``g`` the decoder. To undo the corruption, the codes must capture the structure
    of the data rather than copy the input, so the learnt features are more robust.
    Corruption happens only while training: :meth:`transform`,
    :meth:`inverse_transform`, :meth:`score`, :meth:`score_samples` and the
    validation loss of early stopping all see the input as it is. To denoise data,
    use ``inverse_transform(transform(X_noisy))``.

    The network and its training are those of :class:`AutoEncoder`.

    Parameters
    ----------
    n_components : int, default=32
        Width of the code layer: the number of features :meth:`transform` returns.
        Larger than ``n_features`` is allowed (an overcomplete code).
    hidden_layer_sizes : array-like of int or int, default=(256,)
        Widths of the encoder's hidden layers, from the input towards the code. The
        decoder uses them in reverse order. ``()`` gives a single-layer autoencoder.
    noise : {"gaussian", "masking", "salt_and_pepper"}, default="masking"
        How the training input is corrupted; each entry is corrupted independently:

        - ``"masking"``: with probability ``noise_level``, an entry is set to 0.
          The default: it gave better codes for a classifier, and lower held-out
          reconstruction error, than gaussian noise on MNIST.
        - ``"gaussian"``: ``N(0, noise_level ** 2)`` noise is added to every entry;
          for data in [0, 1] the result is clipped to [0, 1] unless ``clip=False``.
        - ``"salt_and_pepper"``: with probability ``noise_level``, an entry is
          replaced by its feature's low or high value (see ``noise_bounds_``), with
          probability 1/2 each.
    noise_level : float, default=0.3
        Amount of corruption: the standard deviation of the noise for
        ``"gaussian"`` (in the units of the data), the expected fraction of
        corrupted entries, in [0, 1], for ``"masking"`` and ``"salt_and_pepper"``.
        ``0`` trains a plain autoencoder. Gaussian noise is in the units of the
        data: a level of 0.3 suits data scaled to [0, 1] or standardised.
    clip : bool, default=True
        With ``noise="gaussian"`` and training data in [0, 1], clip the corrupted
        input to [0, 1], so that it stays a valid input. Ignored otherwise.
    loss : {"auto", "bce", "mse"}, default="auto"
        Reconstruction loss. ``"bce"``: Bernoulli cross-entropy with a sigmoid output,
        for data in [0, 1] (e.g. pixel intensities after ``MinMaxScaler``).
        ``"mse"``: squared error with a linear output. ``"auto"`` picks ``"bce"`` when
        the training data lies in [0, 1] and ``"mse"`` otherwise.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden layers.
    solver : {"adam", "sgd"}, default="adam"
        Optimiser. ``"sgd"`` uses Nesterov momentum 0.9, as ``MLPRegressor``.
    learning_rate_init : float, default=1e-3
        Initial learning rate. The denoising model's codes, its purpose, were better at 1e-3
        than at 2e-3.
    learning_rate : {"linear", "constant"}, default="linear"
        Learning-rate schedule of ``fit``. ``"linear"``: the rate decays linearly from
        ``learning_rate_init`` to zero over the minibatch updates of the ``max_iter``
        epochs, which ends a fixed budget of updates nearer a minimum than a constant
        rate (Li, Yumer & Ramanan, 2020); a fit that stops early stops the decay with
        it. ``"constant"``: ``learning_rate_init`` throughout. ``partial_fit`` always
        trains at ``learning_rate_init``; a warm start decays anew over its epochs.
    alpha : float, default=0.0
        L2 penalty on the weights (not the biases), applied as weight decay.
    batch_size : int, default=128
        Minibatch size.
    max_iter : int or "auto", default="auto"
        Maximum number of epochs (passes over the training data). ``0`` returns the network
        as initialised. ``"auto"``: as many epochs as make about 5,000 minibatch updates,
        ``ceil(5000 / ceil(n_train / batch_size))`` with ``n_train`` the samples left after
        the validation split, at least 10 and at most 200: 200 epochs up to about 3,500
        samples, 88 for 8,000, 12 for 64,000 and 10 from about 71,000 on (on a few hundred
        samples, thousands of epochs overfit). A budget of updates rather than of epochs
        suits small and large data alike; the user guide's "Training defaults" shows the
        measurements.
    early_stopping : bool or "auto", default="auto"
        ``"auto"``: True from 1,000 training samples on, False below (as
        ``HistGradientBoostingRegressor`` does from 10,000). True: hold out
        ``validation_fraction`` of the training data and stop when the validation loss (the
        reconstruction loss of clean input) has not improved by ``tol`` for
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
        architecture, the optimiser settings and the corruption (``noise``,
        ``noise_level``, ``clip``, ``noise_bounds_``) of the first fit are kept.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, the validation split and the
        corruption. The global torch seed is neither used nor changed.
    pretraining : {None, "rbm", "autoencoder"}, default=None
        Greedy layer-wise pretraining of the network before the ``max_iter`` epochs of
        backpropagation fine-tuning. Each layer, from the input towards the code, is
        trained alone on the previous layer's hidden activations of the training data
        (the validation split is left out); the trained layers then initialise the
        encoder and, mirrored, the decoder, whose weights stay free (untied) during
        fine-tuning. With ``max_iter=0`` the pretrained network is kept as it is.
        Not repeated on a warm start.
        For this model, pretraining trains each layer on clean input (stacked
        autoencoders, not stacked *denoising* autoencoders); the corruption applies to
        the fine-tuning epochs.

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
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the torch module and
        ``net_.corruption`` the corruption applied to training minibatches.
    loss_ : {"bce", "mse"}
        The reconstruction loss used.
    noise_bounds_ : ndarray of shape (2, `n_features_in_`)
        Per-feature low (row 0) and high (row 1) values of the corruption: 0 and 1
        when the training data lies in [0, 1], otherwise each feature's minimum and
        maximum on the training data. Salt-and-pepper noise writes these values;
        clipped gaussian noise is clipped to them.
    n_iter_ : int
        Number of epochs run (over all warm starts).
    loss_curve_ : list of float
        Training loss (on corrupted input) at each epoch.
    best_loss_ : float or None
        Lowest training loss; ``None`` with early stopping.
    validation_scores_ : list of float
        Negative validation loss (on clean input) at each epoch. Only with early
        stopping.
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
    AutoEncoder : The same network trained on clean input.
    SparseAutoEncoder : Regularises the codes with a sparsity penalty instead.

    References
    ----------
    P. Vincent, H. Larochelle, Y. Bengio and P.-A. Manzagol, "Extracting and composing
    robust features with denoising autoencoders", ICML 2008.

    P. Vincent, H. Larochelle, I. Lajoie, Y. Bengio and P.-A. Manzagol, "Stacked
    denoising autoencoders: learning useful representations in a deep network with a
    local denoising criterion", JMLR 11, 3371-3408, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skautoenc import DenoisingAutoEncoder
    >>> X = load_digits().data / 16.0
    >>> dae = DenoisingAutoEncoder(n_components=16, noise="gaussian", noise_level=0.3,
    ...                            max_iter=5, random_state=0).fit(X)
    >>> rng = np.random.default_rng(0)
    >>> X_noisy = np.clip(X + rng.normal(scale=0.3, size=X.shape), 0, 1)
    >>> X_denoised = dae.inverse_transform(dae.transform(X_noisy))
    >>> X_denoised.shape
    (1797, 64)
    """

    _parameter_constraints: dict = {
        **AutoEncoder._parameter_constraints,
        "noise": [StrOptions(set(NOISE_TYPES))],
        "noise_level": [Interval(Real, 0, None, closed="left")],
        "clip": ["boolean"],
    }

    def __init__(
        self,
        n_components=32,
        *,
        hidden_layer_sizes=(256,),
        noise="masking",
        noise_level=0.3,
        clip=True,
        loss="auto",
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
        self.noise = noise
        self.noise_level = noise_level
        self.clip = clip

    def _check_training_data(self, X, reuse):
        if self.noise in FRACTION_NOISE_TYPES and self.noise_level > 1:
            raise ValueError(
                f"noise_level is the fraction of corrupted entries for noise={self.noise!r}, "
                f"so it must lie in [0, 1]; got {self.noise_level}."
            )
        super()._check_training_data(X, reuse)
        if reuse:
            return  # the corruption of the first fit is kept
        if in_unit_interval(X):
            low, high = np.zeros(X.shape[1]), np.ones(X.shape[1])
        else:
            low = np.asarray(X.min(axis=0).todense() if sp.issparse(X) else X.min(axis=0))
            high = np.asarray(X.max(axis=0).todense() if sp.issparse(X) else X.max(axis=0))
            low, high = low.ravel(), high.ravel()
        self.noise_bounds_ = np.stack([low, high]).astype(X.dtype, copy=False)

    def _net_params(self):
        # The bounds are exactly 0 and 1 for every feature iff the data lies in [0, 1].
        unit_interval = bool(np.all(self.noise_bounds_ == [[0], [1]]))
        corruption = Corruption(
            self.noise,
            self.noise_level,
            low=self.noise_bounds_[0],
            high=self.noise_bounds_[1],
            clip=self.clip and self.noise == "gaussian" and unit_interval,
        )
        return {**super()._net_params(), "corruption": corruption}

    _net_class = _DenoisingNet
