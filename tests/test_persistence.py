"""clone and pickle keep what users rely on."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone

from .conftest import public_estimators, tiny


@pytest.mark.parametrize("estimator_class", public_estimators())
def test_clone_is_unfitted_with_same_params(estimator_class, small_X):
    est = tiny(estimator_class).fit(small_X)
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    assert not hasattr(copy, "net_")


@pytest.mark.parametrize("estimator_class", public_estimators())
def test_pickle_round_trip_gives_identical_transform(estimator_class, small_X):
    est = tiny(estimator_class).fit(small_X)
    loaded = pickle.loads(pickle.dumps(est))
    assert_array_equal(loaded.transform(small_X), est.transform(small_X))
    assert_array_equal(loaded.score_samples(small_X), est.score_samples(small_X))
    codes = est.transform(small_X)
    assert_array_equal(loaded.inverse_transform(codes), est.inverse_transform(codes))
    assert loaded.n_iter_ == est.n_iter_


@pytest.mark.parametrize("estimator_class", public_estimators())
def test_transform_does_not_depend_on_batch_composition(estimator_class):
    X = np.random.RandomState(1).uniform(size=(700, 5))  # more rows than one inference chunk
    est = tiny(estimator_class).fit(X[:100])
    full = est.transform(X)
    assert_array_equal(full[::-1], est.transform(X[::-1]))
    assert_array_equal(full[300:301], est.transform(X[300:301]))


@pytest.mark.parametrize("estimator_class", public_estimators())
def test_joblib_round_trip(estimator_class, small_X, tmp_path):
    joblib = pytest.importorskip("joblib")
    est = tiny(estimator_class).fit(small_X)
    joblib.dump(est, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    _assert_same_outputs(est, loaded, small_X)


def _assert_same_outputs(est, loaded, X):
    assert_array_equal(loaded.transform(X), est.transform(X))
    assert_array_equal(loaded.score_samples(X), est.score_samples(X))
    codes = est.transform(X)
    assert_array_equal(loaded.inverse_transform(codes), est.inverse_transform(codes))
    if hasattr(est, "sample"):
        assert_array_equal(loaded.sample(5, random_state=0), est.sample(5, random_state=0))


@pytest.mark.parametrize("estimator_class", public_estimators())
def test_stored_state_is_plain_data(estimator_class, small_X):
    import torch

    est = tiny(estimator_class).fit(small_X)
    state = est.__getstate__()

    def walk(value):
        assert not torch.is_tensor(value) and not isinstance(value, torch.nn.Module)
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(state)
    assert state["net_"]["format"] == 2
    assert "cuda" not in pickle.dumps(state).decode("latin-1")


@pytest.mark.parametrize("estimator_class", public_estimators())
def test_training_continues_identically_after_loading(estimator_class, small_X):
    est = tiny(estimator_class, warm_start=True).fit(small_X)
    loaded = pickle.loads(pickle.dumps(est))
    est.fit(small_X)
    loaded.fit(small_X)  # same weights, optimizer state and history: same result
    assert loaded.n_iter_ == est.n_iter_ == 6
    assert_array_equal(loaded.transform(small_X), est.transform(small_X))


@pytest.mark.parametrize("estimator_class", public_estimators())
def test_skops_round_trip_with_trusted_types(estimator_class, small_X, tmp_path):
    sio = pytest.importorskip("skops.io")
    est = tiny(estimator_class).fit(small_X)
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    untrusted = sio.get_untrusted_types(file=path)
    # the only type to trust is the estimator class itself
    assert untrusted == [f"{estimator_class.__module__}.{estimator_class.__name__}"]
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.load(path)
    loaded = sio.load(path, trusted=untrusted)
    _assert_same_outputs(est, loaded, small_X)


def _arbitrary_code(X):
    return X


def test_skops_refuses_a_file_carrying_another_type(small_X, tmp_path):
    sio = pytest.importorskip("skops.io")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from skautoenc import AutoEncoder

    # a pipeline that smuggles in a call of arbitrary code next to the autoencoder
    pipe = make_pipeline(FunctionTransformer(_arbitrary_code), tiny(AutoEncoder)).fit(small_X)
    sio.dump(pipe, tmp_path / "pipe.skops")
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException, match="_arbitrary_code"):
        sio.load(
            tmp_path / "pipe.skops",
            trusted=["skautoenc._autoencoder.AutoEncoder", "sklearn.pipeline.Pipeline",
                     "sklearn.preprocessing._function_transformer.FunctionTransformer"],
        )


def test_state_from_another_storage_format_is_a_clear_error(small_X):
    from skautoenc import AutoEncoder

    state = tiny(AutoEncoder).fit(small_X).__getstate__()
    state["net_"]["format"] = 99
    est = AutoEncoder.__new__(AutoEncoder)
    with pytest.raises(ValueError, match="storage format 99"):
        est.__setstate__(state)


def test_state_from_another_version_warns(small_X):
    from skautoenc import AutoEncoder

    state = tiny(AutoEncoder).fit(small_X).__getstate__()
    state["_skautoenc_version"] = "0.0.1"
    est = AutoEncoder.__new__(AutoEncoder)
    with pytest.warns(UserWarning, match="saved with skautoenc 0.0.1"):
        est.__setstate__(state)
    assert_array_equal(est.transform(small_X), tiny(AutoEncoder).fit(small_X).transform(small_X))


def test_model_trained_on_cuda_loads_on_cpu(small_X):
    import torch

    from skautoenc import AutoEncoder

    state = tiny(AutoEncoder).fit(small_X).__getstate__()
    state["device_"] = "cuda"  # as stored by a fit on a GPU: the arrays are device-free
    est = AutoEncoder.__new__(AutoEncoder)
    if torch.cuda.is_available():
        est.__setstate__(state)
        assert est.device_ == "cuda"
    else:
        with pytest.warns(UserWarning, match="loaded on the CPU"):
            est.__setstate__(state)
        assert est.device_ == "cpu"
    assert est.transform(small_X).shape == (40, 2)


@pytest.mark.parametrize("estimator_class", public_estimators())
def test_a_state_of_an_older_format_is_refused_naming_both_versions(estimator_class, small_X):
    # format 1 (before the network contract) was never released: no shim reads it, and
    # loading it says what it is instead of failing deep inside torch
    est = tiny(estimator_class).fit(small_X)
    state = est.__getstate__()
    state["net_"]["format"] = 1
    state["_skautoenc_version"] = "0.0.9"
    old = estimator_class.__new__(estimator_class)
    with pytest.raises(ValueError, match=r"saved by skautoenc 0\.0\.9 in storage format 1"):
        old.__setstate__(state)


@pytest.mark.parametrize("estimator_class", public_estimators())
def test_loading_builds_the_net_it_trained_and_keeps_the_users_parameters(
    estimator_class, small_X
):
    # parameters set after fit (for the next fit) are the user's: loading keeps them, and
    # rebuilds the net from the parameters it was trained with, without borrowing them
    est = tiny(estimator_class, max_iter=2).fit(small_X)
    codes = est.transform(small_X)
    est.set_params(learning_rate_init=0.5, batch_size=7, verbose=1)
    loaded = pickle.loads(pickle.dumps(est))
    params = loaded.get_params()
    assert (params["learning_rate_init"], params["batch_size"], params["verbose"]) == (0.5, 7, 1)
    assert loaded.net_.batch_size == est.net_.batch_size != 7
    assert loaded.net_.lr == est.net_.lr != 0.5
    assert_array_equal(loaded.transform(small_X), codes)


def test_a_model_with_missing_values_keeps_its_two_pass_encoding(small_X):
    from skautoenc import AutoEncoder

    X = small_X.copy()
    X[np.random.RandomState(0).uniform(size=X.shape) < 0.3] = np.nan
    est = tiny(AutoEncoder, missing_values=np.nan).fit(X)
    loaded = pickle.loads(pickle.dumps(est))
    assert loaded.net_.module_.refills_missing
    assert_array_equal(loaded.transform(X), est.transform(X))


def test_a_skops_file_is_about_the_size_of_a_joblib_file(tmp_path, digits):
    # the training history is stored as arrays, without skorch's per-batch records: the
    # skops file is mostly the weights and the optimiser state, as joblib's is
    import joblib

    sio = pytest.importorskip("skops.io")
    from skautoenc import AutoEncoder

    est = AutoEncoder(n_components=32, max_iter=30, random_state=0).fit(digits[0])
    joblib.dump(est, tmp_path / "model.joblib")
    sio.dump(est, tmp_path / "model.skops")
    ratio = (tmp_path / "model.skops").stat().st_size / (tmp_path / "model.joblib").stat().st_size
    assert ratio < 1.5
    loaded = sio.load(tmp_path / "model.skops",
                      trusted=sio.get_untrusted_types(file=tmp_path / "model.skops"))
    assert loaded.n_iter_ == est.n_iter_ and loaded.loss_curve_ == est.loss_curve_
    assert [row["train_loss"] for row in loaded.net_.history] == est.loss_curve_
