"""Torch modules of the kind a user writes, for the tests: importable by path, so that
pickle, joblib and skops find them as they would a user's."""

import torch
from torch import nn


class TinyEncoder(nn.Module):
    """A user's encoder: one hidden layer of ``width`` with a GELU."""

    def __init__(self, n_features, n_components, width=8):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_features, width), nn.GELU(),
                                 nn.Linear(width, n_components))

    def forward(self, X):
        return self.net(X)


class TinyDecoder(nn.Module):
    """A user's decoder, the mirror of :class:`TinyEncoder`."""

    def __init__(self, n_components, n_features, width=8):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_components, width), nn.GELU(),
                                 nn.Linear(width, n_features))

    def forward(self, codes):
        return self.net(codes)


class TinyGaussianEncoder(TinyEncoder):
    """A user's variational encoder: the mean and log-variance of ``q(z | x)``."""

    def __init__(self, n_features, n_components, width=8):
        super().__init__(n_features, 2 * n_components, width)

    def forward(self, X):
        mean, log_var = super().forward(X).chunk(2, dim=1)
        return mean, log_var


class WindowConvEncoder(nn.Module):
    """A 1-D convolution over a row read as a window of a series (``n_features`` steps),
    then global average pooling, so that it takes windows of any length."""

    def __init__(self, n_features, n_components, channels=4):
        super().__init__()
        self.conv = nn.Conv1d(1, channels, kernel_size=3, padding=1)
        self.head = nn.Linear(channels, n_components)

    def forward(self, X):
        maps = torch.relu(self.conv(X.unsqueeze(1)))
        return self.head(maps.mean(dim=2))


class BranchingEncoder(TinyEncoder):
    """An encoder whose ``forward`` branches on the values of its input: a trace of it
    would freeze one branch, so it must not export to ONNX."""

    def forward(self, X):
        codes = super().forward(X)
        if bool(X.sum() > 0):
            return codes
        return -codes
