"""VariationalAutoEncoder: the bound it optimises, its scores, sampling and features."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skautoenc import VariationalAutoEncoder
from skautoenc._losses import gaussian_kl

# A small network that learns digits in a few seconds.
DIGITS_PARAMS = dict(n_components=8, hidden_layer_sizes=(128,), max_iter=80, random_state=0)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """These networks are tiny: one thread is as fast as several, and does not
    oversubscribe the cores when other processes share them."""
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0  # in [0, 1]
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


@pytest.fixture(scope="module")
def digits_vae(digits):
    X_train = digits[0]
    return VariationalAutoEncoder(**DIGITS_PARAMS).fit(X_train)


@pytest.fixture(scope="module")
def gaussian_data():
    rng = np.random.RandomState(0)
    latent = rng.normal(size=(300, 2))
    X = latent @ rng.normal(size=(2, 6)) + 0.1 * rng.normal(size=(300, 6))
    return StandardScaler().fit_transform(X)


@pytest.fixture(scope="module")
def gaussian_vae(gaussian_data):
    vae = VariationalAutoEncoder(
        n_components=2, hidden_layer_sizes=(16,), batch_size=32, max_iter=100, random_state=0,
        learning_rate="constant",  # the variances are slow to learn: no decay
    )
    return vae.fit(gaussian_data)


# ---------------------------------------------------------------- the objective
def _mlp_numpy(sequential, h):
    """Evaluate a stack of ``nn.Linear`` and ``nn.ReLU`` layers in float64 numpy."""
    for layer in sequential:
        if isinstance(layer, torch.nn.Linear):
            h = h @ layer.weight.detach().double().numpy().T + layer.bias.detach().double().numpy()
        else:
            assert isinstance(layer, torch.nn.ReLU)
            h = np.maximum(h, 0.0)
    return h


def _negative_elbo_by_hand(module, X, eps, likelihood, beta):
    """The loss written out from the formulas, in float64: -E_q[log p(x|z)] + beta KL."""
    hidden = _mlp_numpy(module.encoder.layers, X)
    mu = _mlp_numpy([module.encoder.heads.mean], hidden)
    log_var = _mlp_numpy([module.encoder.heads.log_var], hidden)
    kl = -0.5 * np.sum(1 + log_var - mu**2 - np.exp(log_var), axis=1)
    z = mu + np.exp(log_var / 2) * eps  # (L, n, k)
    output = _mlp_numpy(module.decoder.layers, z)  # (L, n, d)
    if likelihood == "bernoulli":
        y = 1 / (1 + np.exp(-output))
        log_p = np.sum(X * np.log(y) + (1 - X) * np.log(1 - y), axis=2)
    else:
        s = np.maximum(module.output_log_var.detach().double().numpy(), np.log(1e-6))
        log_p = np.sum(-0.5 * (np.log(2 * np.pi) + s + (X - output) ** 2 / np.exp(s)), axis=2)
    return np.mean(-log_p.mean(axis=0) + beta * kl)


@pytest.mark.parametrize(
    "likelihood, beta, n_eps", [("bernoulli", 1.0, 1), ("bernoulli", 0.3, 3), ("gaussian", 2.0, 2)]
)
def test_loss_matches_hand_computation(likelihood, beta, n_eps):
    rng = np.random.RandomState(0)
    X_train = rng.uniform(size=(40, 5))
    vae = VariationalAutoEncoder(
        n_components=3,
        hidden_layer_sizes=(4,),
        likelihood=likelihood,
        beta=beta,
        max_iter=5,
        batch_size=8,
        random_state=0,
    ).fit(X_train)
    module = vae.net_.module_
    if likelihood == "gaussian":  # make the decoder's variances matter
        with torch.no_grad():
            module.output_log_var.copy_(torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0]))
    X = rng.uniform(size=(4, 5)).astype(np.float32)
    eps = rng.normal(size=(n_eps, 4, 3)).astype(np.float32)

    y_pred = module(torch.from_numpy(X), eps=torch.from_numpy(eps))
    loss = vae.net_.get_loss(y_pred, torch.from_numpy(X)).item()

    expected = _negative_elbo_by_hand(module, X.astype(np.float64), eps, likelihood, beta)
    assert loss == pytest.approx(expected, abs=1e-5)


def test_kl_is_zero_at_the_prior_and_positive_elsewhere():
    zeros = torch.zeros(3, 4)
    np.testing.assert_array_equal(gaussian_kl(zeros, zeros).numpy(), np.zeros(3))
    assert torch.all(gaussian_kl(zeros + 0.5, zeros) > 0)
    assert torch.all(gaussian_kl(zeros, zeros - 1.0) > 0)


def test_training_draws_n_mc_samples_fresh_eps():
    X = np.random.RandomState(0).uniform(size=(30, 4))
    vae = VariationalAutoEncoder(
        n_components=2, hidden_layer_sizes=(), n_mc_samples=3, max_iter=1, random_state=0
    ).fit(X)
    module = vae.net_.module_
    module.train()
    X_t = torch.tensor(X, dtype=torch.float32)
    *_, first = module(X_t)
    *_, second = module(X_t)
    assert first.shape == (3, 30, 4)
    assert not torch.equal(first, second)
    module.eval()  # evaluation uses the fixed draws
    *_, first = module(X_t)
    *_, second = module(X_t)
    torch.testing.assert_close(first, second, rtol=0, atol=0)


def test_curves_report_the_two_terms_of_the_bound(digits):
    X_train = digits[0]
    beta = 0.5
    vae = VariationalAutoEncoder(
        n_components=4, hidden_layer_sizes=(16,), beta=beta, max_iter=4, random_state=0
    ).fit(X_train)
    assert len(vae.reconstruction_curve_) == len(vae.kl_curve_) == vae.n_iter_ == 4
    assert all(kl >= 0 for kl in vae.kl_curve_)
    assert all(r > 0 for r in vae.reconstruction_curve_)
    np.testing.assert_allclose(
        vae.loss_curve_,
        np.add(vae.reconstruction_curve_, beta * np.asarray(vae.kl_curve_)),
        rtol=1e-5,
    )
    # Warm starts extend the curves.
    vae.set_params(warm_start=True, max_iter=2).fit(X_train)
    assert len(vae.reconstruction_curve_) == len(vae.kl_curve_) == vae.n_iter_ == 6


def test_larger_beta_gives_smaller_kl(digits):
    X_train = digits[0][:600]
    params = dict(n_components=4, hidden_layer_sizes=(32,), max_iter=15, random_state=0)
    kl_vae = VariationalAutoEncoder(beta=1.0, **params).fit(X_train).kl_curve_[-1]
    kl_beta = VariationalAutoEncoder(beta=8.0, **params).fit(X_train).kl_curve_[-1]
    assert kl_beta < 0.5 * kl_vae


# ------------------------------------------------------------ trained on digits
def test_training_raises_the_held_out_elbo(digits, digits_vae):
    X_train, X_test = digits[:2]
    untrained = VariationalAutoEncoder(**{**DIGITS_PARAMS, "max_iter": 0}).fit(X_train)
    assert digits_vae.likelihood_ == "bernoulli"
    trained_elbo, untrained_elbo = digits_vae.score(X_test), untrained.score(X_test)
    assert trained_elbo > untrained_elbo + 10  # nats per sample
    assert trained_elbo == pytest.approx(digits_vae.score_samples(X_test).mean())


def test_codes_are_good_features(digits, digits_vae):
    X_train, X_test, y_train, y_test = digits
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    clf.fit(digits_vae.transform(X_train), y_train)
    assert clf.score(digits_vae.transform(X_test), y_test) > 0.85


def test_importance_sampled_log_likelihood_bounds_the_elbo(digits, digits_vae):
    X_test = digits[1]
    elbo = digits_vae.score_samples(X_test)
    log_px = digits_vae.log_likelihood(X_test, n_importance_samples=500, random_state=0)
    assert log_px.shape == elbo.shape == (len(X_test),)
    assert np.all(elbo <= 0) and np.all(log_px <= 0)  # log-probabilities of binary-like data
    assert log_px.mean() > elbo.mean()
    # Per sample, up to the Monte Carlo error of both estimates (about 0.1 nat here,
    # where the bound is tight: the gap is 0.1 to 0.3 nat on average across seeds).
    assert np.all(log_px >= elbo - 0.25)
    np.testing.assert_array_equal(
        log_px, digits_vae.log_likelihood(X_test, n_importance_samples=500, random_state=0)
    )


def test_scores_are_deterministic_and_row_independent(digits, digits_vae):
    # The scores decode many draws per sample, so they run in chunks of few rows (see
    # _batched's draws): 300 rows span many chunks, and a row's score is bitwise the
    # same alone, in a partial chunk, or in another order.
    X_test = digits[1][:300]
    scores = digits_vae.score_samples(X_test)
    assert_array_equal(scores, digits_vae.score_samples(X_test))
    order = np.random.RandomState(0).permutation(len(X_test))
    assert_array_equal(digits_vae.score_samples(X_test[order]), scores[order])
    assert_array_equal(digits_vae.score_samples(X_test[:7]), scores[:7])
    assert_array_equal(digits_vae.score_samples(X_test[299:]), scores[299:])
    log_px = digits_vae.log_likelihood(X_test, n_importance_samples=50, random_state=1)
    log_px_sub = digits_vae.log_likelihood(X_test[:7], n_importance_samples=50, random_state=1)
    assert_array_equal(log_px_sub, log_px[:7])
    log_px_row = digits_vae.log_likelihood(X_test[250:251], n_importance_samples=50, random_state=1)
    assert_array_equal(log_px_row, log_px[250:251])


def test_transform_is_the_posterior_mean_and_inverse_transform_the_decoder_mean(
    digits, digits_vae
):
    X_test = digits[1][:20]
    codes = digits_vae.transform(X_test)
    np.testing.assert_array_equal(codes, digits_vae.transform(X_test))
    module = digits_vae.net_.module_.eval()
    with torch.no_grad():
        mu, _ = module.encode(torch.tensor(X_test, dtype=torch.float32))
        logits = module.decoder(mu)
    np.testing.assert_allclose(codes, mu.numpy(), rtol=1e-5, atol=1e-6)
    decoded = digits_vae.inverse_transform(codes)
    np.testing.assert_allclose(decoded, torch.sigmoid(logits).numpy(), rtol=1e-5, atol=1e-6)
    # Reconstructions are much closer to their input than the mean digit is.
    error = ((decoded - X_test) ** 2).sum(axis=1).mean()
    mean_digit_error = ((digits[0].mean(axis=0) - X_test) ** 2).sum(axis=1).mean()
    assert error < 0.6 * mean_digit_error


def test_sample(digits_vae):
    torch_state = torch.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002 (the global state)
    samples = digits_vae.sample(50, random_state=0)
    assert samples.shape == (50, 64) and samples.dtype == np.float64
    assert samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_array_equal(samples, digits_vae.sample(50, random_state=0))
    assert not np.allclose(samples, digits_vae.sample(50, random_state=1))
    # With a seed, neither global generator is used.
    assert torch.equal(torch_state, torch.get_rng_state())
    np.testing.assert_array_equal(numpy_state, np.random.get_state()[1])  # noqa: NPY002
    assert digits_vae.sample().shape == (1, 64)
    # The samples look like digits: they are closer to data than uniform noise is.
    noise = np.random.RandomState(0).uniform(size=(50, 64))
    assert digits_vae.score(samples.round()) > digits_vae.score(noise.round()) + 10


def test_same_seed_same_model(digits):
    X_train = digits[0][:300]
    params = dict(n_components=3, hidden_layer_sizes=(16,), max_iter=3, random_state=7)
    a = VariationalAutoEncoder(**params).fit(X_train)
    b = VariationalAutoEncoder(**params).fit(X_train)
    np.testing.assert_array_equal(a.transform(X_train), b.transform(X_train))
    np.testing.assert_array_equal(a.score_samples(X_train), b.score_samples(X_train))
    np.testing.assert_array_equal(a.kl_curve_, b.kl_curve_)


def test_grid_search_selects_on_score_without_y(digits):
    X_train = digits[0][:400]
    vae = VariationalAutoEncoder(
        n_components=4, hidden_layer_sizes=(16,), max_iter=3, random_state=0
    )
    search = GridSearchCV(vae, {"beta": [1.0, 50.0]}, cv=2).fit(X_train)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_params_ == {"beta": 1.0}  # the ELBO does not reward a heavy KL weight


# -------------------------------------------------------------- the likelihoods
def test_gaussian_likelihood(gaussian_data, gaussian_vae):
    X = gaussian_data
    assert gaussian_vae.likelihood_ == "gaussian"  # picked by "auto" for real-valued data
    untrained = VariationalAutoEncoder(
        **{**gaussian_vae.get_params(), "max_iter": 0}
    ).fit(X)
    assert gaussian_vae.score(X) > untrained.score(X) + 1
    # The decoder's variances are learned: this data is far less noisy than N(0, 1).
    variances = np.exp(gaussian_vae.net_.module_.decoder_log_var().detach().numpy())
    assert np.all(variances < 0.6)
    log_px = gaussian_vae.log_likelihood(X, n_importance_samples=200, random_state=0)
    assert log_px.mean() > gaussian_vae.score(X)
    samples = gaussian_vae.sample(400, random_state=0)
    assert samples.shape == (400, 6) and samples.dtype == np.float64
    # Samples (decoder means) follow the data's correlations.
    np.testing.assert_allclose(np.corrcoef(samples.T), np.corrcoef(X.T), atol=0.3)


def test_gaussian_elbo_is_a_log_density():
    # On 1-d data N(0, s^2), a model that ignores z is a Gaussian fit: the ELBO of the
    # prior-matching posterior equals the Gaussian log-density of the data.
    X = np.random.RandomState(0).normal(scale=2.0, size=(500, 1))
    vae = VariationalAutoEncoder(
        n_components=1, hidden_layer_sizes=(), likelihood="gaussian", max_iter=0, random_state=0
    ).fit(X)
    module = vae.net_.module_
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()
        module.output_log_var.fill_(np.log(4.0))
    expected = -0.5 * (np.log(2 * np.pi * 4.0) + X[:, 0] ** 2 / 4.0)
    np.testing.assert_allclose(vae.score_samples(X), expected, rtol=1e-5)


def test_bernoulli_needs_data_in_unit_interval(digits, digits_vae):
    # training refuses it; scoring warns, as every estimator does (tests/test_bad_input.py)
    X = np.random.RandomState(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match="MinMaxScaler.*likelihood='gaussian'"):
        VariationalAutoEncoder(likelihood="bernoulli", max_iter=1).fit(X)
    X_test = digits[1] * 2
    with pytest.warns(UserWarning, match=r"\[0, 2\].*\[0, 1\]"):
        digits_vae.score_samples(X_test)
    with pytest.warns(UserWarning, match=r"\[0, 2\].*\[0, 1\]"):
        digits_vae.log_likelihood(X_test)


def test_bad_arguments(digits_vae, digits):
    with pytest.raises(ValueError, match="n_importance_samples"):
        digits_vae.log_likelihood(digits[1], n_importance_samples=0)
    with pytest.raises(ValueError, match="n_samples"):
        digits_vae.sample(0)
    with pytest.raises(ValueError, match="likelihood"):
        VariationalAutoEncoder(likelihood="poisson").fit(digits[1])


def test_unscaled_data_get_a_warning_that_names_the_scale_before_training():
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from skautoenc._net import AutoEncoderNet

    X = load_digits().data * 255 / 16  # pixel intensities, 0-255
    vae = VariationalAutoEncoder(n_components=2, max_iter=2, random_state=0)
    steps = []
    original = AutoEncoderNet.train_step

    def counted(self, *args, **kwargs):
        steps.append(1)
        return original(self, *args, **kwargs)

    AutoEncoderNet.train_step = counted
    try:
        with warnings.catch_warnings():  # as an error: it comes before the first step
            warnings.simplefilter("error", UserWarning)
            with pytest.raises(UserWarning, match=r"ranges over \[0, 255\]: scale it"):
                vae.fit(X)
    finally:
        AutoEncoderNet.train_step = original
    assert not steps and not hasattr(vae, "net_")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        VariationalAutoEncoder(n_components=2, max_iter=2).fit(X / 255)  # scaled: no note
