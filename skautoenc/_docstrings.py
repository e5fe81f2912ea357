"""One source for the docstring entries that the estimators share.

A class decorated with :func:`fill_doc` writes a shared entry as a line holding only its
name in braces, e.g. ``{solver}``, in its Parameters or Attributes section (or the name of
a run of them in :data:`GROUPS`); the decorator puts the entries of :data:`SHARED` there,
indented as that line. Lines right after the placeholder, indented as a description, add
what is particular to the estimator.
``tests/test_docstrings.py`` fails when two estimators document the same name with
different text, unless :data:`ESTIMATOR_SPECIFIC` says why they must differ.
"""

import re

#: Entries (the ``name : type`` line and its description) shared by the estimators.
SHARED = {
    'encoder': '''\
encoder : {"mlp", "conv"} or torch.nn.Module subclass, default="mlp"
    The encoder network. ``"mlp"``: linear layers of ``hidden_layer_sizes``.
    ``"conv"``: stride-2 convolutions of ``conv_channels`` over images of
    ``image_shape``, then a linear layer to the codes. Or a ``torch.nn.Module``
    subclass of your own, built as ``encoder(n_features=..., n_components=...,
    **kwargs)``, whose ``forward`` maps a float32 batch ``(batch, n_features)`` to
    codes ``(batch, n_components)`` (a :class:`VariationalAutoEncoder`'s to the pair
    ``(mean, log_var)``); ``kwargs`` are the ``encoder__<name>`` parameters, and
    ``image_shape`` where its ``__init__`` takes one. The user guide's "Your own
    network" has the contract and examples.''',
    'decoder': '''\
decoder : {"mlp", "conv"}, torch.nn.Module subclass or None, default=None
    The decoder network, which maps codes back to the output layer's pre-activations
    ``(batch, n_features)`` (logits for a Bernoulli loss or likelihood). ``None``: the
    mirror image of a built-in ``encoder``; a module of your own needs one. A
    ``torch.nn.Module`` subclass is built as ``decoder(n_components=...,
    n_features=..., **kwargs)``, ``kwargs`` being the ``decoder__<name>``
    parameters.''',
    'image_shape': '''\
image_shape : tuple of int or None, default=None
    ``None``: rows are flat vectors. ``(height, width)`` or ``(channels, height,
    width)``: each row is an image flattened in C order, as the ``"conv"`` network
    (which needs it) reads it; one number may be ``-1``, worked out from
    ``n_features`` (``(1, -1)``: each row a one-dimensional signal). ``X`` stays
    two-dimensional, so scalers, pipelines and ONNX see ordinary rows.''',
    'conv_channels': '''\
conv_channels : tuple of int, default=(16, 32, 64)
    For ``encoder="conv"``: the channels of its stride-2 3x3 convolutions, from the
    image on; each layer halves the height and width (rounding up) and must get two
    pixels or more. The decoder mirrors them in transposed convolutions. Ignored by
    the other networks. On MNIST the default's three layers gave better codes for a
    classifier than the usual two of 32 and 64 channels, in less time; the two
    reconstructed slightly better (the user guide's "Your own network" has the
    measurements).''',
    'loss': '''\
loss : {"auto", "bce", "mse"}, default="auto"
    Reconstruction loss. ``"bce"``: Bernoulli cross-entropy with a sigmoid output,
    for data in [0, 1] (e.g. pixel intensities after ``MinMaxScaler``).
    ``"mse"``: squared error with a linear output. ``"auto"`` picks ``"bce"`` when
    the training data lies in [0, 1] and ``"mse"`` otherwise.''',
    'solver': '''\
solver : {"adam", "sgd"}, default="adam"
    Optimiser. ``"sgd"`` uses Nesterov momentum 0.9, as ``MLPRegressor``.''',
    'learning_rate': '''\
learning_rate : {"linear", "constant"}, default="linear"
    Learning-rate schedule of ``fit``. ``"linear"``: the rate decays linearly from
    ``learning_rate_init`` to zero over the minibatch updates of the ``max_iter``
    epochs, which ends a fixed budget of updates nearer a minimum than a constant
    rate (Li, Yumer & Ramanan, 2020); a fit that stops early stops the decay with
    it. ``"constant"``: ``learning_rate_init`` throughout. ``partial_fit`` always
    trains at ``learning_rate_init``; a warm start decays anew over its epochs.''',
    'n_iter_no_change': '''\
n_iter_no_change : int, default=10
    Epochs without improvement before training stops.''',
    'tol': '''\
tol : float, default=1e-4
    Progress that counts, relative to the loss: training stops once the monitored loss
    (the validation loss with early stopping, else the training loss) has not fallen
    below ``(1 - tol)`` times its last value that did, for ``n_iter_no_change`` epochs
    in a row. Relative, unlike ``MLPRegressor``'s absolute ``tol``, so that one value
    suits losses of any scale (as skorch's ``EarlyStopping(threshold_mode="rel")``).''',
    'validation_fraction': '''\
validation_fraction : float, default=0.1
    Fraction of the training data held out for early stopping.''',
    'pretraining': '''\
pretraining : {None, "rbm", "autoencoder"}, default=None
    Greedy layer-wise pretraining of the network before the ``max_iter`` epochs of
    backpropagation fine-tuning. Each layer, from the input towards the code, is
    trained alone on the previous layer's hidden activations of the training data
    (the validation split is left out); the trained layers then initialise the
    encoder and, mirrored, the decoder, whose weights stay free (untied) during
    fine-tuning. With ``max_iter=0`` the pretrained network is kept as it is.
    Not repeated on a warm start.

    - ``"rbm"``: a stack of restricted Boltzmann machines trained by contrastive
      divergence (CD-``cd_k``) and unrolled (Hinton & Salakhutdinov, 2006): the
      encoder layer gets the RBM's weights ``W`` and hidden biases, the mirrored
      decoder layer ``W`` transposed and the visible biases. The input units are
      Bernoulli for ``loss_="bce"`` and Gaussian (linear, unit variance: standardise
      the input, e.g. with ``StandardScaler``) for ``loss_="mse"``; the hidden
      layers' units are Bernoulli, and the code units Gaussian (linear) for a linear
      code layer, Bernoulli for a logistic one. With hidden
      layers, needs ``activation="logistic"``, whose units are those of a
      Bernoulli RBM; other activations raise a ValueError in ``fit``. The updates
      use momentum 0.5 for the first 5 epochs, then 0.9, and weight decay 2e-4 on
      the weights.
    - ``"autoencoder"``: a stack of one-hidden-layer autoencoders, trained with
      ``solver``, each reconstructing its input through the activation that the
      deep decoder applies there (Bengio et al., 2007). Works with any
      ``activation``.''',
    'pretraining_max_iter': '''\
pretraining_max_iter : int, default=10
    Epochs of pretraining for each layer.''',
    'pretraining_learning_rate': '''\
pretraining_learning_rate : float or None, default=None
    Learning rate of pretraining. ``None`` means 0.1 for ``"rbm"`` and
    0.01 for ``"autoencoder"`` (larger steps than fine-tuning's, as each layer only
    gets a few epochs). RBMs with Gaussian units (the code layer, or a Gaussian
    input) use a tenth of it, as their unbounded units need smaller steps.''',
    'pretraining_batch_size': '''\
pretraining_batch_size : int or None, default=None
    Minibatch size of pretraining. ``None`` means ``batch_size``.''',
    'cd_k': '''\
cd_k : int, default=1
    Number of alternating Gibbs sampling steps of contrastive divergence (CD-k),
    for ``pretraining="rbm"``.''',
    'device': '''\
device : str, default="cpu"
    Where to train and infer, as torch names devices: ``"cpu"``, ``"cuda"`` (or
    ``"cuda:1"`` for the second GPU), ``"mps"`` (Apple GPUs); ``"auto"`` uses CUDA when
    available. A device this machine lacks is a ``ValueError`` in ``fit`` that names
    those it has.''',
    'mixed_precision': '''\
mixed_precision : bool or "auto", default=False
    Run the forward pass of training under bfloat16 autocast: its matrix products
    run in bfloat16, while the loss, the weights, the optimiser and all inference
    stay in float32. It can be faster on GPUs with bfloat16 support and on CPUs
    with bfloat16 matrix instructions (``lscpu`` flags ``avx512_bf16``,
    ``amx_bf16``), where the products are a large part of a step (wide layers, large
    batches); with the default network it gained little or nothing on such CPUs.
    It is many times slower on CPUs without them, where torch emulates bfloat16.
    ``"auto"`` uses it only where the device has them (decided at each fit on the
    machine at hand; ``net_.mixed_precision`` says what it chose). The default keeps
    every CPU on float32, so that the same seed gives the same model on every
    machine to float32 rounding; the user guide's "Training defaults" has the
    measurements.''',
    'missing_values': '''\
missing_values : None or np.nan, default=None
    ``None``: NaN in the data is an error, as in most scikit-learn estimators.
    ``np.nan``: NaN entries are missing values, in ``fit``, ``partial_fit``,
    ``transform``, ``score_samples`` and ``score``. The network sees each missing
    entry as its feature's mean over the observed training values (0 for a feature
    never observed), and training counts only the observed entries: the
    reconstruction loss sums them and scales the sum to the size of complete rows
    (the VAE's ELBO is that of the observed entries). Infinity stays an error, and
    so does a NaN in the codes given to ``inverse_transform``. Greedy pretraining
    does not take missing values. The user guide's "Missing values" has the
    details.''',
    'n_jobs': '''\
n_jobs : "auto" or int, default="auto"
    The CPU threads torch runs this estimator's training and inference on, set for
    the duration of each call and put back afterwards
    (:func:`torch.set_num_threads`). ``"auto"``: as many as other processes leave
    cores free, measured every quarter of a second while the call runs, up to
    torch's thread count when the call begins (one per core unless
    ``OMP_NUM_THREADS`` or threadpoolctl says less). torch's threads wait for each
    other at every operation, so on a fixed count a fit slows down many times over
    when another process takes a core. An integer fixes the count, as scikit-learn
    counts jobs: ``None`` means 1 unless in a :func:`joblib.parallel_config`
    context, ``-1`` all the CPUs this process may use. See :ref:`threads`.''',
    'verbose': '''\
verbose : int, default=0
    When positive, print one line per epoch: the epoch's number of all those planned,
    the losses (the best so far marked with ``*``, in green on a terminal), seconds per
    epoch, the time elapsed and at most the time left (early stopping may end sooner);
    and, for an estimator that pretrains, one line per pretrained layer. No colour
    codes reach a file, a pipe or a notebook.''',
    'loss_': '''\
loss_ : {"bce", "mse"}
    The reconstruction loss used.''',
    'n_iter_': '''\
n_iter_ : int
    Number of epochs run (over all warm starts).''',
    'best_validation_score_': '''\
best_validation_score_ : float
    Best of ``validation_scores_``. Only with early stopping.''',
    'pretraining_curves_': '''\
pretraining_curves_ : list of list of float
    For each pretrained layer, from the input towards the code, its reconstruction
    error on its own training input after each pretraining epoch: the mean over
    samples of the squared error summed over units, for the one-step mean-field
    reconstruction of an RBM or the output of a one-layer autoencoder. Empty
    without pretraining.''',
    'device_': '''\
device_ : str
    The device used.''',
    'n_features_in_': '''\
n_features_in_ : int
    Number of features seen during fit.''',
    'feature_names_in_': '''\
feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of the features seen during fit, when they are all strings.''',
    # entries that several estimators, not all, share; the others write their own
    'activation': '''\
activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
    Activation of the hidden layers.''',
    'alpha': '''\
alpha : float, default=0.0
    L2 penalty on the weights (not the biases), applied as weight decay.''',
    'batch_size': '''\
batch_size : int, default=128
    Minibatch size.''',
    'hidden_layer_sizes': '''\
hidden_layer_sizes : array-like of int or int, default=(256,)
    Widths of the encoder's hidden layers, from the input towards the code. The
    decoder uses them in reverse order. ``()`` gives a single-layer autoencoder.''',
    'max_iter': '''\
max_iter : int or "auto", default="auto"
    Maximum number of epochs (passes over the training data). ``0`` returns the network
    as initialised. ``"auto"``: as many epochs as make about 5,000 minibatch updates,
    ``ceil(5000 / ceil(n_train / batch_size))`` with ``n_train`` the samples left after
    the validation split, at least 10 and at most 200: 200 epochs up to about 3,500
    samples, 88 for 8,000, 12 for 64,000 and 10 from about 71,000 on (on a few hundred
    samples, thousands of epochs overfit). A budget of updates rather than of epochs
    suits small and large data alike; the user guide's "Training defaults" shows the
    measurements.''',
    'n_components': '''\
n_components : int, default=32
    Width of the code layer: the number of features :meth:`transform` returns.
    Larger than ``n_features`` is allowed (an overcomplete code).''',
    'random_state': '''\
random_state : int, RandomState instance or None, default=None
    Seeds weight initialisation, shuffling and the validation split. The global
    torch seed is neither used nor changed.''',
    'best_loss_': '''\
best_loss_ : float or None
    Lowest training loss; ``None`` with early stopping.''',
    'net_': '''\
net_ : skorch.NeuralNet
    The trained skorch net; ``net_.module_`` is the torch module.''',
    'validation_scores_': '''\
validation_scores_ : list of float
    Negative validation loss at each epoch. Only with early stopping.''',
}

#: Runs of shared entries that estimators document together, under one placeholder.
GROUPS = {
    "network": ["encoder", "decoder", "image_shape", "conv_channels"],
    "pretraining_settings": [
        "pretraining_max_iter", "pretraining_learning_rate", "pretraining_batch_size", "cd_k",
    ],
    "runtime_settings": ["device", "mixed_precision", "n_jobs", "verbose"],
}

#: Names that several estimators document differently, and why.
ESTIMATOR_SPECIFIC = {
    "n_components": "the number and the kind of code units differ (sigmoid, Gaussian)",
    "hidden_layer_sizes": "the network each builds differs",
    "activation": "the sparse model's code layer is always a sigmoid",
    "learning_rate_init": (
        "the default differs: 2e-3 for AutoEncoder, 3e-3 for DenoisingAutoEncoder, 1e-3 "
        "for the others"
    ),
    "n_iter_no_change": "the denoising model's validation loss is noisier: it waits longer",
    "alpha": "the sparse model decays its weights by default",
    "batch_size": "the sparse penalty is estimated per minibatch",
    "max_iter": "the sparse model's 'auto' budget has another ceiling",
    "early_stopping": "each validation loss is that estimator's objective",
    "warm_start": "what a warm start keeps is each estimator's own settings",
    "random_state": "what the seed draws differs (corruption, the VAE's draws)",
    "pretraining": "the shared entry, plus what is particular to the model",
    "net_": "the net class differs",
    "loss_curve_": "what the training loss is differs",
    "best_loss_": "what the training loss is differs",
    "validation_scores_": "what the validation loss is differs",
}

_PLACEHOLDER = re.compile(r"^(?P<indent>[ ]*)\{(?P<name>\w+)\}$")


def fill_doc(cls):
    """Class decorator: replace the ``{name}`` lines of ``cls.__doc__`` by the entries of
    :data:`SHARED`, indented as the placeholder (Python 3.13 dedents docstrings, older
    versions do not). Without docstrings (``python -OO``) there is nothing to fill."""
    if cls.__doc__ is None:
        return cls
    lines = []
    for line in cls.__doc__.splitlines():
        match = _PLACEHOLDER.match(line)
        if match is None:
            lines.append(line)
            continue
        name, indent = match["name"], match["indent"]
        names = GROUPS.get(name, [name])
        unknown = [n for n in names if n not in SHARED]
        if unknown:
            raise KeyError(f"{cls.__name__}'s docstring names no shared entry {unknown[0]!r}")
        for entry in names:
            lines.extend(indent + entry_line if entry_line else ""
                         for entry_line in SHARED[entry].splitlines())
    cls.__doc__ = "\n".join(lines)
    return cls
