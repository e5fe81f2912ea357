"""partial_fit, sparse input and memory-mapped input."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from numpy.testing import assert_array_equal

from skautoenc import AutoEncoder

from .conftest import public_estimators, tiny


@pytest.mark.parametrize("estimator_class", public_estimators())
def test_partial_fit_is_one_epoch_and_keeps_optimizer_state(estimator_class, small_X):
    est = tiny(estimator_class, early_stopping=True)
    est.partial_fit(small_X)
    assert est.n_iter_ == 1 and len(est.loss_curve_) == 1
    assert est.validation_scores_ == []  # partial_fit holds out nothing
    step = _adam_steps(est)
    assert step == np.ceil(len(small_X) / est.batch_size)
    for _ in range(4):
        est.partial_fit(small_X)
    assert est.n_iter_ == 5
    assert _adam_steps(est) == 5 * step
    assert est.loss_curve_[-1] < est.loss_curve_[0]
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(small_X[:, :3])
    assert est.n_iter_ == 5


@pytest.mark.parametrize("estimator_class", public_estimators())
@pytest.mark.parametrize("method", ["partial_fit", "warm_start"])
def test_failed_continued_training_is_rolled_back(estimator_class, method, small_X):
    # Continued training runs on the fitted net itself; a failure after some updates
    # must put back weights, optimiser state and history, so that the model goes on
    # exactly as a twin that never saw the failed call.
    def fitted():
        est = tiny(estimator_class, batch_size=8, warm_start=True, max_iter=2)
        return est.fit(small_X)

    def train(est):
        return est.partial_fit(small_X) if method == "partial_fit" else est.fit(small_X)

    est, twin = fitted(), fitted()
    codes, n_iter, steps = est.transform(small_X), est.n_iter_, _adam_steps(est)
    net_class = type(est.net_)
    original, calls = net_class.train_step_single, []

    def fail_on_third_batch(net, batch, **fit_params):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("injected failure")
        return original(net, batch, **fit_params)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(net_class, "train_step_single", fail_on_third_batch)
        with pytest.raises(RuntimeError, match="injected failure"):
            train(est)
    assert len(calls) == 3  # two minibatch updates had been made
    assert_array_equal(est.transform(small_X), codes)
    assert est.n_iter_ == n_iter == len(est.net_.history) == len(est.loss_curve_)
    assert _adam_steps(est) == steps
    train(est), train(twin)
    assert_array_equal(est.transform(small_X), twin.transform(small_X))
    assert est.loss_curve_ == twin.loss_curve_


def _adam_steps(est):
    state = est.net_.optimizer_.state
    return max(int(s["step"]) for s in state.values())


def test_partial_fit_continues_after_fit_and_is_reproducible(small_X):
    runs = []
    for _ in range(2):
        ae = AutoEncoder(n_components=2, max_iter=3, random_state=0).fit(small_X)
        ae.partial_fit(small_X[:20]).partial_fit(small_X[20:])
        runs.append(ae.transform(small_X))
    assert ae.n_iter_ == 5
    assert_array_equal(runs[0], runs[1])


def test_partial_fit_calls_shuffle_differently(small_X):
    # the same chunk twice must not replay the same minibatch order (or noise)
    ae = AutoEncoder(max_iter=1, batch_size=8, random_state=0).partial_fit(small_X)
    import torch

    orders = []
    original = torch.randperm

    def spy(n, *args, **kwargs):
        result = original(n, *args, **kwargs)
        orders.append(result.clone())
        return result

    torch.randperm = spy
    try:
        ae.partial_fit(small_X)
        ae.partial_fit(small_X)
    finally:
        torch.randperm = original
    assert len(orders) == 2 and not torch.equal(orders[0], orders[1])


@pytest.mark.parametrize("estimator_class", public_estimators())
def test_sparse_input_trains_like_dense(estimator_class, small_X):
    X = np.where(small_X > 0.6, small_X, 0.0)
    dense = tiny(estimator_class).fit(X)
    sparse = tiny(estimator_class).fit(sp.csr_matrix(X))
    assert_array_equal(dense.transform(X), sparse.transform(sp.csr_matrix(X)))
    assert_array_equal(dense.score_samples(X), sparse.score_samples(sp.csc_matrix(X)))


def test_sparse_input_outside_unit_interval_uses_squared_error(small_X):
    X = sp.random(30, 6, density=0.3, random_state=0, format="csr") * 5
    with pytest.warns(UserWarning, match="chose the squared error"):  # and says so
        assert AutoEncoder(max_iter=1).fit(X).loss_ == "mse"
    assert AutoEncoder(max_iter=1).fit(X / 5).loss_ == "bce"
    with pytest.raises(ValueError, match=r"ranges over \[0, "):
        AutoEncoder(max_iter=1, loss="bce").fit(X)


def test_memmap_input_trains_like_in_memory(tmp_path, small_X):
    path = tmp_path / "X.dat"
    mm = np.memmap(path, dtype=np.float64, mode="w+", shape=small_X.shape)
    mm[:] = small_X
    mm.flush()
    mm = np.memmap(path, dtype=np.float64, mode="r", shape=small_X.shape)
    a = AutoEncoder(max_iter=3, random_state=0).fit(mm)
    b = AutoEncoder(max_iter=3, random_state=0).fit(small_X)
    assert_array_equal(a.transform(mm), b.transform(small_X))


def test_memmap_and_sparse_are_not_converted_whole(tmp_path, small_X, monkeypatch):
    from skautoenc import _data

    seen = []
    original = _data.RowDataset.__init__

    def spy(self, X, conditions=None):
        seen.append(type(X).__name__)
        original(self, X, conditions)

    monkeypatch.setattr(_data.RowDataset, "__init__", spy)
    mm = np.memmap(tmp_path / "X.dat", dtype=np.float64, mode="w+", shape=small_X.shape)
    mm[:] = small_X
    AutoEncoder(max_iter=1).fit(mm)
    AutoEncoder(max_iter=1).fit(sp.csr_matrix(small_X))
    AutoEncoder(max_iter=1).fit(small_X)
    assert seen == ["ndarray", "csr_matrix", "Tensor"]


def test_column_major_input_is_batched_from_rows(tmp_path, small_X, monkeypatch):
    # a column-major X (a DataFrame's values, a column selection) is held row-major:
    # its minibatches are contiguous rows, gathered at the speed of C-ordered data,
    # and training is the same as on C-ordered X
    from skautoenc import _data

    batches = []
    original = _data.RowDataset.rows

    def spy(self, index):
        rows = original(self, index)
        held = self.X.is_contiguous() if torch.is_tensor(self.X) else True  # memmap: read
        batches.append(held and rows.is_contiguous())
        return rows

    monkeypatch.setattr(_data.RowDataset, "rows", spy)
    X_f = np.asfortranarray(small_X)
    mm = np.memmap(tmp_path / "X.dat", dtype=np.float64, mode="w+", shape=small_X.shape,
                   order="F")
    mm[:] = small_X
    a = AutoEncoder(max_iter=2, random_state=0).fit(X_f)
    AutoEncoder(max_iter=1, random_state=0).fit(mm)
    assert batches and all(batches)
    b = AutoEncoder(max_iter=2, random_state=0).fit(small_X)
    assert_array_equal(a.transform(small_X), b.transform(small_X))


@pytest.mark.parametrize("estimator_class", public_estimators())
def test_fit_and_transform_hold_no_copy_of_the_data(estimator_class):
    # the input checks and the batch conversion must not copy X whole: numpy reports
    # its allocations to tracemalloc (torch's tensors are not counted there)
    import tracemalloc

    X = np.random.RandomState(0).uniform(size=(4000, 500))  # 16 MB, batches of 0.4 MB
    est = tiny(estimator_class, max_iter=1, batch_size=100)
    est.fit(X[:200]).transform(X[:200])  # first-call imports and caches are not counted
    tracemalloc.start()
    try:
        est.fit(X)
        fit_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        est.transform(X)
        transform_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # fit holds one float32 copy of in-memory data (half of float64 X), nothing more
    assert fit_peak < 0.6 * X.nbytes
    assert transform_peak < X.nbytes / 4
