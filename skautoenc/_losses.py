"""Training objectives. Every loss is a sum over features, averaged over the batch."""

import torch
from torch import nn
from torch.nn import functional as F


def reconstruction_error(output, target, loss):
    """Per-sample reconstruction loss, summed over features.

    Parameters
    ----------
    output : tensor of shape (n_samples, n_features)
        The decoder's last pre-activation: logits when ``loss="bce"``, the
        reconstruction when ``loss="mse"``.
    target : tensor of shape (n_samples, n_features)
    loss : {"bce", "mse"}
        ``"bce"``: Bernoulli cross-entropy
        ``-sum_i [x_i log y_i + (1 - x_i) log(1 - y_i)]`` with ``y = sigmoid(output)``,
        computed from the logits for numerical stability.
        ``"mse"``: squared error ``sum_i (x_i - y_i) ** 2``.
    """
    if loss == "bce":
        per_entry = F.binary_cross_entropy_with_logits(output, target, reduction="none")
    else:
        per_entry = (output - target) ** 2
    return per_entry.sum(dim=1)


class ReconstructionLoss(nn.Module):
    """Mean over the batch of :func:`reconstruction_error`."""

    def __init__(self, loss="mse"):
        super().__init__()
        self.loss = loss

    def forward(self, output, target):
        return reconstruction_error(output, target, self.loss).mean()


def sparsity_penalty(codes, sparsity_target, eps=1e-6):
    """Sum over code units of KL(rho || rho_hat_j), rho_hat_j the batch mean of unit j.

    ``rho_hat`` is clamped to ``[eps, 1 - eps]`` so the penalty stays finite.
    """
    rho = sparsity_target
    rho_hat = codes.mean(dim=0).clamp(eps, 1 - eps)
    kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
    return kl.sum()
