"""DenoisingAutoEncoder: the corruption it trains on, and that it removes noise."""

import numpy as np
import pytest
import torch
from scipy.stats import norm
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skautoenc import AutoEncoder, DenoisingAutoEncoder
from skautoenc._corruption import (
    Corruption,
    drawn,
    gaussian_noise,
    masking_noise,
    random_bits,
    row_levels,
    salt_and_pepper_noise,
)
from skautoenc._denoising import _DenoisingNet

# The fits here are short on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# ----------------------------------------------------------------- corruption statistics
N_ROWS, N_COLS = 4000, 50  # 200,000 entries: sampling error of a fraction ~ 1e-3


@pytest.fixture(scope="module")
def clean():
    """Data strictly inside (0, 1), so that every corrupted entry visibly changes."""
    return torch.rand(N_ROWS, N_COLS, generator=torch.Generator().manual_seed(0)) * 0.8 + 0.1


@pytest.fixture
def seeded():
    with torch.random.fork_rng():
        torch.manual_seed(1)
        yield


def test_gaussian_noise_statistics(clean, seeded):
    noisy = gaussian_noise(clean, 0.3)
    diff = (noisy - clean).double()
    assert abs(diff.mean().item()) < 0.003  # N(0, 0.3^2): standard error 0.3 / sqrt(2e5)
    assert diff.std().item() == pytest.approx(0.3, rel=0.01)
    assert (noisy != clean).double().mean().item() == 1.0
    assert clean.min() > 0  # the input is left alone


@pytest.mark.parametrize("x", [0.0, 0.1, 0.5, 0.95, 1.0])
def test_clipped_gaussian_noise_statistics(x, seeded):
    sigma = 0.3
    X = torch.full((N_ROWS, N_COLS), x)
    noisy = gaussian_noise(X, sigma, torch.tensor(0.0), torch.tensor(1.0))
    assert noisy.min() >= 0 and noisy.max() <= 1
    # The documented mean of x + N(0, sigma^2) clipped to [0, 1].
    a, b = -x / sigma, (1 - x) / sigma
    expected = x * (norm.cdf(b) - norm.cdf(a)) + sigma * (norm.pdf(a) - norm.pdf(b))
    expected += 1 - norm.cdf(b)
    assert noisy.double().mean().item() == pytest.approx(expected, abs=0.003)


def test_random_bits_are_uniform_in_every_position(clean, seeded):
    # four int16 entries share one int64 draw: each of their 16 bits is a fair coin
    # (torch's random_() without a lower bound leaves an int64's sign bit 0, which
    # would make every fourth entry non-negative)
    bits = random_bits(clean)
    assert bits.shape == clean.shape and bits.dtype == torch.int16
    lanes = bits.reshape(-1, 4).to(torch.int32) & 0xFFFF
    for position in range(16):
        ones = ((lanes >> position) & 1).double().mean(dim=0)
        assert torch.all((ones - 0.5).abs() < 0.01), (position, ones)
    assert not torch.equal(random_bits(clean), bits)


@pytest.mark.parametrize("fraction", [0.0, 2**-16, 0.3, 0.5, 1 - 2**-16, 1.0])
def test_drawn_fractions_are_exact_to_sixteen_bits(clean, seeded, fraction):
    bits = random_bits(clean)
    mask = drawn(bits, fraction)
    assert mask.dtype == torch.bool and mask.shape == clean.shape
    share = mask.double().mean().item()
    if fraction in (0.0, 1.0):
        assert share == fraction
    else:
        assert share == pytest.approx(fraction, abs=0.004)
    # every entry below the threshold, exactly: the mask is a function of the bits
    threshold = round(fraction * 65536) - 32768
    assert torch.equal(mask, bits.to(torch.int32) < threshold)


def test_masking_noise_statistics(clean, seeded):
    p = 0.3
    noisy = masking_noise(clean, p)
    changed = noisy != clean
    assert changed.double().mean().item() == pytest.approx(p, abs=0.005)
    assert torch.all(noisy[changed] == 0)
    assert noisy.double().mean().item() == pytest.approx(
        (1 - p) * clean.double().mean().item(), rel=0.01
    )


@pytest.mark.parametrize("per_feature", [False, True])
def test_salt_and_pepper_noise_statistics(clean, seeded, per_feature):
    p = 0.3
    if per_feature:  # per-feature low and high values, as for data outside [0, 1]
        step = torch.arange(N_COLS) / N_COLS
        low, high = -1 - step, 2 + step
    else:
        low, high = torch.tensor(0.0), torch.tensor(1.0)
    noisy = salt_and_pepper_noise(clean, p, low, high)
    low, high = low.expand_as(clean), high.expand_as(clean)
    changed = noisy != clean
    pepper, salt = noisy == low, noisy == high
    assert torch.all(changed == (pepper | salt))
    assert changed.double().mean().item() == pytest.approx(p, abs=0.005)
    assert pepper.double().mean().item() == pytest.approx(p / 2, abs=0.004)
    assert salt.double().mean().item() == pytest.approx(p / 2, abs=0.004)
    expected = (1 - p) * clean.double() + p * (low.double() + high.double()) / 2
    assert noisy.double().mean().item() == pytest.approx(expected.mean().item(), abs=0.01)


@pytest.mark.parametrize("fraction", [0.0, 2**-16, 0.3, 1.0])
def test_drawn_with_a_fraction_per_row_matches_the_scalar_threshold(clean, seeded, fraction):
    bits = random_bits(clean)
    per_row = torch.full((N_ROWS, 1), fraction)
    assert torch.equal(drawn(bits, per_row), drawn(bits, fraction))


def test_drawn_with_a_fraction_per_row_draws_each_row_at_its_own_fraction(clean, seeded):
    fractions = torch.tensor([0.0, 0.1, 0.5, 1.0]).repeat(N_ROWS // 4).reshape(-1, 1)
    mask = drawn(random_bits(clean), fractions)
    for fraction in (0.0, 0.1, 0.5, 1.0):
        rows = mask[fractions[:, 0] == fraction]
        share = rows.double().mean().item()
        assert share == pytest.approx(fraction, abs=0.01)
    assert not mask[fractions[:, 0] == 0].any() and mask[fractions[:, 0] == 1].all()


def test_row_levels_are_uniform_over_the_range(clean, seeded):
    levels = row_levels(clean, (0.1, 0.5))
    assert levels.shape == (N_ROWS, 1)
    assert levels.min() >= 0.1 and levels.max() <= 0.5
    assert levels.double().mean().item() == pytest.approx(0.3, abs=0.01)
    assert levels.double().std().item() == pytest.approx(0.4 / 12**0.5, rel=0.05)


@pytest.mark.parametrize("noise", ["gaussian", "masking", "salt_and_pepper", "missing"])
def test_a_noise_range_corrupts_each_row_at_its_own_level(clean, noise):
    corruption = Corruption(noise, (0.0, 0.6), np.zeros(N_COLS), np.ones(N_COLS))
    before = clean.clone()
    with torch.random.fork_rng():
        torch.manual_seed(3)
        noisy = corruption(clean)
        torch.manual_seed(3)
        levels = row_levels(clean, (0.0, 0.6))
    assert torch.equal(clean, before)  # the input is left alone
    diff = torch.nan_to_num(noisy - clean, nan=1.0)
    if noise == "gaussian":
        # each row's spread is its own level
        amount = diff.double().std(dim=1)
    else:
        amount = (diff != 0).double().mean(dim=1)
    # the amount of corruption of a row follows its drawn level: lightly and heavily
    # corrupted rows, 0.3 on average
    levels = levels[:, 0].double()
    for rows in (levels < 0.2, levels > 0.4):
        assert amount[rows].mean().item() == pytest.approx(
            levels[rows].mean().item(), abs=0.01
        )
    assert amount.mean().item() == pytest.approx(0.3, abs=0.01)
    assert np.corrcoef(amount.numpy(), levels.numpy())[0, 1] > 0.9


def test_a_range_of_equal_ends_is_that_fixed_level(clean):
    for noise in ("gaussian", "masking", "salt_and_pepper"):
        ranged = Corruption(noise, (0.3, 0.3), np.zeros(N_COLS), np.ones(N_COLS))
        fixed = Corruption(noise, 0.3, np.zeros(N_COLS), np.ones(N_COLS))
        with torch.random.fork_rng():
            torch.manual_seed(4)
            a = ranged(clean)
            torch.manual_seed(4)
            b = fixed(clean)
        assert torch.equal(a, b)
        assert torch.equal(Corruption(noise, (0.0, 0.0), 0, 1)(clean), clean)


def test_corruption_does_not_modify_its_input_and_zero_level_is_identity(clean):
    before = clean.clone()
    for noise in ("gaussian", "masking", "salt_and_pepper"):
        corruption = Corruption(noise, 0.5, np.zeros(N_COLS), np.ones(N_COLS), clip=True)
        assert not torch.equal(corruption(clean), clean)
        assert torch.equal(clean, before)
        assert torch.equal(Corruption(noise, 0.0, 0, 1)(clean), clean)


def test_noise_bounds_follow_the_data():
    rng = np.random.RandomState(0)
    X_unit = rng.uniform(0.2, 0.7, size=(30, 3))
    dae = DenoisingAutoEncoder(
        n_components=2, hidden_layer_sizes=(), noise="gaussian", max_iter=0
    ).fit(X_unit)
    np.testing.assert_array_equal(dae.noise_bounds_, [[0, 0, 0], [1, 1, 1]])
    assert dae.net_.corruption.clip

    X = rng.normal(size=(30, 3))
    dae.fit(X)
    np.testing.assert_allclose(dae.noise_bounds_, [X.min(axis=0), X.max(axis=0)])
    assert not dae.net_.corruption.clip  # clipping applies to data in [0, 1] only
    assert not dae.set_params(clip=False).fit(X_unit).net_.corruption.clip


def test_fraction_noise_level_above_one_is_rejected():
    X = np.random.RandomState(0).uniform(size=(20, 3))
    for noise in ("masking", "salt_and_pepper"):
        with pytest.raises(ValueError, match="must lie in \\[0, 1\\]"):
            DenoisingAutoEncoder(noise=noise, noise_level=1.5, max_iter=1).fit(X)
    # A standard deviation may exceed 1.
    DenoisingAutoEncoder(n_components=2, noise="gaussian", noise_level=1.5, max_iter=1).fit(X)


@pytest.mark.parametrize(
    "level, match",
    [
        ((0.6, 0.2), "0 <= low <= high"),
        ((-0.1, 0.2), "0 <= low <= high"),
        ((0.1, 0.2, 0.3), "a pair"),
        (("0", "0.6"), "a pair"),
        ((0.0, 1.2), "must lie in \\[0, 1\\]"),
    ],
)
def test_a_bad_noise_range_is_rejected_and_leaves_the_model_as_it_was(level, match):
    X = np.random.RandomState(0).uniform(size=(20, 3))
    dae = DenoisingAutoEncoder(n_components=2, max_iter=1, random_state=0).fit(X)
    codes = dae.transform(X)
    with pytest.raises(ValueError, match=match):
        dae.set_params(noise_level=level).fit(X)
    np.testing.assert_array_equal(dae.transform(X), codes)
    # a list is not a range: the parameter check names the types it takes
    with pytest.raises(ValueError, match="noise_level"):
        DenoisingAutoEncoder(noise_level=[0.0, 0.6], max_iter=1).fit(X)


def test_a_search_compares_a_fixed_level_with_a_range():
    from sklearn.model_selection import GridSearchCV

    X = np.random.RandomState(0).uniform(size=(60, 6))
    grid = {"noise_level": [0.3, (0.0, 0.6)]}
    search = GridSearchCV(
        DenoisingAutoEncoder(n_components=2, max_iter=2, random_state=0), grid, cv=2
    ).fit(X)
    assert list(search.cv_results_["param_noise_level"]) == [0.3, (0.0, 0.6)]
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_the_default_trains_each_row_at_a_level_drawn_from_zero_to_0_6():
    X = np.random.RandomState(0).uniform(size=(20, 3))
    dae = DenoisingAutoEncoder(n_components=2, max_iter=1, random_state=0).fit(X)
    assert dae.noise_level == (0.0, 0.6)
    assert dae.net_.corruption.noise_level == (0.0, 0.6)
    # a gaussian standard deviation range may exceed 1
    DenoisingAutoEncoder(n_components=2, noise="gaussian", noise_level=(0.5, 1.5),
                         max_iter=1).fit(X)


# ------------------------------------------------------------------- training mechanics
def test_training_input_is_corrupted_afresh_and_the_target_is_clean(monkeypatch):
    calls = []
    original = _DenoisingNet.get_loss

    def recording_get_loss(self, y_pred, y_true, X=None, training=False):
        calls.append((X.detach().clone(), y_true.detach().clone(), training))
        return original(self, y_pred, y_true, X=X, training=training)

    monkeypatch.setattr(_DenoisingNet, "get_loss", recording_get_loss)
    X = np.random.RandomState(0).uniform(0.2, 0.8, size=(40, 5)).astype(np.float32)
    DenoisingAutoEncoder(
        n_components=2,
        hidden_layer_sizes=(),
        noise="masking",
        noise_level=0.5,
        batch_size=40,
        max_iter=2,
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=5,
        random_state=0,
    ).fit(X)
    train = [(Xi, yi) for Xi, yi, training in calls if training]
    valid = [(Xi, yi) for Xi, yi, training in calls if not training]
    assert len(train) == 2 and len(valid) == 2  # one batch per epoch
    masks = []
    for Xi, yi in train:
        rows = {tuple(r) for r in X}
        assert all(tuple(r) in rows for r in yi.numpy())  # the target: clean rows
        masked = Xi == 0
        assert 0.3 < masked.double().mean().item() < 0.7
        assert torch.equal(Xi[~masked], yi[~masked])
        masks.append(masked[yi[:, 0].argsort()])  # in the order of the rows
    assert not torch.equal(masks[0], masks[1])  # fresh noise in every epoch
    for Xi, yi in valid:
        assert torch.equal(Xi, yi)  # validation sees clean input


def test_zero_noise_trains_a_plain_autoencoder():
    X = np.random.RandomState(0).uniform(size=(50, 6))
    params = dict(n_components=3, hidden_layer_sizes=(5,), max_iter=3, random_state=0,
                  learning_rate_init=1e-3)  # the two defaults differ
    dae = DenoisingAutoEncoder(noise_level=0.0, **params).fit(X)
    ae = AutoEncoder(**params).fit(X)
    np.testing.assert_array_equal(dae.transform(X), ae.transform(X))


def test_warm_start_keeps_the_corruption_of_the_first_fit():
    X = np.random.RandomState(0).uniform(size=(50, 6))
    dae = DenoisingAutoEncoder(
        n_components=3, noise="masking", noise_level=0.2, loss="mse", max_iter=2, warm_start=True
    ).fit(X)
    corruption, bounds = dae.net_.corruption, dae.noise_bounds_
    dae.set_params(noise_level=0.6).fit(X * 2)  # data outside [0, 1] now
    assert dae.n_iter_ == 4
    assert dae.net_.corruption.noise_level == corruption.noise_level == 0.2
    np.testing.assert_array_equal(dae.noise_bounds_, bounds)


def test_inference_is_deterministic_and_sees_clean_input():
    X = np.random.RandomState(0).uniform(size=(50, 6))
    dae = DenoisingAutoEncoder(n_components=3, noise_level=0.5, max_iter=3, random_state=0)
    dae.fit(X)
    np.testing.assert_array_equal(dae.transform(X), dae.transform(X))
    reconstruction = dae.inverse_transform(dae.transform(X))
    np.testing.assert_allclose(
        dae.score_samples(X), -((reconstruction - X) ** 2).sum(axis=1), rtol=1e-5
    )


@pytest.mark.parametrize("noise", ["gaussian", "masking", "salt_and_pepper"])
def test_same_random_state_same_model(noise):
    X = np.random.RandomState(0).uniform(size=(60, 6))
    params = dict(n_components=3, hidden_layer_sizes=(5,), noise=noise, max_iter=3)
    a = DenoisingAutoEncoder(random_state=0, **params).fit(X).transform(X)
    b = DenoisingAutoEncoder(random_state=0, **params).fit(X).transform(X)
    c = DenoisingAutoEncoder(random_state=1, **params).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


# -------------------------------------------------------------- denoising on load_digits
NOISE_LEVEL = 0.3
MODEL = dict(
    n_components=32,
    hidden_layer_sizes=(128,),
    learning_rate_init=3e-3,
    batch_size=64,
    max_iter=30,
    random_state=0,
)


@pytest.fixture(scope="module")
def unit_digits():
    X = load_digits().data / 16.0
    return train_test_split(X, test_size=0.25, random_state=0)


@pytest.fixture(scope="module")
def plain_autoencoder(unit_digits):
    return AutoEncoder(**MODEL).fit(unit_digits[0])


def corrupt_test_images(X, noise, rng):
    if noise == "gaussian":
        return np.clip(X + rng.normal(scale=NOISE_LEVEL, size=X.shape), 0, 1)
    return X * (rng.uniform(size=X.shape) >= NOISE_LEVEL)


@pytest.mark.parametrize("noise", ["gaussian", "masking"])
def test_denoiser_removes_noise_from_held_out_digits(unit_digits, plain_autoencoder, noise):
    X_train, X_test = unit_digits
    X_noisy = corrupt_test_images(X_test, noise, np.random.default_rng(0))
    dae = DenoisingAutoEncoder(noise=noise, noise_level=NOISE_LEVEL, **MODEL).fit(X_train)

    def error(model):
        return np.mean((model.inverse_transform(model.transform(X_noisy)) - X_test) ** 2)

    noisy_error = np.mean((X_noisy - X_test) ** 2)
    assert error(dae) < noisy_error / 2
    assert error(dae) < error(plain_autoencoder)
