"""Torch modules shared by the skautoenc estimators."""

import math

import torch
from torch import nn

from ._losses import bernoulli_log_likelihood, gaussian_kl, gaussian_log_density

#: Floor on the log-variance of a Gaussian decoder: a variance of at least 1e-6 keeps the
#: likelihood of a constant feature finite.
MIN_OUTPUT_LOG_VAR = math.log(1e-6)

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

    The copy of ``W.T`` is kept between calls and made again when the weights change
    or move. Most in-place updates bump the weights' version, which the cache checks;
    torch's fused optimisers do not. The copy serves evaluation mode only, and training
    runs in training mode, so the layer drops it whenever its mode is set (``train()``,
    ``eval()``): after any training, evaluation starts from a fresh copy. (Dropping it
    after every optimiser step instead, with a step hook, cost about 0.1 ms a step:
    benchmarks/README.md, "Where the time went".)
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
    """The first layer of an encoder trained with ``missing_values=np.nan``: each NaN
    entry of a sample becomes its feature's fill value (the mean of the feature's
    observed training values, set when training begins), observed entries pass as they
    are. As a layer of the encoder, it fills alike in training, validation, ``transform``
    and scoring, is saved with the weights, and exports to ONNX."""

    def __init__(self, n_features):
        super().__init__()
        self.register_buffer("values", torch.zeros(n_features))

    def forward(self, X):
        return torch.where(torch.isnan(X), self.values, X)


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
    itself for a linear output). ``output_activation`` maps it to input space. With
    ``fill_missing``, the encoder starts with a :class:`FillMissing` layer, and a row
    with missing entries is encoded in two passes (:meth:`encode`).
    """

    #: Whether :meth:`encode` fills a row's missing entries with its own reconstruction
    #: (``skautoenc.onnx`` writes the same two passes where it is True).
    refills_missing = False

    def __init__(
        self,
        n_features,
        n_components,
        hidden_layer_sizes=(),
        activation="relu",
        code_activation="identity",
        output_activation="identity",
        fill_missing=False,
    ):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        self.encoder = make_mlp(
            [n_features, *hidden, n_components], activation, code_activation
        )
        if fill_missing:
            self.encoder.insert(0, FillMissing(n_features))
        self.refills_missing = bool(fill_missing)
        self.decoder = make_mlp([n_components, *hidden[::-1], n_features], activation)
        self.output_activation = ACTIVATIONS[output_activation]()

    def encode(self, X):
        """The codes of ``X``.

        With ``fill_missing``, a row with missing (NaN) entries goes through the network
        twice: the first pass fills them with their features' fill values and
        reconstructs the row; the second encodes the row with its missing entries
        replaced by that reconstruction. The input then looks like a complete row, in
        training as in ``transform``, and a model trained on rows with holes
        reconstructs complete rows better (the user guide's "Missing values" has the
        measurements). No gradient flows through the first pass.
        """
        if self.refills_missing:
            missing = torch.isnan(X)
            if missing.any():
                with torch.no_grad():
                    guess = self.decode(self.encoder(X))
                X = torch.where(missing, guess.to(X.dtype), X)
        return self.encoder(X)

    def forward(self, X):
        codes = self.encode(X)
        return codes, self.decoder(codes)

    def decode(self, codes):
        """Map codes to input space (the decoder's mean output)."""
        return self.output_activation(self.decoder(codes))

    def encoder_layers(self):
        """The layers that map a sample to its codes, in order (what ``transform`` runs)."""
        return list(self.encoder)

    def decoder_layers(self):
        """The layers that map codes to input space, in order (:meth:`decode`)."""
        return [*self.decoder, self.output_activation]


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


class VariationalMLP(nn.Module):
    """The encoder and decoder of a variational autoencoder.

    The encoder ``n_features -> hidden_layer_sizes`` feeds two linear heads that give
    the mean ``mu`` and log-variance ``log_var`` of the Gaussian posterior
    ``q(z | x) = N(mu, diag exp(log_var))`` over ``n_components`` latent variables.
    The decoder mirrors the hidden layers back to ``n_features`` outputs: the logits of
    a Bernoulli ``p(x | z)``, or the mean of a Gaussian ``p(x | z)`` whose per-feature
    log-variance is the learned parameter ``output_log_var`` (floored at
    ``min_output_log_var``, initialised to ``output_log_var_init``, default 0).

    ``forward(X, eps=None)`` returns ``(mu, log_var, output)`` where ``output`` (of
    shape ``(n_eps, n_samples, n_features)``) is the decoder's last pre-activation at
    ``z = mu + exp(log_var / 2) * eps``. Without ``eps``, training mode draws
    ``n_mc_samples`` fresh ``eps ~ N(0, I)`` per row from torch's global generator;
    evaluation mode uses the fixed draws ``score_eps`` (common random numbers, the
    same for every row; see :func:`normal_design`), so evaluation is deterministic
    and row-independent. With ``fill_missing``, the encoder starts with a
    :class:`FillMissing` layer and the likelihood counts observed features only.
    """

    #: The posterior is encoded in one pass; missing entries keep their fill values.
    refills_missing = False

    def __init__(
        self,
        n_features,
        n_components,
        hidden_layer_sizes=(),
        activation="relu",
        likelihood="bernoulli",
        n_mc_samples=1,
        n_score_samples=32,
        min_output_log_var=MIN_OUTPUT_LOG_VAR,
        output_log_var_init=None,
        fill_missing=False,
    ):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        self.likelihood = likelihood
        self.n_mc_samples = n_mc_samples
        self.min_output_log_var = min_output_log_var
        self.fill_missing = fill_missing
        self.encoder = make_mlp([n_features, *hidden], activation, activation)
        if fill_missing:
            self.encoder.insert(0, FillMissing(n_features))
        width = hidden[-1] if hidden else n_features
        self.mu = Linear(width, n_components)
        self.log_var = Linear(width, n_components)
        self.decoder = make_mlp([n_components, *hidden[::-1], n_features], activation)
        if likelihood == "gaussian":
            init = torch.zeros(n_features)
            if output_log_var_init is not None:
                init += torch.as_tensor(output_log_var_init, dtype=torch.float32)
            self.output_log_var = nn.Parameter(init)
        self.register_buffer("score_eps", normal_design(n_score_samples, n_components))

    def encode(self, X):
        """Mean and log-variance of ``q(z | x)``."""
        hidden = self.encoder(X)
        return self.mu(hidden), self.log_var(hidden)

    def forward(self, X, eps=None):
        mu, log_var = self.encode(X)
        if eps is None:
            if self.training:
                eps = torch.randn((self.n_mc_samples, *mu.shape), device=mu.device)
            else:
                eps = self.score_eps[:, None, :]
        return mu, log_var, self.decoder(reparameterise(mu, log_var, eps))

    def decode(self, codes):
        """The mean of ``p(x | z)`` at ``z = codes``."""
        output = self.decoder(codes)
        return torch.sigmoid(output) if self.likelihood == "bernoulli" else output

    def encoder_layers(self):
        """The layers that map a sample to the posterior mean ``mu`` (``transform``)."""
        return [*self.encoder, self.mu]

    def decoder_layers(self):
        """The layers that map codes to the mean of ``p(x | z)``, in order (:meth:`decode`)."""
        last = nn.Sigmoid() if self.likelihood == "bernoulli" else nn.Identity()
        return [*self.decoder, last]

    def decoder_log_var(self):
        """Per-feature log-variance of a Gaussian ``p(x | z)``."""
        return self.output_log_var.clamp(min=self.min_output_log_var)

    def log_likelihood(self, output, X):
        """``log p(x | z)`` from the decoder ``output``, summed over features; with
        ``fill_missing``, over the observed (not NaN) features of ``X`` only."""
        observed = ~torch.isnan(X) if self.fill_missing else None
        if observed is not None:
            X = torch.where(observed, X, 0.0)
        if self.likelihood == "bernoulli":
            return bernoulli_log_likelihood(output, X, observed)
        return gaussian_log_density(X, output, self.decoder_log_var(), observed)

    def elbo_terms(self, X, mu, log_var, output):
        """The two terms of the negative ELBO of each row of ``X``, from the outputs of
        :meth:`forward`: the Monte Carlo estimate of ``E_q[-log p(x | z)]`` (the mean over
        the draws of ``eps``) and ``KL(q(z | x) || p(z))``. Training, validation and
        ``score_samples`` all use these."""
        return -self.log_likelihood(output, X).mean(dim=0), gaussian_kl(mu, log_var)
