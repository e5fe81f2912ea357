"""Does a pipeline exported to ONNX give the same answers as scikit-learn, as fast?

For every skautoenc estimator: ``Pipeline([MinMaxScaler, estimator, LogisticRegression])``
fitted on the training split, exported with ``skl2onnx.to_onnx`` (after
``import skautoenc.onnx``) and run with onnxruntime on the held-out rows: the largest
difference from ``predict_proba``, whether the labels agree, the estimator's
``transform`` against the exported estimator alone in batch (all held-out rows at once)
and one row at a time (latency), and the exported file's size against the float32
weights it needs (the encoder's; the decoder's for :func:`skautoenc.onnx.decoder_to_onnx`).
Timings alternate between the two contenders; medians.

    python benchmarks/bench_onnx.py --data ../shared/data/mnist --out results/onnx.json
"""

import argparse
import statistics
import time
import warnings

import numpy as np
import onnxruntime as ort
from _data import format_table, load_dataset, machine, write_json
from skl2onnx import to_onnx
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import skautoenc.onnx
from skautoenc import (
    AutoEncoder,
    DenoisingAutoEncoder,
    SparseAutoEncoder,
    VariationalAutoEncoder,
)

ESTIMATORS = (AutoEncoder, DenoisingAutoEncoder, SparseAutoEncoder, VariationalAutoEncoder)


def session(model):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def weight_bytes(module):
    return sum(4 * p.numel() for p in module.parameters())


def bench(cls, X_train, y_train, X_test, n_components, epochs, repeats, n_single):
    estimator = cls(n_components=n_components, max_iter=epochs, random_state=0)
    pipe = make_pipeline(MinMaxScaler(clip=True), estimator, LogisticRegression(max_iter=500))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X_train, y_train)
    X32 = X_test.astype(np.float32)
    exported = to_onnx(pipe, X32[:1], options={LogisticRegression: {"zipmap": False}})
    labels, probabilities = session(exported).run(None, {"X": X32})

    scaled = pipe[0].transform(X_test).astype(np.float32)
    encoder_model = to_onnx(estimator, scaled[:1])
    encoder = session(encoder_model)
    name = encoder.get_inputs()[0].name
    codes = encoder.run(None, {name: scaled})[0]
    decoder_model = skautoenc.onnx.decoder_to_onnx(estimator)

    batch = {"transform": [], "onnxruntime": []}
    single = {"transform": [], "onnxruntime": []}
    rows = [scaled[i : i + 1] for i in range(n_single)]
    for _ in range(repeats):  # alternate, so both see the same machine
        batch["transform"].append(seconds(lambda: estimator.transform(scaled)))
        batch["onnxruntime"].append(seconds(lambda: encoder.run(None, {name: scaled})))
        single["transform"].append(
            seconds(lambda: [estimator.transform(r) for r in rows]) / n_single
        )
        single["onnxruntime"].append(
            seconds(lambda: [encoder.run(None, {name: r}) for r in rows]) / n_single
        )
    batch = {k: statistics.median(v) for k, v in batch.items()}
    single = {k: statistics.median(v) for k, v in single.items()}
    module = estimator.net_.module_
    encoder_weights = weight_bytes(module.encoder)
    decoder_weights = weight_bytes(module.decoder)
    return {
        "estimator": cls.__name__,
        "max |proba diff|": float(np.abs(probabilities - pipe.predict_proba(X_test)).max()),
        "labels equal": bool((labels == pipe.predict(X_test)).all()),
        "max |codes diff|": float(np.abs(codes - estimator.transform(scaled)).max()),
        "batch transform s": batch["transform"],
        "batch onnxruntime s": batch["onnxruntime"],
        "batch speed-up": batch["transform"] / batch["onnxruntime"],
        "1-row transform ms": 1e3 * single["transform"],
        "1-row onnxruntime ms": 1e3 * single["onnxruntime"],
        "encoder file / weights": len(encoder_model.SerializeToString()) / encoder_weights,
        "decoder file / weights": len(decoder_model.SerializeToString()) / decoder_weights,
        "encoder weights MiB": encoder_weights / 2**20,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with the MNIST idx files (default: digits)")
    parser.add_argument("--n-components", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=5,
                        help="training epochs: the comparison does not depend on them")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--single-rows", type=int, default=200)
    parser.add_argument("--n-train", type=int, default=8000)
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args(argv)
    X_train, X_test, y_train, _, name = load_dataset(args.data, n_train=args.n_train)
    if name == "digits":
        X_train, X_test = X_train * 16, X_test * 16  # raw pixels: the scaler is in the graph
    print(f"data: {name}, train {X_train.shape}, held out {X_test.shape}; "
          f"onnxruntime {ort.__version__}, {ort.get_device()}")
    rows = []
    for cls in ESTIMATORS:
        rows.append(bench(cls, X_train, y_train, X_test, args.n_components, args.epochs,
                          args.repeats, args.single_rows))
        print(format_table(rows[-1:]), flush=True)
    print()
    print(format_table(rows))
    write_json(args.out, {"machine": machine(), "data": name, "args": vars(args),
                          "onnxruntime": ort.__version__, "rows": rows})


if __name__ == "__main__":
    main()
