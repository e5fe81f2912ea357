"""The distributed path: Dask out-of-core training, search on a Dask cluster, chunked sources.

These tests need ``dask``, ``distributed`` and ``dask-ml`` (the ``tests`` extra installs
them). The cluster tests start their own two-worker ``LocalCluster`` and close it.
"""

import warnings

import joblib
import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skautoenc import AutoEncoder

dask = pytest.importorskip("dask", reason="the Dask tests need dask (pip install dask)")
da = pytest.importorskip("dask.array", reason="the Dask tests need dask.array")
distributed = pytest.importorskip(
    "distributed", reason="the Dask cluster tests need distributed (pip install distributed)"
)
dask_ml_wrappers = pytest.importorskip(
    "dask_ml.wrappers", reason="the out-of-core tests need dask-ml (pip install dask-ml)"
)

#: Held-out reconstruction error of training on chunks, relative to training in memory
#: for the same number of passes over the data: the two must agree within this fraction.
QUALITY_TOLERANCE = 0.15
N_PASSES = 5
CHUNK_ROWS = 200


def _params(**extra):
    # small enough to run in seconds, large enough to learn the digits well in N_PASSES
    # passes (about a third of the error of predicting the mean digit)
    params = dict(
        n_components=8,
        hidden_layer_sizes=(32,),
        batch_size=32,
        learning_rate_init=1e-2,
        n_iter_no_change=N_PASSES + 1,  # never stop early: compare equal numbers of passes
        # partial_fit trains on every row at a constant rate: so does the in-memory fit
        early_stopping=False,
        learning_rate="constant",
        random_state=0,
    )
    return {**params, **extra}


def _heldout_error(estimator, X_test):
    """Mean squared reconstruction error of the held-out rows, summed over features."""
    return -estimator.score(X_test)


def _in_memory_error(X_train, X_test):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter is meant to run out
        in_memory = AutoEncoder(max_iter=N_PASSES, **_params()).fit(X_train)
    return _heldout_error(in_memory, X_test)


def _assert_same_quality(chunked_error, in_memory_error, X_train, X_test):
    baseline = ((X_test - X_train.mean(axis=0)) ** 2).sum(axis=1).mean()
    # both actually learned something: well below predicting the mean digit
    assert in_memory_error < 0.5 * baseline
    assert abs(chunked_error - in_memory_error) <= QUALITY_TOLERANCE * in_memory_error, (
        chunked_error,
        in_memory_error,
    )


@pytest.fixture(scope="module")
def client():
    """A two-process, one-thread-per-worker local Dask cluster, closed after the tests.

    Processes, not threads: a fit seeds torch's process-wide random generator, so two
    fits running in threads of one process would draw from each other's stream.
    """
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        # one core per worker: no BLAS / OpenMP thread pools competing for the cores
        env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
    )
    client = distributed.Client(cluster, set_as_default=False)
    try:
        client.run(torch.set_num_threads, 1)
        yield client
    finally:
        client.close()
        cluster.close()


def test_incremental_on_dask_array_matches_in_memory_quality(digits):
    X_train, X_test = digits[0], digits[1]
    X_dask = da.from_array(X_train, chunks=(CHUNK_ROWS, X_train.shape[1]))
    incremental = dask_ml_wrappers.Incremental(AutoEncoder(**_params()), random_state=0)
    with dask.config.set(scheduler="sync"):
        for _ in range(N_PASSES):  # Incremental: one partial_fit per block per call
            incremental.partial_fit(X_dask)
    model = incremental.estimator_
    assert model.n_iter_ == N_PASSES * X_dask.numblocks[0]
    _assert_same_quality(
        _heldout_error(model, X_test), _in_memory_error(X_train, X_test), X_train, X_test
    )
    # transform through the wrapper is lazy, block by block
    codes = incremental.transform(da.from_array(X_test, chunks=(100, X_test.shape[1])))
    assert isinstance(codes, da.Array)
    assert_array_equal(codes.compute(scheduler="sync"), model.transform(X_test))


def test_incremental_on_cluster_equals_in_process(client, digits):
    # on a cluster the model is pickled to a worker, trained there and pickled back;
    # the second pass starts from the first pass's unpickled model and optimiser state.
    # The result must be the model the same blocks give in-process.
    X_train, X_test = digits[0][:600], digits[1]
    X_dask = da.from_array(X_train, chunks=(CHUNK_ROWS, X_train.shape[1]))
    models = []
    for scheduler in ("sync", client):
        incremental = dask_ml_wrappers.Incremental(
            AutoEncoder(**_params()), shuffle_blocks=False
        )
        with distributed.get_task_stream(client) as stream, dask.config.set(scheduler=scheduler):
            incremental.partial_fit(X_dask).partial_fit(X_dask)
        models.append(incremental.estimator_)
    assert any("fit" in task["key"][0] for task in stream.data), "nothing ran on the cluster"
    assert models[1].n_iter_ == 2 * X_dask.numblocks[0]
    assert_allclose(models[1].transform(X_test), models[0].transform(X_test), rtol=0, atol=1e-6)
    assert_allclose(models[1].loss_curve_, models[0].loss_curve_, rtol=1e-6)


def test_grid_search_on_dask_cluster_matches_local(client, digits):
    X, y = digits[0][:480], digits[2][:480]
    pipeline = make_pipeline(
        MinMaxScaler(clip=True),
        AutoEncoder(hidden_layer_sizes=(16,), max_iter=3, batch_size=32, random_state=0),
        LogisticRegression(max_iter=300),
    )
    grid = {
        "autoencoder__n_components": [2, 8],
        "autoencoder__learning_rate_init": [1e-3, 1e-2],
    }
    local = GridSearchCV(pipeline, grid, cv=3).fit(X, y)
    with distributed.get_task_stream(client) as stream:
        with client.as_current(), joblib.parallel_backend("dask"):
            on_cluster = GridSearchCV(pipeline, grid, cv=3).fit(X, y)
    assert stream.data, "no task ran on the cluster"
    assert on_cluster.best_params_ == local.best_params_
    for key in ("mean_test_score", *(f"split{i}_test_score" for i in range(3))):
        assert_allclose(on_cluster.cv_results_[key], local.cv_results_[key], rtol=1e-6)
    # the candidates differ, so agreeing on the best one is not a tie broken by order
    assert np.ptp(local.cv_results_["mean_test_score"]) > 0.05
    assert_allclose(on_cluster.predict_proba(X), local.predict_proba(X), rtol=1e-6, atol=1e-9)


def test_memmap_in_chunks_matches_in_memory_quality(tmp_path, digits):
    # the documented out-of-core pattern: partial_fit over slices of a memory map, so
    # only one chunk at a time is read and converted
    X_train, X_test = digits[0], digits[1]
    path = tmp_path / "X_train.dat"
    writer = np.memmap(path, dtype=np.float64, mode="w+", shape=X_train.shape)
    writer[:] = X_train
    writer.flush()
    del writer
    X_map = np.memmap(path, dtype=np.float64, mode="r", shape=X_train.shape)

    model = AutoEncoder(**_params())
    rng = np.random.RandomState(0)
    starts = np.arange(0, len(X_map), CHUNK_ROWS)
    for _ in range(N_PASSES):
        for start in rng.permutation(starts):  # visit the chunks in a new order each pass
            model.partial_fit(X_map[start : start + CHUNK_ROWS])
    assert model.n_iter_ == N_PASSES * len(starts)
    _assert_same_quality(
        _heldout_error(model, X_test), _in_memory_error(X_train, X_test), X_train, X_test
    )
