"""The network contract: what an estimator asks of its torch modules, and how it builds them.

Every estimator's network is two torch modules, chosen by its ``encoder`` and
``decoder`` parameters:

- the **encoder** maps a float32 batch of rows ``(batch, n_features)`` to codes
  ``(batch, n_components)``; a :class:`VariationalAutoEncoder`'s encoder returns the
  pair ``(mean, log_var)`` of its Gaussian posterior instead, each of that shape;
- the **decoder** maps codes ``(batch, n_components)`` back to the output layer's
  pre-activations ``(batch, n_features)``: logits for a Bernoulli loss or likelihood,
  the values themselves for the squared loss or a Gaussian likelihood. A conditional
  VAE's decoder ``p(x | z, y)`` gets the encoded conditions after the code: it is built
  with ``n_components = n_components + n_conditions`` and sees codes of that width. Its
  encoder, conditioned on classes, gets them with the row (:func:`encoder_conditions`):
  as image channels where it takes images (built with ``image_shape`` of ``channels +
  n_conditions`` channels), appended to the row otherwise (``n_features + n_conditions``).

A string names a built-in family (:data:`~skautoenc._modules.FAMILIES`); a
``torch.nn.Module`` subclass is built as ``encoder(n_features=..., n_components=...,
**kwargs)`` and ``decoder(n_components=..., n_features=..., **kwargs)``, the keyword
arguments coming from the estimator's ``encoder__name`` and ``decoder__name``
parameters (:class:`RoutedParams`), plus ``image_shape`` where its ``__init__`` takes it.

What the estimator adds around them lives in one place, the wrapper
:class:`AutoEncoderModule` (and :class:`VariationalModule`): the fill of missing
values before the encoder, the code activation that the sparse penalty reads (a sigmoid
on the encoder's output), the output activation, and the Gaussian decoder's per-feature
variance. Nothing else in skautoenc reaches into a module's layers: training, inference,
persistence (module state plus the parameters it was built from) and the ONNX export
(``torch.onnx`` on :meth:`AutoEncoderModule.encode` and ``decode``) all go through these
methods.
"""

import inspect
import math
from numbers import Integral

import torch
from torch import nn

from ._losses import bernoulli_log_likelihood, gaussian_kl, gaussian_log_density
from ._modules import (
    ACTIVATIONS,
    FAMILIES,
    FillMissing,
    first_too_small_layer,
    image_channels_and_size,
    normal_design,
    reparameterise,
)

#: Floor on the log-variance of a Gaussian decoder: a variance of at least 1e-6 keeps the
#: likelihood of a constant feature finite.
MIN_OUTPUT_LOG_VAR = math.log(1e-6)

#: The prefixes of the parameters that go to a user's modules.
ROUTES = ("encoder", "decoder")


# ------------------------------------------------------------- routed parameters
class RoutedParams:
    """``encoder__name`` and ``decoder__name`` parameters, skorch's ``module__name``
    convention: stored as they are given, listed by ``get_params`` (so that ``clone``,
    ``GridSearchCV`` and the HTML repr see them), set by ``set_params``.

    A mixin before :class:`~sklearn.base.BaseEstimator`; the class's ``__init__`` takes
    ``**kwargs`` and passes them to :meth:`_store_routed`.
    """

    def _store_routed(self, kwargs):
        # __init__ only stores (scikit-learn's convention), in a private dict: a name
        # that is neither encoder__ nor decoder__ is refused by fit (_check_routed)
        routed = dict(getattr(self, "_routed_params", {}))
        unknown = dict(getattr(self, "_unknown_kwargs", {}))
        for name, value in kwargs.items():
            prefixed = name.startswith(tuple(f"{route}__" for route in ROUTES))
            (routed if prefixed else unknown)[name] = value
        self._routed_params = routed
        if unknown:
            self._unknown_kwargs = unknown

    def _check_routed(self):
        """Refuse the keyword arguments of ``__init__`` that go to no module."""
        unknown = getattr(self, "_unknown_kwargs", {})
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword arguments "
                f"{sorted(unknown)}. Arguments for a user's own torch module are written "
                "encoder__<name> or decoder__<name>."
            )

    def _routed(self, route):
        """The keyword arguments for the ``route`` (``"encoder"`` or ``"decoder"``) module."""
        prefix = f"{route}__"
        return {
            name[len(prefix):]: value
            for name, value in getattr(self, "_routed_params", {}).items()
            if name.startswith(prefix)
        }

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        for route in ROUTES:
            params.update({f"{route}__{k}": v for k, v in self._routed(route).items()})
        return params

    def set_params(self, **params):
        own = set(super().get_params(deep=False))  # the parameters of __init__
        routed = {k: v for k, v in params.items() if k.startswith(("encoder__", "decoder__"))}
        # as in __init__: what goes to no module is refused by fit (scikit-learn's
        # checks set every name of __init__'s signature, **kwargs's too)
        unknown = {k: v for k, v in params.items()
                   if k not in own and k not in routed and "__" not in k}
        self._store_routed({**routed, **unknown})
        return super().set_params(
            **{k: v for k, v in params.items() if k not in routed and k not in unknown}
        )


# ------------------------------------------------------------------ building
def check_image_shape(image_shape, n_features):
    """``image_shape`` as a tuple of ints checked against ``n_features``, its ``-1`` (one at
    most, as in ``numpy.reshape``) worked out; None stays None."""
    if image_shape is None:
        return None
    shape = tuple(image_shape)
    if len(shape) not in (2, 3) or not all(
        isinstance(s, Integral) and not isinstance(s, bool) and (s > 0 or s == -1)
        for s in shape
    ) or shape.count(-1) > 1:
        raise ValueError(
            "image_shape must be (height, width) or (channels, height, width), positive "
            f"integers (one of them may be -1, worked out from n_features); got "
            f"{image_shape!r}."
        )
    shape = tuple(int(s) for s in shape)
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape and n_features % known == 0:
        shape = tuple(n_features // known if s == -1 else s for s in shape)
    if -1 in shape:
        raise ValueError(
            f"image_shape={shape} cannot hold n_features={n_features} values per image: "
            f"{n_features} is not a multiple of {known}. Each row must be one image "
            "flattened in C order: check the shape, or leave image_shape=None for flat rows."
        )
    if math.prod(shape) != n_features:
        raise ValueError(
            f"image_shape={shape} holds {math.prod(shape)} values per image, but X has "
            f"n_features={n_features}. Each row must be one image flattened in C order: "
            "check the shape, or leave image_shape=None for flat rows."
        )
    return shape


def _builtin_kwargs(name, estimator, image_shape, variational, part):
    """The constructor arguments of built-in family ``name``, from the estimator's flat
    parameters."""
    if name == "mlp":
        kwargs = {"hidden_layer_sizes": estimator._hidden_layer_sizes(),
                  "activation": estimator.activation}
    else:
        channels = estimator._conv_channels()
        if image_shape is None:
            raise ValueError(
                f"{part}='conv' needs image_shape: the shape of the image each row holds, "
                "(height, width) or (channels, height, width); e.g. image_shape=(8, 8) "
                "for load_digits, (28, 28) for MNIST."
            )
        too_small = first_too_small_layer(image_shape, len(channels))
        if too_small is not None:
            _, height, width = image_channels_and_size(image_shape)
            raise ValueError(
                f"Images of {height}x{width} pixels (n_features={height * width}) are too "
                f"small for the conv network's {len(channels)} stride-2 layers "
                f"(conv_channels={tuple(channels)}): layer {too_small + 1} would get a "
                "single pixel, with nothing to convolve. Use fewer conv_channels, or "
                "encoder='mlp'."
            )
        kwargs = {"image_shape": image_shape, "channels": channels,
                  "activation": estimator.activation}
    if part == "encoder":
        kwargs["variational"] = variational
    return kwargs


def _construct(cls, part, args, kwargs):
    try:
        return cls(**args, **kwargs)
    except Exception as exc:
        given = ", ".join(f"{k}={v!r}" for k, v in {**args, **kwargs}.items())
        raise TypeError(
            f"Could not build the {part} {cls.__name__}({given}): {type(exc).__name__}: "
            f"{exc}. Its __init__ must take n_features and n_components as keyword "
            f"arguments, and the other arguments come from {part}__<name> parameters."
        ) from None


def build_parts(estimator, n_features, variational=False, n_conditions=0,
                condition_encoder=False):
    """The encoder and decoder modules of ``estimator`` for rows of ``n_features``.

    Reads the estimator's ``encoder``, ``decoder``, ``image_shape``, its built-in
    families' flat parameters and its ``encoder__``/``decoder__`` parameters; raises a
    ``TypeError`` or ``ValueError`` that names what was expected and what came. A
    conditional model's decoder gets its ``n_conditions`` conditions after the code: it is
    built for codes of ``n_components + n_conditions``; with ``condition_encoder``, its
    encoder gets them too, with the row, as :func:`encoder_conditions` says.
    """
    estimator._check_routed()
    n_components = estimator.n_components
    image_shape = check_image_shape(estimator.image_shape, n_features)
    layout = (encoder_conditions(estimator.encoder, image_shape)
              if condition_encoder and n_conditions else None)
    n_encoder_inputs, encoder_shape = n_features, image_shape
    if layout == "channels":
        channels, height, width = image_channels_and_size(image_shape)
        encoder_shape = (channels + n_conditions, height, width)
        n_encoder_inputs = math.prod(encoder_shape)
    elif layout == "columns":
        n_encoder_inputs = n_features + n_conditions
    encoder, decoder = estimator.encoder, estimator.decoder
    parts = {}
    for part, spec in (("encoder", encoder), ("decoder", decoder)):
        routed = estimator._routed(part)
        if spec is None:
            if part == "decoder" and isinstance(encoder, str):
                spec = encoder  # a built-in encoder's mirror image
            else:
                raise ValueError(
                    f"encoder={encoder.__name__} is a module of your own, so it needs a "
                    "decoder: pass decoder=YourDecoder, a torch.nn.Module subclass built "
                    "as decoder(n_components=..., n_features=..., **decoder__params), or "
                    "a built-in family (decoder='mlp')."
                )
        if isinstance(spec, str):
            if spec not in FAMILIES:
                raise ValueError(f"{part} must be one of {sorted(FAMILIES)} or a "
                                 f"torch.nn.Module subclass; got {spec!r}.")
            if routed:
                names = ", ".join(f"{part}__{k}" for k in routed)
                raise ValueError(
                    f"{names} configure a {part} module of your own, but {part}={spec!r} "
                    "is built-in: set its flat parameters (hidden_layer_sizes, "
                    "conv_channels, activation) instead."
                )
            cls = FAMILIES[spec][0 if part == "encoder" else 1]
            shape = encoder_shape if part == "encoder" else image_shape
            kwargs = _builtin_kwargs(spec, estimator, shape, variational, part)
        elif isinstance(spec, type) and issubclass(spec, nn.Module):
            cls, kwargs = spec, dict(routed)
            if image_shape is not None and "image_shape" not in kwargs and (
                "image_shape" in inspect.signature(spec.__init__).parameters
            ):
                kwargs["image_shape"] = encoder_shape if part == "encoder" else image_shape
        else:
            raise TypeError(
                f"{part} must be the name of a built-in network ({', '.join(map(repr, FAMILIES))}) "
                f"or a torch.nn.Module subclass (the class, not an instance); got {spec!r}."
            )
        args = ({"n_features": n_encoder_inputs, "n_components": n_components}
                if part == "encoder"
                else {"n_components": n_components + n_conditions, "n_features": n_features})
        parts[part] = _construct(cls, part, args, kwargs)
        if not isinstance(parts[part], nn.Module):
            raise TypeError(f"{part} {cls.__name__} built {type(parts[part]).__name__}, "
                            "not a torch.nn.Module.")
    return parts["encoder"], parts["decoder"]


def encoder_conditions(encoder, image_shape):
    """How a conditional encoder gets the conditions with a row: ``"channels"``, as one
    more image channel per condition (its value over the whole image), where the encoder
    takes images (``"conv"``, or a module of one's own built with ``image_shape``);
    ``"columns"``, appended to the row, otherwise."""
    takes_images = image_shape is not None and (
        encoder == "conv"
        or isinstance(encoder, type)
        and "image_shape" in inspect.signature(encoder.__init__).parameters
    )
    return "channels" if takes_images else "columns"


def encoder_width(n_features, n_conditions, layout, image_shape):
    """The width of a row as the encoder gets it, for the ``layout`` of the conditions."""
    if layout == "channels":
        _, height, width = image_channels_and_size(image_shape)
        return n_features + n_conditions * height * width
    return n_features + (n_conditions if layout == "columns" else 0)


def _describe(out):
    if torch.is_tensor(out):
        return f"a {out.dtype} tensor of shape {tuple(out.shape)}"
    if isinstance(out, tuple | list):
        return f"a {type(out).__name__} of {len(out)}: " + ", ".join(_describe(o) for o in out)
    return repr(type(out).__name__)


def check_parts(encoder, decoder, n_features, n_components, variational=False,
                n_conditions=0, n_encoder_inputs=None):
    """Run each module once on a batch of two rows of zeros and check what it returns.

    In evaluation mode and without autograd: nothing is learnt and no random number is
    drawn. Raises a ``ValueError`` naming the module, what was expected and what came.
    A conditional decoder takes codes with ``n_conditions`` conditions appended, and a
    conditional encoder rows of ``n_encoder_inputs`` (:func:`encoder_width`).
    """
    expected_codes = f"a float32 tensor of shape (2, {n_components})"
    if variational:
        expected_codes = f"a pair (mean, log_var) of {expected_codes[2:]}s"
    cases = (
        ("encoder", encoder, (2, n_encoder_inputs or n_features), expected_codes),
        ("decoder", decoder, (2, n_components + n_conditions),
         f"a float32 tensor of shape (2, {n_features})"),
    )
    for part, module, shape, expected in cases:
        training = module.training
        module.eval()
        try:
            with torch.no_grad():
                out = module(torch.zeros(shape))
        except Exception as exc:
            raise ValueError(
                f"The {part} {type(module).__name__} failed on a batch of shape {shape}, "
                f"the shape the contract gives it: {type(exc).__name__}: {exc}"
            ) from None
        finally:
            module.train(training)
        width = n_components if part == "encoder" else n_features
        pair = part == "encoder" and variational
        outputs = out if pair and isinstance(out, tuple | list) else (out,)
        ok = (len(outputs) == (2 if pair else 1)) and all(
            torch.is_tensor(o) and o.dtype == torch.float32 and tuple(o.shape) == (2, width)
            for o in outputs
        )
        if not ok:
            raise ValueError(
                f"The {part} {type(module).__name__} returned {_describe(out)} for a batch "
                f"of shape {shape}; the contract asks for {expected}."
            )


# ------------------------------------------------------------------ the wrappers
class _Wrapper(nn.Module):
    """What both wrappers hold: the user's or built-in ``encoder`` and ``decoder``, and,
    with ``fill_missing``, the :class:`~skautoenc._modules.FillMissing` layer before the
    encoder."""

    def __init__(self, encoder, decoder, n_features, fill_missing):
        super().__init__()
        self.fill = FillMissing(n_features) if fill_missing else None
        self.encoder = encoder
        self.decoder = decoder

    def set_fill_values(self, values):
        """Set the fill value of each feature's missing entries (``fill_missing``)."""
        self.fill.values.copy_(values)

    def _filled(self, X):
        return X if self.fill is None else self.fill(X)


class AutoEncoderModule(_Wrapper):
    """The estimator's network: a user's or a built-in encoder and decoder, and what the
    estimator adds around them.

    ``forward`` returns ``(codes, output)``: the codes (after ``code_activation``) and
    the decoder's pre-activations; :meth:`decode` applies ``output_activation``. With
    ``fill_missing``, a :class:`~skautoenc._modules.FillMissing` layer comes first, and
    with ``refills_missing`` a row with holes is encoded in two passes (:meth:`encode`).
    """

    def __init__(self, encoder, decoder, n_features, *, code_activation="identity",
                 output_activation="identity", fill_missing=False, refills_missing=False):
        super().__init__(encoder, decoder, n_features, fill_missing)
        self.code_activation = ACTIVATIONS[code_activation]()
        self.output_activation = ACTIVATIONS[output_activation]()
        self.refills_missing = bool(refills_missing)

    def _encode_once(self, X):
        return self.code_activation(self.encoder(self._filled(X)))

    def encode(self, X, always_refill=False):
        """The codes of ``X``.

        With ``refills_missing``, a row with missing (NaN) entries goes through the
        network twice: the first pass fills them with their features' fill values and
        reconstructs the row; the second encodes the row with its missing entries
        replaced by that reconstruction. The input then looks like a complete row, in
        training as in ``transform``, and a model trained on rows with holes
        reconstructs complete rows better (the user guide's "Missing values" has the
        measurements). No gradient flows through the first pass. ``always_refill``
        makes both passes whether or not a row has holes (the same codes: a complete
        row is left as it is), for a graph without data-dependent branches (ONNX).
        """
        if self.refills_missing:
            missing = torch.isnan(X)
            if always_refill or missing.any():
                with torch.no_grad():
                    guess = self.decode(self._encode_once(X))
                X = torch.where(missing, guess.to(X.dtype), X)
        return self._encode_once(X)

    def forward(self, X):
        codes = self.encode(X)
        return codes, self.decoder(codes)

    def decode(self, codes):
        """Map codes to input space (the decoder's mean output)."""
        return self.output_activation(self.decoder(codes))


class VariationalModule(_Wrapper):
    """The network of a variational autoencoder: the encoder gives the mean and the
    log-variance of ``q(z | x) = N(mean, diag exp(log_var))``, the decoder the logits of a
    Bernoulli ``p(x | z)`` or the mean of a Gaussian one, whose per-feature log-variance
    is this module's parameter ``output_log_var`` (floored at ``min_output_log_var``):
    a user's decoder gives means only.

    ``forward(X, eps=None)`` returns ``(mu, log_var, output)`` where ``output`` (of shape
    ``(n_eps, n_samples, n_features)``) is the decoder's output at ``z = mu + exp(log_var
    / 2) * eps``. Without ``eps``, training mode draws ``n_mc_samples`` fresh ``eps ~ N(0,
    I)`` per row from torch's global generator; evaluation mode uses the fixed draws
    ``score_eps`` (common random numbers, the same for every row; see
    :func:`~skautoenc._modules.normal_design`), so evaluation is deterministic and
    row-independent. With ``fill_missing`` a :class:`~skautoenc._modules.FillMissing`
    layer comes first and the likelihood counts observed features only.
    """

    #: The posterior is encoded in one pass; missing entries keep their fill values.
    refills_missing = False

    def __init__(self, encoder, decoder, n_features, n_components, *, likelihood="bernoulli",
                 n_mc_samples=1, n_score_samples=32, min_output_log_var=MIN_OUTPUT_LOG_VAR,
                 output_log_var_init=None, fill_missing=False):
        super().__init__(encoder, decoder, n_features, fill_missing)
        self.likelihood = likelihood
        self.n_mc_samples = n_mc_samples
        self.min_output_log_var = min_output_log_var
        if likelihood == "gaussian":
            init = torch.zeros(n_features)
            if output_log_var_init is not None:
                init += torch.as_tensor(output_log_var_init, dtype=torch.float32)
            self.output_log_var = nn.Parameter(init)
        self.register_buffer("score_eps", normal_design(n_score_samples, n_components))

    def encode(self, X, always_refill=False, conditions=None):
        """Mean and log-variance of ``q(z | x)`` (``conditions``: those of a conditional
        subclass's encoder)."""
        mean, log_var = self.encoder(self._filled(X))
        return mean, log_var

    def split(self, rows):
        """The data and the conditions of training ``rows``: a model of ``x`` alone has
        no conditions (None)."""
        return rows, None

    def decoder_input(self, z, conditions):
        """What the decoder gets for codes ``z``: the codes themselves (a conditional
        model appends its conditions)."""
        return z

    def forward(self, rows, eps=None):
        X, conditions = self.split(rows)
        mu, log_var = self.encode(X, conditions=conditions)
        if eps is None:
            if self.training:
                eps = torch.randn((self.n_mc_samples, *mu.shape), device=mu.device)
            else:
                eps = self.score_eps[:, None, :]
        z = reparameterise(mu, log_var, eps)
        return mu, log_var, self.decoder_output(z, conditions)

    def decoder_output(self, z, conditions=None):
        """The decoder's output for codes ``z`` with leading axes (draws, rows), given the
        rows' ``conditions`` (a conditional model's): the contract gives a decoder a batch
        of rows, so they are flattened into one and back."""
        z = self.decoder_input(z, conditions)
        output = self.decoder(z.reshape(-1, z.shape[-1]))
        return output.reshape(*z.shape[:-1], output.shape[-1])

    def decode(self, codes):
        """The mean of ``p(x | z)`` at ``z = codes`` (for a conditional model, codes with
        the conditions appended: see :class:`ConditionalVariationalModule`)."""
        return self.mean_of(self.decoder_output(codes))

    def mean_of(self, output):
        """The mean of ``p(x | z)`` from the decoder's ``output``."""
        return torch.sigmoid(output) if self.likelihood == "bernoulli" else output

    def decoder_log_var(self):
        """Per-feature log-variance of a Gaussian ``p(x | z)``."""
        return self.output_log_var.clamp(min=self.min_output_log_var)

    def log_likelihood(self, output, X):
        """``log p(x | z)`` from the decoder ``output``, summed over features; with
        ``fill_missing``, over the observed (not NaN) features of ``X`` only."""
        observed = ~torch.isnan(X) if self.fill is not None else None
        if observed is not None:
            X = torch.where(observed, X, 0.0)
        if self.likelihood == "bernoulli":
            return bernoulli_log_likelihood(output, X, observed)
        return gaussian_log_density(X, output, self.decoder_log_var(), observed)

    def elbo_terms(self, rows, mu, log_var, output):
        """The two terms of the negative ELBO of each row of ``rows``, from the outputs of
        :meth:`forward`: the Monte Carlo estimate of ``E_q[-log p(x | z)]`` (the mean over
        the draws of ``eps``) and ``KL(q(z | x) || p(z))``. Training, validation and
        ``score_samples`` all use these."""
        X, _ = self.split(rows)
        return -self.log_likelihood(output, X).mean(dim=0), gaussian_kl(mu, log_var)


class ConditionalVariationalModule(VariationalModule):
    """The network of a conditional VAE: a decoder ``p(x | z, c)`` that gets the
    ``n_conditions`` conditions ``c`` of a row appended to its code, and an encoder
    ``q(z | x, c)`` (with ``encoder_layout``) or ``q(z | x)`` (without).

    Training rows hold the conditions after the data: ``(batch, n_features +
    n_conditions)``. :meth:`decode` takes codes with the conditions appended, ``(batch,
    n_components + n_conditions)``. The conditions are one-hot class indicators, or
    numeric values, which the module standardises with its buffers ``condition_shift``
    and ``condition_scale`` (set from the training data) before the networks see them.

    The encoder gets the conditions after the row (``encoder_layout="columns"``) or as
    one more image channel each, of ``image_pixels`` pixels (``"channels"``). Without
    conditions, :meth:`encode` of a class-conditional encoder gives the mean of the
    mixture ``sum_k p(y_k | x) q(z | x, y_k)``, where ``p(y | x)`` is proportional to
    ``exp(log_class_prior + ELBO(x | y))``, each ELBO estimated with the first
    :attr:`CLASS_DRAWS` of the fixed draws ``score_eps``: the codes of ``transform``,
    which needs no labels.
    """

    #: Draws of ``score_eps`` behind the class weights of :meth:`encode` without labels.
    CLASS_DRAWS = 4

    def __init__(self, encoder, decoder, n_features, n_components, n_conditions, *,
                 encoder_layout=None, image_pixels=1, **kwargs):
        super().__init__(encoder, decoder, n_features, n_components, **kwargs)
        self.n_features = n_features
        self.n_components = n_components
        self.n_conditions = n_conditions
        self.encoder_layout = encoder_layout
        self.image_pixels = image_pixels
        self.register_buffer("condition_shift", torch.zeros(n_conditions))
        self.register_buffer("condition_scale", torch.ones(n_conditions))
        self.register_buffer("log_class_prior", torch.zeros(n_conditions))

    def set_class_prior(self, prior):
        """The class prior ``p(y)`` behind :meth:`encode` without labels."""
        with torch.no_grad():
            self.log_class_prior.copy_(torch.log(torch.as_tensor(prior, dtype=torch.float32)))

    def _standardised(self, conditions):
        return (conditions - self.condition_shift) / self.condition_scale

    def encode(self, X, always_refill=False, conditions=None):
        """Mean and log-variance of ``q(z | x, c)`` (``q(z | x)`` without
        ``encoder_layout``); without ``conditions``, the mixture's mean (and None)."""
        if self.encoder_layout is None:
            return super().encode(X)
        if conditions is None:
            return self._mixture_mean(X), None
        c = self._standardised(conditions).to(X.dtype)
        if self.encoder_layout == "channels":
            c = c.repeat_interleave(self.image_pixels, dim=1)
        mean, log_var = self.encoder(torch.cat([self._filled(X), c], dim=1))
        return mean, log_var

    def _mixture_mean(self, X):
        one_hot = torch.eye(self.n_conditions, dtype=X.dtype, device=X.device)
        eps = self.score_eps[: self.CLASS_DRAWS, None, :]
        means, scores = [], []
        for k in range(self.n_conditions):
            conditions = one_hot[k].expand(X.shape[0], self.n_conditions)
            mu, log_var = self.encode(X, conditions=conditions)
            output = self.decoder_output(reparameterise(mu, log_var, eps), conditions)
            scores.append(self.log_likelihood(output, X).mean(dim=0)
                          - gaussian_kl(mu, log_var))
            means.append(mu)
        weights = torch.softmax(torch.stack(scores) + self.log_class_prior[:, None], dim=0)
        return (weights[..., None] * torch.stack(means)).sum(dim=0)

    def set_condition_scaling(self, shift, scale):
        """Standardise numeric conditions as ``(c - shift) / scale``."""
        self.condition_shift.copy_(torch.as_tensor(shift, dtype=torch.float32))
        self.condition_scale.copy_(torch.as_tensor(scale, dtype=torch.float32))

    def split(self, rows):
        return rows[..., : self.n_features], rows[..., self.n_features :]

    def decoder_input(self, z, conditions):
        if conditions is None:  # codes that carry their conditions (decode)
            z, conditions = z[..., : self.n_components], z[..., self.n_components :]
        conditions = self._standardised(conditions)
        # the same conditions for every draw of a row's code
        conditions = conditions.expand(*z.shape[:-1], self.n_conditions)
        return torch.cat([z, conditions.to(z.dtype)], dim=-1)
