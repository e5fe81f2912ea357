"""Interruption, divergence, mixed precision and odd inputs, over every estimator."""

import os
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skautoenc import AutoEncoder
from skautoenc._inference import INFERENCE_BATCH_SIZE
from skautoenc._net import AutoEncoderNet

from .conftest import public_estimators, tiny

ESTIMATORS = public_estimators()


def _interrupt_at_step(monkeypatch, step):
    calls = {"n": 0}
    original = AutoEncoderNet.train_step

    def train_step(self, batch, **fit_params):
        calls["n"] += 1
        if calls["n"] == step:
            raise KeyboardInterrupt
        return original(self, batch, **fit_params)

    monkeypatch.setattr(AutoEncoderNet, "train_step", train_step)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_keyboard_interrupt_leaves_a_usable_estimator(estimator_class, small_X, monkeypatch):
    # 40 samples in batches of 16: 3 steps per epoch; interrupt in the middle of epoch 3
    _interrupt_at_step(monkeypatch, 8)
    est = tiny(estimator_class, max_iter=10, warm_start=True)
    # the interrupt goes on to the caller, and the estimator keeps what it learnt
    with pytest.raises(KeyboardInterrupt, match="interrupted .* after 2 complete epochs"):
        est.fit(small_X)
    assert est.n_iter_ == 2 == len(est.loss_curve_)
    assert np.isfinite(est.transform(small_X)).all()
    monkeypatch.undo()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_params(max_iter=3).fit(small_X)  # warm start continues
    assert est.n_iter_ == 5


def test_keyboard_interrupt_stops_a_grid_search(small_X, monkeypatch):
    from sklearn.model_selection import GridSearchCV

    search = GridSearchCV(tiny(AutoEncoder), {"n_components": [1, 2, 3]}, cv=2)
    fitted = []
    original = AutoEncoder._fit

    def record(self, *args, **kwargs):
        fitted.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AutoEncoder, "_fit", record)
    # 20 training rows per fold in batches of 16: in the first candidate's second epoch
    _interrupt_at_step(monkeypatch, 4)
    with pytest.raises(KeyboardInterrupt):
        search.fit(small_X)
    assert len(fitted) == 1  # no candidate, no fold ran after the interrupt
    assert fitted[0].n_iter_ == 1
    assert np.isfinite(fitted[0].transform(small_X)).all()  # and it still transforms


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_keyboard_interrupt_in_partial_fit_goes_on(estimator_class, small_X, monkeypatch):
    est = tiny(estimator_class).partial_fit(small_X)
    _interrupt_at_step(monkeypatch, 2)  # in the middle of the second call's epoch
    with pytest.raises(KeyboardInterrupt):
        est.partial_fit(small_X)
    assert est.n_iter_ == 1  # the unfinished epoch is not counted
    assert np.isfinite(est.transform(small_X)).all()


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_divergence_is_an_error_and_keeps_the_previous_model(estimator_class, small_X):
    est = tiny(estimator_class).fit(small_X)
    codes = est.transform(small_X)
    est.set_params(learning_rate_init=1e12, solver="sgd", max_iter=20)
    with pytest.raises(FloatingPointError, match="diverged"):
        est.fit(small_X * 50 - 25)
    assert_array_equal(est.transform(small_X), codes)
    assert np.isfinite(est.transform(small_X)).all()


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_values_beyond_float32_are_refused(estimator_class, small_X):
    X = small_X.copy()
    X[0, 0] = 1e300
    with pytest.raises(ValueError, match="float32 range"):
        tiny(estimator_class).fit(X)
    est = tiny(estimator_class).fit(small_X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow warning on the way
        for method in ("transform", "score_samples"):
            with pytest.raises(ValueError, match="float32 range"):
                getattr(est, method)(X)


@pytest.mark.parametrize("value, message", [(1e300, "float32 range"), (np.nan, "NaN")])
def test_inference_checks_every_chunk(value, message, small_X):
    # transform checks the range chunk by chunk: a bad value in a later chunk is found
    est = tiny(AutoEncoder).fit(small_X)
    X = np.tile(small_X, (INFERENCE_BATCH_SIZE // len(small_X) + 2, 1))
    X[INFERENCE_BATCH_SIZE + 1, 3] = value
    with pytest.raises(ValueError, match=message):
        est.transform(X)
    with pytest.raises(ValueError, match=message):
        est.transform(sp.csr_matrix(X))


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.filterwarnings("ignore:X ranges over:UserWarning")  # the scale note, rightly
def test_huge_finite_values_never_give_nan_codes_silently(estimator_class, small_X):
    X = small_X.copy()
    X[0, 0] = 1e30
    try:
        est = tiny(estimator_class).fit(X)
    except (ValueError, FloatingPointError) as exc:
        assert "diverged" in str(exc) or "Scale" in str(exc)
        return
    try:
        codes = est.transform(X)
    except ValueError as exc:
        assert "non-finite" in str(exc)
    else:
        assert np.isfinite(codes).all()


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_mixed_precision_trains_in_bfloat16(estimator_class, small_X):
    full = tiny(estimator_class, max_iter=5).fit(small_X)
    mixed = tiny(estimator_class, max_iter=5, mixed_precision=True).fit(small_X)
    assert mixed.loss_curve_[-1] < mixed.loss_curve_[0]
    assert not np.allclose(full.loss_curve_, mixed.loss_curve_)  # autocast was active
    np.testing.assert_allclose(full.loss_curve_, mixed.loss_curve_, rtol=0.1)
    codes = mixed.transform(small_X)
    assert codes.dtype == np.float64
    assert_array_equal(codes, mixed.transform(small_X))  # inference is float32, exact


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_mixed_precision_auto_follows_the_cpu(estimator_class, small_X, monkeypatch):
    import torch

    from skautoenc import _base

    full = tiny(estimator_class, max_iter=3, random_state=0).fit(small_X)
    mixed = tiny(estimator_class, max_iter=3, mixed_precision=True, random_state=0).fit(small_X)
    seen = []

    def fast_bfloat16(device):
        seen.append(device)
        return units

    monkeypatch.setattr(_base, "fast_bfloat16", fast_bfloat16)
    for units, same_as in ((False, full), (True, mixed)):
        auto = tiny(estimator_class, max_iter=3, mixed_precision="auto", random_state=0)
        auto.fit(small_X)
        assert auto.net_.mixed_precision is units
        assert auto.get_params()["mixed_precision"] == "auto"
        assert_array_equal(auto.loss_curve_, same_as.loss_curve_)
        assert_array_equal(auto.transform(small_X), same_as.transform(small_X))
    assert seen == ["cpu", "cpu"]
    # the detection itself answers for the machine at hand, as a bool
    from skautoenc._runtime import fast_bfloat16 as real

    assert isinstance(real("cpu"), bool)
    if not torch.cuda.is_available():
        assert real("cuda") is False


def test_fast_bfloat16_reads_the_cpu_flags(monkeypatch):
    import sys

    from skautoenc import _runtime

    for flags, expected in (
        ({"avx2", "fma"}, False),
        ({"avx2", "avx512_bf16"}, True),
        ({"avx2", "amx_bf16", "amx_tile"}, True),
        (set(), False),  # not Linux, or /proc/cpuinfo unreadable
    ):
        monkeypatch.setattr(_runtime, "_cpu_flags", lambda f=flags: frozenset(f))
        assert _runtime.fast_bfloat16("cpu") is expected
    # the flags of this machine, as the kernel lists them
    monkeypatch.undo()
    flags = _runtime._cpu_flags.__wrapped__()
    assert isinstance(flags, frozenset)
    if sys.platform == "linux":
        assert flags  # every CPU has some: "fpu" on x86, "fp" on ARM


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_dataframe_with_non_string_column_names(estimator_class, small_X):
    df = pd.DataFrame(small_X)  # integer column names: no feature names are stored
    est = tiny(estimator_class).fit(df)
    assert not hasattr(est, "feature_names_in_")
    assert_array_equal(est.transform(df), est.transform(small_X))
    mixed = df.rename(columns={0: "a"})
    with pytest.raises(TypeError, match="Feature names are only supported if all"):
        tiny(estimator_class).fit(mixed)


@pytest.mark.parametrize(
    "estimator_name, params, message",
    [
        ("DenoisingAutoEncoder", {"noise_level": -0.1}, "noise_level"),
        ("DenoisingAutoEncoder", {"noise": "pink"}, "noise"),
        ("SparseAutoEncoder", {"sparsity_target": 1.0}, "sparsity_target"),
        ("SparseAutoEncoder", {"sparsity_target": 0.0}, "sparsity_target"),
        ("VariationalAutoEncoder", {"n_mc_samples": 0}, "n_mc_samples"),
        ("VariationalAutoEncoder", {"likelihood": "poisson"}, "likelihood"),
        ("AutoEncoder", {"pretraining": "pca"}, "pretraining"),
    ],
)
def test_model_specific_invalid_parameters(estimator_name, params, message, small_X):
    import skautoenc

    with pytest.raises(ValueError, match=message):
        tiny(getattr(skautoenc, estimator_name), **params).fit(small_X)


# What fit/transform may raise on arbitrary input: a clear ValueError or TypeError.
DOCUMENTED = (ValueError, TypeError)

_dtypes = st.sampled_from(
    [np.float64, np.float32, np.float16, np.int64, np.int8, np.uint8, np.bool_,
     np.complex128, object, str]
)


@st.composite
def _arrays(draw):
    ndim = draw(st.integers(0, 3))
    shape = tuple(draw(st.lists(st.integers(0, 6), min_size=ndim, max_size=ndim)))
    dtype = draw(_dtypes)
    values = draw(
        st.lists(
            st.floats(allow_nan=True, allow_infinity=True, width=32),
            min_size=int(np.prod(shape)),
            max_size=int(np.prod(shape)),
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # casts of nan/inf to ints
        return np.array(values, dtype=np.float64).reshape(shape).astype(dtype)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(X=_arrays())
def test_random_shapes_and_dtypes_raise_only_documented_errors(estimator_class, X):
    est = tiny(estimator_class, max_iter=1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X)
    except DOCUMENTED:
        return
    except FloatingPointError:  # documented: training diverged on extreme values
        return
    codes = est.transform(X)
    assert codes.shape == (X.shape[0], est.n_components)
    assert np.isfinite(codes).all()


def test_fits_in_threads_are_reproducible(small_X):
    from concurrent.futures import ThreadPoolExecutor

    from skautoenc import DenoisingAutoEncoder

    def fit(seed):
        return tiny(DenoisingAutoEncoder, max_iter=5, random_state=seed).fit(small_X)

    alone = [fit(seed).transform(small_X) for seed in (0, 1, 2, 3)]
    with ThreadPoolExecutor(4) as pool:
        together = [est.transform(small_X) for est in pool.map(fit, (0, 1, 2, 3))]
    for a, b in zip(alone, together):
        assert_array_equal(a, b)


def _record_threads(monkeypatch, seen):
    """Make every training step append torch's thread count to ``seen``; return the
    recording function, for other methods to call."""
    import torch

    def record():
        seen.append(torch.get_num_threads())

    original = AutoEncoderNet.train_step

    def train_step(self, batch, **fit_params):
        record()
        return original(self, batch, **fit_params)

    monkeypatch.setattr(AutoEncoderNet, "train_step", train_step)
    return record


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("n_jobs, expected", [(None, 1), (1, 1), (-1, None), (2, 2)])
def test_n_jobs_sets_torch_threads_for_the_call_only(
    estimator_class, n_jobs, expected, small_X, monkeypatch
):
    import joblib
    import torch

    expected = joblib.cpu_count() if expected is None else expected
    seen = []
    record = _record_threads(monkeypatch, seen)
    before = torch.get_num_threads()
    # a value no call asks for, to see that each call puts back what it found
    torch.set_num_threads(3 if expected != 3 else 2)
    try:
        found = torch.get_num_threads()
        est = tiny(estimator_class, n_jobs=n_jobs, max_iter=1).fit(small_X)
        assert seen and set(seen) == {expected}
        assert torch.get_num_threads() == found
        encode = type(est)._encode
        monkeypatch.setattr(
            type(est), "_encode", lambda self, b: (record(), encode(self, b))[1]
        )
        seen.clear()
        est.transform(small_X)
        assert set(seen) == {expected}
        assert torch.get_num_threads() == found
    finally:
        torch.set_num_threads(before)


def test_n_jobs_follows_joblib_parallel_config(small_X, monkeypatch):
    import joblib

    seen = []
    _record_threads(monkeypatch, seen)
    with joblib.parallel_config(n_jobs=2):
        tiny(AutoEncoder, max_iter=1, n_jobs=None).fit(small_X)
    assert set(seen) == {2}


def test_n_jobs_zero_is_refused(small_X):
    with pytest.raises(ValueError, match="n_jobs"):
        tiny(AutoEncoder, n_jobs=0).fit(small_X)


class _FakeLoad:
    """``/proc`` as the adaptive thread count reads it, with other processes taking
    ``others`` cores of 2, and a clock of its own (for skautoenc._runtime only) that
    advances a window per reading."""

    def __init__(self, monkeypatch, others):
        import types

        import skautoenc._runtime as runtime

        self.others, self.t, self.busy, self.own = others, 0.0, 0, 0
        self.hz, self.window = os.sysconf("SC_CLK_TCK"), runtime.LOAD_WINDOW
        monkeypatch.setattr(runtime, "_usable_cpus", lambda: [0, 1])
        monkeypatch.setattr(runtime, "time", types.SimpleNamespace(monotonic=self.clock))
        monkeypatch.setattr(runtime, "_busy_ticks", lambda cpus: self.busy)
        monkeypatch.setattr(runtime, "_own_ticks", lambda: self.own)
        monkeypatch.setattr(runtime.AdaptiveThreads, "_last", (-np.inf, None))

    def clock(self):
        # each reading is a window later; this process used 1 core, the others theirs
        self.t += self.window
        self.own += int(self.hz * self.window)
        self.busy += int(self.hz * self.window * (1 + self.others))
        return self.t


@pytest.mark.parametrize("others, expected", [(0.0, 2), (0.1, 2), (0.5, 1), (1.0, 1)])
def test_auto_threads_follow_the_cores_other_processes_leave(others, expected, monkeypatch):
    from skautoenc._runtime import AdaptiveThreads

    _FakeLoad(monkeypatch, others)
    governor = AdaptiveThreads(max_threads=2)
    assert governor.threads == 1  # nothing measured yet: the safe count
    assert governor.check() == expected
    assert governor.check() == expected
    # the next call starts from the last measurement
    assert AdaptiveThreads(max_threads=2).threads == expected
    assert AdaptiveThreads(max_threads=1).threads == 1  # never above the cap


def test_auto_threads_change_during_a_fit_and_are_put_back(small_X, monkeypatch):
    import torch

    load = _FakeLoad(monkeypatch, 0.0)
    seen = []
    _record_threads(monkeypatch, seen)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        est = tiny(AutoEncoder, max_iter=4, n_jobs="auto").fit(small_X)
        assert seen[-1] == 2  # measured idle: up to the cap
        load.others = 1.0
        seen.clear()
        est.partial_fit(small_X)
        assert seen[-1] == 1  # another process took a core
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_auto_threads_stay_at_one_without_proc(monkeypatch):
    import skautoenc._runtime as runtime

    def missing(*args):
        raise OSError("no /proc here")

    monkeypatch.setattr(runtime, "_busy_ticks", missing)
    monkeypatch.setattr(runtime.AdaptiveThreads, "_last", (-np.inf, None))
    governor = runtime.AdaptiveThreads(max_threads=4)
    assert governor.threads == 1 and governor.check() == 1


def test_proc_readers_measure_this_machine():
    import skautoenc._runtime as runtime

    if not os.path.exists("/proc/stat"):
        pytest.skip("Linux only")
    cpus = runtime._usable_cpus()
    busy, own = runtime._busy_ticks(cpus), runtime._own_ticks()
    sum(i * i for i in range(300_000))  # spend some CPU time
    assert runtime._busy_ticks(cpus) >= busy and runtime._own_ticks() >= own > 0
