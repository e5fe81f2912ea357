"""AutoEncoderImputer: a scikit-learn imputer that fills holes with a denoising
autoencoder's reconstruction."""

import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_breast_cancer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skautoenc import AutoEncoderImputer, DenoisingAutoEncoder
from skautoenc._corruption import Corruption, correlated_groups, group_missing_noise

SMALL = dict(n_components=8, hidden_layer_sizes=(32,), max_iter=5, random_state=0)
#: enough training to learn something on a thousand rows, in a few seconds
TRAINED = dict(SMALL, n_components=16, hidden_layer_sizes=(64,), max_iter=60,
               learning_rate_init=1e-2)


def with_holes(X, fraction, seed=0):
    X = X.copy()
    X[np.random.RandomState(seed).uniform(size=X.shape) < fraction] = np.nan
    return X


def rmse_on_missing(X_filled, X_true, X_holes):
    missing = np.isnan(X_holes)
    return np.sqrt(np.mean((X_filled[missing] - X_true[missing]) ** 2))


@pytest.fixture
def digit_holes(digits):
    X_train, X_test, _, _ = digits
    return X_train, X_test, with_holes(X_train, 0.3), with_holes(X_test, 0.3, seed=1)


def test_fills_missing_entries_and_keeps_observed_ones(digit_holes):
    _, _, X_train, X_test = digit_holes
    imputer = AutoEncoderImputer(**SMALL).fit(X_train)
    X_filled = imputer.transform(X_test)
    observed = ~np.isnan(X_test)
    assert X_filled.shape == X_test.shape and np.isfinite(X_filled).all()
    assert_array_equal(X_filled[observed], X_test[observed])
    # digits lie in [0, 1]: modelled as they are, with fills in [0, 1]
    assert_array_equal(imputer.mean_, 0) and assert_array_equal(imputer.scale_, 1)
    assert X_filled.min() >= 0 and X_filled.max() <= 1
    assert imputer.autoencoder_.noise == "missing"
    assert imputer.autoencoder_.loss_ == "bce"


def test_beats_the_column_means_on_held_out_digits(digit_holes):
    X_train_true, X_test_true, X_train, X_test = digit_holes
    imputer = AutoEncoderImputer(**TRAINED).fit(X_train)
    ours = rmse_on_missing(imputer.transform(X_test), X_test_true, X_test)
    means = rmse_on_missing(SimpleImputer().fit(X_train).transform(X_test), X_test_true, X_test)
    assert ours < 0.8 * means


def test_data_outside_the_unit_interval_is_standardised():
    X, y = load_breast_cancer(return_X_y=True)  # features from 1e-3 to 4e3
    X_train, X_test = train_test_split(X, random_state=0)
    X_train_holes, X_test_holes = with_holes(X_train, 0.2), with_holes(X_test, 0.2, seed=1)
    imputer = AutoEncoderImputer(**TRAINED).fit(X_train_holes)
    assert imputer.autoencoder_.loss_ == "mse"
    assert_allclose(imputer.mean_, np.nanmean(X_train_holes, axis=0))
    assert_allclose(imputer.scale_, np.nanstd(X_train_holes, axis=0))
    X_filled = imputer.transform(X_test_holes)
    # errors in units of each feature's spread, so that large features do not dominate
    scale = X_train.std(axis=0)
    ours = rmse_on_missing(X_filled / scale, X_test / scale, X_test_holes)
    means = SimpleImputer().fit(X_train_holes).transform(X_test_holes)
    assert ours < 0.8 * rmse_on_missing(means / scale, X_test / scale, X_test_holes)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(digit_holes, dtype):
    _, _, X_train, X_test = digit_holes
    imputer = AutoEncoderImputer(**SMALL).fit(X_train.astype(dtype))
    assert imputer.transform(X_test.astype(dtype)).dtype == dtype


@pytest.mark.parametrize(
    "value, expected",
    [(np.nan, True), (float("nan"), True), (np.float32("nan"), True), (-1, False),
     (0.0, False), (None, False), ("nan", False), (np.inf, False)],
)
def test_placeholder_nan_test(value, expected):
    # skautoenc's own test of scikit-learn's placeholder convention, so that the imputer
    # and its ONNX export do not import scikit-learn's private helpers
    from skautoenc._validation import is_nan

    assert is_nan(value) is expected


def test_missing_mask():
    from skautoenc._validation import missing_mask

    X = np.array([[np.nan, 1.0, -1.0], [0.0, np.nan, -1.0]])
    assert_array_equal(missing_mask(X, np.nan), [[True, False, False], [False, True, False]])
    assert_array_equal(missing_mask(X, -1), [[False, False, True], [False, False, True]])
    assert missing_mask(X, 0).dtype == bool


def test_numeric_placeholder(digit_holes):
    """missing_values=-1: the entries equal to -1 are the missing ones; NaN is an error."""
    _, _, X_train, X_test = digit_holes
    with_nan = AutoEncoderImputer(**SMALL).fit(X_train)
    placeholder = AutoEncoderImputer(missing_values=-1, **SMALL)
    placeholder.fit(np.nan_to_num(X_train, nan=-1))
    assert not placeholder.__sklearn_tags__().input_tags.allow_nan
    assert with_nan.__sklearn_tags__().input_tags.allow_nan
    assert_allclose(
        placeholder.transform(np.nan_to_num(X_test, nan=-1)), with_nan.transform(X_test)
    )
    with pytest.raises(ValueError, match="NaN"):
        placeholder.transform(X_test)


def test_reproducible_and_picklable(digit_holes):
    _, _, X_train, X_test = digit_holes
    first = AutoEncoderImputer(**SMALL).fit(X_train)
    second = AutoEncoderImputer(**SMALL).fit(X_train)
    assert_array_equal(first.transform(X_test), second.transform(X_test))
    loaded = pickle.loads(pickle.dumps(first))
    assert_array_equal(loaded.transform(X_test), first.transform(X_test))
    # the imputer's network encodes in one pass, also once loaded
    assert not first.autoencoder_.net_.module_.refills_missing
    assert not loaded.autoencoder_.net_.module_.refills_missing


def test_indicator_and_empty_features(digit_holes):
    _, _, X_train, X_test = digit_holes
    X_train = X_train.copy()
    X_train[:, 0] = np.nan  # never observed at fit time
    n_features = X_train.shape[1]
    names = [f"pixel{i}" for i in range(n_features)]

    dropped = AutoEncoderImputer(**SMALL).fit(X_train)
    assert dropped.transform(X_test).shape == (len(X_test), n_features - 1)
    assert_array_equal(dropped.get_feature_names_out(names), names[1:])

    kept = AutoEncoderImputer(keep_empty_features=True, add_indicator=True, **SMALL)
    X_out = kept.fit(X_train).transform(X_test)
    indicator_width = len(kept.indicator_.features_)
    assert X_out.shape == (len(X_test), n_features + indicator_width)
    assert_array_equal(X_out[:, 0], 0)
    assert_array_equal(X_out[:, n_features:], np.isnan(X_test[:, kept.indicator_.features_]))
    out_names = kept.get_feature_names_out(names)
    assert list(out_names[:n_features]) == names
    assert out_names[n_features] == f"missingindicator_{names[kept.indicator_.features_[0]]}"


def test_set_output_pandas(digit_holes):
    pd = pytest.importorskip("pandas")
    _, _, X_train, X_test = digit_holes
    columns = [f"pixel{i}" for i in range(X_train.shape[1])]
    imputer = AutoEncoderImputer(add_indicator=True, **SMALL).set_output(transform="pandas")
    out = imputer.fit(pd.DataFrame(X_train, columns=columns)).transform(
        pd.DataFrame(X_test, columns=columns)
    )
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(imputer.get_feature_names_out())
    assert not out.isna().any().any()


def test_in_a_pipeline_with_a_classifier(digits):
    X_train, X_test, y_train, y_test = digits
    pipeline = make_pipeline(
        AutoEncoderImputer(**SMALL), LogisticRegression(max_iter=500)
    ).fit(with_holes(X_train, 0.5), y_train)
    assert pipeline.score(with_holes(X_test, 0.5, seed=1), y_test) > 0.7


def test_rows_with_nothing_observed_get_a_fill(digit_holes):
    _, _, X_train, X_test = digit_holes
    imputer = AutoEncoderImputer(**SMALL).fit(X_train)
    X_test = X_test.copy()
    X_test[0] = np.nan
    X_filled = imputer.transform(X_test)
    assert np.isfinite(X_filled[0]).all()


def test_bad_input(digit_holes):
    _, _, X_train, _ = digit_holes
    with pytest.raises(ValueError, match="Every entry of X is missing"):
        AutoEncoderImputer(**SMALL).fit(np.full((10, 3), np.nan))
    X_inf = X_train.copy()
    X_inf[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        AutoEncoderImputer(**SMALL).fit(X_inf)
    imputer = AutoEncoderImputer(**SMALL).fit(X_train)
    with pytest.raises(ValueError, match="infinity"):
        imputer.transform(X_inf)
    with pytest.raises(ValueError, match="features"):
        imputer.transform(X_train[:, :5])
    with pytest.raises(ValueError, match="missing_values"):
        AutoEncoderImputer(missing_values="?").fit(X_train)
    with pytest.raises(ValueError, match="noise_level"):
        AutoEncoderImputer(noise_level=1.0).fit(X_train)


def test_a_failed_fit_leaves_a_fitted_imputer_as_it_was(digit_holes):
    _, _, X_train, X_test = digit_holes
    imputer = AutoEncoderImputer(**SMALL).fit(X_train)
    before = imputer.transform(X_test)
    with pytest.raises(ValueError):
        imputer.fit(np.full((10, X_train.shape[1]), np.nan))
    assert_array_equal(imputer.transform(X_test), before)


# ------------------------------------------------- the network's "missing" noise
def test_missing_noise_deletes_the_asked_fraction():
    torch.manual_seed(0)
    X = torch.rand(400, 50)
    noisy = Corruption("missing", 0.3, low=np.zeros(50), high=np.ones(50))(X)
    deleted = torch.isnan(noisy)
    assert abs(float(deleted.float().mean()) - 0.3) < 0.01
    assert torch.equal(noisy[~deleted], X[~deleted])


def test_missing_noise_needs_missing_values(digits):
    X_train = digits[0]
    with pytest.raises(ValueError, match="missing_values=np.nan"):
        DenoisingAutoEncoder(noise="missing", max_iter=1).fit(X_train)
    dae = DenoisingAutoEncoder(
        n_components=4, noise="missing", missing_values=np.nan, max_iter=2, random_state=0
    ).fit(X_train)
    assert np.isfinite(dae.loss_curve_).all()


# ------------------------------------------------- deletion of correlated groups
def blocks_of_correlated_features(n_samples=500, n_blocks=3, width=4, seed=0):
    """``n_blocks`` latent factors, each copied with noise into ``width`` adjacent
    features, then one constant feature."""
    rng = np.random.RandomState(seed)
    factors = rng.normal(size=(n_samples, n_blocks))
    X = np.repeat(factors, width, axis=1) + 0.1 * rng.normal(size=(n_samples, n_blocks * width))
    return np.hstack([X, np.ones((n_samples, 1))])


def test_correlated_groups_put_a_feature_with_its_block():
    X = blocks_of_correlated_features()
    X[np.random.RandomState(1).uniform(size=X.shape) < 0.2] = np.nan  # NaN left out
    groups, seeds = correlated_groups(X, fraction=4 / 12)
    assert groups.shape == (13, 4)
    assert_array_equal(seeds, np.arange(12))  # the constant feature is never a seed
    for j in range(12):
        assert groups[j, 0] == j  # itself first
        assert set(groups[j]) == set(range(j // 4 * 4, j // 4 * 4 + 4))
    # a group holds at most the features that vary: never the constant one
    groups, _ = correlated_groups(X, fraction=1.0)
    assert groups.shape == (13, 12) and not (groups[:12] == 12).any()


def test_group_missing_noise_deletes_a_leading_part_of_a_group():
    X = torch.as_tensor(blocks_of_correlated_features(), dtype=torch.float32)
    groups, seeds = correlated_groups(X.numpy(), fraction=0.5)
    torch.manual_seed(0)
    noisy = group_missing_noise(X, 0.3, torch.as_tensor(groups), torch.as_tensor(seeds), 1.0)
    deleted = torch.isnan(noisy).numpy()
    sizes = deleted.sum(axis=1)
    assert sizes.min() >= 1 and sizes.max() <= groups.shape[1]
    for row, size in zip(deleted, sizes):  # some feature's group, cut after `size`
        assert any(set(np.flatnonzero(row)) == set(g[:size]) for g in groups[seeds])
    assert torch.equal(noisy[~torch.isnan(noisy)], X[~torch.isnan(noisy)])
    # no group rows: scattered deletion, the very draws of the plain "missing" noise
    torch.manual_seed(0)
    plain = Corruption("missing", 0.3, low=np.zeros(13), high=np.ones(13))(X)
    torch.manual_seed(0)
    none = Corruption(
        "missing", 0.3, np.zeros(13), np.ones(13), groups=groups, seeds=seeds, group_rows=0.0
    )(X)
    assert torch.equal(torch.isnan(plain), torch.isnan(none))


@pytest.mark.parametrize("offset", [0.0, 3.0])  # in [0, 1] (cross-entropy), and not
def test_constant_features_are_filled_with_their_value_outside_the_network(offset):
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(300, 6)) * 0.5 + offset
    X[:, 1], X[:, 4] = 0.25 + offset, 0.0  # features with one value
    X_train, X_test = with_holes(X[:200], 0.2), with_holes(X[200:], 0.3, seed=1)
    X_train[:, 4] = np.nan  # one observed value: constant too
    X_train[7, 4] = 0.5
    imputer = AutoEncoderImputer(**SMALL).fit(X_train)
    assert_array_equal(imputer._network_mask, [True, False, True, True, False, True])
    assert imputer.autoencoder_.n_features_in_ == 4
    X_filled = imputer.transform(X_test)
    assert_array_equal(X_filled[:, 1], 0.25 + offset)
    assert_array_equal(X_filled[np.isnan(X_test[:, 4]), 4], 0.5)
    assert_array_equal(X_filled[~np.isnan(X_test)], X_test[~np.isnan(X_test)])
    assert not np.isnan(X_filled).any()
    # a row that misses only constant features is filled without the network
    row = X[200:201].copy()
    row[0, 1] = np.nan
    assert_array_equal(imputer.transform(row), X[200:201])
    # with no feature that varies, there is no network to fit
    flat = AutoEncoderImputer(**SMALL).fit(np.tile([[0.2, 0.7]], (50, 1)))
    assert flat.autoencoder_ is None and flat.n_iter_ == 0
    assert_array_equal(flat.transform([[np.nan, 0.7], [0.3, np.nan]]), [[0.2, 0.7], [0.3, 0.7]])



def test_correlated_deletion_setting(digit_holes):
    _, _, X_train, X_test = digit_holes
    on = AutoEncoderImputer(**SMALL).fit(X_train)  # the default: 0.5
    corruption = on.autoencoder_.net_.corruption
    assert corruption.group_rows == 0.5
    # a group for each of the features that the network models: those that vary
    n_varying = int((np.nanmax(X_train, axis=0) > np.nanmin(X_train, axis=0)).sum())
    assert on.autoencoder_.deletion_groups_.shape[0] == n_varying < X_train.shape[1]
    off = AutoEncoderImputer(correlated_deletion=0, **SMALL).fit(X_train)
    assert off.autoencoder_.net_.corruption.group_rows == 0
    assert not hasattr(off.autoencoder_, "deletion_groups_")
    assert not np.array_equal(on.transform(X_test), off.transform(X_test))
    with pytest.raises(ValueError, match="correlated_deletion"):
        AutoEncoderImputer(correlated_deletion=1.5).fit(X_train)


def test_network_keeps_the_patience_the_imputer_was_measured_with(digit_holes):
    # the denoising model waits 20 epochs without improvement; the imputer's defaults
    # (and its time against KNNImputer) were measured with 10
    _, _, X_train, _ = digit_holes
    imputer = AutoEncoderImputer(**SMALL).fit(X_train)
    assert dict(imputer.autoencoder_.net_.callbacks_)["convergence"].patience == 10
    dae = DenoisingAutoEncoder(4, hidden_layer_sizes=(8,), max_iter=1, random_state=0)
    assert dict(dae.fit(np.nan_to_num(X_train)).net_.callbacks_)["convergence"].patience == 20


def test_values_outside_the_unit_interval_are_warned_of_in_the_imputers_words(digit_holes):
    _, _, X_train, X_test = digit_holes
    imputer = AutoEncoderImputer(**SMALL).fit(X_train)
    with pytest.warns(UserWarning, match="this AutoEncoderImputer was fitted") as record:
        imputer.transform(X_test * 16)
    assert not any("_OnePass" in str(w.message) for w in record)
    assert record[0].filename == __file__  # pointed at the user's call
