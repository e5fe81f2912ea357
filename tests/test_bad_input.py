"""Bad input gets a clear error naming the problem, and leaves a fitted model as it was."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import NotFittedError

from .conftest import public_estimators, tiny

ESTIMATORS = public_estimators()


def _bad(X, value):
    X = X.copy()
    X[3, 2] = value
    return X


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize(
    "make_X, message",
    [
        (lambda X: _bad(X, np.nan), "NaN"),
        (lambda X: _bad(X, np.inf), "infinity"),
        (lambda X: _bad(X, -np.inf), "infinity"),
        (lambda X: X[:, 0], "Expected 2D array"),
        (lambda X: X[None], "3"),
        (lambda X: X[:0], "0 sample"),
        (lambda X: X[:, :0], "0 feature"),
        (lambda X: X.astype(str).astype(object) + "x", "float"),
        (lambda X: X + 1j, "Complex data not supported"),
    ],
    ids=["nan", "inf", "-inf", "1d", "3d", "no-samples", "no-features", "strings", "complex"],
)
def test_bad_training_data_is_a_clear_error(estimator_class, make_X, message, small_X):
    with pytest.raises(ValueError, match=message):
        tiny(estimator_class).fit(make_X(small_X))


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_unfitted_methods_raise_not_fitted(estimator_class, small_X):
    est = tiny(estimator_class)
    for method in ("transform", "score_samples", "score", "inverse_transform"):
        with pytest.raises(NotFittedError):
            getattr(est, method)(small_X)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_wrong_widths_after_fit(estimator_class, small_X):
    est = tiny(estimator_class).fit(small_X)
    for method in ("transform", "score_samples", "score"):
        with pytest.raises(ValueError, match="features"):
            getattr(est, method)(small_X[:, :4])
        with pytest.raises(ValueError, match="NaN"):
            getattr(est, method)(_bad(small_X, np.nan))
    with pytest.raises(ValueError, match="n_components=2"):
        est.inverse_transform(np.zeros((3, 5)))


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_failed_refit_keeps_the_fitted_model(estimator_class, small_X):
    est = tiny(estimator_class).fit(small_X)
    codes = est.transform(small_X)
    state = dict(est.__dict__)
    with pytest.raises(ValueError):
        est.fit(_bad(small_X, np.nan))
    with pytest.raises(ValueError):
        est.fit(small_X[:, :0])
    assert est.__dict__.keys() == state.keys()
    assert all(est.__dict__[k] is state[k] for k in state)
    assert_array_equal(est.transform(small_X), codes)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_components": 0}, "n_components"),
        ({"activation": "swish"}, "activation"),
        ({"hidden_layer_sizes": (4, -1)}, "hidden_layer_sizes"),
        ({"validation_fraction": 1.5}, "validation_fraction"),
        ({"learning_rate_init": 0}, "learning_rate_init"),
    ],
)
def test_invalid_parameters_are_named(estimator_class, params, message, small_X):
    with pytest.raises(ValueError, match=message):
        tiny(estimator_class, **params).fit(small_X)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_early_stopping_needs_a_validation_sample(estimator_class, small_X):
    est = tiny(estimator_class, early_stopping=True, validation_fraction=0.01)
    est.fit(small_X)  # 1 of 40 samples held out: enough
    with pytest.raises(ValueError, match="validation"):
        tiny(estimator_class, early_stopping=True, validation_fraction=0.99).fit(small_X[:2])


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_small_and_cast_inputs_are_accepted(estimator_class, small_X):
    tiny(estimator_class, batch_size=64).fit(small_X[:5])  # fewer samples than a batch
    tiny(estimator_class).partial_fit(small_X[:1])  # a chunk of one sample
    with pytest.raises(ValueError, match="minimum of 2"):  # fit needs two, as PCA does
        tiny(estimator_class).fit(small_X[:1])
    est = tiny(estimator_class).fit((small_X > 0.5).astype(int))
    assert est.transform(small_X > 0.5).dtype == np.float64


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_bernoulli_objective_needs_unit_interval_data(estimator_class, small_X):
    # the Bernoulli loss (likelihood, for the VAE) is chosen explicitly here
    params = (
        {"likelihood": "bernoulli"}
        if "likelihood" in estimator_class().get_params()
        else {"loss": "bce"}
    )
    with pytest.raises(ValueError, match="MinMaxScaler"):
        tiny(estimator_class, **params).fit(small_X * 3 - 1)


def _bernoulli(estimator_class):
    if "likelihood" in estimator_class().get_params():
        return {"likelihood": "bernoulli"}
    return {"loss": "bce"}


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_data_outside_unit_interval_warns_at_predict_time(estimator_class, small_X):
    # held-out data that a MinMaxScaler fitted on the training data scales beyond [0, 1]
    # is common, so every estimator warns (and does not refuse) in transform and score,
    # once per call, at the caller's line, naming the range
    est = tiny(estimator_class, **_bernoulli(estimator_class)).fit(small_X)
    shifted = small_X * 3 - 1
    for method in ("transform", "score_samples", "score"):
        with pytest.warns(UserWarning, match=r"\[-0.9\d*, 1.9\d*\].*clip=True") as record:
            getattr(est, method)(shifted)
        assert len(record) == 1 and record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.transform(small_X)  # in range: no warning
        est.inverse_transform(est.transform(small_X) * 50)  # codes are not data


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_gaussian_objective_takes_any_range_silently(estimator_class, small_X):
    params = ({"likelihood": "gaussian"} if "likelihood" in estimator_class().get_params()
              else {"loss": "mse"})
    est = tiny(estimator_class, **params).fit(small_X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.score(small_X * 3 - 1)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_nan_error_gives_scikit_learns_hint_at_imputers(estimator_class, small_X):
    name = estimator_class.__name__
    hint = rf"{name} does not accept missing values.*imputer"
    with pytest.raises(ValueError, match=hint) as error:
        tiny(estimator_class).fit(_bad(small_X, np.nan))
    # what skautoenc adds says that NaN is refused by default, and how to learn with it
    message = str(error.value)
    assert f"{name} refuses NaN by default (missing_values=None)" in message
    assert f"use {name}(missing_values=np.nan)" in message
    assert "default: " not in message.split("\n", 1)[1]
    est = tiny(estimator_class).fit(small_X)
    for method in ("transform", "score_samples"):
        with pytest.raises(ValueError, match=hint):
            getattr(est, method)(_bad(small_X, np.nan))
