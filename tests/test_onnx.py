"""ONNX export: whole pipelines with a skautoenc step, and the decoder as its own model.

Runs where the ``onnx`` extra (skl2onnx, onnxruntime) is installed; the ``tests`` extra
installs it, so CI runs these.
"""

import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skautoenc import AutoEncoder, VariationalAutoEncoder

from .conftest import public_estimators, tiny

skl2onnx = pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")
onnx_export = pytest.importorskip("skautoenc.onnx")

ESTIMATORS = public_estimators()
ATOL = 1e-5  # the bound for float32


def run(model, X):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


def small(estimator_class, **params):
    params = {"n_components": 6, "hidden_layer_sizes": (32,), "max_iter": 5, "n_jobs": 1,
              "random_state": 0, **params}
    return estimator_class(**params)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_pipeline_exports_with_equal_probabilities_and_labels(estimator_class, dtype, digits):
    X_train, X_test, y_train, _ = digits
    X_train, X_test = X_train * 16, X_test * 16  # raw pixels: the scaler is in the graph
    pipe = make_pipeline(
        MinMaxScaler(clip=True), small(estimator_class), LogisticRegression(max_iter=300)
    ).fit(X_train, y_train)
    model = skl2onnx.to_onnx(
        pipe, X_train[:1].astype(dtype), options={LogisticRegression: {"zipmap": False}}
    )
    labels, probabilities = run(model, X_test.astype(dtype))
    assert probabilities.dtype == dtype
    assert_allclose(probabilities, pipe.predict_proba(X_test), atol=ATOL)
    assert_array_equal(labels, pipe.predict(X_test))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_transform_exports_alone(estimator_class, dtype, digits):
    X_train, X_test, _, _ = digits
    est = small(estimator_class).fit(X_train)
    (codes,) = run(skl2onnx.to_onnx(est, X_train[:1].astype(dtype)), X_test.astype(dtype))
    assert codes.dtype == dtype
    assert codes.shape == (len(X_test), est.n_components)
    assert_allclose(codes, est.transform(X_test), atol=ATOL)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_missing_values_export_as_their_fill(estimator_class, digits):
    X_train, X_test, _, _ = digits
    rng = np.random.RandomState(0)
    X_train, X_test = X_train.copy(), X_test.astype(np.float32)
    X_train[rng.uniform(size=X_train.shape) < 0.3] = np.nan
    X_test[rng.uniform(size=X_test.shape) < 0.3] = np.nan
    est = small(estimator_class, missing_values=np.nan).fit(X_train)
    model = skl2onnx.to_onnx(est, X_test[:1])
    assert {"IsNaN", "Where"} <= {node.op_type for node in model.graph.node}
    (codes,) = run(model, X_test)
    assert_allclose(codes, est.transform(X_test), atol=ATOL)


def test_integer_input_is_cast_to_float32(digits):
    X_train, X_test, _, _ = digits
    raw_train, raw_test = (X_train * 16).astype(np.int64), (X_test * 16).astype(np.int64)
    est = small(AutoEncoder, loss="mse").fit(raw_train)
    (codes,) = run(skl2onnx.to_onnx(est, raw_train[:1]), raw_test)
    assert codes.dtype == np.float32
    assert_allclose(codes, est.transform(raw_test), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize(
    "params",
    [
        {"activation": "tanh"},
        {"activation": "logistic", "hidden_layer_sizes": (16, 8)},
        {"activation": "identity", "loss": "mse"},
        {"hidden_layer_sizes": ()},
        {"pretraining": "rbm", "activation": "logistic", "pretraining_max_iter": 2},
        {"pretraining": "autoencoder", "pretraining_max_iter": 2},
    ],
)
def test_every_network_shape_and_pretraining_exports(params, digits):
    X_train, X_test, _, _ = digits
    est = small(AutoEncoder, **params).fit(X_train)
    (codes,) = run(skl2onnx.to_onnx(est, X_train[:1].astype(np.float32)),
                   X_test.astype(np.float32))
    assert_allclose(codes, est.transform(X_test), atol=ATOL)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_feature_union_and_column_transformer_around_the_estimator(estimator_class, digits):
    X_train, X_test, y_train, _ = digits
    union = make_pipeline(
        FeatureUnion([("raw", "passthrough"), ("codes", small(estimator_class))]),
        LogisticRegression(max_iter=300),
    ).fit(X_train, y_train)
    columns = ColumnTransformer(
        [("left", small(estimator_class), list(range(32))),
         ("right", MinMaxScaler(), list(range(32, 64)))]
    ).fit(X_train)
    X1 = X_train[:1].astype(np.float32)
    options = {LogisticRegression: {"zipmap": False}}
    labels, probabilities = run(skl2onnx.to_onnx(union, X1, options=options),
                                X_test.astype(np.float32))
    assert_allclose(probabilities, union.predict_proba(X_test), atol=ATOL)
    assert_array_equal(labels, union.predict(X_test))
    (out,) = run(skl2onnx.to_onnx(columns, X1), X_test.astype(np.float32))
    assert_allclose(out, columns.transform(X_test), atol=ATOL)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_decoder_model_equals_inverse_transform(estimator_class, dtype, digits):
    X_train, X_test, _, _ = digits
    est = small(estimator_class).fit(X_train)
    codes = est.transform(X_test).astype(dtype)
    model = onnx_export.decoder_to_onnx(est, dtype=dtype)
    assert [i.name for i in model.graph.input] == ["codes"]
    assert [o.name for o in model.graph.output] == ["reconstruction"]
    (reconstruction,) = run(model, codes)
    assert reconstruction.dtype == dtype
    assert_allclose(reconstruction, est.inverse_transform(codes), atol=ATOL)


@pytest.mark.parametrize(
    "estimator_class, params",
    [(AutoEncoder, {"loss": "mse"}), (VariationalAutoEncoder, {"likelihood": "gaussian"})],
)
def test_decoder_model_with_a_linear_output(estimator_class, params, digits):
    X_train, X_test, _, _ = digits
    est = small(estimator_class, **params).fit(X_train)
    codes = est.transform(X_test).astype(np.float32)
    (reconstruction,) = run(onnx_export.decoder_to_onnx(est), codes)
    assert_allclose(reconstruction, est.inverse_transform(codes), atol=ATOL)
    assert (reconstruction < 0).any() or (reconstruction > 1).any()  # no sigmoid


def test_vae_samples_through_the_decoder_model(digits):
    vae = small(VariationalAutoEncoder).fit(digits[0])
    z = np.random.RandomState(0).standard_normal((50, vae.n_components)).astype(np.float32)
    (samples,) = run(onnx_export.decoder_to_onnx(vae), z)
    assert_allclose(samples, vae.inverse_transform(z), atol=ATOL)
    assert ((samples > 0) & (samples < 1)).all()  # Bernoulli means


def test_file_size_is_that_of_the_float32_weights(digits):
    est = small(AutoEncoder, n_components=16, hidden_layer_sizes=(256, 64)).fit(digits[0])
    module = est.net_.module_
    encoder_bytes = sum(4 * p.numel() for p in module.encoder.parameters())
    decoder_bytes = sum(4 * p.numel() for p in module.decoder.parameters())
    for dtype in (np.float32, np.float64):  # computation is float32 either way
        size = len(skl2onnx.to_onnx(est, digits[0][:1].astype(dtype)).SerializeToString())
        assert encoder_bytes <= size <= 1.1 * encoder_bytes
        size = len(onnx_export.decoder_to_onnx(est, dtype=dtype).SerializeToString())
        assert decoder_bytes <= size <= 1.1 * decoder_bytes


@pytest.mark.parametrize("network", ["conv", "user"])
def test_a_conv_or_user_network_exports_in_a_pipeline(network, digits):
    from ._networks import TinyDecoder, WindowConvEncoder

    X_train, X_test, y_train, _ = digits
    params = (dict(encoder="conv", image_shape=(8, 8)) if network == "conv"
              else dict(encoder=WindowConvEncoder, decoder=TinyDecoder, encoder__channels=3))
    pipe = make_pipeline(
        MinMaxScaler(clip=True),
        AutoEncoder(n_components=8, max_iter=5, random_state=0, **params),
        LogisticRegression(max_iter=500),
    ).fit(X_train * 16, y_train)
    X = (X_test * 16).astype(np.float32)
    model = skl2onnx.to_onnx(pipe, X[:1], options={LogisticRegression: {"zipmap": False}})
    labels, probabilities = run(model, X)
    assert_allclose(probabilities, pipe.predict_proba(X), atol=1e-4)
    assert (labels == pipe.predict(X)).mean() > 0.99  # ties at the boundary aside
    (reconstruction,) = run(onnx_export.decoder_to_onnx(pipe[1]),
                            pipe[1].transform(X / 16).astype(np.float32))
    assert_allclose(reconstruction, pipe[1].inverse_transform(pipe[1].transform(X / 16)),
                    atol=ATOL)


def test_clear_errors(digits):
    from ._networks import BranchingEncoder, TinyDecoder

    X_train = digits[0]
    with pytest.raises(NotFittedError):
        skl2onnx.to_onnx(tiny(AutoEncoder), X_train[:1])
    with pytest.raises(NotFittedError):
        onnx_export.decoder_to_onnx(tiny(AutoEncoder))
    est = tiny(AutoEncoder).fit(X_train)
    with pytest.raises(ValueError, match="fitted on 64"):
        skl2onnx.to_onnx(est, X_train[:1, :10].astype(np.float32))
    with pytest.raises(TypeError, match="takes a skautoenc estimator"):
        onnx_export.decoder_to_onnx(MinMaxScaler().fit(X_train))
    with pytest.raises(ValueError, match="dtype must be"):
        onnx_export.decoder_to_onnx(est, dtype=np.int64)
    # a user's encoder whose trace would freeze a branch on its input's values: refused
    # at export time, not exported as a wrong graph
    branching = tiny(AutoEncoder, encoder=BranchingEncoder, decoder=TinyDecoder).fit(X_train)
    with pytest.raises(TypeError, match="Cannot export the encoder of AutoEncoder"):
        skl2onnx.to_onnx(branching, X_train[:1].astype(np.float32))
    onnx_export.decoder_to_onnx(branching)  # its decoder traces well


def test_importing_skautoenc_does_not_import_skl2onnx():
    code = "import sys, skautoenc; print('skl2onnx' in sys.modules, 'onnx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]


# ------------------------------------------------------------------ the imputer
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"add_indicator": True, "keep_empty_features": True},
        {"missing_values": -1.0, "add_indicator": True},
    ],
)
def test_imputer_exports_with_equal_fills(params, dtype, digits):
    from skautoenc import AutoEncoderImputer

    X_train, X_test, y_train, _ = digits
    rng = np.random.RandomState(0)
    placeholder = params.get("missing_values", np.nan)
    X_train, X_test = X_train.copy(), X_test.copy()
    X_train[rng.uniform(size=X_train.shape) < 0.2] = placeholder
    X_test[rng.uniform(size=X_test.shape) < 0.3] = placeholder
    X_train[:, 0] = placeholder  # never observed: dropped, or kept as 0
    pipe = make_pipeline(
        small(AutoEncoderImputer, **params), LogisticRegression(max_iter=300)
    ).fit(X_train, y_train)
    imputer = pipe[0]
    # the digits' border pixels are constant: filled outside the network
    assert (imputer._valid_mask & ~imputer._network_mask).any()
    alone = skl2onnx.to_onnx(imputer, X_train[:1].astype(dtype))
    (filled,) = run(alone, X_test.astype(dtype))
    assert filled.dtype == dtype
    expected = imputer.transform(X_test.astype(dtype))
    assert filled.shape == expected.shape
    assert_allclose(filled, expected, atol=ATOL)
    # observed entries pass through exactly, also in float64
    missing = np.isnan(X_test) if np.isnan(placeholder) else X_test == placeholder
    valid = np.flatnonzero(imputer._valid_mask)
    columns = valid if params.get("keep_empty_features") else np.arange(len(valid))
    kept = ~missing[:, valid]
    assert_array_equal(filled[:, columns][kept], X_test[:, valid][kept].astype(dtype))
    whole = skl2onnx.to_onnx(
        pipe, X_train[:1].astype(dtype), options={LogisticRegression: {"zipmap": False}}
    )
    labels, probabilities = run(whole, X_test.astype(dtype))
    assert_allclose(probabilities, pipe.predict_proba(X_test), atol=ATOL)
    assert_array_equal(labels, pipe.predict(X_test))


def test_imputer_without_a_network_exports():
    from skautoenc import AutoEncoderImputer

    X = np.tile([[0.2, np.nan, 0.7]], (20, 1))  # nothing varies: no network
    imputer = AutoEncoderImputer(keep_empty_features=True, add_indicator=True).fit(X)
    assert imputer.autoencoder_ is None
    X_test = np.array([[np.nan, np.nan, 0.7], [0.2, 1.0, np.nan]], dtype=np.float32)
    (filled,) = run(skl2onnx.to_onnx(imputer, X_test[:1]), X_test)
    assert_array_equal(filled, imputer.transform(X_test))


# ------------------------------------------------------------------ the outlier detector
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("params", [
    dict(),  # relative errors: the default on data in [0, 1]
    dict(error="squared"),
    dict(error="standardized", n_estimators=2, contamination=0.1),
    dict(estimator=VariationalAutoEncoder(n_components=4, hidden_layer_sizes=(16,),
                                          max_iter=5)),
    dict(missing_values=np.nan),
])
def test_detector_exports_labels_and_decision_function(params, dtype, digits):
    from skautoenc import AutoEncoderOutlierDetector

    X_train, X_test = digits[0][:300], digits[1][:200].astype(dtype)
    estimator = params.pop("estimator", small(AutoEncoder, n_components=4))
    detector = AutoEncoderOutlierDetector(estimator, random_state=0, **params).fit(X_train)
    if "missing_values" in params:
        X_test = X_test.copy()
        X_test[np.random.RandomState(0).uniform(size=X_test.shape) < 0.2] = np.nan
    labels, scores = run(skl2onnx.to_onnx(detector, X_test[:1]), X_test)
    assert labels.shape == (len(X_test), 1) and labels.dtype == np.int64
    assert scores.shape == (len(X_test), 1) and scores.dtype == dtype
    expected = detector.decision_function(X_test)
    assert_allclose(scores[:, 0], expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    clear = np.abs(expected) > 1e-3 * np.abs(expected).max()  # not on the threshold
    assert_array_equal(labels[clear, 0], detector.predict(X_test)[clear])


def test_detector_exports_after_a_scaler(digits):
    from sklearn.preprocessing import StandardScaler

    from skautoenc import AutoEncoderOutlierDetector

    X_train, X_test = digits[0][:300], digits[1][:100].astype(np.float32)
    pipe = make_pipeline(StandardScaler(), AutoEncoderOutlierDetector(
        small(AutoEncoder, n_components=4), random_state=0)).fit(X_train)
    labels, scores = run(skl2onnx.to_onnx(pipe, X_test[:1]), X_test)
    assert_allclose(scores[:, 0], pipe.decision_function(X_test), rtol=1e-3, atol=1e-2)
    assert np.mean(labels[:, 0] == pipe.predict(X_test)) > 0.98
