"""The CUDA path: run where a GPU is present, skipped elsewhere (CI has none)."""

import pickle

import numpy as np
import pytest
import torch

from .conftest import public_estimators, tiny

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@pytest.mark.parametrize("estimator_class", public_estimators())
@pytest.mark.parametrize("mixed_precision", [False, True])
def test_cuda_fit_transform_and_cpu_agreement(estimator_class, mixed_precision, small_X):
    gpu = tiny(estimator_class, device="cuda", mixed_precision=mixed_precision).fit(small_X)
    assert gpu.device_ == "cuda"
    codes = gpu.transform(small_X)
    assert np.isfinite(codes).all()
    # the same fitted model on the CPU gives the same codes up to float32 rounding
    state = gpu.__getstate__()
    state["device_"] = "cpu"
    cpu = type(gpu).__new__(type(gpu))
    cpu.__setstate__(pickle.loads(pickle.dumps(state)))
    np.testing.assert_allclose(cpu.transform(small_X), codes, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("estimator_class", public_estimators())
def test_cuda_partial_fit_and_sparse_input(estimator_class, small_X):
    import scipy.sparse as sp

    est = tiny(estimator_class, device="cuda")
    est.partial_fit(sp.csr_matrix(np.where(small_X > 0.5, small_X, 0)))
    est.partial_fit(small_X)
    assert est.n_iter_ == 2
    assert np.isfinite(est.score_samples(small_X)).all()
