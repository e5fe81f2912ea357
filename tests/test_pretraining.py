"""Greedy layer-wise pretraining of AutoEncoder: stacked RBMs and stacked autoencoders."""

import copy

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skautoenc import AutoEncoder, DenoisingAutoEncoder, SparseAutoEncoder

# A deep logistic architecture; with the default pretraining settings both pretrainings
# beat random initialisation at this fine-tuning budget (see test_pretraining_beats_...).
DEEP = dict(n_components=8, hidden_layer_sizes=(128, 64), activation="logistic")


@pytest.fixture(scope="module")
def digits():
    X = load_digits().data / 16.0
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
    return X_train, X_test


def held_out_error(ae, X):
    """Mean over samples of the squared reconstruction error, summed over features."""
    return -ae.score(X)


def linears(ae):
    module = ae.net_.module_
    encoder = [m for m in module.encoder.layers if isinstance(m, torch.nn.Linear)]
    decoder = [m for m in module.decoder.layers if isinstance(m, torch.nn.Linear)]
    return encoder, decoder


@pytest.mark.parametrize("method", ["rbm", "autoencoder"])
@pytest.mark.parametrize("scale", ["unit", "standard"])
def test_each_layer_reconstruction_error_falls(digits, method, scale):
    # "unit": Bernoulli input units; "standard": Gaussian input units (loss_ "mse").
    X = digits[0] if scale == "unit" else StandardScaler().fit_transform(digits[0])
    ae = AutoEncoder(
        n_components=4,
        hidden_layer_sizes=(32, 16),
        activation="logistic",
        pretraining=method,
        pretraining_max_iter=8,
        max_iter=0,
        random_state=0,
    ).fit(X)
    assert ae.loss_ == ("bce" if scale == "unit" else "mse")
    assert len(ae.pretraining_curves_) == 3
    for curve in ae.pretraining_curves_:
        assert len(curve) == 8
        assert np.all(np.isfinite(curve))
        assert curve[-1] < 0.9 * curve[0]


def test_bernoulli_rbm_comparable_to_sklearn():
    # The first layer of the stack is a Bernoulli-Bernoulli RBM on the input. Train it
    # and sklearn's BernoulliRBM with the same learning rate, batch size and epochs.
    X = load_digits().data / 16.0
    settings = dict(learning_rate=0.1, batch_size=10, n_iter=10)
    reference = BernoulliRBM(n_components=64, random_state=0, **settings).fit(X)
    ae = AutoEncoder(
        n_components=2,
        hidden_layer_sizes=(64,),
        activation="logistic",
        pretraining="rbm",
        pretraining_learning_rate=settings["learning_rate"],
        pretraining_batch_size=settings["batch_size"],
        pretraining_max_iter=settings["n_iter"],
        max_iter=0,
        early_stopping=False,  # pretrain on all of X, as sklearn's RBM is trained
        random_state=0,
    ).fit(X)
    encoder, decoder = linears(ae)
    ours = copy.deepcopy(reference)
    ours.components_ = encoder[0].weight.detach().double().numpy()
    ours.intercept_hidden_ = encoder[0].bias.detach().double().numpy()
    ours.intercept_visible_ = decoder[-1].bias.detach().double().numpy()

    def reconstruction_error(rbm):  # one-step mean-field reconstruction
        v = 1 / (1 + np.exp(-(rbm.transform(X) @ rbm.components_ + rbm.intercept_visible_)))
        return np.mean(np.sum((v - X) ** 2, axis=1))

    # The fitted curve reports exactly this measure.
    assert ae.pretraining_curves_[0][-1] == pytest.approx(reconstruction_error(ours), rel=1e-4)
    assert reconstruction_error(ours) <= 1.2 * reconstruction_error(reference)

    # And as a generative model, by sklearn's own (pseudo-likelihood) score.
    def pseudo_likelihood(rbm):
        rbm.random_state = 0
        return np.mean([rbm.score_samples(X).mean() for _ in range(3)])

    assert pseudo_likelihood(ours) >= 1.2 * pseudo_likelihood(reference)  # both negative


@pytest.mark.parametrize("method", ["rbm", "autoencoder"])
def test_unrolled_network_beats_random_init(digits, method):
    X_train, X_test = digits
    params = dict(DEEP, max_iter=0, random_state=0)
    random_init = AutoEncoder(**params).fit(X_train)
    pretrained = AutoEncoder(pretraining=method, **params).fit(X_train)
    assert pretrained.n_iter_ == 0 and pretrained.loss_curve_ == []
    assert held_out_error(pretrained, X_test) < 0.7 * held_out_error(random_init, X_test)


def test_rbm_unrolling_is_symmetric_then_untied(digits):
    params = dict(n_components=4, hidden_layer_sizes=(16,), activation="logistic")
    params.update(pretraining="rbm", pretraining_max_iter=2, random_state=0)
    unrolled = AutoEncoder(max_iter=0, **params).fit(digits[0])
    encoder, decoder = linears(unrolled)
    for enc, dec in zip(encoder, decoder[::-1], strict=True):
        torch.testing.assert_close(dec.weight, enc.weight.T)

    tuned = AutoEncoder(max_iter=2, **params).fit(digits[0])
    encoder, decoder = linears(tuned)
    assert not torch.allclose(decoder[0].weight, encoder[-1].weight.T)
    # Same pretraining (same seed), then fine-tuning moved the weights.
    assert tuned.pretraining_curves_ == unrolled.pretraining_curves_


def test_pretraining_beats_random_init_with_equal_budget(digits):
    X_train, X_test = digits
    params = dict(DEEP, max_iter=10, random_state=0)
    errors = {
        method: held_out_error(AutoEncoder(pretraining=method, **params).fit(X_train), X_test)
        for method in (None, "rbm", "autoencoder")
    }
    assert errors["rbm"] < 0.8 * errors[None]
    assert errors["autoencoder"] < 0.8 * errors[None]


@pytest.mark.parametrize("method", ["rbm", "autoencoder"])
def test_pretraining_is_reproducible(digits, method):
    X = digits[0][:300]
    params = dict(n_components=4, hidden_layer_sizes=(16,), activation="logistic")
    params.update(pretraining=method, pretraining_max_iter=3, max_iter=0)
    torch.manual_seed(123)
    expected_global = torch.rand(3)
    torch.manual_seed(123)
    a = AutoEncoder(random_state=0, **params).fit(X)
    assert torch.equal(torch.rand(3), expected_global)  # the global seed is untouched
    b = AutoEncoder(random_state=0, **params).fit(X)
    c = AutoEncoder(random_state=1, **params).fit(X)
    assert a.pretraining_curves_ == b.pretraining_curves_
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert a.pretraining_curves_ != c.pretraining_curves_


def test_cd_k_changes_the_rbm(digits):
    X = digits[0][:300]
    params = dict(n_components=4, hidden_layer_sizes=(16,), activation="logistic")
    params.update(pretraining="rbm", pretraining_max_iter=3, max_iter=0, random_state=0)
    cd1 = AutoEncoder(cd_k=1, **params).fit(X)
    cd3 = AutoEncoder(cd_k=3, **params).fit(X)
    assert cd1.pretraining_curves_ != cd3.pretraining_curves_
    assert cd3.pretraining_curves_[0][-1] < cd3.pretraining_curves_[0][0]


@pytest.mark.parametrize("activation", ["relu", "tanh", "identity"])
def test_rbm_needs_logistic_activation(digits, activation):
    X = digits[0][:200]
    params = dict(n_components=4, hidden_layer_sizes=(16,), activation=activation)
    ae = AutoEncoder(max_iter=1, random_state=0, **params).fit(X)
    fitted = ae.transform(X)
    ae.set_params(pretraining="rbm")
    with pytest.raises(ValueError, match="activation='logistic'"):
        ae.fit(X)
    np.testing.assert_array_equal(ae.transform(X), fitted)  # the failed fit changed nothing

    # Stacked autoencoders work with any activation.
    ae = AutoEncoder(pretraining="autoencoder", pretraining_max_iter=3, max_iter=0, **params)
    ae.set_params(random_state=0).fit(X)
    assert all(curve[-1] < curve[0] for curve in ae.pretraining_curves_)


def test_rbm_without_hidden_layers_is_one_gaussian_code_rbm(digits):
    # hidden_layer_sizes=() pretrains a single RBM whose hidden units are the
    # (linear) code units: activation plays no part.
    ae = AutoEncoder(
        n_components=8,
        hidden_layer_sizes=(),
        activation="relu",
        pretraining="rbm",
        pretraining_max_iter=5,
        max_iter=0,
        random_state=0,
    ).fit(digits[0])
    (curve,) = ae.pretraining_curves_
    assert curve[-1] < curve[0]


def test_without_pretraining_curves_are_empty(digits):
    ae = AutoEncoder(n_components=2, hidden_layer_sizes=(8,), max_iter=1, random_state=0)
    assert ae.fit(digits[0][:100]).pretraining_curves_ == []


def test_warm_start_does_not_pretrain_again(digits):
    X = digits[0][:300]
    ae = AutoEncoder(
        n_components=4,
        hidden_layer_sizes=(16,),
        activation="logistic",
        pretraining="rbm",
        pretraining_max_iter=2,
        max_iter=1,
        warm_start=True,
        random_state=0,
    ).fit(X)
    curves = ae.pretraining_curves_
    ae.set_params(pretraining_max_iter=5).fit(X)
    assert ae.pretraining_curves_ == curves
    assert ae.n_iter_ == 2


def test_pretraining_with_early_stopping_leaves_out_the_validation_split(digits, monkeypatch):
    from skautoenc import _pretraining

    seen = []
    fit = _pretraining.RBM.fit

    def spy(self, X, *args, **kwargs):
        seen.append(len(X))
        return fit(self, X, *args, **kwargs)

    monkeypatch.setattr(_pretraining.RBM, "fit", spy)
    AutoEncoder(
        n_components=4,
        hidden_layer_sizes=(16,),
        activation="logistic",
        pretraining="rbm",
        pretraining_max_iter=1,
        early_stopping=True,
        validation_fraction=0.25,
        max_iter=0,
        random_state=0,
    ).fit(digits[0][:300])
    assert seen == [225, 225]

    ae = AutoEncoder(
        n_components=4,
        hidden_layer_sizes=(16,),
        activation="logistic",
        pretraining="autoencoder",
        pretraining_max_iter=2,
        early_stopping=True,
        max_iter=2,
        random_state=0,
    ).fit(digits[0][:300])
    assert len(ae.pretraining_curves_) == 2
    assert len(ae.validation_scores_) == 2


def test_diverging_pretraining_raises(digits):
    ae = AutoEncoder(
        n_components=4,
        hidden_layer_sizes=(16,),
        activation="logistic",
        pretraining="rbm",
        pretraining_learning_rate=1000.0,
        max_iter=0,
        random_state=0,
    )
    with pytest.raises(FloatingPointError, match="Pretraining of layer 1 diverged"):
        with pytest.warns(UserWarning, match="chose the squared error"):  # the scale note
            ae.fit(digits[0][:300] * 1e4)


@pytest.mark.parametrize(
    "params",
    [
        {"pretraining": "pca"},
        {"pretraining_max_iter": 0},
        {"pretraining_learning_rate": 0.0},
        {"pretraining_batch_size": 0},
        {"cd_k": 0},
    ],
)
def test_invalid_pretraining_params(digits, params):
    with pytest.raises(InvalidParameterError):
        AutoEncoder(**params).fit(digits[0][:50])


@pytest.mark.parametrize("estimator_class", [DenoisingAutoEncoder, SparseAutoEncoder])
@pytest.mark.parametrize("method", ["rbm", "autoencoder"])
def test_denoising_and_sparse_models_pretrain_too(estimator_class, method, digits):
    X_train, X_test = digits
    params = dict(
        n_components=8,
        hidden_layer_sizes=(32,),
        activation="logistic",
        max_iter=0,
        pretraining_max_iter=5,
        random_state=0,
    )
    pretrained = estimator_class(pretraining=method, **params).fit(X_train)
    random_init = estimator_class(**params).fit(X_train)
    assert [len(c) for c in pretrained.pretraining_curves_] == [5, 5]
    assert -pretrained.score(X_test) < 0.8 * -random_init.score(X_test)
