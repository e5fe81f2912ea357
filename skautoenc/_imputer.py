"""The autoencoder imputer: fills missing entries with a denoising autoencoder's
reconstruction, trained to recover deleted entries from the observed ones."""

import warnings
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.impute import MissingIndicator
from sklearn.utils.validation import FLOAT_DTYPES, check_is_fitted, validate_data

from ._base import BaseAutoEncoder
from ._compat import Interval, MissingValues, _fit_context
from ._corruption import correlated_groups
from ._denoising import DenoisingAutoEncoder
from ._docstrings import fill_doc
from ._network import RoutedParams
from ._parallel import refuse_own_rows
from ._runtime import unchanged_on_failure, warn_at_caller
from ._validation import in_unit_interval, is_nan, missing_mask

#: The parameters of the imputer that are those of its :class:`DenoisingAutoEncoder`.
_NETWORK_PARAMETERS = (
    "n_components",
    "encoder",
    "decoder",
    "image_shape",
    "conv_channels",
    "hidden_layer_sizes",
    "noise_level",
    "learning_rate_init",
    "batch_size",
    "max_iter",
    "early_stopping",
    "random_state",
    "device",
    "mixed_precision",
    "n_jobs",
    "verbose",
)


class _OnePassDenoisingAutoEncoder(DenoisingAutoEncoder):
    """The imputer's network: a :class:`DenoisingAutoEncoder` with ``noise="missing"``
    that encodes a row with holes in one pass, and may delete groups of correlated
    features in training.

    One pass: its holes are filled with the means, where the estimators refill them with
    a first reconstruction (:meth:`HourglassMLP.encode`). On MNIST the second pass
    filled scattered holes slightly better, square ones slightly worse, and took half as
    long again to fit, which the imputer's time budget (that of ``KNNImputer``) does not
    leave (docs/performance_notes.md, "Imputation").

    Deletion groups: a fraction ``correlated_deletion`` of the training rows loses a
    group of correlated features (:func:`~skautoenc._corruption.correlated_groups`, of
    up to ``noise_level`` of the features) instead of scattered entries. The imputer
    sets it before ``fit``; it is not a parameter of this network.
    """

    correlated_deletion = 0.0
    _refills_missing = False

    def _warn_outside_unit_interval(self, low, high):
        # in the imputer's words: the user never made this network
        warn_at_caller(
            f"X ranges over [{low:.4g}, {high:.4g}], but this AutoEncoderImputer was "
            "fitted on data in [0, 1], which it models with a loss for that range: its "
            "fills of rows with values outside it mean little. Scale X as for fitting.",
            UserWarning,
        )

    def _check_training_data(self, X, facts, reuse):
        super()._check_training_data(X, facts, reuse)
        if reuse or not self.correlated_deletion:
            return
        self.deletion_groups_, self.deletion_seeds_ = correlated_groups(
            X, self.noise_level, self.random_state
        )

    def _deletion_groups(self):
        if not self.correlated_deletion:
            return {}
        return {
            "groups": self.deletion_groups_,
            "seeds": self.deletion_seeds_,
            "group_rows": self.correlated_deletion,
        }


@fill_doc
class AutoEncoderImputer(RoutedParams, TransformerMixin, BaseEstimator):
    """Imputation of missing values with a denoising autoencoder.

    ``fit`` trains a :class:`DenoisingAutoEncoder` on the observed entries of ``X``,
    with ``noise="missing"``: in every training minibatch a fraction ``noise_level`` of
    the observed entries is deleted afresh, and the network learns to reconstruct the
    row, its deleted entries included, from what is left (Gondara & Wang, 2018).
    ``transform`` fills each missing entry with the network's reconstruction of its
    row, computed from the row's observed entries; observed entries are returned
    unchanged. A row with no observed entry gets the reconstruction of the training
    means.

    A feature whose observed training values are all equal (an image's border, a
    setting that never changed) is filled with that value, as
    :class:`~sklearn.impute.SimpleImputer` would, and left out of the network: there
    is nothing in it to learn. On 8,000 MNIST images, 121 of the 784 pixels are such,
    and leaving them out makes each training step about 10% shorter.

    Data in [0, 1] (images, proportions) is modelled as it is, with a Bernoulli
    (cross-entropy) loss whose fills stay in [0, 1]; other data is standardised with
    each feature's observed mean and standard deviation, modelled with a squared error,
    and the fills are put back in the units of the data.

    Read more in the :ref:`User Guide <imputation>`.

    Parameters
    ----------
    missing_values : int, float or np.nan, default=np.nan
        The placeholder for missing values: every entry equal to it (every NaN, for
        ``np.nan``) is imputed. Strings and ``None`` are not accepted: the data is
        numeric.
    n_components : int, default=128
        Size of the autoencoder's code layer.
    {network}

        For images, ``encoder="conv"`` with ``image_shape`` fills holes from their
        neighbourhood (inpainting); the network then sees every pixel, those never
        observed as missing values.
    hidden_layer_sizes : array-like of int, default=(384,)
        Sizes of the encoder's hidden layers, input side first; the decoder mirrors
        them. On MNIST, 384 filled every kind of hole about 2-3% better than 256, for
        a little more fit time (less than the machine's drift in those runs; see
        docs/performance_notes.md, "Imputation").
    noise_level : float, default=0.5
        Fraction of the observed entries deleted from each training row, drawn afresh
        for every minibatch, in [0, 1).
    correlated_deletion : float, default=0.5
        Fraction of the training rows, drawn afresh for every minibatch, whose deleted
        entries are a group of correlated features instead of scattered entries: a
        feature drawn at random and the features most correlated with it (correlations
        of the observed training values, from at most 10,000 rows), between 1 and
        ``noise_level`` of the features that vary (at most 1,024).
        Holes in real data often come together (a region of an image, the readings of
        one failed device, the questions of a skipped page). On MNIST, 0.5 filled a
        missing 10x10 block and 20% scattered holes about 5% better than 0, and 50%
        scattered holes 1% worse (user guide, "Imputation"). 0 deletes scattered
        entries only.
    learning_rate_init : float, default=3e-3
        Initial learning rate of Adam, decayed linearly to 0 over the training. On
        MNIST, 3e-3 filled better than 1e-3 and 1e-2 in the same epochs.
    {batch_size}
    {max_iter}
    early_stopping : bool or "auto", default="auto"
        ``"auto"``: True from 1,000 training samples on. True: hold out a tenth of the
        rows and stop when their loss on the observed entries has not improved for 10
        epochs, keeping the weights of the best epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the network's training (see :class:`DenoisingAutoEncoder`).
    add_indicator : bool, default=False
        If True, a :class:`~sklearn.impute.MissingIndicator` adds one binary column per
        feature with missing values at ``fit`` time after the imputed features, as in
        scikit-learn's imputers.
    keep_empty_features : bool, default=False
        If True, features with no observed value at ``fit`` time are kept in the
        output of ``transform``, filled with 0, as :class:`~sklearn.impute.KNNImputer`
        does. If False they are dropped.
    {runtime_settings}

    Attributes
    ----------
    autoencoder_ : DenoisingAutoEncoder or None
        The fitted network, on the features whose observed values vary, in the scaled
        units (see ``mean_`` and ``scale_``); None if no feature varies. It encodes a
        row with holes in one pass, from the means (the user guide's "Imputation" says
        why).
    mean_ : ndarray of shape (`n_features_in_`,)
        Subtracted from each feature before the network sees it: 0 for data in [0, 1],
        the observed mean otherwise (0 for the features the network does not see).
    scale_ : ndarray of shape (`n_features_in_`,)
        Each feature is divided by it after ``mean_`` is subtracted: 1 for data in
        [0, 1], the observed standard deviation otherwise (1 for the features the
        network does not see).
    n_iter_ : int
        Epochs the network was trained for (0 without a network).
    indicator_ : sklearn.impute.MissingIndicator
        Indicator used to add binary indicators for missing values. ``None`` if
        ``add_indicator=False``.
    {n_features_in_}
    {feature_names_in_}

    See Also
    --------
    DenoisingAutoEncoder : The network, also usable on its own with
        ``missing_values=np.nan``.
    sklearn.impute.SimpleImputer : Fills with a statistic of each column.
    sklearn.impute.KNNImputer : Fills from the nearest training rows.
    sklearn.impute.IterativeImputer : Models each feature from the others, in turns.

    References
    ----------
    L. Gondara and K. Wang, "MIDA: Multiple imputation using denoising autoencoders",
    PAKDD 2018.

    P. Vincent, H. Larochelle, I. Lajoie, Y. Bengio and P.-A. Manzagol, "Stacked
    denoising autoencoders", JMLR 11, 3371-3408, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skautoenc import AutoEncoderImputer
    >>> X = load_digits().data / 16.0
    >>> X_holes = X.copy()
    >>> X_holes[np.random.default_rng(0).random(X.shape) < 0.2] = np.nan
    >>> imputer = AutoEncoderImputer(max_iter=10, random_state=0).fit(X_holes)
    >>> X_filled = imputer.transform(X_holes)
    >>> bool(np.isnan(X_filled).any())
    False
    >>> bool(np.all(X_filled[~np.isnan(X_holes)] == X_holes[~np.isnan(X_holes)]))
    True
    """

    _parameter_constraints: dict = {
        "missing_values": [MissingValues(numeric_only=True)],
        "add_indicator": ["boolean"],
        "keep_empty_features": ["boolean"],
        "noise_level": [Interval(Real, 0, 1, closed="left")],
        "correlated_deletion": [Interval(Real, 0, 1, closed="both")],
        **{
            name: BaseAutoEncoder._parameter_constraints[name]
            for name in _NETWORK_PARAMETERS
            if name != "noise_level"
        },
    }

    def __init__(
        self,
        *,
        missing_values=np.nan,
        n_components=128,
        encoder="mlp",
        decoder=None,
        image_shape=None,
        conv_channels=(16, 32, 64),
        hidden_layer_sizes=(384,),
        noise_level=0.5,
        correlated_deletion=0.5,
        learning_rate_init=3e-3,
        batch_size=128,
        max_iter="auto",
        early_stopping="auto",
        random_state=None,
        add_indicator=False,
        keep_empty_features=False,
        device="cpu",
        mixed_precision=False,
        n_jobs="auto",
        verbose=0,
        **kwargs,
    ):
        self.missing_values = missing_values
        self.add_indicator = add_indicator
        self.keep_empty_features = keep_empty_features
        self.n_components = n_components
        self.encoder = encoder
        self.decoder = decoder
        self.image_shape = image_shape
        self.conv_channels = conv_channels
        self.hidden_layer_sizes = hidden_layer_sizes
        self.noise_level = noise_level
        self.correlated_deletion = correlated_deletion
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.random_state = random_state
        self.device = device
        self.mixed_precision = mixed_precision
        self.n_jobs = n_jobs
        self.verbose = verbose
        self._store_routed(kwargs)

    def _validate(self, X, reset):
        """``X`` as a float array, and the mask of its missing entries."""
        X = validate_data(
            self,
            X,
            dtype=FLOAT_DTYPES,
            # NaN is data only where it is the placeholder; infinity never is
            ensure_all_finite="allow-nan" if is_nan(self.missing_values) else True,
            reset=reset,
        )
        return X, missing_mask(X, self.missing_values)

    @staticmethod
    def _observed(X, mask, features):
        """A copy of the ``features`` (a boolean mask) of ``X``, with NaN where missing."""
        Z = X[:, features]  # indexing with a mask copies
        Z[mask[:, features]] = np.nan
        return Z

    def _scale(self, Z):
        """``Z``, the network's features from :meth:`_observed`, in its units, in place."""
        Z -= self.mean_[self._network_mask]
        Z /= self.scale_[self._network_mask]
        return Z

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder on the observed entries of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, with missing entries equal to ``missing_values``.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted imputer.
        """
        refuse_own_rows(self)
        with unchanged_on_failure(self):
            self._fit(X)
        return self

    def _fit(self, X):
        X, mask = self._validate(X, reset=True)
        self._valid_mask = valid = ~mask.all(axis=0)
        if not valid.any():
            raise ValueError(
                "Every entry of X is missing: there is nothing to learn the imputation from."
            )
        Z = self._observed(X, mask, valid)
        # a feature whose observed values are all equal is filled with that value; the
        # network models the others, if any
        low, high = np.nanmin(Z, axis=0), np.nanmax(Z, axis=0)
        self._constant_values = np.zeros(X.shape[1], dtype=X.dtype)
        self._constant_values[valid] = low
        varying = low < high
        self._network_mask = network = valid.copy()
        network[valid] = varying
        if self.image_shape is not None:
            # an image keeps its layout: the network sees every pixel, those never
            # observed as missing values, those that never vary as they are
            network[:] = True
            Z = self._observed(X, mask, network)
        else:
            Z = Z[:, varying]
        mean, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
        if network.any() and not in_unit_interval(Z):  # NaN left out
            # features the network does not see keep 0 and 1
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # never observed
                mean[network] = np.nan_to_num(np.nanmean(Z, axis=0))
                scale[network] = np.nan_to_num(np.nanstd(Z, axis=0))
            scale[scale == 0] = 1  # a spread below float precision, or none
        self.mean_, self.scale_ = mean.astype(X.dtype), scale.astype(X.dtype)
        self.autoencoder_, self.n_iter_ = None, 0
        if network.any():
            params = {name: getattr(self, name) for name in _NETWORK_PARAMETERS}
            for route in ("encoder", "decoder"):  # a user's modules' own parameters
                params.update({f"{route}__{k}": v for k, v in self._routed(route).items()})
            # the imputer's defaults were measured with 10 epochs of patience (the
            # denoising model's own default has been 20 since)
            autoencoder = _OnePassDenoisingAutoEncoder(
                noise="missing", missing_values=np.nan, n_iter_no_change=10, **params
            )
            autoencoder.correlated_deletion = self.correlated_deletion
            self.autoencoder_ = autoencoder.fit(self._scale(Z))
            self.n_iter_ = self.autoencoder_.n_iter_
        self.indicator_ = None
        if self.add_indicator:
            # scikit-learn's public MissingIndicator, on the mask as uint8 (a view, no
            # copy): 1 marks a missing entry
            self.indicator_ = MissingIndicator(missing_values=1, error_on_new=False)
            self.indicator_.fit(mask.view(np.uint8))

    def transform(self, X):
        """Fill the missing entries of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data to complete.

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_features_out)
            ``X`` with each missing entry replaced by the network's reconstruction; the
            features never observed at ``fit`` time are dropped (or 0 with
            ``keep_empty_features=True``), and the missing indicator follows with
            ``add_indicator=True``.
        """
        check_is_fitted(self)
        X, mask = self._validate(X, reset=False)
        X_indicator = None if self.indicator_ is None else self.indicator_.transform(
            mask.view(np.uint8)).astype(X.dtype)
        valid, network = self._valid_mask, self._network_mask
        X_valid = X[:, valid]  # a copy
        missing = mask[:, valid]
        constant = ~network[valid]  # of the valid features
        if constant.any():
            # in place: X_valid is already a copy
            np.copyto(X_valid, self._constant_values[valid].astype(X.dtype),
                      where=missing & constant)
        rows = np.flatnonzero(mask[:, network].any(axis=1))
        if len(rows):
            Z = self._scale(self._observed(X[rows], mask[rows], network))
            fill = self.autoencoder_.inverse_transform(self.autoencoder_.transform(Z))
            fill = fill * self.scale_[network] + self.mean_[network]
            fill = fill[:, valid[network]]  # an image's network also sees empty features
            cells = np.ix_(rows, np.flatnonzero(network[valid]))
            X_valid[cells] = np.where(missing[cells], fill, X_valid[cells])
        if self.keep_empty_features:
            X_out = np.zeros(X.shape, dtype=X.dtype)  # features never observed: 0
            X_out[:, valid] = X_valid
            X_valid = X_out
        return X_valid if X_indicator is None else np.hstack([X_valid, X_indicator])

    def get_feature_names_out(self, input_features=None):
        """Get output feature names for transformation.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input features, as for :meth:`sklearn.impute.SimpleImputer.get_feature_names_out`.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The imputed features' names, followed by those of the missing indicator.
        """
        check_is_fitted(self, "n_features_in_")
        input_features = self._input_features(input_features)
        names = input_features if self.keep_empty_features else input_features[self._valid_mask]
        if self.indicator_ is None:
            return names
        return np.concatenate([names, self.indicator_.get_feature_names_out(input_features)])

    def _input_features(self, input_features):
        """The names of the input features, checked as scikit-learn's transformers check
        them: ``feature_names_in_``, or ``x0, x1, ...`` by default."""
        names = getattr(self, "feature_names_in_", None)
        if input_features is None:
            if names is not None:
                return names
            return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)
        input_features = np.asarray(input_features, dtype=object)
        if names is not None and not np.array_equal(names, input_features):
            raise ValueError("input_features is not equal to feature_names_in_")
        if len(input_features) != self.n_features_in_:
            raise ValueError(
                "input_features should have length equal to number of features "
                f"({self.n_features_in_}), got {len(input_features)}"
            )
        return input_features

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.allow_nan = is_nan(self.missing_values)
        return tags
