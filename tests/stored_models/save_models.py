"""Save one fitted model of each estimator with the installed skautoenc, for
tests/test_stored_models.py: run it once per release, with that release installed.

    python tests/stored_models/save_models.py

It writes ``tests/stored_models/<version>/``: each model pickled and saved with
skops.io, and ``expected.npz``, what each answered when it was saved. Later versions must
load them and answer the same (the storage format of a released version stays readable).
"""

import pickle
import warnings
from pathlib import Path

import numpy as np
import skops.io as sio

import skautoenc
from skautoenc import (
    AutoEncoder,
    AutoEncoderImputer,
    AutoEncoderOutlierDetector,
    DenoisingAutoEncoder,
    SparseAutoEncoder,
    VariationalAutoEncoder,
)

TINY = dict(hidden_layer_sizes=(6,), max_iter=3, batch_size=16, random_state=0)


def data():
    """The rows every model is fitted on and answers for: 60 x 5 in [0, 1]."""
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(60, 5))
    X_missing = X.copy()
    X_missing[rng.uniform(size=X.shape) < 0.2] = np.nan
    return X, X_missing, (X[:, 0] > 0.5).astype(int)


def models():
    """``{name: fitted model}``."""
    X, X_missing, y = data()
    out = {cls.__name__: cls(n_components=2, **TINY).fit(X)
           for cls in (AutoEncoder, DenoisingAutoEncoder, SparseAutoEncoder,
                       VariationalAutoEncoder)}
    out["AutoEncoder-missing"] = AutoEncoder(n_components=2, missing_values=np.nan,
                                             **TINY).fit(X_missing)
    out["VariationalAutoEncoder-conditional"] = VariationalAutoEncoder(
        n_components=2, conditional=True, **TINY).fit(X, y)
    out["AutoEncoderImputer"] = AutoEncoderImputer(n_components=2, add_indicator=True,
                                                   **TINY).fit(X_missing)
    out["AutoEncoderOutlierDetector"] = AutoEncoderOutlierDetector(
        AutoEncoder(n_components=2, **TINY), n_estimators=1, random_state=0).fit(X)
    return out


def answers(model, name):
    """``{output name: array}``: what the model ``name`` of :func:`models` answers on
    :func:`data`; stored when it is saved, and compared when a later version loads it."""
    X, X_missing, y = data()
    if name == "AutoEncoder-missing":
        return {"transform": model.transform(X_missing)}
    if name == "VariationalAutoEncoder-conditional":
        return {"transform": model.transform(X), "score_samples": model.score_samples(X, y),
                "sample": model.sample(3, y=1, random_state=0)}
    if name == "AutoEncoderImputer":
        return {"transform": model.transform(X_missing)}
    if name == "AutoEncoderOutlierDetector":
        return {"decision_function": model.decision_function(X)}
    return {"transform": model.transform(X), "score_samples": model.score_samples(X)}


def main():
    folder = Path(__file__).parent / skautoenc.__version__
    folder.mkdir(exist_ok=True)
    expected = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = models()
    for name, model in fitted.items():
        (folder / f"{name}.pkl").write_bytes(pickle.dumps(model))
        sio.dump(model, folder / f"{name}.skops")
        expected.update({f"{name}/{key}": value
                         for key, value in answers(model, name).items()})
    np.savez(folder / "expected.npz", **expected)
    print(f"wrote {len(fitted)} models to {folder}")


if __name__ == "__main__":
    main()
