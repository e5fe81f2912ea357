"""The network contract: the conv family and a user's own modules, in every estimator."""

import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from torch import nn

from skautoenc import (
    AutoEncoder,
    AutoEncoderImputer,
    SparseAutoEncoder,
    VariationalAutoEncoder,
)

from ._networks import TinyDecoder, TinyEncoder, TinyGaussianEncoder, WindowConvEncoder
from .conftest import public_estimators

FAST = dict(max_iter=3, batch_size=32, random_state=0)
CONV = dict(FAST, n_components=4, encoder="conv", image_shape=(8, 8), conv_channels=(4, 8))


def user_modules(estimator_class):
    encoder = TinyGaussianEncoder if estimator_class is VariationalAutoEncoder else TinyEncoder
    return dict(FAST, n_components=3, encoder=encoder, decoder=TinyDecoder, encoder__width=12)


@pytest.fixture(scope="module")
def X(digits):
    return digits[0][:300]


@pytest.mark.parametrize("estimator_class", public_estimators())
@pytest.mark.parametrize("network", ["conv", "user"])
def test_every_estimator_trains_every_network(estimator_class, network, X):
    params = CONV if network == "conv" else user_modules(estimator_class)
    est = estimator_class(**params).fit(X)
    codes = est.transform(X)
    assert codes.shape == (len(X), params["n_components"])
    assert est.inverse_transform(codes).shape == X.shape
    assert np.isfinite(est.score_samples(X)).all()
    if estimator_class is SparseAutoEncoder:  # the penalty reads codes in (0, 1)
        assert codes.min() > 0 and codes.max() < 1
    if hasattr(est, "sample"):
        assert est.sample(3, random_state=0).shape == (3, X.shape[1])
    # the same seed gives bitwise the same model; another seed another one
    again = estimator_class(**params).fit(X)
    assert_array_equal(again.transform(X), codes)
    other = estimator_class(**{**params, "random_state": 1}).fit(X)
    assert not np.array_equal(other.transform(X), codes)


@pytest.mark.parametrize("network", ["conv", "user"])
def test_codes_of_a_row_do_not_depend_on_the_other_rows(network, X):
    params = CONV if network == "conv" else user_modules(AutoEncoder)
    est = AutoEncoder(**params).fit(X)
    many = np.vstack([X] * 3)  # more rows than one inference chunk
    codes = est.transform(many)
    assert_array_equal(codes[::-1], est.transform(many[::-1]))
    assert_array_equal(codes[5:6], est.transform(many[5:6]))


def test_conv_family_learns_digits_better_than_its_start(X):
    est = AutoEncoder(**{**CONV, "max_iter": 0}).fit(X)
    trained = AutoEncoder(**{**CONV, "max_iter": 20}).fit(X)
    assert trained.score(X) > est.score(X) * 0.5  # scores are negative errors


@pytest.mark.parametrize("network", ["conv", "user"])
def test_partial_fit_and_warm_start(network, X):
    params = CONV if network == "conv" else user_modules(AutoEncoder)
    est = AutoEncoder(**params)
    for chunk in np.array_split(X, 3):
        est.partial_fit(chunk)
    assert est.n_iter_ == 3
    warm = AutoEncoder(**{**params, "warm_start": True}).fit(X)
    warm.fit(X)
    assert warm.n_iter_ == 2 * FAST["max_iter"]


def test_routed_parameters_are_parameters(X):
    est = AutoEncoder(encoder=TinyEncoder, decoder=TinyDecoder, encoder__width=5,
                      decoder__width=7)
    params = est.get_params()
    assert params["encoder__width"] == 5 and params["decoder__width"] == 7
    copy = clone(est)
    assert copy.get_params()["encoder__width"] == 5
    est.set_params(encoder__width=9)
    assert est.get_params()["encoder__width"] == 9
    assert "encoder__width=9" in repr(est)
    search = GridSearchCV(
        AutoEncoder(**user_modules(AutoEncoder)), {"encoder__width": [4, 16]}, cv=2
    ).fit(X)
    assert search.best_params_["encoder__width"] in (4, 16)
    widths = [m.out_features for m in search.best_estimator_.net_.module_.encoder.modules()
              if isinstance(m, nn.Linear)]
    assert widths[0] == search.best_params_["encoder__width"]


def test_missing_values_and_inpainting(digits):
    X = digits[0][:300].copy()
    rng = np.random.default_rng(0)
    holes = X.copy()
    holes[rng.random(X.shape) < 0.2] = np.nan
    est = AutoEncoder(**CONV, missing_values=np.nan).fit(holes)
    assert np.isfinite(est.transform(holes)).all()
    imputer = AutoEncoderImputer(**{**CONV, "n_components": 8}).fit(holes)
    filled = imputer.transform(holes)
    assert not np.isnan(filled).any()
    observed = ~np.isnan(holes)
    assert_array_equal(filled[observed], holes[observed])


def test_imputer_keeps_an_image_whole_when_a_pixel_is_never_observed(digits):
    X = digits[0][:200].copy()
    X[:, 0] = np.nan  # never observed: the conv network still sees the whole image
    X[np.random.default_rng(1).random(X.shape) < 0.1] = np.nan
    imputer = AutoEncoderImputer(**{**CONV, "n_components": 8}).fit(X)
    assert imputer.transform(X).shape == (200, 63)
    kept = clone(imputer).set_params(keep_empty_features=True).fit(X)
    assert kept.transform(X).shape == (200, 64)


def test_window_encoder_of_the_user_guide():
    rng = np.random.default_rng(0)
    t = np.arange(4000)
    series = np.sin(2 * np.pi * t / (50 + 10 * np.sin(t / 3000))) + 0.1 * rng.normal(size=t.size)
    windows = np.lib.stride_tricks.sliding_window_view(series, 32)[::4]
    ae = AutoEncoder(n_components=4, encoder=WindowConvEncoder, decoder=TinyDecoder,
                     encoder__channels=8, decoder__width=32, max_iter=5,
                     random_state=0).fit(windows)
    scores = ae.score_samples(windows)
    odd = windows[:50].copy()
    odd[:, 10:20] = 3.0  # a window unlike the rest
    assert ae.score_samples(odd).mean() < scores.mean()


# ------------------------------------------------------------------ bad input
class NoSizeEncoder(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.width = width


class WrongShapeEncoder(TinyEncoder):
    def forward(self, X):
        return super().forward(X)[:, :1]


class Float64Encoder(TinyEncoder):
    def forward(self, X):
        return super().forward(X).double()


class FailingEncoder(TinyEncoder):
    def forward(self, X):
        return self.net(X.reshape(-1, 7))


@pytest.mark.parametrize(
    "params, error, message",
    [
        (dict(encoder="conv", image_shape=(8, 7)), ValueError, "holds 56 values"),
        (dict(encoder="conv", image_shape=(5, -1)), ValueError, "not a multiple of 5"),
        (dict(encoder="conv"), ValueError, "needs image_shape"),
        (dict(encoder="conv", image_shape=(8, 8), conv_channels=(2, 2, 2, 2)), ValueError,
         "too small"),
        (dict(encoder="conv", image_shape=(8, 8, 1, 1)), ValueError, "image_shape must be"),
        (dict(encoder=TinyEncoder), ValueError, "needs a decoder"),
        (dict(encoder=NoSizeEncoder, decoder=TinyDecoder), TypeError,
         "must take n_features and n_components"),
        (dict(encoder=TinyEncoder, decoder=TinyDecoder, encoder__depth=3), TypeError,
         "unexpected keyword argument 'depth'"),
        (dict(encoder=WrongShapeEncoder, decoder=TinyDecoder), ValueError,
         r"shape \(2, 1\).*asks for a float32 tensor of shape \(2, 3\)"),
        (dict(encoder=Float64Encoder, decoder=TinyDecoder), ValueError, "torch.float64"),
        (dict(encoder=FailingEncoder, decoder=TinyDecoder), ValueError,
         "failed on a batch of shape"),
        (dict(encoder=TinyEncoder(64, 3), decoder=TinyDecoder), TypeError,
         "the class, not an instance"),
        (dict(encoder="mlp", encoder__width=3), ValueError, "built-in"),
        (dict(encoder="conv", image_shape=(8, 8), pretraining="autoencoder"), ValueError,
         "no layer-wise scheme"),
        (dict(encoder=TinyEncoder, decoder=TinyDecoder, width=3), TypeError,
         "unexpected keyword arguments"),
    ],
)
def test_bad_networks_are_refused_before_training(params, error, message, X):
    est = AutoEncoder(**{**FAST, "n_components": 3, **params})
    with pytest.raises(error, match=message):
        est.fit(X)
    assert not hasattr(est, "net_")


def test_a_failed_fit_leaves_a_fitted_model_as_it_was(X):
    est = AutoEncoder(**CONV).fit(X)
    codes = est.transform(X)
    est.set_params(image_shape=(4, 4))
    with pytest.raises(ValueError, match="holds 16 values"):
        est.fit(X)
    assert_array_equal(est.transform(X), codes)
    assert est.image_shape == (4, 4)  # the parameter is the user's; the model is kept


# ------------------------------------------------------------------ persistence
@pytest.mark.parametrize("network", ["conv", "user"])
def test_pickle_and_skops_round_trips(network, X):
    params = CONV if network == "conv" else user_modules(AutoEncoder)
    est = AutoEncoder(**params).fit(X)
    loaded = pickle.loads(pickle.dumps(est))
    assert_array_equal(loaded.transform(X), est.transform(X))
    assert_array_equal(loaded.score_samples(X), est.score_samples(X))
    sio = pytest.importorskip("skops.io")
    dumped = sio.dumps(est)
    untrusted = sio.get_untrusted_types(data=dumped)
    if network == "user":  # a user's class is trusted only when named
        assert "tests._networks.TinyEncoder" in untrusted
        with pytest.raises(Exception, match="[Uu]ntrusted"):
            sio.loads(dumped, trusted=[t for t in untrusted if "_networks" not in t])
    loaded = sio.loads(dumped, trusted=untrusted)
    assert_array_equal(loaded.transform(X), est.transform(X))


def test_loading_does_not_touch_torch_seed(X):
    est = AutoEncoder(**CONV).fit(X)
    dumped = pickle.dumps(est)
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    pickle.loads(dumped)
    assert torch.equal(torch.rand(3), expected)


# ------------------------------------------------ runtime: Ctrl+C, bfloat16, verbose
@pytest.mark.parametrize("network", ["conv", "user"])
def test_keyboard_interrupt_keeps_what_was_learnt(network, X, monkeypatch):
    from skautoenc._net import AutoEncoderNet

    params = CONV if network == "conv" else user_modules(AutoEncoder)
    calls = {"n": 0}
    original = AutoEncoderNet.train_step

    def train_step(self, batch, **fit_params):
        calls["n"] += 1
        if calls["n"] == 25:  # 300 rows in batches of 32: in the middle of epoch 3
            raise KeyboardInterrupt
        return original(self, batch, **fit_params)

    monkeypatch.setattr(AutoEncoderNet, "train_step", train_step)
    est = AutoEncoder(**{**params, "max_iter": 10, "early_stopping": False})
    with pytest.raises(KeyboardInterrupt, match="after 2 complete epochs"):
        est.fit(X)
    assert est.n_iter_ == 2 and np.isfinite(est.transform(X)).all()


@pytest.mark.parametrize("network", ["conv", "user"])
def test_mixed_precision_and_verbose(network, X, capsys):
    params = CONV if network == "conv" else user_modules(AutoEncoder)
    full = AutoEncoder(**params).fit(X)
    mixed = AutoEncoder(**params, mixed_precision=True, verbose=1).fit(X)
    assert not np.allclose(full.loss_curve_, mixed.loss_curve_)  # autocast was active
    np.testing.assert_allclose(full.loss_curve_, mixed.loss_curve_, rtol=0.1)
    assert mixed.transform(X).dtype == np.float64
    assert "epoch 3/3" in capsys.readouterr().out.replace("  ", " ").lower()


def test_the_user_guide_time_series_example_runs(monkeypatch):
    # the code of docs/user_guide/networks.rst, as written there, with its fits capped at
    # two epochs (as tests/test_examples.py caps the gallery's)
    import re
    from pathlib import Path

    from skautoenc._base import BaseAutoEncoder

    page = Path(__file__).resolve().parents[1] / "docs" / "user_guide" / "networks.rst"
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", page.read_text())
    code = next(block for block in blocks if "class WindowEncoder" in block)
    code = "\n".join(line[3:] for line in code.splitlines())
    epochs = BaseAutoEncoder._epochs
    monkeypatch.setattr(BaseAutoEncoder, "_epochs",
                        lambda self, *args, **kw: min(2, epochs(self, *args, **kw)))
    namespace = {}
    exec(code, namespace)
    ae, windows = namespace["ae"], namespace["windows"]
    assert namespace["anomaly_scores"].shape == (len(windows),)
    assert ae.get_params()["encoder__channels"] == 8
