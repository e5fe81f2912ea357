"""Training objectives. Every loss is a sum over features, averaged over the batch."""

import math

import torch
from torch import nn
from torch.nn import functional as F


def reconstruction_error(output, target, loss, observed=None):
    """Per-sample reconstruction loss, summed over features (the ``observed`` ones only,
    a boolean mask of ``target``'s shape, where given).

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
    if observed is not None:
        target = torch.where(observed, target, 0.0)
    if loss == "bce":
        per_entry = F.binary_cross_entropy_with_logits(output, target, reduction="none")
    else:
        per_entry = (output - target) ** 2
    if observed is not None:
        per_entry = per_entry * observed
    return per_entry.sum(dim=1)


class ReconstructionLoss(nn.Module):
    """Mean over the batch of :func:`reconstruction_error`.

    With ``missing=True`` the target's NaN entries are missing: the loss is the sum over
    the observed entries, times ``n_features`` over the number of observed entries of
    the batch. Every observed entry weighs the same, and the loss keeps the scale of
    complete rows (it equals the plain loss when nothing is missing), so that penalties
    weighed against it (weight decay, the sparse model's KL term) keep their meaning.
    """

    def __init__(self, loss="mse", missing=False):
        super().__init__()
        self.loss = loss
        self.missing = missing

    def forward(self, output, target):
        if not self.missing:
            return reconstruction_error(output, target, self.loss).mean()
        observed = ~torch.isnan(target)
        n_observed = observed.sum()
        if target.device.type == "cpu" and int(n_observed) == target.numel():
            # nothing missing (a denoising model's clean target): the same sum without
            # masking every entry twice (no host sync here, unlike on a GPU)
            observed = None
        total = reconstruction_error(output, target, self.loss, observed).sum()
        return total * target.shape[1] / n_observed.clamp(min=1)


def sparsity_penalty(codes, sparsity_target, eps=1e-6):
    """Sum over code units of KL(rho || rho_hat_j), rho_hat_j the batch mean of unit j.

    ``rho_hat`` is clamped to ``[eps, 1 - eps]`` so the penalty stays finite.
    """
    rho = sparsity_target
    rho_hat = codes.mean(dim=0).clamp(eps, 1 - eps)
    kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
    return kl.sum()


# --------------------------------------------------------------------- the ELBO
LOG_2PI = math.log(2 * math.pi)


def gaussian_kl(mu, log_var):
    """KL(N(mu, diag exp(log_var)) || N(0, I)) in closed form, summed over the last axis.

    ``-1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)`` (Kingma & Welling, 2014,
    appendix B). Zero when ``mu = 0`` and ``log_var = 0``.
    """
    return -0.5 * (1 + log_var - mu**2 - torch.exp(log_var)).sum(dim=-1)


def bernoulli_log_likelihood(logits, target, observed=None):
    """``sum_i x_i log y_i + (1 - x_i) log(1 - y_i)`` with ``y = sigmoid(logits)``.

    Summed over the last axis (over the ``observed`` entries only, a boolean mask that
    broadcasts like ``target``, where given) and computed from the logits for numerical
    stability. ``logits`` may carry leading axes (e.g. one per Monte Carlo sample) that
    broadcast against ``target``.
    """
    logits, target = torch.broadcast_tensors(logits, target)
    if torch.jit.is_tracing():
        # the same value, x * l - softplus(l), in operators that an ONNX trace keeps:
        # torch's fused kernel checks the shapes in Python, which a trace refuses
        per_entry = target * logits - F.softplus(logits)
    else:
        per_entry = -F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return (per_entry if observed is None else per_entry * observed).sum(dim=-1)


def gaussian_log_density(x, mean, log_var, observed=None):
    """``log N(x; mean, diag exp(log_var))``, summed over the last axis (over the
    ``observed`` entries only, where given). Broadcasts."""
    per_entry = -0.5 * (LOG_2PI + log_var + (x - mean) ** 2 * torch.exp(-log_var))
    return (per_entry if observed is None else per_entry * observed).sum(dim=-1)


class NegativeELBO(nn.Module):
    """Negative evidence lower bound, averaged over the batch.

    ``mean_n [reconstruction_n + beta * kl_n]`` where ``reconstruction_n`` is the
    Monte Carlo estimate of ``E_q[-log p(x_n | z)]`` and ``kl_n`` is
    ``KL(q(z | x_n) || p(z))``. ``beta = 1`` is the negative ELBO of Kingma & Welling
    (2014); other values weight the KL term as in the beta-VAE.
    """

    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = beta

    def forward(self, reconstruction, kl):
        return (reconstruction + self.beta * kl).mean()
