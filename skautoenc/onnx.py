"""Export fitted skautoenc estimators to ONNX, alone or inside scikit-learn pipelines.

``import skautoenc.onnx`` registers a converter for each skautoenc estimator (and for
:class:`AutoEncoderImputer`, whose graph fills the holes as its ``transform`` does) with
skl2onnx, so that :func:`skl2onnx.to_onnx` converts a fitted pipeline that holds one,
with the scikit-learn steps around it (scalers, ``FeatureUnion``, ``ColumnTransformer``,
classifiers), into one ONNX graph that onnxruntime serves without Python. Nothing else in
skautoenc imports skl2onnx: install it with the ``onnx`` extra
(``pip install "skautoenc[onnx]"``).

The converters go through the network contract, not through a network's layers: the
fitted network's ``encode`` (what :meth:`transform` runs; the VAE's posterior mean ``mu``)
and ``decode`` are exported with ``torch.onnx`` (its TorchScript tracer, which needs no
package beyond torch) and the traced operators are written into skl2onnx's graph, so the
built-in ``"mlp"`` and ``"conv"`` families and a user's own modules export alike. With
``missing_values=np.nan`` the graph fills NaN entries as the network does (``IsNaN`` and
``Where``, and the two-pass refill). Computation is float32, as in the estimator: a
float64 input is cast to float32 on the way in and the codes cast back to float64 on the
way out, as :meth:`transform` returns codes in the float dtype of its input. Integer input
is cast to float32.

A user's module exports where ``torch.onnx`` can trace it. One that it cannot (an
operator without an ONNX form), or whose trace would not compute what the module computes
(Python control flow on the values of a tensor, which a trace freezes), gives a
``TypeError`` at export time that says so, never a wrong graph: every exported part is run
by onnxruntime on probe rows and compared with torch before it is used.

:func:`decoder_to_onnx` returns the decoder (:meth:`inverse_transform`) as a model of its
own, to serve reconstructions, or samples of a :class:`VariationalAutoEncoder` from
standard normal codes.

What the graph leaves out: the estimator's input checks (NaN, infinity, the range
warning of a Bernoulli model). onnxruntime computes whatever it is given.

Examples
--------
>>> import numpy as np
>>> import onnxruntime as ort
>>> from skl2onnx import to_onnx
>>> from skautoenc import AutoEncoder
>>> import skautoenc.onnx  # registers the converters
>>> X = np.random.RandomState(0).uniform(size=(200, 12)).astype(np.float32)
>>> ae = AutoEncoder(n_components=3, hidden_layer_sizes=(8,), max_iter=5,
...                  random_state=0).fit(X)
>>> model = to_onnx(ae, X[:1])
>>> session = ort.InferenceSession(model.SerializeToString(),
...                                providers=["CPUExecutionProvider"])
>>> codes = session.run(None, {session.get_inputs()[0].name: X})[0]
>>> bool(np.allclose(codes, ae.transform(X), atol=1e-5))
True
"""

import copy
import io
import warnings

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from skl2onnx import get_latest_tested_opset_version, update_registered_converter
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int32TensorType,
        Int64TensorType,
    )
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(
        "skautoenc.onnx needs skl2onnx and onnx (and onnxruntime to run the models): "
        'pip install "skautoenc[onnx]"'
    ) from exc

from ._autoencoder import AutoEncoder
from ._denoising import DenoisingAutoEncoder
from ._imputer import AutoEncoderImputer
from ._outlier import AutoEncoderOutlierDetector
from ._sparse import SparseAutoEncoder
from ._validation import is_nan
from ._variational import VariationalAutoEncoder

__all__ = ["decoder_to_onnx", "register"]

ESTIMATORS = (AutoEncoder, DenoisingAutoEncoder, SparseAutoEncoder, VariationalAutoEncoder)

_INPUT_TYPES = (FloatTensorType, DoubleTensorType, Int64TensorType, Int32TensorType)

#: The newest opset that torch's TorchScript exporter writes; a graph asks for at most this.
_TORCH_MAX_OPSET = 18
#: Largest difference between onnxruntime's and torch's answers on the probe rows that
#: still counts as the same computation (float32 rounding, other kernels).
_PROBE_TOLERANCE = 1e-4


class _Part(torch.nn.Module):
    """One function of a fitted network as a module of its own, for ``torch.onnx``:
    ``"encode"`` (the codes :meth:`transform` returns), ``"decode"`` (the mean output of
    :meth:`inverse_transform`) or ``"reconstruct"`` (both, as the imputer fills)."""

    def __init__(self, network, what):
        super().__init__()
        self.network = network
        self.what = what

    def forward(self, X):
        if self.what == "decode":
            return self.network.decode(X)
        codes = self.network.encode(X, always_refill=True)
        if isinstance(codes, tuple):  # a variational posterior: its mean
            codes = codes[0]
        return codes if self.what == "encode" else self.network.decode(codes)


def _probe_rows(n_rows, n_inputs, missing):
    """Rows to compare onnxruntime with torch on: uniform in [0, 1], with NaN entries
    where the network takes missing values."""
    rng = np.random.RandomState(0)
    rows = rng.uniform(size=(n_rows, n_inputs)).astype(np.float32)
    if missing:
        rows[rng.uniform(size=rows.shape) < 0.2] = np.nan
    return rows


def _export(network, what, n_inputs, opset, description):
    """The ONNX graph of ``what`` of the fitted ``network`` for rows of ``n_inputs``.

    Traced with ``torch.onnx`` on a CPU copy of the network in evaluation mode; raises a
    ``TypeError`` that names ``description`` where it cannot be traced, or where the
    graph does not compute what the network computes on probe rows.
    """
    part = _Part(copy.deepcopy(network).cpu().eval(), what)
    buffer = io.BytesIO()
    missing = getattr(network, "fill", None) is not None and what != "decode"
    probe = _probe_rows(5, n_inputs, missing)
    with warnings.catch_warnings():
        # a trace that froze Python control flow on a tensor's values is refused
        warnings.simplefilter("error", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module="torch.onnx")
        try:
            with torch.no_grad():
                expected = part(torch.from_numpy(probe)).numpy()
                torch.onnx.export(
                    part, (torch.from_numpy(probe),), buffer, dynamo=False,
                    input_names=["input"], output_names=["output"],
                    dynamic_axes={"input": {0: "rows"}, "output": {0: "rows"}},
                    opset_version=min(opset, _TORCH_MAX_OPSET),
                )
        except Exception as exc:
            raise TypeError(
                f"Cannot export the {description} to ONNX: torch.onnx could not trace it "
                f"({type(exc).__name__}: {str(exc).strip().splitlines()[0]}). A network "
                "exports where torch.onnx can trace its encode and decode: torch operators "
                "with an ONNX form, and no Python branch on a tensor's values."
            ) from None
    model = onnx.load_from_string(buffer.getvalue())
    if any(attr.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
           for node in model.graph.node for attr in node.attribute):
        raise TypeError(f"Cannot export the {description} to ONNX: its graph has "
                        "control flow (subgraphs), which skautoenc.onnx does not embed.")
    _check_against_torch(model, probe, expected, description)
    return model.graph


def _check_against_torch(model, probe, expected, description):
    """Run ``model`` with onnxruntime on ``probe`` and compare with torch's ``expected``."""
    try:
        import onnxruntime as ort
    except ImportError:  # pragma: no cover - the onnx extra installs it
        return
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: probe})[0]
    scale = max(1.0, float(np.abs(expected).max()))
    if got.shape != expected.shape or not np.allclose(
        got, expected, atol=_PROBE_TOLERANCE * scale, rtol=_PROBE_TOLERANCE
    ):
        raise TypeError(
            f"Cannot export the {description} to ONNX: the traced graph does not compute "
            "what the network computes (onnxruntime and torch differ on probe rows), as "
            "when a trace freezes a branch that depends on the data."
        )


def _embed(graph, source, target, new_name, add_tensor, add_node):
    """Write the operators of an exported ``graph`` from tensor ``source`` to ``target``:
    every other tensor and node gets a fresh name, the weights become initializers."""
    names = {graph.input[0].name: source, graph.output[0].name: target}
    for init in graph.initializer:
        names[init.name] = new_name("weight")
        add_tensor(names[init.name], numpy_helper.to_array(init))
    for node in graph.node:
        for out in node.output:
            if out and out not in names:
                names[out] = new_name(out.split("/")[-1].split(".")[-1] or "t")
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        inputs = [names.get(i, i) if i else "" for i in node.input]
        while inputs and not inputs[-1]:
            # an optional input left out at the end (Clip's max): skl2onnx's
            # topological sort takes an empty name for a tensor nothing makes
            inputs.pop()
        add_node(node.op_type, inputs,
                 [names[o] if o else "" for o in node.output], new_name(node.op_type),
                 op_domain=node.domain, **attrs)


def _network_of(estimator):
    check_is_fitted(estimator)
    return estimator.net_.module_


# ------------------------------------------------------------------ skl2onnx converter
def _input_type(operator):
    """The type of the operator's input, which must be a float or integer tensor."""
    input_type = operator.inputs[0].type
    if not isinstance(input_type, _INPUT_TYPES):
        raise TypeError(
            f"{type(operator.raw_operator).__name__} exports for float32, float64 and "
            f"integer input, not {type(input_type).__name__}."
        )
    return input_type


def _shape_calculator(operator):
    """Codes of shape (N, n_components), float64 for float64 input, else float32."""
    if len(operator.inputs) != 1 or len(operator.outputs) != 1:
        raise RuntimeError(f"{operator.type} takes one input and gives one output.")
    estimator = operator.raw_operator
    input_type = _input_type(operator)
    shape = input_type.shape
    n_features = getattr(estimator, "n_features_in_", None)
    if len(shape) != 2:
        raise ValueError(
            f"{type(estimator).__name__} takes 2D input (n_samples, n_features), "
            f"got a shape of {shape}."
        )
    if isinstance(shape[1], int) and n_features is not None and shape[1] != n_features:
        raise ValueError(
            f"The input of {type(estimator).__name__} has {shape[1]} features in the "
            f"ONNX graph, but the estimator was fitted on {n_features}."
        )
    out_type = DoubleTensorType if isinstance(input_type, DoubleTensorType) else FloatTensorType
    operator.outputs[0].type = out_type([shape[0], estimator.n_components])


def _writers(scope, operator, container):
    """What a converter writes its graph with, into skl2onnx's ``container``:
    ``new_name(hint)``, a fresh name; ``add_tensor(name, array)``, an initializer;
    ``add_array(array, hint, elem)``, an initializer of type ``elem`` under a fresh name,
    which it returns; ``add_node(op_type, inputs, outputs=None, name=None, **attrs)``, a
    node (fresh output and node names where not given), which returns its first output.
    """

    def new_name(hint):
        return scope.get_unique_variable_name(f"{operator.full_name}_{hint}")

    def add_tensor(name, array):
        tensor = numpy_helper.from_array(np.ascontiguousarray(array), name)
        container.add_initializer(name, tensor.data_type, list(array.shape), tensor)

    def add_array(array, hint, elem=TensorProto.FLOAT):
        name = new_name(hint)
        container.add_initializer(name, elem, list(array.shape), array.ravel().tolist())
        return name

    def add_node(op_type, inputs, outputs=None, name=None, op_domain="", **attrs):
        outputs = outputs or [new_name(op_type.lower())]
        container.add_node(op_type, inputs, outputs, name=name or new_name(op_type),
                           op_domain=op_domain, **attrs)
        return outputs[0]

    return new_name, add_tensor, add_array, add_node


def _converter(scope, operator, container):
    """The encoder of the fitted estimator, as :meth:`transform` runs it, in float32."""
    estimator = operator.raw_operator
    source = operator.inputs[0].full_name
    target = operator.outputs[0].full_name
    input_type = operator.inputs[0].type
    new_name, add_tensor, _, add_node = _writers(scope, operator, container)

    if not isinstance(input_type, FloatTensorType):
        cast = new_name("input_float32")
        add_node("Cast", [source], [cast], new_name("Cast"), to=TensorProto.FLOAT)
        source = cast
    double = isinstance(input_type, DoubleTensorType)
    codes = new_name("codes_float32") if double else target
    graph = _export(_network_of(estimator), "encode", estimator.n_features_in_,
                    container.target_opset, f"encoder of {type(estimator).__name__}")
    _embed(graph, source, codes, new_name, add_tensor, add_node)
    if double:
        add_node("Cast", [codes], [target], new_name("Cast"), to=TensorProto.DOUBLE)


def register():
    """Register the skautoenc converters with skl2onnx.

    ``import skautoenc.onnx`` does this; call it again only if something replaced them.
    """
    for cls in ESTIMATORS:
        update_registered_converter(
            cls, f"Skautoenc{cls.__name__}", _shape_calculator, _converter
        )


    update_registered_converter(
        AutoEncoderImputer, "SkautoencAutoEncoderImputer", _imputer_shape_calculator,
        _imputer_converter,
    )
    update_registered_converter(
        AutoEncoderOutlierDetector, "SkautoencAutoEncoderOutlierDetector",
        _detector_shape_calculator, _detector_converter,
    )


# ------------------------------------------------------------------ the imputer
def _imputer_shape_calculator(operator):
    """Imputed data of shape (N, n_features_out): float64 for float64 input, else float32."""
    imputer = operator.raw_operator
    input_type = _input_type(operator)
    check_is_fitted(imputer)
    n_out = len(imputer.get_feature_names_out())
    out_type = DoubleTensorType if isinstance(input_type, DoubleTensorType) else FloatTensorType
    operator.outputs[0].type = out_type([input_type.shape[0], n_out])


def _imputer_converter(scope, operator, container):
    """:meth:`AutoEncoderImputer.transform`: the fills computed in float32 as the network
    computes them, the observed entries passed on in the input's type."""
    imputer = operator.raw_operator
    source = operator.inputs[0].full_name
    target = operator.outputs[0].full_name
    input_type = operator.inputs[0].type
    double = isinstance(input_type, DoubleTensorType)
    new_name, add_tensor, add_array, add_node = _writers(scope, operator, container)

    # the data in the output's type: float64 stays float64, the rest becomes float32
    out_elem = TensorProto.DOUBLE if double else TensorProto.FLOAT
    data = source
    if not isinstance(input_type, FloatTensorType | DoubleTensorType):
        data = add_node("Cast", [source], to=TensorProto.FLOAT)
    float32 = add_node("Cast", [data], to=TensorProto.FLOAT) if double else data
    placeholder = imputer.missing_values
    if is_nan(placeholder):
        missing = add_node("IsNaN", [float32])
    else:
        value = add_array(np.array([placeholder], dtype=np.float32), "placeholder")
        missing = add_node("Equal", [float32, value])
    # the network's features, if any: scaled, NaN where missing
    network = imputer._network_mask
    columns, parts = [], []
    if network.any():
        modelled = add_array(np.flatnonzero(network).astype(np.int64), "modelled",
                             TensorProto.INT64)
        observed_data = add_node("Gather", [data, modelled], axis=1)
        missing_modelled = add_node("Gather", [missing, modelled], axis=1)
        nan = add_array(np.array([np.nan], dtype=np.float32), "nan")
        scaled = add_node("Where", [missing_modelled, nan,
                                    add_node("Gather", [float32, modelled], axis=1)])
        # stored once: they scale the input, and put the fills back in the data's units
        mean = add_array(imputer.mean_[network].astype(np.float32), "mean")
        scale = add_array(imputer.scale_[network].astype(np.float32), "scale")
        scaled = add_node("Div", [add_node("Sub", [scaled, mean]), scale])
        reconstruction = new_name("reconstruction")
        graph = _export(_network_of(imputer.autoencoder_), "reconstruct",
                        int(network.sum()), container.target_opset,
                        "network of AutoEncoderImputer")
        _embed(graph, scaled, reconstruction, new_name, add_tensor, add_node)
        fill = add_node("Add", [add_node("Mul", [reconstruction, scale]), mean])
        if double:
            fill = add_node("Cast", [fill], to=TensorProto.DOUBLE)
        filled = add_node("Where", [missing_modelled, fill, observed_data])
        kept = imputer._valid_mask[network]
        if not kept.all():  # an image's network also sees the features never observed
            filled = add_node("Gather", [filled, add_array(
                np.flatnonzero(kept).astype(np.int64), "kept", TensorProto.INT64)], axis=1)
        columns.append(np.flatnonzero(network & imputer._valid_mask))
        parts.append(filled)
    constant = imputer._valid_mask & ~network
    if constant.any():
        # the features whose observed values at fit time were all equal: that value
        columns.append(np.flatnonzero(constant))
        where = add_array(columns[-1].astype(np.int64), "constant", TensorProto.INT64)
        value = add_array(imputer._constant_values[constant].astype(
            np.float64 if double else np.float32), "constant_values", out_elem)
        parts.append(add_node("Where", [add_node("Gather", [missing, where], axis=1), value,
                                        add_node("Gather", [data, where], axis=1)]))
    if imputer.keep_empty_features and not imputer._valid_mask.all():
        # the features never observed at fit time: 0
        columns.append(np.flatnonzero(~imputer._valid_mask))
        n_rows = add_node("Gather", [add_node("Shape", [float32]),
                                     add_array(np.zeros(1, dtype=np.int64), "first",
                                               TensorProto.INT64)], axis=0)
        n_empty = add_array(np.array([len(columns[-1])], dtype=np.int64), "n_empty",
                            TensorProto.INT64)
        parts.append(add_node("ConstantOfShape",
                              [add_node("Concat", [n_rows, n_empty], axis=0)],
                              value=helper.make_tensor("value", out_elem, [1], [0.0])))
    if len(parts) > 1:
        # back in the order of the features
        order = np.argsort(np.concatenate(columns)).astype(np.int64)
        parts = [add_node("Gather", [add_node("Concat", parts, axis=1),
                                     add_array(order, "order", TensorProto.INT64)], axis=1)]
    if imputer.add_indicator:
        features = add_array(imputer.indicator_.features_.astype(np.int64), "indicated",
                             TensorProto.INT64)
        parts.append(add_node("Cast", [add_node("Gather", [missing, features], axis=1)],
                              to=out_elem))
    if len(parts) == 1:
        add_node("Identity", [parts[0]], [target])
    else:
        add_node("Concat", parts, [target], axis=1)


# ------------------------------------------------------------------ the outlier detector
def _detector_shape_calculator(operator):
    """``label`` (int64, (N, 1)) and ``scores`` ((N, 1): float64 for float64 input, else
    float32), the outputs skl2onnx gives scikit-learn's detectors."""
    detector = operator.raw_operator
    input_type = _input_type(operator)
    check_is_fitted(detector)
    n_rows = input_type.shape[0]
    out_type = DoubleTensorType if isinstance(input_type, DoubleTensorType) else FloatTensorType
    operator.outputs[0].type = Int64TensorType([n_rows, 1])
    operator.outputs[1].type = out_type([n_rows, 1])


def _row_sum(add_node, values, axis, mask):
    """``values`` summed over each row; with ``mask`` (the observed entries, a zero, and
    ``n_features`` over their number), over the observed entries, scaled."""
    if mask is not None:
        values = add_node("Where", [mask[0], values, mask[1]])
    total = add_node("ReduceSum", [values, axis], keepdims=1)
    return total if mask is None else add_node("Mul", [total, mask[2]])


def _detector_converter(scope, operator, container):
    """:meth:`AutoEncoderOutlierDetector.predict` (``label``) and
    :meth:`~AutoEncoderOutlierDetector.decision_function` (``scores``), computed in
    float32: each network's reconstruction, the squared errors divided by
    ``error_scales_`` and summed over the observed entries (for relative errors, divided
    by the energy plus ``energy_floor_``), averaged over the networks, less
    ``offset_``."""
    detector = operator.raw_operator
    source = operator.inputs[0].full_name
    label, target = (output.full_name for output in operator.outputs)
    input_type = operator.inputs[0].type
    double = isinstance(input_type, DoubleTensorType)
    new_name, add_tensor, add_array, add_node = _writers(scope, operator, container)

    data = source
    if not isinstance(input_type, FloatTensorType):
        data = add_node("Cast", [source], to=TensorProto.FLOAT)
    n_features = detector.n_features_in_
    axis = add_array(np.array([1], dtype=np.int64), "features", TensorProto.INT64)
    scales = add_array(detector.error_scales_.astype(np.float32), "error_scales")
    mask = None
    if is_nan(detector.missing_values):
        # the sums over the observed entries, scaled by n_features over their number
        observed = add_node("Not", [add_node("IsNaN", [data])])
        n_observed = add_node("ReduceSum", [add_node("Cast", [observed], to=TensorProto.FLOAT),
                                            axis], keepdims=1)
        mask = (observed, add_array(np.zeros(1, dtype=np.float32), "zero"),
                add_node("Div", [add_array(np.array([n_features], dtype=np.float32),
                                           "n_features"), n_observed]))
    if detector.error_ == "relative":
        floor = add_array(np.array([detector.energy_floor_], dtype=np.float32), "floor")
        tiny = add_array(np.array([np.finfo(np.float32).tiny], dtype=np.float32), "tiny")
    total = None
    for i, estimator in enumerate(detector.estimators_):
        reconstruction = new_name(f"reconstruction{i}")
        graph = _export(_network_of(estimator), "reconstruct", n_features,
                        container.target_opset,
                        f"network {i} of AutoEncoderOutlierDetector")
        _embed(graph, data, reconstruction, new_name, add_tensor, add_node)
        difference = add_node("Sub", [reconstruction, data])
        error = _row_sum(add_node, add_node("Div", [
            add_node("Mul", [difference, difference]), scales]), axis, mask)
        if detector.error_ == "relative":
            # divided by the energy (the sum of the squares of the entries and of their
            # reconstructions) plus the floor
            energy = _row_sum(add_node, add_node("Add", [
                add_node("Mul", [data, data]),
                add_node("Mul", [reconstruction, reconstruction])]), axis, mask)
            error = add_node("Div", [error, add_node("Max", [
                add_node("Add", [energy, floor]), tiny])])
        total = error if total is None else add_node("Add", [total, error])
    mean = add_node("Div", [total, add_array(
        np.array([len(detector.estimators_)], dtype=np.float32), "n_estimators")])
    # -mean - offset_
    decision = add_node("Sub", [add_node("Neg", [mean]), add_array(
        np.array([detector.offset_], dtype=np.float32), "offset")])
    outlier = add_node("Less", [decision, add_array(np.zeros(1, dtype=np.float32), "zero")])
    add_node("Where", [outlier, add_array(np.array([-1], dtype=np.int64), "outlier",
                                          TensorProto.INT64),
                       add_array(np.array([1], dtype=np.int64), "inlier", TensorProto.INT64)],
             [label])
    if double:
        add_node("Cast", [decision], [target], to=TensorProto.DOUBLE)
    else:
        add_node("Identity", [decision], [target])


register()


# ------------------------------------------------------------------ decoder model
def decoder_to_onnx(estimator, dtype=np.float32, target_opset=None):
    """The decoder of a fitted estimator (its :meth:`inverse_transform`) as an ONNX model.

    The model has one input, ``codes``, of shape ``(N, n_components)``, and one output,
    ``reconstruction``, of shape ``(N, n_features_in_)``: the decoder's mean output
    (probabilities for a Bernoulli model). For a :class:`VariationalAutoEncoder`, codes
    drawn from a standard normal distribution give samples of the model, as
    :meth:`~VariationalAutoEncoder.sample` does. A conditional
    :class:`VariationalAutoEncoder` decodes given the conditions: its model has a
    second input, ``conditions``, of shape ``(N, n_conditions_)``: one-hot rows in the
    order of ``classes_`` (``numpy.eye(len(classes_))[k]`` for the ``k``-th class), or
    the numeric conditions as ``fit`` took them (the graph standardises them).

    Parameters
    ----------
    estimator : AutoEncoder, DenoisingAutoEncoder, SparseAutoEncoder or \
VariationalAutoEncoder
        A fitted estimator.
    dtype : {numpy.float32, numpy.float64}, default=numpy.float32
        The type of the input and output; computation is float32 in both cases, as in
        :meth:`inverse_transform`.
    target_opset : int, default=None
        The ONNX opset of the model; by default the latest that skl2onnx has tested.

    Returns
    -------
    model : onnx.ModelProto
        Serialise it with ``model.SerializeToString()`` and run it with onnxruntime.

    See Also
    --------
    skl2onnx.to_onnx : Converts the encoder (``transform``), alone or in a pipeline, once
        ``skautoenc.onnx`` is imported.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from skautoenc import AutoEncoder
    >>> from skautoenc.onnx import decoder_to_onnx
    >>> X = np.random.RandomState(0).uniform(size=(200, 12))
    >>> ae = AutoEncoder(n_components=3, hidden_layer_sizes=(8,), max_iter=5,
    ...                  random_state=0).fit(X)
    >>> session = ort.InferenceSession(decoder_to_onnx(ae).SerializeToString(),
    ...                                providers=["CPUExecutionProvider"])
    >>> codes = ae.transform(X).astype(np.float32)
    >>> reconstruction = session.run(None, {"codes": codes})[0]
    >>> bool(np.allclose(reconstruction, ae.inverse_transform(codes), atol=1e-5))
    True
    """
    if not isinstance(estimator, ESTIMATORS):
        raise TypeError(
            "decoder_to_onnx takes a skautoenc estimator (AutoEncoder, "
            "DenoisingAutoEncoder, SparseAutoEncoder or VariationalAutoEncoder), got "
            f"{type(estimator).__name__}."
        )
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be numpy.float32 or numpy.float64, got {dtype}.")
    opset = min(target_opset or get_latest_tested_opset_version(), _TORCH_MAX_OPSET)
    network = _network_of(estimator)
    # a conditional decoder takes the codes with the conditions appended
    n_conditions = (estimator.n_conditions_
                    if getattr(estimator, "conditions_", None) is not None else 0)
    decoder = _export(network, "decode", estimator.n_components + n_conditions, opset,
                      f"decoder of {type(estimator).__name__}")
    elem = TensorProto.DOUBLE if dtype == np.float64 else TensorProto.FLOAT
    nodes, initializers, counter = [], [], [0]

    def new_name(hint):
        counter[0] += 1
        return f"{hint}_{counter[0]}"

    def add_tensor(name, array):
        initializers.append(numpy_helper.from_array(array, name))

    def add_node(op_type, inputs, outputs, name, op_domain="", **attrs):
        nodes.append(helper.make_node(op_type, inputs, outputs, name=name, domain=op_domain,
                                      **attrs))

    inputs = {"codes": estimator.n_components}
    if n_conditions:
        inputs["conditions"] = n_conditions
    sources = list(inputs)
    target = "reconstruction"
    if elem == TensorProto.DOUBLE:
        for i, name in enumerate(inputs):
            add_node("Cast", [name], [f"{name}_float32"], f"Cast_{name}",
                     to=TensorProto.FLOAT)
            sources[i] = f"{name}_float32"
        target = "reconstruction_float32"
    if n_conditions:
        add_node("Concat", sources, ["decoder_input"], "Concat_conditions", axis=1)
        sources = ["decoder_input"]
    _embed(decoder, sources[0], target, new_name, add_tensor, add_node)
    if elem == TensorProto.DOUBLE:
        add_node("Cast", [target], ["reconstruction"], "Cast_out", to=TensorProto.DOUBLE)
    graph = helper.make_graph(
        nodes,
        f"{type(estimator).__name__}_decoder",
        [helper.make_tensor_value_info(name, elem, [None, width])
         for name, width in inputs.items()],
        [helper.make_tensor_value_info("reconstruction", elem,
                                       [None, estimator.n_features_in_])],
        initializer=initializers,
    )
    opset_ids = [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, opset_imports=opset_ids, producer_name="skautoenc")
    model.ir_version = helper.find_min_ir_version_for(opset_ids)
    onnx.checker.check_model(model)
    return model
