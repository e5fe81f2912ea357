"""missing_values=np.nan: every estimator learns from, encodes and scores rows with holes."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.utils._param_validation import InvalidParameterError

from skautoenc import AutoEncoder, DenoisingAutoEncoder, VariationalAutoEncoder
from skautoenc._losses import ReconstructionLoss, gaussian_kl
from skautoenc._modules import FillMissing

from .conftest import public_estimators, tiny

ESTIMATORS = public_estimators()


@pytest.fixture
def holes(digits):
    """Digits with 30% of their pixels missing, training and held-out."""
    X_train, X_test, _, _ = digits
    rng = np.random.RandomState(0)
    X_train, X_test = X_train.copy(), X_test.copy()
    X_train[rng.uniform(size=X_train.shape) < 0.3] = np.nan
    X_test[rng.uniform(size=X_test.shape) < 0.3] = np.nan
    return X_train, X_test


def with_nan(estimator_class, **params):
    return tiny(estimator_class, missing_values=np.nan, n_components=4, **params)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_every_method_takes_rows_with_missing_values(estimator_class, holes):
    X_train, X_test = holes
    est = with_nan(estimator_class).fit(X_train)
    assert est.__sklearn_tags__().input_tags.allow_nan
    codes = est.transform(X_test)
    assert codes.shape == (len(X_test), 4) and np.isfinite(codes).all()
    assert np.isfinite(est.score_samples(X_test)).all()
    assert np.isfinite(est.score(X_test))
    assert np.isfinite(est.inverse_transform(codes)).all()
    est.partial_fit(X_test)
    assert np.isfinite(est.loss_curve_).all()


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_nan_is_refused_by_default_and_infinity_always(estimator_class, holes):
    X_train, _ = holes
    assert not tiny(estimator_class).__sklearn_tags__().input_tags.allow_nan
    name = estimator_class.__name__
    with pytest.raises(ValueError, match=rf"NaN(.|\n)*{name}\(missing_values=np.nan\)"):
        tiny(estimator_class).fit(X_train)
    X_inf = np.nan_to_num(X_train, nan=0.5)
    X_inf[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        with_nan(estimator_class).fit(X_inf)
    est = with_nan(estimator_class).fit(X_train)
    with pytest.raises(ValueError, match="infinity"):
        est.transform(X_inf)
    with pytest.raises(ValueError, match="NaN"):  # codes have no missing values
        est.inverse_transform(np.full((2, 4), np.nan))


def test_only_nan_marks_missing_values(holes):
    with pytest.raises(InvalidParameterError, match="missing_values"):
        AutoEncoder(missing_values=0).fit(np.zeros((10, 3)))
    with pytest.raises(InvalidParameterError, match="missing_values"):
        AutoEncoder(missing_values="NA").fit(np.zeros((10, 3)))


def test_the_network_fills_each_missing_entry_with_the_mean_then_its_reconstruction(holes):
    X_train, _ = holes
    X_train = X_train.copy()
    X_train[:, 5] = np.nan  # a feature never observed: filled with 0
    est = with_nan(AutoEncoder).fit(X_train)
    fill = est.net_.module_.fill
    assert isinstance(fill, FillMissing)
    counts = (~np.isnan(X_train)).sum(axis=0)
    expected = np.nansum(X_train, axis=0) / np.maximum(counts, 1)
    assert_allclose(fill.values.numpy(), expected, rtol=1e-6)
    # a row with holes encodes as the same row with its holes filled by the
    # reconstruction of the row with its holes filled by those means
    row = X_train[:3]
    filled = np.where(np.isnan(row), expected, row)
    refilled = np.where(np.isnan(row), est.inverse_transform(est.transform(filled)), row)
    assert_allclose(est.transform(row), est.transform(refilled), rtol=1e-5, atol=1e-6)
    assert not np.allclose(est.transform(row), est.transform(filled), rtol=1e-3)
    # the VAE encodes in one pass, from the means
    vae = with_nan(VariationalAutoEncoder).fit(X_train)
    vae_fill = vae.net_.module_.fill.values.numpy()
    assert_allclose(vae.transform(row), vae.transform(np.where(np.isnan(row), vae_fill, row)),
                    rtol=1e-5, atol=1e-6)
    plain = tiny(AutoEncoder).fit(filled)  # without the option: no fill layer
    assert plain.net_.module_.fill is None


def test_the_loss_counts_observed_entries_at_the_scale_of_complete_rows():
    torch.manual_seed(0)
    output, target = torch.randn(8, 5), torch.rand(8, 5)
    for loss in ("mse", "bce"):
        plain = ReconstructionLoss(loss)(output, target)
        assert torch.allclose(ReconstructionLoss(loss, missing=True)(output, target), plain)
        holed = target.clone()
        holed[torch.rand(8, 5) < 0.4] = torch.nan
        observed = ~torch.isnan(holed)
        masked = ReconstructionLoss(loss, missing=True)(output, holed)
        per_entry = ReconstructionLoss(loss)(output[observed][:, None], holed[observed][:, None])
        # the mean loss of an observed entry, times the entries of a complete row
        assert torch.allclose(masked, per_entry * 5, rtol=1e-5)


def test_vae_scores_the_elbo_of_the_observed_entries(holes):
    X_train, X_test = holes
    vae = with_nan(VariationalAutoEncoder).fit(X_train)
    module = vae.net_.module_.eval()
    x = torch.tensor(X_test[:5], dtype=torch.float32)
    observed = ~torch.isnan(x)
    with torch.no_grad():
        mu, log_var = module.encode(x)
        z = mu + torch.exp(0.5 * log_var) * module.score_eps[:, None, :]
        p = torch.sigmoid(module.decoder(z))
        x0 = torch.where(observed, x, 0.0)
        log_px = (x0 * torch.log(p) + (1 - x0) * torch.log(1 - p)) * observed
        expected = log_px.sum(-1).mean(0) - gaussian_kl(mu, log_var)
    assert_allclose(vae.score_samples(X_test[:5]), expected.numpy(), rtol=1e-4)
    # a row with nothing observed has the bound -KL, a finite number
    assert np.isfinite(vae.score_samples(np.full((1, X_test.shape[1]), np.nan))).all()


def test_autoencoder_scores_observed_entries_scaled_to_complete_rows(holes):
    X_train, X_test = holes
    est = with_nan(AutoEncoder).fit(X_train)
    rows = X_test[:6]
    reconstruction = est.inverse_transform(est.transform(rows))
    observed = ~np.isnan(rows)
    error = np.where(observed, reconstruction - rows, 0.0) ** 2
    expected = -error.sum(axis=1) * rows.shape[1] / observed.sum(axis=1)
    assert_allclose(est.score_samples(rows), expected, rtol=1e-4)
    empty = rows.copy()
    empty[2] = np.nan
    with pytest.raises(ValueError, match=r"Rows \[2\] of X have no observed entry"):
        est.score_samples(empty)


def test_data_with_nothing_observed_and_pretraining_are_refused(holes):
    with pytest.raises(ValueError, match="no observed entry"):
        with_nan(AutoEncoder).fit(np.full((20, 3), np.nan))
    with pytest.raises(ValueError, match="does not take missing values"):
        with_nan(AutoEncoder, pretraining="autoencoder").fit(holes[0])
    # all-missing rows among others are allowed: they add nothing to the loss
    X = holes[0].copy()
    X[:5] = np.nan
    est = with_nan(AutoEncoder).fit(X)
    assert np.isfinite(est.loss_curve_).all()


def test_sparse_input_its_implicit_zeros_are_observed(holes):
    X_train, X_test = holes
    dense_train = np.where(X_train < 0.2, 0.0, X_train)  # zeros to leave implicit
    sparse_train = sp.csr_matrix(np.nan_to_num(dense_train, nan=-1.0))
    sparse_train.data[sparse_train.data == -1.0] = np.nan  # NaN as explicit entries
    a = with_nan(AutoEncoder).fit(dense_train)
    b = with_nan(AutoEncoder).fit(sparse_train)
    assert_allclose(b.net_.module_.fill.values.numpy(),
                    a.net_.module_.fill.values.numpy(), rtol=1e-6)
    assert_allclose(b.loss_curve_, a.loss_curve_, rtol=1e-5)
    assert_allclose(b.transform(sp.csr_matrix(np.nan_to_num(X_test))),
                    a.transform(np.nan_to_num(X_test)), rtol=1e-4, atol=1e-5)


def test_memory_mapped_input_with_missing_values(holes, tmp_path):
    X_train, _ = holes
    path = tmp_path / "X.npy"
    np.save(path, X_train)
    mapped = np.load(path, mmap_mode="r")
    a = with_nan(AutoEncoder).fit(X_train)
    b = with_nan(AutoEncoder).fit(mapped)
    assert_array_equal(b.transform(mapped), a.transform(X_train))


@pytest.mark.parametrize("estimator_class", [DenoisingAutoEncoder, VariationalAutoEncoder])
def test_data_dependent_settings_leave_missing_values_out(estimator_class, holes):
    # unscaled data: the denoising model's per-feature noise bounds and the Gaussian
    # VAE's initial variances come from the observed values
    X_train = holes[0] * 16 - 3
    X_train[:, 7] = np.nan
    est = with_nan(estimator_class).fit(X_train)
    if estimator_class is DenoisingAutoEncoder:
        assert np.isfinite(est.noise_bounds_).all()
        assert_allclose(est.noise_bounds_[0, 0], np.nanmin(X_train[:, 0]))
    else:
        assert est.likelihood_ == "gaussian"
        assert torch.isfinite(est.net_.module_.output_log_var).all()
    assert np.isfinite(est.transform(X_train)).all()


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_a_saved_model_keeps_its_fill_values(estimator_class, holes):
    X_train, X_test = holes
    est = with_nan(estimator_class).fit(X_train)
    loaded = pickle.loads(pickle.dumps(est))
    assert loaded.missing_values is not None and np.isnan(loaded.missing_values)
    assert_array_equal(loaded.transform(X_test), est.transform(X_test))


def test_failed_fit_with_missing_values_leaves_the_model_as_it_was(holes):
    X_train, X_test = holes
    est = with_nan(AutoEncoder).fit(X_train)
    before = est.transform(X_test)
    X_bad = X_train.copy()
    X_bad[0, 0] = np.inf
    with pytest.raises(ValueError):
        est.fit(X_bad)
    assert_array_equal(est.transform(X_test), before)


def test_missing_values_in_a_pipeline_with_search(holes, digits):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    X_train, _ = holes
    y_train = digits[2]
    pipe = make_pipeline(with_nan(AutoEncoder), LogisticRegression(max_iter=200))
    search = GridSearchCV(pipe, {"autoencoder__n_components": [2, 4]}, cv=2).fit(
        X_train, y_train
    )
    assert search.best_score_ > 0.2  # chance is 0.1
