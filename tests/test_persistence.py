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
