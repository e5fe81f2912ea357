"""Greedy layer-wise pretraining of hourglass autoencoders.

Two ways to initialise a deep autoencoder before backpropagation fine-tuning, one
layer at a time, each layer trained on the previous layer's hidden activations:

- ``"rbm"``: a stack of restricted Boltzmann machines trained by contrastive
  divergence and *unrolled* into the autoencoder (Hinton & Salakhutdinov, 2006):
  layer ``i`` of the encoder gets the weights ``W_i`` and hidden biases of the
  ``i``-th RBM, the mirrored decoder layer gets ``W_i`` transposed and its visible
  biases. Encoder and decoder weights are separate copies, free during fine-tuning.
- ``"autoencoder"``: a stack of one-hidden-layer autoencoders (Bengio et al., 2007);
  the encoders are stacked, and the decoders in reverse order.

The layer structure (sizes and unit types) is read from the built-in ``"mlp"`` family's
modules (:class:`~skautoenc._modules.MLPEncoder` and
:class:`~skautoenc._modules.MLPDecoder`, their ``layers``) inside the estimator's
:class:`~skautoenc._network.AutoEncoderModule`: pretraining is the one part of skautoenc
that knows a family's layout, and the estimators allow it for that family only.
All randomness (initial weights, shuffling, Gibbs sampling) comes from torch's
global generator, which the estimators seed inside a forked RNG.
"""

import math

import torch
from torch import nn

from ._losses import reconstruction_error
from ._modules import ACTIVATIONS, MLPDecoder, MLPEncoder
from ._runtime import adapt_threads

#: Momentum of the RBM weight updates: ``RBM_MOMENTUM[0]`` for the first
#: ``RBM_MOMENTUM_EPOCHS`` epochs, then ``RBM_MOMENTUM[1]`` (as in Hinton &
#: Salakhutdinov's code).
RBM_MOMENTUM = (0.5, 0.9)
RBM_MOMENTUM_EPOCHS = 5
#: L2 weight decay of the RBM weights (not the biases).
RBM_WEIGHT_DECAY = 2e-4
#: Standard deviation of the initial RBM weights.
RBM_INIT_STD = 0.1
#: Learning-rate factor for RBMs with a Gaussian (linear) layer: unbounded units
#: need smaller steps than logistic ones. (Hinton & Salakhutdinov use 0.001 against
#: 0.1 over 50 epochs of MNIST; a tenth trains faster in the few epochs that
#: ``pretraining_max_iter`` gives by default, and stays stable on standardised data.)
GAUSSIAN_LEARNING_RATE_FACTOR = 0.1
#: Rows per chunk when mapping a whole layer input (curves, next layer's input).
_CHUNK = 4096

_UNITS = {"logistic": "bernoulli", "identity": "gaussian"}


def _chunked(fn, X):
    with torch.no_grad():
        return torch.cat([fn(X[i : i + _CHUNK]) for i in range(0, len(X), _CHUNK)])


def _mean_squared_error(reconstruct, X):
    """Mean over samples of the squared error summed over features."""
    with torch.no_grad():
        total = sum(
            float(((reconstruct(X[i : i + _CHUNK]) - X[i : i + _CHUNK]) ** 2).sum())
            for i in range(0, len(X), _CHUNK)
        )
    return total / len(X)


class RBM:
    """A restricted Boltzmann machine trained by CD-k, on torch tensors.

    Parameters
    ----------
    n_visible, n_hidden : int
        Numbers of visible and hidden units.
    visible, hidden : {"bernoulli", "gaussian"}, default="bernoulli"
        Unit types. Bernoulli units have logistic means; Gaussian units are linear
        with unit variance (their input should be standardised).
    device : str or torch.device, default="cpu"

    Attributes
    ----------
    W : tensor of shape (n_visible, n_hidden)
    visible_bias : tensor of shape (n_visible,)
    hidden_bias : tensor of shape (n_hidden,)
    """

    def __init__(self, n_visible, n_hidden, visible="bernoulli", hidden="bernoulli", device="cpu"):
        self.visible = visible
        self.hidden = hidden
        self.W = RBM_INIT_STD * torch.randn(n_visible, n_hidden, device=device)
        self.visible_bias = torch.zeros(n_visible, device=device)
        self.hidden_bias = torch.zeros(n_hidden, device=device)

    @staticmethod
    def _mean(pre_activation, units):
        return torch.sigmoid(pre_activation) if units == "bernoulli" else pre_activation

    @staticmethod
    def _sample(mean, units):
        if units == "bernoulli":
            # Unlike torch.bernoulli, lets a diverged (NaN) mean through to the
            # epoch's error check instead of raising mid-epoch.
            return (torch.rand_like(mean) < mean).to(mean.dtype)
        return mean + torch.randn_like(mean)

    def hidden_mean(self, v):
        """``E[h | v]``: hidden probabilities (Bernoulli) or means (Gaussian)."""
        return self._mean(v @ self.W + self.hidden_bias, self.hidden)

    def visible_mean(self, h):
        """``E[v | h]``."""
        return self._mean(h @ self.W.T + self.visible_bias, self.visible)

    def reconstruct(self, v):
        """One-step mean-field reconstruction ``E[v | E[h | v]]``."""
        return self.visible_mean(self.hidden_mean(v))

    def reconstruction_error(self, X):
        """Mean over samples of ``sum_i (x_i - reconstruct(x)_i) ** 2``."""
        return _mean_squared_error(self.reconstruct, X)

    def fit(self, X, n_epochs, learning_rate, batch_size, k=1):
        """Train by CD-k with momentum and weight decay; return the error curve.

        Each update follows the batch-mean gradient estimate
        ``<v h>_data - <v h>_k`` where the negative statistics come from ``k``
        alternating Gibbs steps started at the data: hidden states are sampled,
        visible units take their means (as in Hinton & Salakhutdinov's code), and
        the last hidden units their means.

        Returns
        -------
        curve : list of float
            :meth:`reconstruction_error` on ``X`` after each epoch; training stops
            after an epoch whose error is not finite.
        """
        n_samples = len(X)
        inc_W = torch.zeros_like(self.W)
        inc_vb = torch.zeros_like(self.visible_bias)
        inc_hb = torch.zeros_like(self.hidden_bias)
        curve = []
        for epoch in range(n_epochs):
            momentum = RBM_MOMENTUM[0] if epoch < RBM_MOMENTUM_EPOCHS else RBM_MOMENTUM[1]
            order = torch.randperm(n_samples, device=X.device)
            for start in range(0, n_samples, batch_size):
                adapt_threads()
                v0 = X[order[start : start + batch_size]]
                h0 = self.hidden_mean(v0)
                h = h0
                for _ in range(k):
                    v = self.visible_mean(self._sample(h, self.hidden))
                    h = self.hidden_mean(v)
                n = len(v0)
                grad_W = (v0.T @ h0 - v.T @ h) / n - RBM_WEIGHT_DECAY * self.W
                inc_W.mul_(momentum).add_(grad_W, alpha=learning_rate)
                inc_vb.mul_(momentum).add_((v0 - v).mean(dim=0), alpha=learning_rate)
                inc_hb.mul_(momentum).add_((h0 - h).mean(dim=0), alpha=learning_rate)
                self.W += inc_W
                self.visible_bias += inc_vb
                self.hidden_bias += inc_hb
            curve.append(self.reconstruction_error(X))
            if not math.isfinite(curve[-1]):
                break
        return curve


def _activation_name(module):
    if module is None:
        return "identity"
    for name, cls in ACTIVATIONS.items():
        if type(module) is cls:
            return name
    raise TypeError(f"Pretraining does not know the activation module {module!r}.")


def mlp_layers(sequential):
    """``[(linear, activation_name), ...]`` of an MLP built by ``make_mlp``."""
    modules = list(sequential)
    layers = []
    for i, module in enumerate(modules):
        if isinstance(module, nn.Linear):
            after = modules[i + 1] if i + 1 < len(modules) else None
            if isinstance(after, nn.Linear):
                after = None
            layers.append((module, _activation_name(after)))
        elif i == 0 or not isinstance(modules[i - 1], nn.Linear):
            raise TypeError(
                "Pretraining expects Linear layers each followed by at most one "
                f"activation, got {sequential!r}."
            )
    return layers


def _stack(module):
    """The layer-wise view of an :class:`~skautoenc._network.AutoEncoderModule` whose
    encoder and decoder are the built-in ``"mlp"`` family.

    Returns a list of ``(encoder_linear, hidden_activation, decoder_linear,
    visible_activation)``, from the input towards the code: layer ``i`` of the
    stack maps its visible units (the input, or the previous layer's hidden units)
    to its hidden units through ``encoder_linear`` and back through
    ``decoder_linear``, the mirrored layer of the decoder. The code layer's activation
    is the module's ``code_activation``, the input's its ``output_activation``.
    """
    if not (isinstance(module.encoder, MLPEncoder) and isinstance(module.decoder, MLPDecoder)):
        raise TypeError(
            "Pretraining needs the built-in MLP encoder and decoder; got "
            f"{type(module.encoder).__name__} and {type(module.decoder).__name__}."
        )
    encoder = mlp_layers(module.encoder.layers)
    encoder[-1] = (encoder[-1][0], _activation_name(module.code_activation))
    decoder = mlp_layers(module.decoder.layers)[::-1]
    if len(encoder) != len(decoder):
        raise TypeError("Pretraining needs a decoder that mirrors the encoder.")
    visible = [_activation_name(module.output_activation)] + [act for _, act in decoder[1:]]
    stack = []
    for (enc, hidden_act), (dec, _), visible_act in zip(encoder, decoder, visible, strict=True):
        if enc.weight.shape != dec.weight.T.shape:
            raise TypeError("Pretraining needs a decoder that mirrors the encoder.")
        stack.append((enc, hidden_act, dec, visible_act))
    return stack


def _rbm_units(stack):
    """The RBM unit types of each layer of ``stack``; ValueError where there are none.

    The input may be Bernoulli (logistic output) or Gaussian (linear output), the
    code Bernoulli or Gaussian (linear); every hidden layer between them must be
    logistic, i.e. Bernoulli.
    """
    units = []
    for i, (_, hidden_act, _, visible_act) in enumerate(stack):
        layer = {}
        for role, act, free in (
            ("visible", visible_act, i == 0),
            ("hidden", hidden_act, i == len(stack) - 1),
        ):
            if act != "logistic" and not (free and act in _UNITS):
                raise ValueError(
                    "pretraining='rbm' needs activation='logistic': the hidden layers of "
                    f"an RBM stack are Bernoulli units, but this network's use {act!r}. "
                    "Use activation='logistic', or pretraining='autoencoder', which works "
                    "with any activation."
                )
            layer[role] = _UNITS[act]
        units.append(layer)
    return units


def _pretrain_rbm_layer(X, enc, dec, units, params):
    learning_rate = params["learning_rate"]
    if "gaussian" in units.values():
        learning_rate *= GAUSSIAN_LEARNING_RATE_FACTOR
    rbm = RBM(enc.in_features, enc.out_features, device=X.device, **units)
    curve = rbm.fit(X, params["n_epochs"], learning_rate, params["batch_size"], params["k"])
    with torch.no_grad():
        enc.weight.copy_(rbm.W.T)
        enc.bias.copy_(rbm.hidden_bias)
        dec.weight.copy_(rbm.W)
        dec.bias.copy_(rbm.visible_bias)
    return curve, _chunked(rbm.hidden_mean, X)


def _pretrain_autoencoder_layer(X, enc, hidden_act, dec, visible_act, params):
    encode_act = ACTIVATIONS[hidden_act]()
    decode_act = ACTIVATIONS[visible_act]()
    # The logistic/identity visible units are fitted on their pre-activation with the
    # Bernoulli cross-entropy / squared error; other activations by squared error.
    loss = {"logistic": "bce", "identity": "mse"}.get(visible_act)

    def encode(batch):
        return encode_act(enc(batch))

    def reconstruct(batch):
        return decode_act(dec(encode(batch)))

    parameters = [*enc.parameters(), *dec.parameters()]
    if params["solver"] == "adam":
        optimizer = torch.optim.Adam(parameters, lr=params["learning_rate"])
    else:
        optimizer = torch.optim.SGD(
            parameters, lr=params["learning_rate"], momentum=0.9, nesterov=True
        )
    n_samples = len(X)
    batch_size = params["batch_size"]
    curve = []
    for _ in range(params["n_epochs"]):
        order = torch.randperm(n_samples, device=X.device)
        for start in range(0, n_samples, batch_size):
            adapt_threads()
            batch = X[order[start : start + batch_size]]
            output = dec(encode(batch))
            if loss is None:
                error = reconstruction_error(decode_act(output), batch, "mse")
            else:
                error = reconstruction_error(output, batch, loss)
            optimizer.zero_grad()
            error.mean().backward()
            optimizer.step()
        curve.append(_mean_squared_error(reconstruct, X))
        if not math.isfinite(curve[-1]):
            break
    for parameter in parameters:  # leave no stale gradients in the net
        parameter.grad = None
    return curve, _chunked(encode, X)


def pretrain_net(net, data, method, *, max_iter, learning_rate, batch_size, cd_k, solver,
                 verbose=0):
    """Pretrain ``net.module_`` layer by layer with ``method`` (``"rbm"``,
    ``"autoencoder"`` or None for none).

    Only the part of ``data`` that the net trains on is used (the validation split is left
    out); it is held in memory as one float32 tensor while the layers are pretrained,
    since each layer's codes are the next layer's input.

    Parameters
    ----------
    net : skorch.NeuralNet
        An initialised net whose ``module_`` is an hourglass MLP; its weights are
        overwritten in place with the pretrained stack.
    data : RowDataset
        The training data (see :class:`~skautoenc._data.RowDataset`).
    method : {"rbm", "autoencoder"} or None
    max_iter : int
        Epochs per layer.
    learning_rate : float or None
        None: 0.1 for ``"rbm"``, 0.01 for ``"autoencoder"``.
    batch_size : int
    cd_k : int
        Gibbs steps of contrastive divergence (``"rbm"``).
    solver : {"adam", "sgd"}
        Optimiser of the ``"autoencoder"`` layers.
    verbose : int
        Print a line per layer when positive.

    Returns
    -------
    curves : list of list of float
        For each layer, from the input towards the code, the reconstruction error
        of that layer on its own input (mean over samples of the squared error
        summed over units) after each epoch. Empty when ``method`` is None.
    """
    if method is None:
        return []
    dataset, _ = net.get_split_datasets(data)
    if isinstance(dataset, torch.utils.data.Subset):
        X = data.rows(torch.as_tensor(dataset.indices, dtype=torch.long))
    else:
        X = data.rows(slice(None))
    X = X.to(net.device)
    if learning_rate is None:
        learning_rate = 0.1 if method == "rbm" else 0.01
    params = {
        "n_epochs": max_iter,
        "learning_rate": learning_rate,
        "batch_size": batch_size,
        "k": cd_k,
        "solver": solver,
    }
    stack = _stack(net.module_)
    if method == "rbm":
        units = _rbm_units(stack)  # checks every layer before training any
    curves = []
    for i, (enc, hidden_act, dec, visible_act) in enumerate(stack):
        if method == "rbm":
            curve, X = _pretrain_rbm_layer(X, enc, dec, units[i], params)
        else:
            curve, X = _pretrain_autoencoder_layer(
                X, enc, hidden_act, dec, visible_act, params
            )
        if not math.isfinite(curve[-1]):
            raise FloatingPointError(
                f"Pretraining of layer {i + 1} diverged: its reconstruction error became "
                f"{curve[-1]} at epoch {len(curve)}. "
                "Lower pretraining_learning_rate, or standardise the input (e.g. with "
                "sklearn.preprocessing.StandardScaler)."
            )
        if verbose:
            print(
                f"pretraining ({method}) layer {i + 1}/{len(stack)}: reconstruction error "
                f"{curve[0]:.4g} -> {curve[-1]:.4g} in {len(curve)} epochs"
            )
        curves.append(curve)
    return curves
