"""AutoEncoder's own behaviour: quality, losses, training control, dtypes, seeds."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning

from skautoenc import AutoEncoder
from skautoenc._inference import INFERENCE_BATCH_SIZE

from .conftest import public_estimators, tiny


def heldout_error(model, X):
    return ((model.inverse_transform(model.transform(X)) - X) ** 2).sum(axis=1).mean()


def test_default_autoencoder_beats_pca_on_digits(digits):
    X_train, X_test, _, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae = AutoEncoder(n_components=16, random_state=0).fit(X_train)
    pca = PCA(n_components=16).fit(X_train)
    assert ae.loss_ == "bce"
    assert heldout_error(ae, X_test) < heldout_error(pca, X_test)
    # score is the negative mean squared reconstruction error
    assert_allclose(ae.score(X_test), -heldout_error(ae, X_test), rtol=1e-5)


def test_shapes_and_fitted_attributes(small_X):
    ae = AutoEncoder(n_components=3, hidden_layer_sizes=(5, 4), max_iter=4, random_state=0)
    codes = ae.fit_transform(small_X)
    assert codes.shape == (40, 3)
    assert ae.inverse_transform(codes).shape == (40, 6)
    assert ae.score_samples(small_X).shape == (40,)
    assert ae.n_iter_ == 4 == len(ae.loss_curve_)
    assert ae.best_loss_ == min(ae.loss_curve_)
    assert ae.n_features_in_ == 6
    assert list(ae.get_feature_names_out()) == ["autoencoder0", "autoencoder1", "autoencoder2"]
    sizes = [m.out_features for m in ae.net_.module_.modules() if hasattr(m, "out_features")]
    assert sizes == [5, 4, 3, 4, 5, 6]  # hourglass: encoder, then mirrored decoder


def test_loss_auto_picks_by_data_range(small_X):
    assert AutoEncoder(max_iter=1).fit(small_X).loss_ == "bce"
    assert AutoEncoder(max_iter=1).fit(small_X - 0.5).loss_ == "mse"
    assert AutoEncoder(max_iter=1, loss="mse").fit(small_X).loss_ == "mse"
    # a Bernoulli output lies in (0, 1), a linear output does not have to
    recon = AutoEncoder(max_iter=1, random_state=0).fit(small_X)
    out = recon.inverse_transform(np.full((3, 32), 50.0))
    assert np.all((out >= 0) & (out <= 1))


def test_bce_rejects_data_outside_unit_interval(small_X):
    with pytest.raises(ValueError, match="MinMaxScaler"):
        AutoEncoder(loss="bce", max_iter=1).fit(small_X * 2)


def test_dtype_is_preserved(small_X):
    for dtype in (np.float32, np.float64):
        ae = AutoEncoder(n_components=2, max_iter=2, random_state=0).fit(small_X.astype(dtype))
        assert ae.transform(small_X.astype(dtype)).dtype == dtype
        assert ae.inverse_transform(ae.transform(small_X.astype(dtype))).dtype == dtype
    int_X = (small_X * 10).astype(int)
    assert AutoEncoder(max_iter=1, loss="mse").fit(int_X).transform(int_X).dtype == np.float64


def test_same_seed_same_codes_other_seed_other_codes(small_X):
    codes = [
        AutoEncoder(n_components=2, max_iter=3, random_state=seed).fit_transform(small_X)
        for seed in (0, 0, 1)
    ]
    assert_array_equal(codes[0], codes[1])
    assert not np.allclose(codes[0], codes[2])


def test_fit_does_not_touch_global_torch_seed(small_X):
    import torch

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    AutoEncoder(max_iter=2, random_state=0).fit(small_X)
    assert torch.equal(torch.rand(3), expected)


def test_early_stopping_halts_on_plateau_and_restores_best(digits):
    X_train = digits[0]
    ae = AutoEncoder(
        n_components=8,
        hidden_layer_sizes=(32,),
        early_stopping=True,
        n_iter_no_change=3,
        tol=0.5,  # only large improvements count: a plateau comes early
        max_iter=100,
        random_state=0,
    ).fit(X_train)
    assert ae.n_iter_ < 100
    assert len(ae.validation_scores_) == ae.n_iter_
    assert ae.best_validation_score_ == max(ae.validation_scores_)
    assert ae.best_loss_ is None
    # the restored weights are those of the best epoch: recompute its validation loss
    net = ae.net_
    valid_ds = net.get_split_datasets(_as_tensor(X_train))[1]
    valid = _as_tensor(X_train)[valid_ds.indices]
    with __import__("torch").no_grad():
        loss = net.get_loss(net.module_(valid), valid).item()
    assert_allclose(-loss, ae.best_validation_score_, rtol=1e-5)


def _as_tensor(X):
    import torch

    return torch.tensor(X, dtype=torch.float32)


def test_plateau_of_training_loss_stops_without_warning(small_X):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ae = AutoEncoder(max_iter=500, tol=0.5, n_iter_no_change=2, random_state=0).fit(small_X)
    assert ae.n_iter_ < 500


def test_max_iter_reached_warns(small_X):
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        AutoEncoder(max_iter=2, random_state=0).fit(small_X)


def test_warm_start_continues_training(small_X):
    ae = AutoEncoder(n_components=2, max_iter=5, warm_start=True, random_state=0)
    ae.fit(small_X)
    first_curve = list(ae.loss_curve_)
    weights = [p.detach().clone() for p in ae.net_.module_.parameters()]
    ae.fit(small_X)
    assert ae.n_iter_ == 10
    assert ae.loss_curve_[:5] == first_curve
    # training went on from the previous weights: the loss picks up where it stopped
    assert ae.loss_curve_[5] < first_curve[0]
    assert any(
        not np.allclose(a.numpy(), b.detach().numpy())
        for a, b in zip(weights, ae.net_.module_.parameters())
    )
    cold = AutoEncoder(n_components=2, max_iter=5, random_state=0).fit(small_X)
    cold.fit(small_X)
    assert cold.n_iter_ == 5


def test_warm_start_rejects_other_feature_count(small_X):
    ae = AutoEncoder(max_iter=2, warm_start=True).fit(small_X)
    with pytest.raises(ValueError, match="features"):
        ae.fit(small_X[:, :4])
    assert ae.n_features_in_ == 6


def test_max_iter_zero_gives_initial_network(small_X):
    ae = AutoEncoder(max_iter=0, random_state=0).fit(small_X)
    assert ae.n_iter_ == 0 and ae.loss_curve_ == []
    assert ae.transform(small_X).shape == (40, 32)


def test_sgd_solver_and_alpha_train(small_X):
    ae = AutoEncoder(solver="sgd", alpha=1e-3, learning_rate_init=0.01, max_iter=20)
    ae.set_params(random_state=0).fit(small_X)
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]


def test_divergence_is_reported(small_X):
    ae = AutoEncoder(loss="mse", learning_rate_init=1e8, solver="sgd", max_iter=20)
    with pytest.raises(FloatingPointError, match="diverged"):
        ae.fit(small_X * 1e3)
    assert not hasattr(ae, "net_")


def test_cuda_request_without_gpu_is_a_clear_error(small_X):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    for device in ("cuda", "cuda:1"):  # as torch names them; checked against the machine
        with pytest.raises(ValueError, match=rf"device='{device}' was requested.*it has 'cpu'"):
            AutoEncoder(device=device, max_iter=1).fit(small_X)
    if not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        with pytest.raises(ValueError, match="device='mps' was requested"):
            AutoEncoder(device="mps", max_iter=1).fit(small_X)
    with pytest.raises(ValueError, match="not a device skautoenc runs on"):
        AutoEncoder(device="gpu", max_iter=1).fit(small_X)
    assert AutoEncoder(device="auto", max_iter=1).fit(small_X).device_ == "cpu"
    assert AutoEncoder(device="cpu:0", max_iter=1).fit(small_X).device_ == "cpu"


def test_verbose_prints_epoch_log(small_X, capsys):
    AutoEncoder(max_iter=2, verbose=1).fit(small_X)
    assert "train_loss" in capsys.readouterr().out


@pytest.mark.parametrize("estimator_class", public_estimators())
def test_verbose_shows_epoch_of_n_and_time_left_without_escape_codes(
    estimator_class, small_X, capsys
):
    est = tiny(estimator_class, max_iter=3, verbose=1, early_stopping=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(small_X)
        est.partial_fit(small_X)
    lines = capsys.readouterr().out.splitlines()
    epochs = [line for line in lines if line.startswith("epoch")]
    assert [line.split()[1] for line in epochs] == ["1/3", "2/3", "3/3", "4"]
    assert all("train_loss" in line and "elapsed" in line for line in epochs)
    assert "valid_loss" in epochs[0] and "left" in epochs[0] and "left" not in epochs[2]
    assert "*" in epochs[0]  # the first epoch is the best so far
    assert "\033" not in "".join(lines)  # captured output is no terminal


def test_progress_is_coloured_only_on_a_terminal():
    from skautoenc._progress import ProgressLog, format_duration

    row = {"epoch": 2, "train_loss": 1.5, "train_loss_best": True, "valid_loss": 2.0,
           "valid_loss_best": False, "dur": 0.5, "train_batch_count": 3}
    log = ProgressLog(total_epochs=10)
    plain = log.format_line(row, 2, 1.0, colour=False)
    assert plain == (
        "epoch  2/10  train_loss 1.5*  valid_loss 2  0.5 s/epoch  "
        "1.0 s elapsed, at most 4.0 s left"
    )
    assert "\033[32m1.5\033[0m" in log.format_line(row, 2, 1.0, colour=True)
    assert [format_duration(s) for s in (3.21, 65, 3725)] == ["3.2 s", "1 min 05 s", "1 h 02 min"]


def test_inference_layer_follows_weight_updates_and_keeps_gradients():
    import torch

    from skautoenc._modules import Linear

    torch.manual_seed(0)
    layer = Linear(5, 3).eval()
    x = torch.randn(4, 5)
    with torch.no_grad():
        before = layer(x)
        assert_allclose(before.numpy(), torch.nn.functional.linear(x, layer.weight,
                                                                   layer.bias).numpy(),
                        rtol=1e-6, atol=1e-6)
        layer.weight.mul_(2.0)  # an in-place update, as an optimiser step makes
        after = layer(x)
        assert_allclose((after - layer.bias).numpy(), 2 * (before - layer.bias).numpy(),
                        rtol=1e-5, atol=1e-6)
    # outside no_grad (e.g. gradients with respect to the input), autograd still works
    layer(x).sum().backward()
    assert layer.weight.grad is not None and torch.any(layer.weight.grad != 0)


def test_validation_during_training_sees_each_epochs_weights(digits):
    # the optimiser is torch's fused Adam, whose steps leave the weights' version as it
    # was: the net must drop the layers' cached W.T itself, or every validation pass
    # after the first would score the first epoch's weights
    X = digits[0][:300]
    ae = AutoEncoder(n_components=4, hidden_layer_sizes=(8,), max_iter=4, early_stopping=True,
                     n_iter_no_change=10, random_state=0).fit(X)
    assert ae.net_.optimizer_.param_groups[0]["fused"]
    scores = ae.validation_scores_
    assert len(set(scores)) == len(scores) == 4
    _, valid = ae.net_.get_split_datasets(X)
    X_valid = X[valid.indices]
    # restored: the best epoch's weights, scored afresh, give its validation score
    import torch

    X_valid = torch.as_tensor(X_valid, dtype=torch.float32)
    with torch.no_grad():
        loss = float(ae.net_.criterion_(ae.net_.module_(X_valid)[1], X_valid))
    assert_allclose(-loss, max(scores), rtol=1e-5)


def test_codes_follow_further_training(digits):
    X = digits[0][:200]
    ae = AutoEncoder(n_components=4, hidden_layer_sizes=(8,), max_iter=2, warm_start=True,
                     random_state=0).fit(X)
    codes = ae.transform(X)
    ae.fit(X)  # two more epochs: the cached transposed weights must not be reused
    fresh = AutoEncoder(**ae.get_params())
    fresh.__setstate__(ae.__getstate__())  # the same weights, loaded afresh
    assert not np.allclose(ae.transform(X), codes)
    assert_array_equal(ae.transform(X), fresh.transform(X))


def test_codes_follow_partial_fit_without_validation(digits):
    # partial_fit validates nothing, so no evaluation pass runs between its fused
    # optimiser steps and the next transform: the switch back to evaluation mode alone
    # must drop the cached transposed weights
    X = digits[0][:200]
    ae = AutoEncoder(n_components=4, hidden_layer_sizes=(8,), random_state=0)
    codes = ae.partial_fit(X).transform(X)
    ae.partial_fit(X)
    fresh = AutoEncoder(**ae.get_params())
    fresh.__setstate__(ae.__getstate__())
    assert not np.allclose(ae.transform(X), codes)
    assert_array_equal(ae.transform(X), fresh.transform(X))


def test_codes_follow_training_after_unpickling(digits):
    import pickle

    X = digits[0][:200]
    ae = AutoEncoder(n_components=4, hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X)
    ae = pickle.loads(pickle.dumps(ae))
    codes = ae.transform(X)
    ae.partial_fit(X)
    fresh = pickle.loads(pickle.dumps(ae))
    assert not np.allclose(ae.transform(X), codes)
    assert_array_equal(ae.transform(X), fresh.transform(X))


def test_transform_same_for_read_only_reversed_and_float32_views(digits):
    X = digits[0][:300]
    ae = AutoEncoder(n_components=4, hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X)
    codes = ae.transform(X)
    read_only = X.copy()
    read_only.setflags(write=False)  # converted by numpy, not torch: the same codes
    assert_array_equal(ae.transform(read_only), codes)
    assert_array_equal(ae.transform(X[::-1])[::-1], codes)  # negative strides
    assert_array_equal(ae.transform(np.asfortranarray(X)), codes)
    assert_array_equal(ae.transform(X.astype(np.float32)), codes.astype(np.float32))


def test_a_rows_codes_do_not_depend_on_the_call_it_arrives_in(digits):
    # Inference runs in zero-padded chunks of a fixed size: a row's codes, scores and
    # reconstruction are bitwise the same alone, in a small call, or in any chunk of a
    # large one (the last chunk padded), and with the rows in another order.
    n_rows = 2 * INFERENCE_BATCH_SIZE + 37  # two full chunks and a padded one
    X = np.tile(digits[0], (n_rows // len(digits[0]) + 1, 1))[:n_rows]
    ae = AutoEncoder(n_components=8, max_iter=2, random_state=0).fit(digits[0])
    codes, scores = ae.transform(X), ae.score_samples(X)
    for i in (0, 5, INFERENCE_BATCH_SIZE + 3, len(X) - 1):
        assert_array_equal(ae.transform(X[i : i + 1]), codes[i : i + 1])
        assert_array_equal(ae.score_samples(X[i : i + 1]), scores[i : i + 1])
    order = np.random.RandomState(0).permutation(len(X))[:100]
    assert_array_equal(ae.transform(X[order]), codes[order])
    assert_array_equal(ae.inverse_transform(codes[order]), ae.inverse_transform(codes)[order])


def test_loss_auto_says_when_unscaled_intensities_get_the_squared_error(digits):
    import warnings

    X = digits[0] * 16  # the digits' raw pixel values, 0-16
    with pytest.warns(UserWarning, match=r"outside \[0, 1\], so loss='auto' chose the squared"):
        ae = AutoEncoder(n_components=2, max_iter=1).fit(X)
    assert ae.loss_ == "mse"
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        AutoEncoder(n_components=2, max_iter=1, loss="mse").fit(X)  # chosen: no warning
        AutoEncoder(n_components=2, max_iter=1).fit(X - 8)  # centred data: mse, no note
        AutoEncoder(n_components=2, max_iter=1).fit(X / 16)  # in [0, 1]: bce
