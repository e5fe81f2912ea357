"""The default training recipe: a budget of updates, a decaying learning rate, early
stopping from 1,000 samples on, and subnormal numbers flushed while training."""

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import skautoenc._base as base
from skautoenc import (
    AutoEncoder,
    DenoisingAutoEncoder,
    SparseAutoEncoder,
    VariationalAutoEncoder,
)
from skautoenc._net import AutoEncoderNet
from skautoenc._runtime import _flushing_denormals, flush_denormal

from .conftest import public_estimators, tiny


@pytest.mark.parametrize("estimator_class", public_estimators())
def test_defaults_are_auto(estimator_class):
    estimator = estimator_class()
    assert estimator.max_iter == "auto"
    assert estimator.early_stopping == "auto"
    assert estimator.learning_rate == "linear"


def test_flush_denormal_restores_either_setting():
    assert not _flushing_denormals()
    with flush_denormal():
        assert _flushing_denormals()
    assert not _flushing_denormals()
    torch.set_flush_denormal(True)
    try:
        with flush_denormal():
            assert _flushing_denormals()
        assert _flushing_denormals()  # the user's own setting, kept
    finally:
        torch.set_flush_denormal(False)
    with pytest.raises(RuntimeError), flush_denormal():
        raise RuntimeError
    assert not _flushing_denormals()


@pytest.mark.parametrize("estimator_class", public_estimators())
@pytest.mark.parametrize("path", ["fit", "partial_fit", "pretraining", "transform"])
def test_every_training_and_inference_path_flushes_denormals(
    estimator_class, path, monkeypatch, small_X
):
    """Subnormal numbers slow x86 CPUs tens of times: every path that runs the network
    flushes them, and the process's setting is as before when the call returns."""
    seen = []
    train_step = AutoEncoderNet.train_step  # skorch's, which no estimator's net overrides

    def recording_step(self, batch, **fit_params):
        seen.append(_flushing_denormals())
        return train_step(self, batch, **fit_params)

    monkeypatch.setattr(AutoEncoderNet, "train_step", recording_step)
    params = {}
    if path == "pretraining":
        if estimator_class is VariationalAutoEncoder:
            pytest.skip("the VAE has no pretraining")
        params = dict(pretraining="autoencoder", pretraining_max_iter=1, max_iter=0)
        import skautoenc._pretraining as pretraining

        layer = pretraining._pretrain_autoencoder_layer

        def recording_layer(*args, **kwargs):
            seen.append(_flushing_denormals())
            return layer(*args, **kwargs)

        monkeypatch.setattr(pretraining, "_pretrain_autoencoder_layer", recording_layer)
    estimator = tiny(estimator_class, **params)
    if path == "partial_fit":
        estimator.partial_fit(small_X)
    else:
        estimator.fit(small_X)
    if path == "transform":
        seen.clear()
        encode = estimator._encode
        monkeypatch.setattr(
            estimator, "_encode", lambda b: (seen.append(_flushing_denormals()), encode(b))[1]
        )
        estimator.transform(small_X)
    assert seen and all(seen)
    assert not _flushing_denormals()


@pytest.fixture
def rates(monkeypatch):
    """The learning rate of every minibatch update, as training runs."""
    recorded = []
    train_step = AutoEncoderNet.train_step

    def recording_step(self, batch, **fit_params):
        recorded.append(self.optimizer_.param_groups[0]["lr"])
        return train_step(self, batch, **fit_params)

    monkeypatch.setattr(AutoEncoderNet, "train_step", recording_step)
    return recorded


def test_linear_decay_reaches_zero_and_partial_fit_stays_constant(rates, small_X):
    ae = tiny(AutoEncoder, max_iter=4, batch_size=10, learning_rate_init=0.01, tol=0)
    ae.fit(small_X)  # 40 samples: no validation split, 4 updates per epoch
    assert ae.n_iter_ == 4
    np.testing.assert_allclose(rates, 0.01 * (1 - np.arange(16) / 16))
    assert ae.net_.optimizer_.param_groups[0]["lr"] == 0.01  # put back after the fit
    rates.clear()
    ae.partial_fit(small_X)
    assert rates == [0.01] * 4
    rates.clear()
    tiny(AutoEncoder, max_iter=2, batch_size=10, learning_rate_init=0.01,
         learning_rate="constant").fit(small_X)
    assert rates == [0.01] * 8


def test_warm_start_decays_over_its_own_epochs(rates, small_X):
    ae = tiny(AutoEncoder, max_iter=1, batch_size=20, learning_rate_init=0.01,
              warm_start=True, tol=0).fit(small_X)
    ae.set_params(max_iter=2).fit(small_X)
    np.testing.assert_allclose(rates, [0.01, 0.005, 0.01, 0.0075, 0.005, 0.0025])


@pytest.mark.parametrize(
    "estimator_class",
    [AutoEncoder, DenoisingAutoEncoder, SparseAutoEncoder, VariationalAutoEncoder],
)
def test_early_stopping_auto_from_1000_samples(estimator_class):
    X = np.random.RandomState(0).uniform(size=(1000, 4))
    params = dict(n_components=2, hidden_layer_sizes=(), max_iter=1, batch_size=500)
    fitted = estimator_class(**params).fit(X)
    assert fitted.do_early_stopping_ is True
    assert len(fitted.validation_scores_) == 1
    fitted = estimator_class(**params).fit(X[:999])
    assert fitted.do_early_stopping_ is False
    assert not hasattr(fitted, "validation_scores_")
    forced = estimator_class(**params, early_stopping=True).fit(X[:999])
    assert forced.do_early_stopping_ is True


def test_auto_epochs_count_updates_within_bounds(monkeypatch):
    ae = AutoEncoder(batch_size=100)
    # no validation split below 1,000 samples: 5 updates per epoch, capped
    assert ae._epochs(500) == 200
    assert SparseAutoEncoder(batch_size=100)._epochs(500) == base.AUTO_STEPS // 5
    # 1,000 samples: 900 train, 9 updates per epoch
    assert SparseAutoEncoder(batch_size=100)._epochs(1000) == -(-base.AUTO_STEPS // 9)
    assert ae._epochs(5000) == -(-base.AUTO_STEPS // 45)
    assert ae._epochs(10**7) == base.AUTO_MIN_EPOCHS
    assert AutoEncoder(batch_size=100, max_iter=7)._epochs(10**7) == 7
    assert ae._epochs(10) == 200  # 5,000 updates would take 5,000 epochs
    assert SparseAutoEncoder(batch_size=100)._epochs(10) == 1000  # its own bound
    monkeypatch.setattr(AutoEncoder, "_auto_max_epochs", 40)
    assert ae._epochs(10) == 40


@pytest.mark.parametrize("estimator_class", public_estimators())
def test_warnings_point_at_the_callers_line(estimator_class, small_X):
    """Through fit, scikit-learn's _fit_context and the subclasses' hooks, the
    ConvergenceWarning of an explicit max_iter names this file, not a library's."""
    with pytest.warns(ConvergenceWarning, match="Maximum iterations") as record:
        tiny(estimator_class, tol=0).fit(small_X)
        # a step before the last of a Pipeline is fitted through joblib.Memory
        y = np.arange(len(small_X)) % 2
        make_pipeline(tiny(estimator_class, tol=0), LogisticRegression()).fit(small_X, y)
    assert len(record) == 2
    assert {Path(w.filename).resolve() for w in record} == {Path(__file__).resolve()}


@pytest.mark.parametrize("estimator_class", public_estimators())
def test_spending_the_auto_budget_does_not_warn(estimator_class, small_X, monkeypatch):
    monkeypatch.setattr(base, "AUTO_STEPS", 6)
    monkeypatch.setattr(base, "AUTO_MIN_EPOCHS", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = tiny(estimator_class, max_iter="auto", tol=0).fit(small_X)
    assert est.n_iter_ == 2  # 3 updates per epoch: the budget ran out, as planned
