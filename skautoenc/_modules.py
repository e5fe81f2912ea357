"""The built-in network families: torch encoders and decoders that follow the network
contract (:mod:`skautoenc._network`), and the layers they share.

- ``"mlp"``: :class:`MLPEncoder` and :class:`MLPDecoder`, stacks of linear layers (the
  hourglass network of every estimator since the first release);
- ``"conv"``: :class:`ConvEncoder` and :class:`ConvDecoder`, stride-2 convolutions over
  an image and their mirror in transposed convolutions.

Each encoder maps a float32 batch of flat rows ``(batch, n_features)`` to codes
``(batch, n_components)``, or, built with ``variational=True``, to the pair
``(mean, log_var)`` of a Gaussian posterior; each decoder maps codes back to the output
layer's pre-activations ``(batch, n_features)``.
"""

import math

import torch
from torch import nn

ACTIVATIONS = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
}

#: The layout of the conv family's feature maps: channels last, whose convolution kernels
#: (oneDNN's, on the CPU) ran a training step of a two-layer conv network on MNIST in
#: about four fifths of the time of the default layout (docs/performance_notes.md).
CHANNELS_LAST = torch.channels_last

#: Kernel, stride and padding of every layer of the conv family: each layer halves the
#: height and width (rounding up), as in the usual convolutional autoencoders of MNIST.
CONV_KERNEL, CONV_STRIDE, CONV_PADDING = 3, 2, 1


class Linear(nn.Linear):
    """``nn.Linear`` whose evaluation-mode output for a row does not depend on the other rows.

    Float32 matrix kernels may sum a row's products in an order that depends on where
    the row sits in memory (the transposed-weight ``x @ W.T`` product of ``F.linear``
    does, for small layers). In evaluation mode this layer multiplies by a contiguous
    copy of ``W.T`` instead, whose kernels treat every row alike for a given number of
    rows; the estimators also run inference in chunks of a fixed number of rows. Together
    this makes ``transform`` of a sample independent of the batch it comes in, which
    scikit-learn's invariance checks and reproducible pipelines rely on.

    The copy of ``W.T`` is kept between calls and made again when the weights change
    or move. Most in-place updates bump the weights' version, which the cache checks;
    torch's fused optimisers do not. The copy serves evaluation mode only, and training
    runs in training mode, so the layer drops it whenever its mode is set (``train()``,
    ``eval()``): after any training, evaluation starts from a fresh copy. (Dropping it
    after every optimiser step instead, with a step hook, cost about 0.1 ms a step:
    docs/performance_notes.md, "Where the time went".)
    """

    _weight_t = None
    _weight_t_key = None

    def transposed_weight(self):
        """A contiguous copy of ``weight.t()``, cached until the weights change."""
        weight = self.weight
        key = (weight.data_ptr(), weight._version, weight.dtype, weight.device)
        if self._weight_t_key != key:
            self._weight_t = weight.detach().t().contiguous()
            self._weight_t_key = key
        return self._weight_t

    def train(self, mode=True):
        self._weight_t_key = None
        return super().train(mode)

    def forward(self, X):
        if self.training or torch.is_grad_enabled():
            return super().forward(X)
        rows = X.reshape(-1, X.shape[-1])
        out = torch.addmm(self.bias, rows, self.transposed_weight())
        return out.reshape(*X.shape[:-1], out.shape[-1])


class FillMissing(nn.Module):
    """What the network does first with ``missing_values=np.nan``: each NaN entry of a
    sample becomes its feature's fill value (the mean of the feature's observed training
    values, set when training begins), observed entries pass as they are. As a layer of
    the network, it fills alike in training, validation, ``transform`` and scoring, is
    saved with the weights, and exports to ONNX."""

    def __init__(self, n_features):
        super().__init__()
        self.register_buffer("values", torch.zeros(n_features))

    def forward(self, X):
        return torch.where(torch.isnan(X), self.values, X)


def make_mlp(sizes, activation, last_activation="identity"):
    """Stack :class:`Linear` layers of the given ``sizes``.

    Hidden layers use ``activation``; the last layer uses ``last_activation``.
    """
    layers = []
    n_layers = len(sizes) - 1
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(n_in, n_out))
        name = activation if i < n_layers - 1 else last_activation
        if name != "identity":
            layers.append(ACTIVATIONS[name]())
    return nn.Sequential(*layers)


class GaussianHeads(nn.Module):
    """Two linear heads on the same features: the mean and the log-variance of a
    Gaussian posterior (what a variational encoder returns)."""

    def __init__(self, n_in, n_components):
        super().__init__()
        self.mean = Linear(n_in, n_components)
        self.log_var = Linear(n_in, n_components)

    def forward(self, hidden):
        return self.mean(hidden), self.log_var(hidden)


# ---------------------------------------------------------------------- the MLP
class MLPEncoder(nn.Module):
    """``n_features -> hidden_layer_sizes -> n_components``: linear layers, each hidden one
    followed by ``activation``; the codes are linear. With ``variational=True`` the last
    hidden layer (or the input, without one) feeds :class:`GaussianHeads`.

    ``layers`` is the stack of linear layers and activations (which greedy pretraining
    reads); ``heads`` holds the Gaussian heads of a variational encoder.
    """

    def __init__(self, n_features, n_components, hidden_layer_sizes=(256,),
                 activation="relu", variational=False):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        if variational:
            self.layers = make_mlp([n_features, *hidden], activation, activation)
            self.heads = GaussianHeads(hidden[-1] if hidden else n_features, n_components)
        else:
            self.layers = make_mlp([n_features, *hidden, n_components], activation)
            self.heads = None

    def forward(self, X):
        hidden = self.layers(X)
        return hidden if self.heads is None else self.heads(hidden)


class MLPDecoder(nn.Module):
    """``n_components -> reversed(hidden_layer_sizes) -> n_features``, the mirror of
    :class:`MLPEncoder`; the last layer's output is linear (pre-activations)."""

    def __init__(self, n_components, n_features, hidden_layer_sizes=(256,), activation="relu"):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        self.layers = make_mlp([n_components, *hidden[::-1], n_features], activation)

    def forward(self, codes):
        return self.layers(codes)


# --------------------------------------------------------------------- the conv net
def image_channels_and_size(image_shape):
    """``(channels, height, width)`` of an ``image_shape`` of two or three numbers."""
    return (1, *image_shape) if len(image_shape) == 2 else tuple(image_shape)


def conv_sizes(image_shape, depth):
    """The ``(height, width)`` of the input and of each of ``depth`` stride-2 layers'
    outputs, from the image on."""
    _, height, width = image_channels_and_size(image_shape)
    sizes = [(height, width)]
    for _ in range(depth):
        h, w = sizes[-1]
        sizes.append(tuple((s + 2 * CONV_PADDING - CONV_KERNEL) // CONV_STRIDE + 1
                           for s in (h, w)))
    return sizes


def first_too_small_layer(image_shape, depth):
    """The index of the first of ``depth`` stride-2 layers whose input would be a single
    pixel (nothing to convolve), or None when every layer gets two pixels or more."""
    for i, (height, width) in enumerate(conv_sizes(image_shape, depth)[:depth]):
        if height * width < 2:
            return i
    return None


class ConvEncoder(nn.Module):
    """Stride-2 convolutions over an image, then a linear layer to the codes.

    Each row of the batch is an image of ``image_shape`` (``(height, width)`` or
    ``(channels, height, width)``) flattened in C order. Each of the layers of
    ``channels`` (e.g. ``(32, 64)``) is a 3x3 convolution with stride 2 and padding 1,
    followed by ``activation``, so each halves the height and width (rounding up); the
    last layer's feature maps, flattened, feed a linear layer to ``n_components`` codes
    (or, with ``variational=True``, :class:`GaussianHeads`).
    """

    def __init__(self, n_features, n_components, image_shape, channels=(16, 32, 64),
                 activation="relu", variational=False):
        super().__init__()
        # image_shape against n_features is checked where the network is built
        # (skautoenc._network.build_parts), with the message a user sees
        self.image_shape = image_channels_and_size(image_shape)
        in_channels = self.image_shape[0]
        layers = []
        for n_in, n_out in zip((in_channels, *channels[:-1]), channels):
            layers.append(nn.Conv2d(n_in, n_out, CONV_KERNEL, CONV_STRIDE, CONV_PADDING))
            layers.append(ACTIVATIONS[activation]())
        self.layers = nn.Sequential(*layers)
        last_h, last_w = conv_sizes(image_shape, len(channels))[-1]
        n_flat = (channels[-1] if channels else in_channels) * last_h * last_w
        self.heads = (GaussianHeads(n_flat, n_components) if variational
                      else Linear(n_flat, n_components))

    def forward(self, X):
        images = X.reshape(-1, *self.image_shape).contiguous(memory_format=CHANNELS_LAST)
        return self.heads(self.layers(images).flatten(1))


class ConvDecoder(nn.Module):
    """The mirror of :class:`ConvEncoder`: a linear layer from the codes to the last
    feature maps, then transposed convolutions (3x3, stride 2) back to the image's
    channels and size, each but the last followed by ``activation``. The output is the
    flattened image of pre-activations."""

    def __init__(self, n_components, n_features, image_shape, channels=(16, 32, 64),
                 activation="relu"):
        super().__init__()
        in_channels, height, width = image_channels_and_size(image_shape)
        sizes = conv_sizes(image_shape, len(channels))
        self.maps_shape = (channels[-1] if channels else in_channels, *sizes[-1])
        self.linear = Linear(n_components, math.prod(self.maps_shape))
        self.activation = ACTIVATIONS[activation]() if channels else nn.Identity()
        layers = []
        reversed_channels = list(channels[::-1])
        outputs = [*reversed_channels[1:], in_channels]
        for i, (n_in, n_out) in enumerate(zip(reversed_channels, outputs)):
            (h_in, w_in), (h_out, w_out) = sizes[-1 - i], sizes[-2 - i]
            # the extra row or column that restores an odd size halved with rounding up
            padding = tuple(
                out - ((s - 1) * CONV_STRIDE - 2 * CONV_PADDING + CONV_KERNEL)
                for s, out in ((h_in, h_out), (w_in, w_out))
            )
            layers.append(nn.ConvTranspose2d(n_in, n_out, CONV_KERNEL, CONV_STRIDE,
                                             CONV_PADDING, output_padding=padding))
            if i < len(channels) - 1:
                layers.append(ACTIVATIONS[activation]())
        self.layers = nn.Sequential(*layers)

    def forward(self, codes):
        maps = self.activation(self.linear(codes)).reshape(-1, *self.maps_shape)
        images = self.layers(maps.contiguous(memory_format=CHANNELS_LAST))
        return images.contiguous().flatten(1)


#: The built-in families: the name an estimator's ``encoder`` takes, and its two classes.
FAMILIES = {"mlp": (MLPEncoder, MLPDecoder), "conv": (ConvEncoder, ConvDecoder)}


# ---------------------------------------------------------- Monte Carlo helpers
def normal_design(n_samples, n_features):
    """Fixed standard normal draws for Monte Carlo estimates: randomised quasi-Monte Carlo.

    A scrambled Sobol sequence, mapped through the inverse normal CDF, seeded from
    torch's global generator. Its points cover the space more evenly than iid draws:
    on the digits ELBO, 32 such points have about half the error of 32 iid draws.
    Falls back to iid draws beyond the dimensions that Sobol supports.
    """
    if n_features > torch.quasirandom.SobolEngine.MAXDIM:
        return torch.randn(n_samples, n_features)
    seed = int(torch.randint(2**31 - 1, ()))
    engine = torch.quasirandom.SobolEngine(n_features, scramble=True, seed=seed)
    u = engine.draw(n_samples, dtype=torch.float64).clamp(1e-10, 1 - 1e-10)
    return torch.special.ndtri(u).to(torch.float32)


def reparameterise(mu, log_var, eps):
    """``z = mu + sigma * eps``: a draw of ``N(mu, diag sigma^2)`` for each ``eps ~ N(0, I)``,
    differentiable in ``mu`` and ``log_var = log sigma^2`` (Kingma & Welling, 2014)."""
    return mu + torch.exp(0.5 * log_var) * eps
