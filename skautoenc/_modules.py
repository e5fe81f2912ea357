"""Torch modules shared by the skautoenc estimators."""

import torch
from torch import nn

ACTIVATIONS = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
}


class Linear(nn.Linear):
    """``nn.Linear`` whose evaluation-mode output for a row does not depend on the other rows.

    Float32 matrix kernels may sum a row's products in an order that depends on where
    the row sits in memory (the transposed-weight ``x @ W.T`` product of ``F.linear``
    does, for small layers). In evaluation mode this layer multiplies by a contiguous
    copy of ``W.T`` instead, whose kernels treat every row alike for a given number of
    rows; the estimators also run inference in chunks of a fixed number of rows. Together
    this makes ``transform`` of a sample independent of the batch it comes in, which
    scikit-learn's invariance checks and reproducible pipelines rely on.
    """

    def forward(self, X):
        if self.training:
            return super().forward(X)
        return torch.addmm(self.bias, X, self.weight.t().contiguous())


def make_mlp(sizes, activation, last_activation="identity"):
    """Stack ``nn.Linear`` layers of the given ``sizes``.

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


class HourglassMLP(nn.Module):
    """An hourglass autoencoder: ``n_features -> hidden -> n_components`` and back.

    ``forward`` returns ``(codes, output)`` where ``output`` is the decoder's
    last pre-activation (logits for a Bernoulli output, the reconstruction
    itself for a linear output). ``output_activation`` maps it to input space.
    """

    def __init__(
        self,
        n_features,
        n_components,
        hidden_layer_sizes=(),
        activation="relu",
        code_activation="identity",
        output_activation="identity",
    ):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        self.encoder = make_mlp(
            [n_features, *hidden, n_components], activation, code_activation
        )
        self.decoder = make_mlp([n_components, *hidden[::-1], n_features], activation)
        self.output_activation = ACTIVATIONS[output_activation]()

    def forward(self, X):
        codes = self.encoder(X)
        return codes, self.decoder(codes)

    def decode(self, codes):
        """Map codes to input space (the decoder's mean output)."""
        return self.output_activation(self.decoder(codes))
