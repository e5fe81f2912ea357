"""The denoising autoencoder: trained to reconstruct clean input from a corrupted copy."""

import warnings
from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils.sparsefuncs import min_max_axis
from skorch.dataset import unpack_data

from ._autoencoder import AutoEncoder
from ._compat import Interval, StrOptions
from ._corruption import FRACTION_NOISE_TYPES, NOISE_TYPES, Corruption
from ._docstrings import fill_doc
from ._net import AutoEncoderNet


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


@fill_doc
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

    Read more in the :ref:`User Guide <denoising>`.

    Parameters
    ----------
    {n_components}
    {network}
    {hidden_layer_sizes}
    noise : {"gaussian", "masking", "salt_and_pepper", "missing"}, default="masking"
        How the training input is corrupted; each entry is corrupted independently:

        - ``"masking"``: with probability ``noise_level``, an entry is set to 0.
          The default: it gave better codes for a classifier, and lower held-out
          reconstruction error, than gaussian noise on MNIST.
        - ``"gaussian"``: ``N(0, noise_level ** 2)`` noise is added to every entry;
          for data in [0, 1] the result is clipped to [0, 1] unless ``clip=False``.
        - ``"salt_and_pepper"``: with probability ``noise_level``, an entry is
          replaced by its feature's low or high value (see ``noise_bounds_``), with
          probability 1/2 each.
        - ``"missing"``: with probability ``noise_level``, an entry is deleted: it
          becomes a missing value, which the network sees as it sees the missing
          values of the data (its feature's fill value). Needs
          ``missing_values=np.nan``. The network learns to fill holes from the
          observed entries: what :class:`AutoEncoderImputer` is built on.
    noise_level : float or tuple of two floats, default=(0.0, 0.6)
        Amount of corruption: the standard deviation of the noise for
        ``"gaussian"`` (in the units of the data), the expected fraction of
        corrupted entries, in [0, 1], for ``"masking"``, ``"salt_and_pepper"`` and
        ``"missing"``. A float: every training row gets that level. A pair
        ``(low, high)``: each row of each minibatch gets its own level, drawn
        uniformly from ``[low, high]``.

        The default, levels from 0 to 0.6 (0.3 on average), trains the network on
        lightly as well as heavily corrupted rows, so that it also knows what clean
        input looks like, which is what :meth:`transform` gets. A fixed 0.3 of masking
        noise trains it only on input whose pixels are 30% fewer, and clean input is
        then out of its training range. On MNIST (32 codes, mean of three seeds), the
        default reconstructed clean held-out images with 31% less error than a fixed
        0.3, images with 10%, 50% or 70% of their pixels deleted with 17%, 31% and 56%
        less, and those with exactly 30% deleted about as well (1% less); its codes
        classified as well (the user guide's "Denoising").

        ``0`` trains a plain autoencoder. Gaussian noise is in the units of the
        data: for data scaled to [0, 1] or standardised, a level of 0.3 suits, and so
        does the default range (with ``noise="gaussian"`` on MNIST it reconstructed
        clean held-out images with 23% less error than a fixed 0.3; seed 0).
    clip : bool, default=True
        With ``noise="gaussian"`` and training data in [0, 1], clip the corrupted
        input to [0, 1], so that it stays a valid input. Ignored otherwise.
    {loss}
    {activation}
    {solver}
    learning_rate_init : float, default=3e-3
        Initial learning rate. On MNIST, with the default ``noise_level``, 3e-3
        reconstructed held-out images with 32 codes 4-5% better than 2e-3 (the plain
        autoencoder's rate) in the same epochs, and its codes classified as well; 4e-3
        reconstructed a little better still with 32 codes, but its codes classified a
        little worse with 128 and 256 (the user guide's "Training defaults").
    {learning_rate}
    {alpha}
    {batch_size}
    {max_iter}
    early_stopping : bool or "auto", default="auto"
        ``"auto"``: True from 1,000 training samples on, False below (as
        ``HistGradientBoostingRegressor`` does from 10,000). True: hold out
        ``validation_fraction`` of the training data and stop when the validation loss (the
        reconstruction loss of clean input) has not improved by ``tol`` for
        ``n_iter_no_change`` epochs; the weights of the best epoch are restored. Without
        early stopping, training stops when the training loss plateaus in the same sense.
    {validation_fraction}
    n_iter_no_change : int, default=20
        Epochs without improvement before training stops. Twice the other estimators'
        10: every update of a denoising model sees new noise, and its validation loss
        swings from epoch to epoch. With a fixed noise level of 0.3 it swung by a few
        percent, and 10 epochs without a new best ended fits on MNIST anywhere from 33
        to 59 epochs, short of what their budget reached; with the default level per
        row it swings about half as much.
    {tol}
    warm_start : bool, default=False
        Continue training the fitted network (and its optimiser state) for ``max_iter``
        more epochs on the next call to ``fit``, instead of starting afresh. The
        architecture, the optimiser settings and the corruption (``noise``,
        ``noise_level``, ``clip``, ``noise_bounds_``) of the first fit are kept.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, the validation split and the
        corruption. The global torch seed is neither used nor changed.
    {pretraining}

        For this model, pretraining trains each layer on clean input (stacked
        autoencoders, not stacked *denoising* autoencoders); the corruption applies to
        the fine-tuning epochs.

    {pretraining_settings}
    {missing_values}
    {runtime_settings}

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the torch module and
        ``net_.corruption`` the corruption applied to training minibatches.
    {loss_}
    noise_bounds_ : ndarray of shape (2, `n_features_in_`)
        Per-feature low (row 0) and high (row 1) values of the corruption: 0 and 1
        when the training data lies in [0, 1], otherwise each feature's minimum and
        maximum on the training data. Salt-and-pepper noise writes these values;
        clipped gaussian noise is clipped to them.
    {n_iter_}
    loss_curve_ : list of float
        Training loss (on corrupted input) at each epoch.
    {best_loss_}
    validation_scores_ : list of float
        Negative validation loss (on clean input) at each epoch. Only with early
        stopping.
    {best_validation_score_}
    {pretraining_curves_}
    {device_}
    {n_features_in_}
    {feature_names_in_}

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
        "noise_level": [Interval(Real, 0, None, closed="left"), tuple],
        "clip": ["boolean"],
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
        noise="masking",
        noise_level=(0.0, 0.6),
        clip=True,
        loss="auto",
        activation="relu",
        solver="adam",
        learning_rate_init=3e-3,
        learning_rate="linear",
        alpha=0.0,
        batch_size=128,
        max_iter="auto",
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=20,
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
        self.noise = noise
        self.noise_level = noise_level
        self.clip = clip

    def _noise_range(self):
        """``noise_level`` as a validated pair ``(low, high)`` (equal for a float)."""
        level = self.noise_level
        if isinstance(level, tuple):
            if len(level) != 2 or not all(
                isinstance(v, Real) and not isinstance(v, bool) for v in level
            ):
                raise ValueError(
                    "noise_level must be a float or a pair (low, high) of floats; got "
                    f"{level!r}."
                )
            low, high = (float(v) for v in level)
            if not 0 <= low <= high:
                raise ValueError(
                    "noise_level=(low, high) needs 0 <= low <= high: each row's level is "
                    f"drawn uniformly from [low, high]; got {level!r}."
                )
            return low, high
        return float(level), float(level)

    def _check_training_data(self, X, facts, reuse):
        if self.noise in FRACTION_NOISE_TYPES and self._noise_range()[1] > 1:
            raise ValueError(
                f"noise_level is the fraction of corrupted entries for noise={self.noise!r}, "
                f"so it must lie in [0, 1]; got {self.noise_level}."
            )
        if self.noise == "missing" and not self._allows_nan():
            raise ValueError(
                "noise='missing' deletes entries, which the network can only take as "
                "missing values: set missing_values=np.nan."
            )
        super()._check_training_data(X, facts, reuse)
        if reuse:
            return  # the corruption of the first fit is kept
        if facts.unit_interval:
            low, high = np.zeros(X.shape[1]), np.ones(X.shape[1])
        elif sp.issparse(X):
            low, high = min_max_axis(X, axis=0, ignore_nan=True)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
                low, high = np.nanmin(X, axis=0), np.nanmax(X, axis=0)
        # NaN (missing values) left out; a feature never observed gets [0, 0]
        low, high = np.nan_to_num(np.ravel(low)), np.nan_to_num(np.ravel(high))
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
            **self._deletion_groups(),
        )
        return {**super()._net_params(), "corruption": corruption}

    def _deletion_groups(self):
        """Keyword arguments of :class:`Corruption` for deleting groups of features with
        ``noise="missing"`` (a hook: the imputer's network sets them); none here."""
        return {}

    _net_class = _DenoisingNet
