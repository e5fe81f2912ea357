"""
=====================================================
Deployment: a whole pipeline exported to ONNX
=====================================================

A fitted scikit-learn pipeline can leave Python as an ONNX file: skl2onnx converts it, and
onnxruntime serves it from C++, C#, Java, JavaScript or a phone. ``import skautoenc.onnx``
teaches skl2onnx the skautoenc estimators, so a pipeline that scales the pixels, encodes
them with an :class:`~skautoenc.AutoEncoder` and classifies the codes exports as one
graph. This example fits such a pipeline, exports it, runs it with onnxruntime and
checks that it answers as scikit-learn does; then it exports the decoder on its own, to
serve reconstructions. It needs the ``onnx`` extra (``pip install "skautoenc[onnx]"``).
"""

# %%
# Fit a pipeline
# --------------
# The raw pixels go in; the scaler, the autoencoder and the classifier are all part of
# what is exported.

import time

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import skautoenc.onnx  # registers the converters with skl2onnx
from skautoenc import AutoEncoder

# sphinx_gallery_start_ignore
# isort: split
# Not shown in the gallery: the tests run every example in seconds
# (SKAUTOENC_EXAMPLE_TINY=1; tests/test_examples.py also caps the epochs), and
# SKAUTOENC_MNIST=folder runs it on the MNIST idx files there.
import os

from skautoenc.datasets import load_mnist

TINY = os.environ.get("SKAUTOENC_EXAMPLE_TINY") == "1"  # a few seconds, for the tests


def load_images():
    """Images as rows of pixels in [0, 1], their labels, and the side of an image."""
    folder = os.environ.get("SKAUTOENC_MNIST")
    if not folder:
        digits = load_digits()
        return digits.data / 16.0, digits.target, 8
    X, y = load_mnist(folder)
    return X[:6000], y[:6000], 28
# sphinx_gallery_end_ignore

digits = load_digits()
X, y, side = digits.data, digits.target, 8  # raw pixel intensities, 0 to 16
# sphinx_gallery_start_ignore
X, y, side = load_images()  # the same (scaled: the pipeline's scaler does not mind)
# sphinx_gallery_end_ignore
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)
pipe = make_pipeline(
    MinMaxScaler(clip=True),
    AutoEncoder(n_components=16, random_state=0),
    LogisticRegression(max_iter=1000),
).fit(X_train, y_train)
print(f"scikit-learn accuracy on {len(X_test)} held-out images: {pipe.score(X_test, y_test):.3f}")

# %%
# Export and run with onnxruntime
# -------------------------------
# ``to_onnx`` takes one row of the input to learn its type and width: float32 here. The
# ``zipmap`` option makes the classifier's probabilities a plain matrix rather than a
# list of dictionaries.
onnx_model = to_onnx(
    pipe, X_train[:1].astype(np.float32), options={LogisticRegression: {"zipmap": False}}
)
session = ort.InferenceSession(
    onnx_model.SerializeToString(), providers=["CPUExecutionProvider"]
)
labels, probabilities = session.run(None, {"X": X_test.astype(np.float32)})

difference = np.abs(probabilities - pipe.predict_proba(X_test)).max()
print(f"largest difference of a probability: {difference:.1e}")
print(f"same labels: {bool((labels == pipe.predict(X_test)).all())}")
print(f"file size: {len(onnx_model.SerializeToString()) / 1024:.0f} KiB")
print("operators:", sorted({node.op_type for node in onnx_model.graph.node}))

# %%
# The codes, compared one by one
# ------------------------------
# The autoencoder alone exports too. Its codes from onnxruntime lie on the diagonal
# against those of ``transform``: the graph computes in float32, as the estimator does.
scaler, ae = pipe[0], pipe[1]
X_scaled = scaler.transform(X_test).astype(np.float32)
encoder = ort.InferenceSession(
    to_onnx(ae, X_scaled[:1]).SerializeToString(), providers=["CPUExecutionProvider"]
)
encoder_input = encoder.get_inputs()[0].name
codes_onnx = encoder.run(None, {encoder_input: X_scaled})[0]
codes_sklearn = ae.transform(X_scaled)

start = time.perf_counter()
ae.transform(X_scaled)
sklearn_seconds = time.perf_counter() - start
start = time.perf_counter()
encoder.run(None, {encoder_input: X_scaled})
onnx_seconds = time.perf_counter() - start
print(f"encoding {len(X_scaled)} rows: transform {1e3 * sklearn_seconds:.1f} ms, "
      f"onnxruntime {1e3 * onnx_seconds:.1f} ms")

fig, ax = plt.subplots(figsize=(4.5, 4.5))
ax.scatter(codes_sklearn.ravel(), codes_onnx.ravel(), s=4, alpha=0.4, label="code values")
low, high = codes_sklearn.min(), codes_sklearn.max()
ax.plot([low, high], [low, high], color="k", linewidth=0.8, label="identity")
ax.set_xlabel("AutoEncoder.transform")
ax.set_ylabel("onnxruntime")
ax.set_title("The same codes, in and out of Python")
ax.legend()
fig.tight_layout()

# %%
# The decoder as a model of its own
# ---------------------------------
# :func:`skautoenc.onnx.decoder_to_onnx` exports ``inverse_transform``: codes in,
# reconstructed images out. Together with the encoder it serves reconstructions.
decoder = ort.InferenceSession(
    skautoenc.onnx.decoder_to_onnx(ae).SerializeToString(),
    providers=["CPUExecutionProvider"],
)
reconstructions = decoder.run(None, {"codes": codes_onnx})[0]

n_show = 8
fig, axes = plt.subplots(3, n_show, figsize=(1.2 * n_show, 4))
rows = [
    ("held out", X_scaled),
    ("scikit-learn", ae.inverse_transform(codes_sklearn)),
    ("onnxruntime", reconstructions),
]
for r, (label, images) in enumerate(rows):
    for i in range(n_show):
        axes[r, i].imshow(images[i].reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
        axes[r, i].set_xticks([])
        axes[r, i].set_yticks([])
    axes[r, 0].set_ylabel(label)
fig.suptitle("Reconstructions from 16 numbers: the decoder in and out of Python")
fig.tight_layout()
plt.show()
