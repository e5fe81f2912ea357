"""AutoEncoderOutlierDetector: the detector API of IsolationForest, on autoencoders."""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, PredefinedSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skautoenc import (
    AutoEncoder,
    AutoEncoderImputer,
    AutoEncoderOutlierDetector,
    DenoisingAutoEncoder,
    SparseAutoEncoder,
    VariationalAutoEncoder,
)

TINY = dict(hidden_layer_sizes=(16,), max_iter=20, batch_size=32)


@pytest.fixture(scope="module")
def one_class_digits(digits):
    """Training images of the digit 0 only; held-out images of all digits, labelled
    +1 for a 0 (normal) and -1 for the others (anomalies)."""
    X_train, X_test, y_train, y_test = digits
    return X_train[y_train == 0], X_test, np.where(y_test == 0, 1, -1)


def detector(**params):
    """A detector on one tiny network."""
    params = {"n_estimators": 1, "random_state": 0, **params}
    return AutoEncoderOutlierDetector(AutoEncoder(n_components=4, **TINY), **params)


def test_detects_digits_it_was_not_trained_on(one_class_digits):
    X_train, X_test, labels = one_class_digits
    fitted = detector().fit(X_train)
    assert roc_auc_score(labels, fitted.decision_function(X_test)) > 0.95
    predicted = fitted.predict(X_test)
    # most anomalies flagged, most normal images kept
    assert np.mean(predicted[labels == -1] == -1) > 0.8
    assert np.mean(predicted[labels == 1] == 1) > 0.8


@pytest.mark.parametrize("contamination", [0.05, 0.1, 0.25])
def test_contamination_flags_that_fraction_of_the_training_samples(contamination, digits):
    X_train = digits[0]
    for refit in (False, True):
        labels = detector(contamination=contamination, refit=refit).fit_predict(X_train)
        assert set(np.unique(labels)) == {-1, 1}
        assert abs(np.mean(labels == -1) - contamination) <= 0.01


def test_decision_function_is_score_samples_less_offset(one_class_digits):
    X_train, X_test, _ = one_class_digits
    fitted = detector().fit(X_train)
    scores = fitted.score_samples(X_test)
    assert_allclose(fitted.decision_function(X_test), scores - fitted.offset_)
    assert_array_equal(fitted.predict(X_test), np.where(scores < fitted.offset_, -1, 1))


def test_auto_threshold_is_the_box_plot_fence_of_the_training_errors(one_class_digits):
    X_train = one_class_digits[0]
    fitted = detector().fit(X_train)
    errors = -fitted.score_samples(X_train)
    q1, q3 = np.percentile(errors, [25, 75])
    assert fitted.offset_ == pytest.approx(-(q3 + 1.5 * (q3 - q1)))
    # a few training images lie beyond the fence, not a fixed fraction
    assert 0 < np.mean(fitted.predict(X_train) == -1) < 0.1


def test_squared_errors_are_the_autoencoders_own_scores(one_class_digits):
    X_train, X_test, _ = one_class_digits
    fitted = detector(error="squared").fit(X_train)
    assert fitted.error_ == "squared" and fitted.energy_floor_ is None
    assert_array_equal(fitted.error_scales_, np.ones(X_train.shape[1]))
    assert_allclose(fitted.score_samples(X_test),
                    fitted.estimators_[0].score_samples(X_test), rtol=1e-5)


def test_relative_errors_divide_by_the_samples_energy_plus_a_floor(one_class_digits):
    X_train, X_test, _ = one_class_digits
    fitted = detector(error="relative", error_floor=0.5).fit(X_train)
    floor = 0.5 * (X_train ** 2).sum(axis=1).mean()
    assert fitted.energy_floor_ == pytest.approx(floor)
    ae = fitted.estimators_[0]
    reconstruction = ae.inverse_transform(ae.transform(X_test))
    energy = (X_test ** 2).sum(axis=1) + (reconstruction ** 2).sum(axis=1)
    assert_allclose(fitted.score_samples(X_test),
                    ae.score_samples(X_test) / (energy + floor), rtol=1e-5)
    # with a floor of 0 the error is a share of the energy: at most 2 (the squared
    # difference is at most twice the sum of the squares), and finite for a blank row
    bare = detector(error="relative", error_floor=0.0).fit(X_train)
    assert bare.energy_floor_ == 0.0
    scores = bare.score_samples(np.vstack([X_test, np.zeros(X_train.shape[1])]))
    assert np.isfinite(scores).all() and scores.min() >= -2.0


@pytest.mark.parametrize("shift, resolved", [(0.0, "relative"), (-0.5, "squared")])
def test_auto_error_is_relative_on_pixels_and_squared_on_other_data(shift, resolved,
                                                                   one_class_digits):
    X_train = one_class_digits[0] + shift
    fitted = detector().fit(X_train)
    assert fitted.error_ == resolved
    same = detector(error=resolved).fit(X_train)
    assert_array_equal(fitted.score_samples(X_train), same.score_samples(X_train))


def test_standardized_errors_divide_by_each_features_training_error():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4)) * [1.0, 1.0, 1.0, 10.0]  # the last feature is noisier
    fitted = detector(error="standardized", error_floor=0.0).fit(X)
    ae = fitted.estimators_[0]
    squared = (ae.inverse_transform(ae.transform(X)) - X) ** 2
    assert_allclose(fitted.error_scales_, squared.mean(axis=0), rtol=1e-5)
    assert_allclose(fitted.score_samples(X), -(squared / squared.mean(axis=0)).sum(axis=1),
                    rtol=1e-4)
    # an error of 10 in the noisy feature counts less than one of 10 in a precise one
    probe = np.zeros((2, 4))
    probe[0, 0] = probe[1, 3] = 10.0
    scores = fitted.score_samples(probe)
    assert scores[0] < scores[1]


def test_several_networks_average_their_scores(one_class_digits):
    X_train, X_test, labels = one_class_digits
    fitted = AutoEncoderOutlierDetector(AutoEncoder(n_components=4, **TINY), error="squared",
                                        n_estimators=3, random_state=0).fit(X_train)
    assert len(fitted.estimators_) == 3
    seeds = {est.random_state for est in fitted.estimators_}
    assert len(seeds) == 3
    each = [-((est.inverse_transform(est.transform(X_test)) - X_test) ** 2).sum(axis=1)
            for est in fitted.estimators_]
    assert_allclose(fitted.score_samples(X_test), np.mean(each, axis=0), rtol=1e-5)


@pytest.mark.parametrize("n_samples, epochs", [(300, 15), (60, 75), (3000, 10)])
def test_auto_max_iter_trains_the_detector_budget(n_samples, epochs):
    # batches of 32: 150 updates are 15 epochs of 10 batches and 75 of 2, and at least
    # 10 epochs on 3,000 rows (a tenth held out: 85 batches)
    X = np.random.RandomState(0).uniform(size=(n_samples, 4))
    network = AutoEncoder(n_components=2, hidden_layer_sizes=(4,), batch_size=32,
                          n_iter_no_change=1000)
    fitted = AutoEncoderOutlierDetector(network, random_state=0).fit(X)
    assert fitted.estimators_[0].max_iter == fitted.estimators_[0].n_iter_ == epochs
    assert network.max_iter == "auto"  # the detector's copy only


def test_an_integer_max_iter_is_kept(one_class_digits):
    X_train, _, _ = one_class_digits
    fitted = detector().fit(X_train)
    assert fitted.estimators_[0].n_iter_ == TINY["max_iter"]


def test_the_budget_stops_short_without_a_warning(one_class_digits):
    X_train, _, _ = one_class_digits
    network = AutoEncoder(n_components=4, hidden_layer_sizes=(16,), batch_size=32)
    # the detector's own budget: stopped short on purpose
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        AutoEncoderOutlierDetector(network, random_state=0).fit(X_train)
    # a budget the user chose: warned as the network alone warns
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        AutoEncoderOutlierDetector(network.set_params(max_iter=3), random_state=0).fit(X_train)


def test_refit_leaves_out_the_flagged_training_samples(digits):
    X_train, _, y_train, _ = digits
    # zeros, and a tenth as many other digits in the training data
    normal, other = X_train[y_train == 0], X_train[y_train != 0][:13]
    X = np.vstack([normal, other])
    plain = detector(contamination=0.1, refit=False).fit(X)
    refitted = detector(contamination=0.1, refit=True).fit(X)
    is_other = np.r_[np.zeros(len(normal)), np.ones(len(other))]
    # the refitted networks reconstruct the other digits worse: they never trained on them
    assert roc_auc_score(is_other, -refitted.score_samples(X)) >= roc_auc_score(
        is_other, -plain.score_samples(X))


def test_refit_leaves_out_at_least_a_tenth(digits):
    X = digits[0]
    fitted = {c: detector(contamination=c, refit=True).fit(X) for c in (0.02, 0.1, 0.25)}
    # below a tenth, the final networks train on the same rows: the same scores, while
    # the threshold still follows contamination
    assert_allclose(fitted[0.02].score_samples(X), fitted[0.1].score_samples(X))
    assert fitted[0.02].offset_ < fitted[0.1].offset_
    # above it, fewer rows
    assert not np.allclose(fitted[0.25].score_samples(X), fitted[0.1].score_samples(X))


def test_settings_reach_the_networks_and_leave_the_estimator_alone(small_X):
    estimator = AutoEncoder(n_components=2, **TINY)
    fitted = AutoEncoderOutlierDetector(estimator, missing_values=np.nan, verbose=0,
                                        n_jobs=1, random_state=3, n_estimators=1).fit(small_X)
    network = fitted.estimators_[0]
    assert network is not estimator and not hasattr(estimator, "net_")
    assert network.n_jobs == 1 and network.device == "cpu"
    assert network.missing_values is not None and np.isnan(network.missing_values)
    assert estimator.missing_values is None


def test_same_random_state_gives_same_scores(one_class_digits):
    X_train, X_test, _ = one_class_digits
    first = detector().fit(X_train).score_samples(X_test)
    assert_array_equal(detector().fit(X_train).score_samples(X_test), first)


@pytest.mark.parametrize("estimator", [
    DenoisingAutoEncoder(n_components=4, **TINY),
    SparseAutoEncoder(n_components=4, **TINY),
    VariationalAutoEncoder(n_components=4, **TINY),
    AutoEncoder(n_components=4, encoder="conv", image_shape=(8, 8), conv_channels=(8,),
                max_iter=40),
])
def test_every_autoencoder_serves(estimator, one_class_digits):
    X_train, X_test, labels = one_class_digits
    fitted = AutoEncoderOutlierDetector(estimator, n_estimators=1, random_state=0).fit(X_train)
    assert type(fitted.estimators_[0]) is type(estimator)
    assert roc_auc_score(labels, fitted.decision_function(X_test)) > 0.9


def test_missing_entries_are_scored_on_the_observed_ones(one_class_digits):
    X_train, X_test, labels = one_class_digits
    rng = np.random.RandomState(0)
    holes = X_test.copy()
    holes[rng.uniform(size=holes.shape) < 0.2] = np.nan
    fitted = detector(missing_values=np.nan).fit(X_train)
    assert roc_auc_score(labels, fitted.decision_function(holes)) > 0.9
    with pytest.raises(ValueError, match="no observed entry"):
        fitted.score_samples(np.full((1, X_train.shape[1]), np.nan))
    with pytest.raises(ValueError, match="NaN"):
        detector().fit(holes)


@pytest.mark.parametrize("estimator, match", [
    (AutoEncoderImputer(), "estimator"),
    (StandardScaler(), "estimator"),
    ("mlp", "estimator"),
])
def test_a_wrong_estimator_is_a_clear_error(estimator, match, small_X):
    with pytest.raises((TypeError, ValueError), match=match):
        AutoEncoderOutlierDetector(estimator).fit(small_X)


def test_a_failed_fit_leaves_the_fitted_detector_as_it_was(one_class_digits):
    X_train, X_test, _ = one_class_digits
    fitted = detector().fit(X_train)
    before = fitted.score_samples(X_test)
    with pytest.raises(ValueError):
        fitted.fit(np.vstack([X_train, np.full((1, X_train.shape[1]), np.nan)]))
    assert_array_equal(fitted.score_samples(X_test), before)
    assert fitted.n_features_in_ == X_train.shape[1]


def test_in_a_pipeline_tuned_by_roc_auc_on_labelled_validation_data():
    X, y = load_breast_cancer(return_X_y=True)
    labels = np.where(y == 1, 1, -1)  # benign: normal
    rng = np.random.RandomState(0)
    train = np.flatnonzero(labels == 1)[:200]  # normal rows only
    valid = np.r_[np.flatnonzero(labels == 1)[200:], np.flatnonzero(labels == -1)[:15]]
    rows = np.r_[train, valid]
    rng.shuffle(rows)
    fold = np.where(np.isin(rows, valid), 0, -1)  # fit on train, score on valid
    pipe = make_pipeline(StandardScaler(), detector())
    search = GridSearchCV(pipe, {"autoencoderoutlierdetector__error": ["squared",
                                                                       "standardized"]},
                          scoring="roc_auc", cv=PredefinedSplit(fold)).fit(X[rows],
                                                                           labels[rows])
    assert search.best_score_ > 0.8
    assert search.predict(X[:5]).shape == (5,)


def test_pickle_and_skops_keep_the_scores(one_class_digits, tmp_path):
    sio = pytest.importorskip("skops.io")
    X_train, X_test, _ = one_class_digits
    fitted = detector(n_estimators=2).fit(X_train)
    loaded = pickle.loads(pickle.dumps(fitted))
    assert_array_equal(loaded.decision_function(X_test), fitted.decision_function(X_test))
    sio.dump(fitted, tmp_path / "detector.skops")
    untrusted = sio.get_untrusted_types(file=tmp_path / "detector.skops")
    assert sorted(untrusted) == ["skautoenc._autoencoder.AutoEncoder",
                                 "skautoenc._outlier.AutoEncoderOutlierDetector"]
    loaded = sio.load(tmp_path / "detector.skops", trusted=untrusted)
    assert_array_equal(loaded.predict(X_test), fitted.predict(X_test))
    assert_array_equal(loaded.score_samples(X_test), fitted.score_samples(X_test))


def test_clone_keeps_the_estimator_unfitted(one_class_digits):
    fitted = detector().fit(one_class_digits[0])
    copy = clone(fitted)
    assert not hasattr(copy, "estimators_")
    assert not hasattr(copy.estimator, "net_")


def test_docstring_documents_every_parameter_and_links_the_user_guide():
    from numpydoc.docscrape import ClassDoc

    doc = ClassDoc(AutoEncoderOutlierDetector)
    assert sorted(p.name for p in doc["Parameters"]) == sorted(
        AutoEncoderOutlierDetector().get_params())
    assert ":ref:`User Guide <outliers>`" in AutoEncoderOutlierDetector.__doc__


def test_the_default_network_and_error_are_chosen_by_the_data():
    rng = np.random.RandomState(0)
    table = rng.normal(size=(60, 40))  # standardised features: heavy masking noise
    fitted = AutoEncoderOutlierDetector(n_estimators=1, random_state=0).fit(table)
    network = fitted.estimators_[0]
    assert isinstance(network, DenoisingAutoEncoder) and fitted.error_ == "squared"
    assert (network.n_components, tuple(network.hidden_layer_sizes)) == (5, (20,))
    assert network.noise_level == 0.8
    pixels = rng.uniform(size=(60, 64))  # in [0, 1]: a plain autoencoder, relative errors
    fitted = AutoEncoderOutlierDetector(n_estimators=1, random_state=0).fit(pixels)
    network = fitted.estimators_[0]
    assert type(network) is AutoEncoder and fitted.error_ == "relative"
    assert network.n_components == 16
    assert network.hidden_layer_sizes == AutoEncoder().hidden_layer_sizes


@pytest.mark.parametrize("error", ["standardized", "relative"])
def test_scoring_by_chunks_of_rows_changes_nothing(error, one_class_digits, monkeypatch):
    from skautoenc import _outlier

    X_train, X_test, _ = one_class_digits
    whole = detector(error=error).fit(X_train)
    monkeypatch.setattr(_outlier, "SCORING_CHUNK_ROWS", 7)
    chunked = detector(error=error).fit(X_train)
    assert_allclose(chunked.error_scales_, whole.error_scales_, rtol=1e-6)
    if error == "relative":
        assert chunked.energy_floor_ == pytest.approx(whole.energy_floor_, rel=1e-9)
    assert_allclose(chunked.score_samples(X_test), whole.score_samples(X_test), rtol=1e-6)
    assert chunked.offset_ == pytest.approx(whole.offset_)


def test_nan_without_missing_values_names_the_option(small_X):
    X = small_X.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"missing_values=np.nan"):
        detector().fit(X)


def test_the_short_first_pass_warns_of_nothing(one_class_digits):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # the full networks converge within 40 epochs (tol=0.5); the first pass, of 6,
        # stops before it would
        AutoEncoderOutlierDetector(AutoEncoder(n_components=4, hidden_layer_sizes=(16,),
                                               max_iter=40, tol=0.5),
                                   n_estimators=1, random_state=0).fit(one_class_digits[0])
