import inspect

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import skautoenc
from skautoenc._base import BaseAutoEncoder

# run by torchrun from test_distributed.py, not imported here (it joins a process group)
collect_ignore = ["distributed_job.py"]

# The suite trains many tiny networks: on one thread they run faster (no thread start-up
# per operation) and do not fight over the cores with parallel jobs.
torch.set_num_threads(1)


def public_estimators():
    """Every autoencoder class that skautoenc exports (the imputer, built on one, has
    tests of its own)."""
    return [
        obj
        for name in skautoenc.__all__
        if inspect.isclass(obj := getattr(skautoenc, name)) and issubclass(obj, BaseAutoEncoder)
    ]


def tiny(estimator_class, **params):
    """An instance with a tiny net and few epochs: for API tests, not quality."""
    defaults = dict(
        n_components=2, hidden_layer_sizes=(8,), max_iter=3, batch_size=16, random_state=0
    )
    return estimator_class(**{**defaults, **params})


@pytest.fixture(scope="session")
def digits():
    """load_digits scaled to [0, 1], split 75/25 with a fixed seed."""
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


@pytest.fixture
def small_X():
    return np.random.RandomState(0).uniform(size=(40, 6))
