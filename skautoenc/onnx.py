"""Export fitted skautoenc estimators to ONNX, alone or inside scikit-learn pipelines.

``import skautoenc.onnx`` registers a converter for each skautoenc estimator (and for
:class:`AutoEncoderImputer`, whose graph fills the holes as its ``transform`` does) with
skl2onnx, so that :func:`skl2onnx.to_onnx` converts a fitted pipeline that holds one,
with the scikit-learn steps around it (scalers, ``FeatureUnion``, ``ColumnTransformer``,
classifiers), into one ONNX graph that onnxruntime serves without Python. Nothing else in
skautoenc imports skl2onnx: install it with the ``onnx`` extra
(``pip install "skautoenc[onnx]"``).

The converters write the encoder's operators directly from the fitted weights: one
``Gemm`` per linear layer and ``Relu``, ``Sigmoid`` or ``Tanh`` for its activation, as
:meth:`transform` runs them (the VAE's ``transform`` is the posterior mean ``mu``; with
``missing_values=np.nan``, ``IsNaN`` and ``Where`` come first and put each feature's
fill value in place of a NaN). That keeps the graph small (the weights as float32, once)
and readable, and needs no torch at export time beyond reading the weights. Computation
is float32, as in the estimator: a float64 input is cast to float32 on the way in and
the codes cast back to float64 on the way out, as :meth:`transform` returns codes in the
float dtype of its input. Integer input is cast to float32.

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

import numpy as np
from sklearn.utils.validation import check_is_fitted
from torch import nn

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
from ._modules import FillMissing
from ._sparse import SparseAutoEncoder
from ._validation import is_nan
from ._variational import VariationalAutoEncoder

__all__ = ["decoder_to_onnx", "register"]

ESTIMATORS = (AutoEncoder, DenoisingAutoEncoder, SparseAutoEncoder, VariationalAutoEncoder)

#: torch activation modules and the ONNX operator of each (identity writes no node)
_ACTIVATIONS = {nn.ReLU: "Relu", nn.Sigmoid: "Sigmoid", nn.Tanh: "Tanh", nn.Identity: None}

_INPUT_TYPES = (FloatTensorType, DoubleTensorType, Int64TensorType, Int32TensorType)


def _layers(estimator, part):
    """The torch layers of the fitted ``estimator``'s encoder or decoder, in order."""
    check_is_fitted(estimator)
    module = estimator.net_.module_
    return module.encoder_layers() if part == "encoder" else module.decoder_layers()


def _emit(layers, source, target, new_name, add_tensor, add_node, what, stored=None):
    """Write ``layers`` as ONNX nodes from the float32 tensor ``source`` to ``target``.

    ``new_name(hint)`` gives a fresh variable or node name, ``add_tensor(name, array)``
    stores a float32 initializer and ``add_node(op_type, inputs, outputs, name, **attrs)``
    adds a node. ``stored`` (a dict, filled as it goes) maps a layer to the names of its
    stored tensors, so that layers written twice store their weights once. Raises
    ``TypeError`` for a layer that has no ONNX form here.
    """
    stored = {} if stored is None else stored
    steps = []
    for layer in layers:
        if isinstance(layer, nn.Linear):
            steps.append(("Gemm", layer))
        elif isinstance(layer, FillMissing):
            steps.append(("FillMissing", layer))
        elif type(layer) in _ACTIVATIONS:
            if _ACTIVATIONS[type(layer)] is not None:
                steps.append((_ACTIVATIONS[type(layer)], layer))
        else:
            raise TypeError(
                f"Cannot export the {what}: its layer {layer!r} has no ONNX form in "
                "skautoenc.onnx, which writes linear layers and ReLU, sigmoid, tanh and "
                "identity activations."
            )
    current = source
    for k, (op_type, layer) in enumerate(steps):
        out = target if k == len(steps) - 1 else new_name(op_type.lower())
        if op_type == "Gemm":
            if layer not in stored:
                weight = layer.weight.detach().cpu().numpy().astype(np.float32)
                bias = (
                    np.zeros(layer.out_features, dtype=np.float32)
                    if layer.bias is None
                    else layer.bias.detach().cpu().numpy().astype(np.float32)
                )
                stored[layer] = new_name("weight"), new_name("bias")
                add_tensor(stored[layer][0], weight)
                add_tensor(stored[layer][1], bias)
            w_name, b_name = stored[layer]
            add_node("Gemm", [current, w_name, b_name], [out], new_name("Gemm"), transB=1)
        elif op_type == "FillMissing":  # missing_values=np.nan: NaN -> the fill value
            if layer not in stored:
                stored[layer] = new_name("fill_values")
                add_tensor(stored[layer],
                           layer.values.detach().cpu().numpy().astype(np.float32))
            values, missing = stored[layer], new_name("missing")
            add_node("IsNaN", [current], [missing], new_name("IsNaN"))
            add_node("Where", [missing, values, current], [out], new_name("Where"))
        else:
            add_node(op_type, [current], [out], new_name(op_type))
        current = out
    if not steps:  # no layer at all: the output is the input
        add_node("Identity", [source], [target], new_name("Identity"))


def _emit_encoding(module, source, target, new_name, add_tensor, add_node, what):
    """Write the codes of ``source`` as the module's ``encode`` computes them: the encoder,
    or, for a module that refills missing entries, encoder and decoder, the
    reconstruction in place of the NaN entries (``IsNaN``, ``Where``), and the encoder
    again, on the same stored weights. Returns the layers' stored names."""
    stored = {}
    if not module.refills_missing:
        _emit(module.encoder_layers(), source, target, new_name, add_tensor, add_node,
              what, stored)
        return stored
    first, guess = new_name("first_codes"), new_name("guess")
    missing, refilled = new_name("missing"), new_name("refilled")
    _emit(module.encoder_layers(), source, first, new_name, add_tensor, add_node, what,
          stored)
    _emit(module.decoder_layers(), first, guess, new_name, add_tensor, add_node, what,
          stored)
    add_node("IsNaN", [source], [missing], new_name("IsNaN"))
    add_node("Where", [missing, guess, source], [refilled], new_name("Where"))
    _emit(module.encoder_layers(), refilled, target, new_name, add_tensor, add_node, what,
          stored)
    return stored


# ------------------------------------------------------------------ skl2onnx converter
def _shape_calculator(operator):
    """Codes of shape (N, n_components), float64 for float64 input, else float32."""
    if len(operator.inputs) != 1 or len(operator.outputs) != 1:
        raise RuntimeError(f"{operator.type} takes one input and gives one output.")
    estimator = operator.raw_operator
    input_type = operator.inputs[0].type
    if not isinstance(input_type, _INPUT_TYPES):
        raise TypeError(
            f"{type(estimator).__name__} exports for float32, float64 and integer input, "
            f"not {type(input_type).__name__}."
        )
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
    ``new_name(hint)``, a fresh name; ``add_tensor(name, array)``, a float32 initializer;
    ``add_array(array, hint, elem)``, an initializer of type ``elem`` under a fresh name,
    which it returns; ``add_node(op_type, inputs, outputs=None, name=None, **attrs)``, a
    node (fresh output and node names where not given), which returns its first output.
    """

    def new_name(hint):
        return scope.get_unique_variable_name(f"{operator.full_name}_{hint}")

    def add_tensor(name, array):
        container.add_initializer(name, TensorProto.FLOAT, list(array.shape),
                                  numpy_helper.from_array(array, name))

    def add_array(array, hint, elem=TensorProto.FLOAT):
        name = new_name(hint)
        container.add_initializer(name, elem, list(array.shape), array.ravel().tolist())
        return name

    def add_node(op_type, inputs, outputs=None, name=None, **attrs):
        outputs = outputs or [new_name(op_type.lower())]
        container.add_node(op_type, inputs, outputs, name=name or new_name(op_type), **attrs)
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
    check_is_fitted(estimator)
    _emit_encoding(estimator.net_.module_, source, codes, new_name, add_tensor, add_node,
                   f"encoder of {type(estimator).__name__}")
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


# ------------------------------------------------------------------ the imputer
def _imputer_shape_calculator(operator):
    """Imputed data of shape (N, n_features_out): float64 for float64 input, else float32."""
    imputer = operator.raw_operator
    input_type = operator.inputs[0].type
    if not isinstance(input_type, _INPUT_TYPES):
        raise TypeError(
            "AutoEncoderImputer exports for float32, float64 and integer input, "
            f"not {type(input_type).__name__}."
        )
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
        module = imputer.autoencoder_.net_.module_
        codes, reconstruction = new_name("codes"), new_name("reconstruction")
        stored = _emit_encoding(module, scaled, codes, new_name, add_tensor, add_node,
                                "encoder of AutoEncoderImputer")
        _emit(module.decoder_layers(), codes, reconstruction, new_name, add_tensor, add_node,
              "decoder of AutoEncoderImputer", stored)
        fill = add_node("Add", [add_node("Mul", [reconstruction, scale]), mean])
        if double:
            fill = add_node("Cast", [fill], to=TensorProto.DOUBLE)
        columns.append(np.flatnonzero(network))
        parts.append(add_node("Where", [missing_modelled, fill, observed_data]))
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


register()


# ------------------------------------------------------------------ decoder model
def decoder_to_onnx(estimator, dtype=np.float32, target_opset=None):
    """The decoder of a fitted estimator (its :meth:`inverse_transform`) as an ONNX model.

    The model has one input, ``codes``, of shape ``(N, n_components)``, and one output,
    ``reconstruction``, of shape ``(N, n_features_in_)``: the decoder's mean output
    (probabilities for a Bernoulli model). For a :class:`VariationalAutoEncoder`, codes
    drawn from a standard normal distribution give samples of the model, as
    :meth:`~VariationalAutoEncoder.sample` does.

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
    layers = _layers(estimator, "decoder")
    elem = TensorProto.DOUBLE if dtype == np.float64 else TensorProto.FLOAT
    nodes, initializers, counter = [], [], [0]

    def new_name(hint):
        counter[0] += 1
        return f"{hint}_{counter[0]}"

    def add_tensor(name, array):
        initializers.append(numpy_helper.from_array(array, name))

    def add_node(op_type, inputs, outputs, name, **attrs):
        nodes.append(helper.make_node(op_type, inputs, outputs, name=name, **attrs))

    source, target = "codes", "reconstruction"
    if elem == TensorProto.DOUBLE:
        add_node("Cast", [source], ["codes_float32"], "Cast_in", to=TensorProto.FLOAT)
        source, target = "codes_float32", "reconstruction_float32"
    _emit(layers, source, target, new_name, add_tensor, add_node,
          f"decoder of {type(estimator).__name__}")
    if elem == TensorProto.DOUBLE:
        add_node("Cast", [target], ["reconstruction"], "Cast_out", to=TensorProto.DOUBLE)
    graph = helper.make_graph(
        nodes,
        f"{type(estimator).__name__}_decoder",
        [helper.make_tensor_value_info("codes", elem, [None, estimator.n_components])],
        [helper.make_tensor_value_info("reconstruction", elem,
                                       [None, estimator.n_features_in_])],
        initializer=initializers,
    )
    opset = target_opset or get_latest_tested_opset_version()
    opset_ids = [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, opset_imports=opset_ids, producer_name="skautoenc")
    model.ir_version = helper.find_min_ir_version_for(opset_ids)
    onnx.checker.check_model(model)
    return model
