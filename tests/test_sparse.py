"""SparseAutoEncoder: its objective, and that it makes codes sparse."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skautoenc import SparseAutoEncoder
from skautoenc._losses import sparsity_penalty

# The fits here are short on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def kl(rho, rho_hat):
    return rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_loss_equals_hand_computation(loss):
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(6, 4))
    rho, beta = 0.1, 2.5
    sae = SparseAutoEncoder(
        n_components=3,
        hidden_layer_sizes=(),
        loss=loss,
        sparsity_target=rho,
        sparsity_weight=beta,
        max_iter=0,
        random_state=0,
    ).fit(X)
    module = sae.net_.module_.double()
    W1, b1 = (p.detach().numpy() for p in module.encoder.layers[0].parameters())
    W2, b2 = (p.detach().numpy() for p in module.decoder.layers[0].parameters())

    # E = mean_i L(x_i, y_i) + beta * sum_j KL(rho || rho_hat_j), in float64 numpy.
    codes = sigmoid(X @ W1.T + b1)
    output = codes @ W2.T + b2
    if loss == "mse":
        reconstruction = ((X - output) ** 2).sum(axis=1).mean()
    else:
        Y = sigmoid(output)
        reconstruction = -(X * np.log(Y) + (1 - X) * np.log(1 - Y)).sum(axis=1).mean()
    expected = reconstruction + beta * kl(rho, codes.mean(axis=0)).sum()

    X_tensor = torch.tensor(X)
    with torch.no_grad():
        loss_value = sae.net_.get_loss(sae.net_.infer(X_tensor), X_tensor, training=True)
    assert loss_value.item() == pytest.approx(expected, abs=1e-6)
    assert beta * kl(rho, codes.mean(axis=0)).sum() > 0.01  # the penalty term counts


def test_penalty_stays_finite_for_saturated_codes():
    rho, eps = 0.05, 1e-6
    for value in (0.0, 1.0):
        penalty = sparsity_penalty(torch.full((4, 3), value, dtype=torch.float64), rho)
        expected = 3 * kl(rho, np.clip(value, eps, 1 - eps))
        assert np.isfinite(penalty.item())
        assert penalty.item() == pytest.approx(expected, rel=1e-9)


def test_codes_lie_in_the_unit_interval_and_mean_activation_is_exposed():
    X = np.random.RandomState(0).normal(size=(40, 5))
    sae = SparseAutoEncoder(n_components=8, hidden_layer_sizes=(6,), max_iter=3, random_state=0)
    codes = sae.fit_transform(X)
    assert codes.min() > 0 and codes.max() < 1
    np.testing.assert_allclose(sae.mean_activation_, codes.mean(axis=0), rtol=1e-6)
    assert sae.mean_activation_.shape == (8,)


def test_same_random_state_same_model():
    X = np.random.RandomState(0).uniform(size=(60, 6))
    params = dict(n_components=4, hidden_layer_sizes=(5,), max_iter=3)
    a = SparseAutoEncoder(random_state=0, **params).fit(X).transform(X)
    b = SparseAutoEncoder(random_state=0, **params).fit(X).transform(X)
    c = SparseAutoEncoder(random_state=1, **params).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


# -------------------------------------------------------- sparsity on load_digits
RHO = 0.05
# An overcomplete single-layer code (100 units for 64 pixels): the classic setting.
MODEL = dict(
    n_components=100,
    hidden_layer_sizes=(),
    sparsity_target=RHO,
    learning_rate_init=3e-3,
    batch_size=64,
    max_iter=50,
    random_state=0,
)


@pytest.fixture(scope="module")
def unit_digits():
    X = load_digits().data / 16.0
    return train_test_split(X, test_size=0.25, random_state=0)


@pytest.fixture(scope="module")
def sparse_model(unit_digits):
    return SparseAutoEncoder(sparsity_weight=3.0, **MODEL).fit(unit_digits[0])


@pytest.fixture(scope="module")
def unpenalised_model(unit_digits):
    return SparseAutoEncoder(sparsity_weight=0.0, **MODEL).fit(unit_digits[0])


def test_penalty_brings_held_out_activation_to_the_target(
    unit_digits, sparse_model, unpenalised_model
):
    _, X_test = unit_digits
    activation = sparse_model.transform(X_test).mean()
    assert RHO / 2 < activation < 2 * RHO
    assert unpenalised_model.transform(X_test).mean() > 5 * RHO
    # The fitted attribute reports the sparsity reached on the training data.
    assert RHO / 2 < sparse_model.mean_activation_.mean() < 2 * RHO


def test_sparse_codes_still_reconstruct(unit_digits, sparse_model):
    X_train, X_test = unit_digits
    mean_prediction_error = np.mean((X_test - X_train.mean(axis=0)) ** 2)
    reconstruction = sparse_model.inverse_transform(sparse_model.transform(X_test))
    assert np.mean((reconstruction - X_test) ** 2) < mean_prediction_error


def test_auto_max_iter_counts_minibatch_updates(monkeypatch):
    import skautoenc._base as base

    monkeypatch.setattr(base, "AUTO_STEPS", 10)
    monkeypatch.setattr(base, "AUTO_MIN_EPOCHS", 1)
    X = np.random.RandomState(0).uniform(size=(100, 6))
    params = dict(n_components=3, hidden_layer_sizes=(), batch_size=25, tol=0.0,
                  n_iter_no_change=50, random_state=0)
    sae = SparseAutoEncoder(**params)
    assert sae.max_iter == "auto"
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # the budget is the plan
        sae.fit(X)  # 4 updates per epoch: 3 epochs make at least 10
    assert sae.n_iter_ == 3
    # with early stopping, the validation split does not count
    sae = SparseAutoEncoder(early_stopping=True, validation_fraction=0.5, **params)
    assert sae._epochs(len(X)) == 5  # 2 updates per epoch
    monkeypatch.setattr(SparseAutoEncoder, "_auto_max_epochs", 4)
    assert SparseAutoEncoder(batch_size=100)._epochs(100) == 4  # capped
    # an integer is a number of epochs, as for the other estimators
    assert SparseAutoEncoder(**{**params, "max_iter": 2}).fit(X).n_iter_ == 2
    with pytest.raises(ValueError, match="max_iter"):
        SparseAutoEncoder(max_iter="many").fit(X)
