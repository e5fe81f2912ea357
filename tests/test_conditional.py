"""The conditional VAE: p(x | y) learnt from labels or numeric conditions, and sampled
for the conditions asked for."""

import pickle
import warnings

import numpy as np
import pytest
import skops.io as sio
from scipy.special import logsumexp
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skautoenc import VariationalAutoEncoder

FAST = dict(n_components=4, hidden_layer_sizes=(64,), early_stopping=False, random_state=0)


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return train_test_split(data.data / 16.0, data.target, test_size=0.25, random_state=0,
                            stratify=data.target)


@pytest.fixture(scope="module")
def cvae(digits):
    X_train, _, y_train, _ = digits
    return VariationalAutoEncoder(conditional=True, max_iter=100, **FAST).fit(X_train, y_train)


def test_samples_are_of_the_class_asked_for(digits, cvae):
    # the fidelity measure, on the digits: a classifier of real images labels
    # the conditional samples as the class they were drawn for
    X_train, _, y_train, _ = digits
    classifier = LogisticRegression(max_iter=2000).fit(X_train, y_train)
    labels = np.repeat(cvae.classes_, 30)
    samples = cvae.sample(len(labels), y=labels, random_state=0)
    assert samples.shape == (300, 64)
    assert np.mean(classifier.predict(samples) == labels) >= 0.9
    # one label for all the draws
    sevens = cvae.sample(20, y=7, random_state=1)
    assert np.mean(classifier.predict(sevens) == 7) >= 0.9


def test_conditional_bound_is_above_the_marginal_one(digits, cvae):
    # log p(x | y) = log p(x) + log p(y | x) - log p(y): on digits whose class the image
    # tells, near log p(x) + log 10. The bound without y sums over the classes.
    _, X_test, _, y_test = digits
    conditional = cvae.score_samples(X_test, y_test)
    marginal = cvae.score_samples(X_test)
    gap = np.mean(conditional - marginal)
    assert 1.0 < gap < np.log(10) + 0.1
    # the marginal bound is the prior-weighted sum of the bounds given each class
    per_class = np.stack([cvae.score_samples(X_test[:5], np.full(5, k))
                          for k in cvae.classes_])
    expected = logsumexp(per_class + np.log(cvae.class_prior_)[:, None], axis=0)
    np.testing.assert_allclose(marginal[:5], expected, rtol=1e-5)
    assert cvae.score(X_test, y_test) == pytest.approx(conditional.mean())


def test_importance_sampled_bound_given_y(digits, cvae):
    _, X_test, _, y_test = digits
    elbo = cvae.score_samples(X_test[:50], y_test[:50])
    iwae = cvae.log_likelihood(X_test[:50], y_test[:50], n_importance_samples=200,
                               random_state=0)
    assert np.mean(iwae) >= np.mean(elbo)
    marginal = cvae.log_likelihood(X_test[:50], n_importance_samples=200, random_state=0)
    assert np.mean(marginal) < np.mean(iwae)


def test_fitted_attributes_follow_scikit_learn(digits, cvae):
    _, _, y_train, _ = digits
    assert cvae.conditions_ == "classes"
    np.testing.assert_array_equal(cvae.classes_, np.arange(10))
    assert cvae.n_conditions_ == 10
    np.testing.assert_array_equal(cvae.class_count_, np.bincount(y_train))
    np.testing.assert_allclose(cvae.class_prior_, np.bincount(y_train) / len(y_train))
    assert cvae.__sklearn_tags__().target_tags.required
    assert not VariationalAutoEncoder().__sklearn_tags__().target_tags.required


def test_transform_needs_no_labels(digits, cvae):
    # the encoder is q(z | x, y); without y, transform weighs the classes by the model's
    # own p(y | x): on digits whose class the image tells, the codes given the true class
    _, X_test, _, y_test = digits
    codes = cvae.transform(X_test)
    assert codes.shape == (len(X_test), 4)
    given = np.stack([cvae.transform(X_test, y=np.full(len(X_test), k))
                      for k in cvae.classes_])
    assert np.abs(given[1] - given[0]).max() > 0.1  # the encoder does see y
    # the codes without labels are nearest to those given the true class
    nearest = np.linalg.norm(given - codes, axis=2).argmin(axis=0)
    assert np.mean(nearest == y_test) > 0.85
    # and they are the mixture's mean: weights from the bounds given each class
    # (with the draws of the weights, 4 of the 32 of score_samples: close, not equal)
    bounds = np.stack([cvae.score_samples(X_test, np.full(len(X_test), k))
                       for k in cvae.classes_]) + np.log(cvae.class_prior_)[:, None]
    weights = np.exp(bounds - logsumexp(bounds, axis=0))
    mixture = (weights[..., None] * given).sum(axis=0)
    assert np.median(np.abs(mixture - codes)) < 0.05 * codes.std()
    decoded = cvae.inverse_transform(codes, y=y_test)
    assert decoded.shape == X_test.shape
    with pytest.raises(ValueError, match=r"inverse_transform\(codes, y\)"):
        cvae.inverse_transform(codes)


def test_the_encoder_takes_the_class_as_columns_or_as_image_channels(digits):
    X_train, _, y_train, _ = digits
    flat = VariationalAutoEncoder(conditional=True, max_iter=1, **FAST).fit(X_train, y_train)
    assert flat.net_.module_.encoder_layout == "columns"
    assert flat.net_.module_.encoder.layers[0].in_features == 64 + 10
    conv = VariationalAutoEncoder(conditional=True, encoder="conv", image_shape=(8, 8),
                                  conv_channels=(8,), max_iter=1, **FAST).fit(X_train, y_train)
    assert conv.net_.module_.encoder_layout == "channels"
    assert conv.net_.module_.encoder.image_shape == (11, 8, 8)  # 1 + 10 channels
    # numeric conditions cannot be summed over: their encoder sees x alone
    values = VariationalAutoEncoder(conditional="values", max_iter=1, **FAST).fit(
        X_train, y_train.astype(float))
    assert values.net_.module_.encoder_layout is None
    np.testing.assert_array_equal(values.transform(X_train[:5], y=np.zeros(5)),
                                  values.transform(X_train[:5]))


def test_string_labels(digits):
    X_train, _, y_train, _ = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                      "eight", "nine"])[y_train]
    model = VariationalAutoEncoder(conditional=True, max_iter=2, **FAST).fit(X_train, names)
    assert list(model.classes_) == sorted(set(names))
    assert model.sample(3, y="seven", random_state=0).shape == (3, 64)
    with pytest.raises(ValueError, match=r"labels \['7'\] that this model was not fitted"):
        model.sample(3, y=7)


def test_sample_without_y_draws_classes_from_the_prior(digits, cvae):
    X_train, _, y_train, _ = digits
    classifier = LogisticRegression(max_iter=2000).fit(X_train, y_train)
    samples = cvae.sample(500, random_state=0)
    shares = np.bincount(classifier.predict(samples), minlength=10) / 500
    assert np.all(shares > 0.04)  # every class, near its share of a tenth
    np.testing.assert_array_equal(samples, cvae.sample(500, random_state=0))


def test_numeric_conditions():
    # x moves along a direction with the condition t: samples for t = 1.5 and t = -1.5
    # sit on either side, and the decoder saw t standardised, whatever its units
    rng = np.random.RandomState(0)
    t = rng.uniform(-2, 2, size=600)
    direction = np.linspace(-1, 1, 10)
    X = np.outer(t, direction) + 0.1 * rng.standard_normal((600, 10))
    model = VariationalAutoEncoder(conditional=True, max_iter=60, likelihood="gaussian",
                                   **FAST).fit(X, t * 1000.0)
    assert model.conditions_ == "values" and model.n_conditions_ == 1
    assert not hasattr(model, "classes_")
    high = model.sample(200, y=1500.0, random_state=0).mean(axis=0)
    low = model.sample(200, y=-1500.0, random_state=0).mean(axis=0)
    np.testing.assert_allclose(high, 1.5 * direction, atol=0.3)
    np.testing.assert_allclose(low, -1.5 * direction, atol=0.3)
    with pytest.raises(ValueError, match="conditioned on numeric values"):
        model.score_samples(X)
    with pytest.raises(ValueError, match="conditioned on numeric values"):
        model.sample(3)
    # several conditions per sample; one row of them stands for all the draws
    two = VariationalAutoEncoder(conditional=True, max_iter=2, **FAST).fit(
        X, np.c_[t, t ** 2])
    assert two.n_conditions_ == 2
    assert two.sample(4, y=[1.0, 1.0], random_state=0).shape == (4, 10)
    with pytest.raises(ValueError, match="3 conditions per sample, but this model was fitted on 2"):
        two.sample(4, y=np.ones((4, 3)))


def test_without_the_option_y_is_ignored_and_sample_says_why(digits):
    X_train, _, y_train, _ = digits
    a = VariationalAutoEncoder(max_iter=2, **FAST).fit(X_train, y_train)
    b = VariationalAutoEncoder(max_iter=2, **FAST).fit(X_train)
    np.testing.assert_array_equal(a.transform(X_train), b.transform(X_train))
    assert a.score(X_train, y_train) == a.score(X_train)  # model selection passes y
    with pytest.raises(ValueError, match="fitted without conditions"):
        a.sample(5, y=3)
    with pytest.raises(ValueError, match="fitted without conditions"):
        a.score_samples(X_train, y_train)


def test_missing_y_is_a_clear_error_before_training(digits):
    X_train, _, _, _ = digits
    model = VariationalAutoEncoder(conditional=True, max_iter=2, **FAST)
    with pytest.raises(ValueError, match="requires y to be passed.*conditional=False"):
        model.fit(X_train)
    assert not hasattr(model, "net_")


@pytest.mark.parametrize(
    "conditional, y, match",
    [
        (True, "short", "labels, but there are"),
        (True, "multioutput", "conditional='values'"),
        ("values", "nan", "Input y contains NaN"),
        ("values", "short", "rows of conditions"),
        (True, "objects", "Unknown label type"),
    ],
)
def test_bad_conditions_are_refused(digits, conditional, y, match):
    X_train, _, y_train, _ = digits
    y = {
        "short": y_train[:-1],
        "multioutput": np.c_[y_train, y_train],
        "nan": np.where(y_train == 3, np.nan, y_train.astype(float)),
        "objects": np.array([{}] * len(y_train), dtype=object),
    }[y]
    if conditional == "values" and match == "rows of conditions":
        y = y.astype(float)
    model = VariationalAutoEncoder(conditional=conditional, max_iter=2, **FAST)
    with pytest.raises(ValueError, match=match):
        model.fit(X_train, y)
    assert not hasattr(model, "net_")


def test_partial_fit_with_classes_announced(digits):
    X_train, _, y_train, _ = digits
    model = VariationalAutoEncoder(conditional=True, **FAST)
    first = y_train < 5
    model.partial_fit(X_train[first], y_train[first], classes=np.arange(10))
    np.testing.assert_array_equal(model.classes_, np.arange(10))
    assert model.class_prior_[5:].sum() == 0
    model.partial_fit(X_train[~first], y_train[~first])
    np.testing.assert_array_equal(model.class_count_, np.bincount(y_train))
    assert model.sample(2, y=9, random_state=0).shape == (2, 64)
    # without the announcement, a label the first chunk lacked is refused, and the
    # model is left as it was
    streamed = VariationalAutoEncoder(conditional=True, **FAST)
    streamed.partial_fit(X_train[first], y_train[first])
    counts = streamed.class_count_.copy()
    with pytest.raises(ValueError, match=r"pass them all to the first partial_fit"):
        streamed.partial_fit(X_train[~first], y_train[~first])
    np.testing.assert_array_equal(streamed.class_count_, counts)


def test_a_new_fit_without_conditions_forgets_them(digits):
    X_train, _, y_train, _ = digits
    model = VariationalAutoEncoder(conditional=True, max_iter=2, **FAST).fit(X_train,
                                                                             y_train)
    model.set_params(warm_start=True)
    model.fit(X_train, y_train)  # continues, conditioned
    assert model.n_iter_ == 4 and model.conditions_ == "classes"
    model.set_params(warm_start=False, conditional=False)
    model.fit(X_train, y_train)
    assert not hasattr(model, "classes_") and not hasattr(model, "conditions_")
    assert model.sample(2, random_state=0).shape == (2, 64)


def test_persistence_keeps_the_conditions(digits, cvae, tmp_path):
    _, X_test, _, y_test = digits
    expected = cvae.sample(5, y=3, random_state=0)
    for loaded in (
        pickle.loads(pickle.dumps(cvae)),
        sio.loads(sio.dumps(cvae), trusted=sio.get_untrusted_types(data=sio.dumps(cvae))),
    ):
        np.testing.assert_array_equal(loaded.classes_, cvae.classes_)
        np.testing.assert_array_equal(loaded.sample(5, y=3, random_state=0), expected)
        np.testing.assert_array_equal(loaded.score_samples(X_test, y_test),
                                      cvae.score_samples(X_test, y_test))


def test_onnx_decoder_given_the_conditions(digits, cvae):
    ort = pytest.importorskip("onnxruntime")
    from skautoenc.onnx import decoder_to_onnx

    _, X_test, _, y_test = digits
    codes = cvae.transform(X_test)
    for dtype in (np.float32, np.float64):
        model = decoder_to_onnx(cvae, dtype=dtype)
        session = ort.InferenceSession(model.SerializeToString(),
                                       providers=["CPUExecutionProvider"])
        assert [i.name for i in session.get_inputs()] == ["codes", "conditions"]
        one_hot = np.eye(len(cvae.classes_), dtype=dtype)[np.searchsorted(cvae.classes_,
                                                                          y_test)]
        got = session.run(None, {"codes": codes.astype(dtype), "conditions": one_hot})[0]
        assert got.dtype == dtype
        np.testing.assert_allclose(got, cvae.inverse_transform(codes, y_test), atol=1e-5)


def test_onnx_encoder_sums_over_the_classes(digits, cvae):
    ort = pytest.importorskip("onnxruntime")
    skl2onnx = pytest.importorskip("skl2onnx")
    pytest.importorskip("skautoenc.onnx")

    _, X_test, _, _ = digits
    X = X_test.astype(np.float32)
    session = ort.InferenceSession(skl2onnx.to_onnx(cvae, X[:1]).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    (codes,) = session.run(None, {session.get_inputs()[0].name: X})
    np.testing.assert_allclose(codes, cvae.transform(X), atol=1e-4)


def test_onnx_decoder_of_numeric_conditions():
    ort = pytest.importorskip("onnxruntime")
    from skautoenc.onnx import decoder_to_onnx

    rng = np.random.RandomState(0)
    X, t = rng.uniform(size=(200, 6)), rng.uniform(10, 20, size=(200, 2))
    model = VariationalAutoEncoder(conditional="values", max_iter=2, **FAST).fit(X, t)
    session = ort.InferenceSession(decoder_to_onnx(model).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    codes = rng.standard_normal((7, 4)).astype(np.float32)
    got = session.run(None, {"codes": codes, "conditions": t[:7].astype(np.float32)})[0]
    np.testing.assert_allclose(got, model.inverse_transform(codes, t[:7]), atol=1e-5)


def test_in_a_pipeline_and_a_grid_search(digits):
    X_train, X_test, y_train, y_test = digits
    pipe = make_pipeline(MinMaxScaler(clip=True),
                         VariationalAutoEncoder(conditional=True, max_iter=3, **FAST))
    codes = pipe.fit(X_train, y_train).transform(X_test)  # y for fit, none for transform
    assert codes.shape == (len(X_test), 4)
    search = GridSearchCV(VariationalAutoEncoder(conditional=True, max_iter=3, **FAST),
                          {"n_components": [2, 4]}, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X_train, y_train)  # scored by the conditional bound, with y
    assert np.isfinite(search.best_score_)


def test_conv_decoder_gets_the_conditions(digits):
    X_train, _, y_train, _ = digits
    model = VariationalAutoEncoder(conditional=True, encoder="conv", image_shape=(8, 8),
                                   conv_channels=(8,), max_iter=2, **FAST)
    model.fit(X_train, y_train)
    assert model.sample(3, y=[1, 2, 3], random_state=0).shape == (3, 64)
