"""The outlier detector: an autoencoder's reconstruction error as an outlier score, with
the API of scikit-learn's detectors (``IsolationForest``, ``LocalOutlierFactor``)."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._autoencoder import AutoEncoder
from ._base import DOCS_URL, BaseAutoEncoder
from ._compat import Interval, StrOptions, _fit_context
from ._denoising import DenoisingAutoEncoder
from ._parallel import refuse_own_rows
from ._runtime import unchanged_on_failure
from ._validation import check_float32_range, check_rows_observed, in_unit_interval, is_nan

#: The masking noise of the default network on data that leave [0, 1], such as
#: standardised tables: the fraction of each training row's entries set to zero (the
#: user guide's "Outlier detection" has the measurements).
TABLE_NOISE_LEVEL = 0.8

#: A network with ``max_iter="auto"`` trains for about this many minibatch updates, in
#: at least ``AUTO_MIN_EPOCHS`` epochs, in place of the thousands it would train for
#: alone: autoencoders learn the bulk of their data before its rare outliers, so on
#: normal data of one kind a short training ranks as well, learns few of the outliers
#: among the training data, and is many times faster; normal data of several kinds
#: need longer (the user guide's "Outlier detection" has the measurements).
DETECTOR_STEPS = 150

#: ``refit=True``: the first networks train this share of the epochs, at least
#: ``REFIT_MIN_EPOCHS``; they leave out the ``contamination`` share of the training rows
#: with the highest errors, but never less than ``REFIT_MIN_SHARE``, which is the share
#: for ``contamination="auto"``: a short network ranks the outliers imprecisely, and
#: left to the true share it keeps more of them (the user guide's "Outlier detection").
REFIT_FIRST_EPOCHS = 0.15
REFIT_MIN_EPOCHS = 5
REFIT_MIN_SHARE = 0.1

#: Rows whose errors are computed at once: bounds the memory that scoring takes.
SCORING_CHUNK_ROWS = 4096

#: The least denominator of a relative error.
TINY = np.finfo(np.float64).tiny

#: The settings the detector passes to each of its autoencoders.
_FORWARDED = ("device", "missing_values", "n_jobs", "verbose")


def default_estimator(n_features, unit_interval):
    """The autoencoder a default detector trains on rows of ``n_features`` (see
    :class:`AutoEncoderOutlierDetector`), before the detector sets its budget. On data
    in [0, 1] (images), an :class:`AutoEncoder` with 16 codes (fewer for narrow rows)
    and its defaults otherwise; on other data (a standardised table), a
    :class:`DenoisingAutoEncoder` sized to the data and with heavy masking noise."""
    if unit_interval:
        return AutoEncoder(n_components=min(16, max(2, n_features // 4)))
    n_components = min(16, max(2, n_features // 8))
    hidden = min(256, max(n_components, n_features // 2))
    return DenoisingAutoEncoder(n_components=n_components, hidden_layer_sizes=(hidden,),
                                noise_level=TABLE_NOISE_LEVEL)


def _trained(template, seeds, X, stopped_early=False):
    """A copy of the network ``template`` fitted on ``X`` for each of ``seeds``;
    ``stopped_early``: its budget is short on purpose, so the convergence warnings of
    the fits are not a problem to report."""
    with warnings.catch_warnings():
        if stopped_early:
            warnings.simplefilter("ignore", ConvergenceWarning)
        return [clone(template).set_params(random_state=int(seed)).fit(X) for seed in seeds]


def _squared_errors(network, X):
    """Each entry's squared reconstruction error; NaN where ``X`` is missing."""
    return (network.inverse_transform(network.transform(X)) - X) ** 2


def _observed_sums(values, observed):
    """Each row of ``values`` summed over its ``observed`` entries, scaled by
    ``n_features`` over their number, so that rows with more or fewer holes compare."""
    return np.where(observed, values, 0.0).sum(axis=1) * (
        values.shape[1] / np.maximum(observed.sum(axis=1), 1))


def _row_sums(network, rows, scales, energy=False):
    """Each row's squared errors divided by ``scales``, and with ``energy`` its energy
    (the sum of its squares and its reconstruction's; else None), both summed as
    :func:`_observed_sums` sums."""
    reconstruction = network.inverse_transform(network.transform(rows))
    squared = (reconstruction - rows) ** 2 / scales
    observed = ~np.isnan(squared)
    errors = _observed_sums(squared, observed)
    if not energy:
        return errors, None
    return errors, _observed_sums(rows ** 2 + reconstruction ** 2, observed)


def _row_errors(networks, X, scales, floor=None):
    """Each row's error averaged over ``networks``: its squared errors divided by
    ``scales`` and summed (see :func:`_row_sums`), and with a ``floor``, divided by its
    energy plus the floor (the relative error). By chunks of rows, as the errors of all
    of ``X`` at once would be a copy of it per network."""
    errors = np.zeros(len(X))
    for start in range(0, len(X), SCORING_CHUNK_ROWS):
        rows = X[start:start + SCORING_CHUNK_ROWS]
        for network in networks:
            squared, energy = _row_sums(network, rows, scales, energy=floor is not None)
            # tiny: a blank row reconstructed blank has no error, with a floor of 0 too
            errors[start:start + len(rows)] += (squared if floor is None else squared
                                                / np.maximum(energy + floor, TINY))
    return errors / len(networks)


def _mean_squared_norm(X):
    """The rows' sum of squares over their observed entries (scaled by ``n_features``
    over their number), averaged over the rows."""
    total = sum(_observed_sums(rows ** 2, ~np.isnan(rows)).sum()
                for rows in (X[start:start + SCORING_CHUNK_ROWS]
                             for start in range(0, len(X), SCORING_CHUNK_ROWS)))
    return float(total / len(X))


def tukey_fence(errors):
    """The upper fence of a box plot of ``errors``: Q3 + 1.5 IQR (Tukey, 1977)."""
    q1, q3 = np.percentile(errors, [25, 75])
    return float(q3 + 1.5 * (q3 - q1))


class AutoEncoderOutlierDetector(OutlierMixin, BaseEstimator):
    """Outlier detector that flags the samples autoencoders reconstruct poorly.

    The detector trains ``n_estimators`` copies of ``estimator``, seeded from
    ``random_state``, on the training data (mostly normal samples), and scores a sample
    by its reconstruction error averaged over them: the lower :meth:`score_samples`, the
    more abnormal. ``contamination`` sets the threshold ``offset_``; :meth:`predict`
    returns -1 for outliers and +1 for inliers, as
    :class:`~sklearn.ensemble.IsolationForest` does.

    A sample's error is the sum over the features of its squared errors, each divided by
    ``error_scales_``: ones for ``error="squared"``; for ``error="standardized"``, that
    feature's mean squared error on the training data plus a floor, so that a feature
    the network reconstructs precisely counts where it goes wrong, and a noisy one does
    not drown the others. ``error="relative"`` divides a sample's summed squared error by
    its energy, the sum of its squares and its reconstruction's, plus ``energy_floor_``:
    on images, a sample with little ink then no longer passes for normal by having
    little to get wrong.

    Read more in the :ref:`User Guide <outliers>`.

    Parameters
    ----------
    estimator : skautoenc estimator or None, default=None
        The autoencoder to train: an unfitted :class:`AutoEncoder`,
        :class:`DenoisingAutoEncoder`, :class:`SparseAutoEncoder` or
        :class:`VariationalAutoEncoder`, with any network (the ``"conv"`` family for
        images, a module of your own). It is cloned; ``random_state`` and the
        settings ``device``, ``missing_values``, ``n_jobs`` and ``verbose`` below
        replace its own. ``None``: on data in [0, 1] (pixels), an :class:`AutoEncoder`
        with ``min(16, max(2, n_features // 4))`` codes and its defaults otherwise. On
        other data (a standardised table), a :class:`DenoisingAutoEncoder` sized to the
        data, with ``min(16, max(2, n_features // 8))`` codes and one hidden layer of
        ``min(256, max(n_components, n_features // 2))`` units, and masking noise of
        level 0.8. The user guide's "Outlier detection" has the measurements behind it.

        A network with ``max_iter="auto"`` (the default network, and any you pass
        with its default) trains for about 150 minibatch updates, in at least 10 epochs,
        where alone it would train for about 5,000: autoencoders learn the bulk of their
        data before its rare outliers, and on normal data of one kind (one digit) the
        short training ranked as well, learnt few of the outliers among the training
        data, and took a fraction of the time. An integer ``max_iter`` is kept: normal
        data of several kinds (several digits) take longer to learn, and ranked higher
        with a few times the budget.
    error : {"auto", "relative", "squared", "standardized"}, default="auto"
        How a sample's squared errors add up (see above). ``"auto"``: ``"relative"`` on
        data in [0, 1] (pixels), ``"squared"`` on other data (a standardised table),
        where a row far from the mean is an outlier whatever its error's share of it.
        Relative errors ranked best on one-class MNIST, plain squared ones on the
        breast-cancer table (the user guide's "Outlier detection").
    error_floor : float, default=1.0
        For ``error="standardized"``: the floor added to each feature's mean training
        error, as a fraction of their mean. 0 standardises fully, which lets a feature
        the network reconstructs almost perfectly dominate; large values approach
        ``"squared"``. For ``error="relative"``: the floor added to each sample's
        energy, as a fraction of the training samples' mean sum of squares. 0 divides
        by the energy alone, which lets a nearly blank sample's error dominate; large
        values approach ``"squared"``.
    n_estimators : int, default=1
        Networks trained from different seeds, whose scores are averaged. Three
        ranked a little better than one on one-class MNIST, in three times the time.
    refit : bool, default=False
        Train in two passes, for training data that hold outliers, which the networks
        would otherwise learn to reconstruct. Networks trained for 15% of the epochs
        first (autoencoders learn the bulk of their data before its rare outliers) flag
        the training rows with the highest errors: the ``contamination`` share, but no
        less than 10% (10% for ``"auto"``), since these short networks rank the outliers
        imprecisely. The final networks train without those rows. It costs little
        time: the first pass is short, and the final networks train on fewer rows.
        ``False``: one pass on every row. With the short ``"auto"`` budget, which
        learns few of the outliers anyway, the refit gained a little on contaminated
        training data and lost more on clean data; it counts more for networks trained
        longer.
    contamination : "auto" or float, default="auto"
        The expected proportion of outliers in the training data; it sets ``offset_``
        and, with ``refit=True``, the rows the first pass leaves out (see ``refit``).
        A float in (0, 0.5]: the threshold flags that fraction of the training samples.
        ``"auto"``: the threshold is the upper fence of a box plot of the training
        samples' errors (Tukey's rule, Q3 + 1.5 IQR), which flags the errors that are
        extreme next to those of the training data, however many.
    random_state : int, RandomState instance or None, default=None
        Seeds the networks' initial weights, shuffles and noise. Pass an int for
        reproducible results.
    device : str, default="cpu"
        Where the networks train and score, as the ``device`` of :class:`AutoEncoder`.
    missing_values : None or np.nan, default=None
        ``np.nan``: samples may have missing entries, which the networks fill
        (``missing_values`` of :class:`AutoEncoder`); a sample's error then runs over its
        observed entries, scaled by ``n_features`` over their number.
    n_jobs : "auto" or int, default="auto"
        Threads of each network, as the ``n_jobs`` of :class:`AutoEncoder`.
    verbose : int, default=0
        Print the progress of each network's training.

    Attributes
    ----------
    estimators_ : list of fitted estimators
        The trained autoencoders.
    error_ : str
        The ``error`` used: ``"auto"`` resolved by the training data.
    error_scales_ : ndarray of shape (n_features,)
        What each feature's squared error is divided by: its mean training error plus
        the floor (``"standardized"``), or ones.
    energy_floor_ : float or None
        For relative errors, what each sample's energy is added to: ``error_floor``
        times the training samples' mean sum of squares. ``None`` for the others.
    offset_ : float
        The threshold on :meth:`score_samples`: :meth:`decision_function` is
        ``score_samples(X) - offset_``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when they are all strings.

    See Also
    --------
    sklearn.ensemble.IsolationForest : Outliers as the samples isolated by few random
        splits.
    sklearn.neighbors.LocalOutlierFactor : Outliers as samples of low local density.

    References
    ----------
    M. Sakurada and T. Yairi, "Anomaly detection using autoencoders with nonlinear
    dimensionality reduction", MLSDA workshop, 2014.

    J. W. Tukey, "Exploratory Data Analysis", Addison-Wesley, 1977.

    "ALTBI: Constructing Improved Outlier Detection Models via Optimization of
    Inlier-Memorization Effect", arXiv:2408.09791, 2024 (the inlier-memorisation effect
    that ``refit`` relies on).

    Examples
    --------
    >>> import numpy as np
    >>> from skautoenc import AutoEncoder, AutoEncoderOutlierDetector
    >>> rng = np.random.RandomState(0)
    >>> W = rng.normal(size=(2, 8))
    >>> X = rng.normal(size=(300, 2)) @ W  # normal rows lie on a plane
    >>> detector = AutoEncoderOutlierDetector(
    ...     AutoEncoder(n_components=2, max_iter=100), contamination=0.01, random_state=0
    ... ).fit(X)
    >>> X_new = np.vstack([rng.normal(size=(3, 2)) @ W,  # three on the plane
    ...                    rng.normal(size=(1, 8))])      # one off it
    >>> detector.predict(X_new)
    array([ 1,  1,  1, -1])
    """

    _parameter_constraints: dict = {
        "estimator": [None, BaseAutoEncoder],
        "error": [StrOptions({"auto", "relative", "standardized", "squared"})],
        "error_floor": [Interval(Real, 0, None, closed="left")],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "refit": ["boolean"],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "random_state": ["random_state"],
        "device": [str],
        "missing_values": [None, "nan"],
        "n_jobs": BaseAutoEncoder._parameter_constraints["n_jobs"],
        "verbose": ["verbose"],
    }

    # the "?" of the HTML repr (Jupyter) links the detector's API page
    _doc_link_module = "skautoenc"
    _doc_link_template = DOCS_URL + "gen_modules/{estimator_module}.{estimator_name}.html"

    def __init__(
        self,
        estimator=None,
        *,
        error="auto",
        error_floor=1.0,
        n_estimators=1,
        refit=False,
        contamination="auto",
        random_state=None,
        device="cpu",
        missing_values=None,
        n_jobs="auto",
        verbose=0,
    ):
        self.estimator = estimator
        self.error = error
        self.error_floor = error_floor
        self.n_estimators = n_estimators
        self.refit = refit
        self.contamination = contamination
        self.random_state = random_state
        self.device = device
        self.missing_values = missing_values
        self.n_jobs = n_jobs
        self.verbose = verbose

    def __setstate__(self, state):
        super().__setstate__(state)
        if "estimators_" in state and "error_" not in state:
            # fitted by skautoenc 0.2.0, which had neither "auto" nor relative errors:
            # its error was the one it was given
            self.error_, self.energy_floor_ = self.error, None

    def _allows_nan(self):
        return is_nan(self.missing_values)

    def _validate(self, X, reset):
        X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32],
                          ensure_all_finite=False, ensure_min_samples=2 if reset else 1)
        # NaN (and the way to accept it), infinity, values beyond float32
        return check_float32_range(X, "X", self, allow_nan=self._allows_nan())

    def _template(self, X):
        """The detector's copy of ``estimator``, with its settings, and with
        ``max_iter="auto"`` resolved to the detector's budget (:data:`DETECTOR_STEPS`);
        and whether it was."""
        # the parameter check admits the four autoencoders only (not the imputer); clone
        # drops the fitted state of a fitted one
        if self.estimator is None:
            template = default_estimator(X.shape[1], in_unit_interval(X))
        else:
            template = clone(self.estimator)
        template.set_params(**{name: getattr(self, name) for name in _FORWARDED})
        budgeted = template.max_iter == "auto"
        template.set_params(max_iter=template._epochs(len(X), steps=DETECTOR_STEPS))
        return template, budgeted

    @_fit_context(prefer_skip_nested_validation=False)  # the autoencoders check their own
    def fit(self, X, y=None):
        """Train the autoencoders on ``X`` and set the threshold.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, mostly normal samples.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted detector.
        """
        refuse_own_rows(self)
        with unchanged_on_failure(self):
            self._fit(X)
        return self

    def _fit(self, X):
        X = self._validate(X, reset=True)
        error = self.error
        if error == "auto":
            error = "relative" if in_unit_interval(X) else "squared"
        # the relative errors' floor, of the first pass and of the final networks alike
        floor = self.error_floor * _mean_squared_norm(X) if error == "relative" else None
        template, budgeted = self._template(X)
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=self.n_estimators)
        if self.refit:
            # Autoencoders learn the bulk of their training data before its rare
            # outliers (the inlier-memorisation effect): short first fits flag them
            # before they are learnt. The final networks train without them.
            first = _trained(self._short(template, len(X)), seeds, X, stopped_early=True)
            X_kept = X[self._inliers(first, X, floor)]
        else:
            X_kept = X
        self.estimators_ = _trained(template, seeds, X_kept, stopped_early=budgeted)
        self.error_, self.energy_floor_ = error, floor
        self._set_error_scales(X)
        scores = self._score_samples(X)
        # the threshold on all the training samples, so that contamination=0.1 flags a
        # tenth of them, also after a refit
        self.offset_ = self._offset(scores)

    @staticmethod
    def _short(network, n_samples):
        """A copy of ``network`` set to train :data:`REFIT_FIRST_EPOCHS` of the epochs it
        would on ``n_samples`` rows (at least :data:`REFIT_MIN_EPOCHS`)."""
        return clone(network).set_params(max_iter=max(REFIT_MIN_EPOCHS, round(
            network._epochs(n_samples) * REFIT_FIRST_EPOCHS)))

    def _inliers(self, networks, X, floor):
        """The training rows that ``networks`` do not flag: all but the ``contamination``
        share of the highest errors, no less than :data:`REFIT_MIN_SHARE` (that share for
        ``"auto"``): relative errors with the relative errors' ``floor``, else squared
        ones."""
        errors = _row_errors(networks, X, np.ones(X.shape[1]), floor)
        share = (REFIT_MIN_SHARE if self.contamination == "auto"
                 else max(self.contamination, REFIT_MIN_SHARE))
        kept = errors <= np.quantile(errors, 1.0 - share)
        return kept if kept.sum() >= 2 else np.ones(len(X), dtype=bool)

    def _set_error_scales(self, X):
        """``error_scales_``: each feature's mean squared error on ``X`` plus the floor
        for standardised errors, ones for the others."""
        self.error_scales_ = np.ones(X.shape[1])
        if self.error_ != "standardized":
            return
        # each feature's mean over its observed entries, chunk by chunk
        total, count = np.zeros(X.shape[1]), np.zeros(X.shape[1])
        for start in range(0, len(X), SCORING_CHUNK_ROWS):
            rows = X[start:start + SCORING_CHUNK_ROWS]
            squared = np.mean([_squared_errors(est, rows) for est in self.estimators_],
                              axis=0)
            total += np.nansum(squared, axis=0)
            count += (~np.isnan(squared)).sum(axis=0)
        mean = np.where(count > 0, total / np.maximum(count, 1), 0.0)  # 0: never observed
        scales = mean + self.error_floor * mean.mean()
        if np.all(scales > 0):  # else a perfect reconstruction: nothing to standardise
            self.error_scales_ = scales

    def _offset(self, scores):
        """The threshold that ``contamination`` sets on the training ``scores``."""
        if self.contamination == "auto":
            return -tukey_fence(-scores)
        return float(np.percentile(scores, 100.0 * self.contamination))

    def _score_samples(self, X):
        return (-_row_errors(self.estimators_, X, self.error_scales_,
                             self.energy_floor_)).astype(X.dtype)

    def score_samples(self, X):
        """Negative reconstruction error of each sample, as ``error`` adds it up.

        Higher is more normal. With several networks, the mean of their scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The scores, in the float dtype of ``X``.
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        if self._allows_nan():
            check_rows_observed(X)
        return self._score_samples(X)

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers, positive for inliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The shifted scores.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Whether each sample is an outlier (-1) or an inlier (+1).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples to label.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            -1 where :meth:`decision_function` is negative, +1 elsewhere.
        """
        return np.where(self.decision_function(X) < 0, -1, 1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self._allows_nan()
        return tags
