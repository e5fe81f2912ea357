"""Models saved by each released version of skautoenc load and answer as they did.

``tests/stored_models/<version>/`` holds, for each release, one model of each estimator
saved by that release (pickle and skops.io) and what it answered then; the folders are
written by ``tests/stored_models/save_models.py``. A change to the storage format must keep
these loading, or say in the changelog that it drops them.
"""

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest

import skautoenc
from skautoenc._persistence import FORMAT_VERSION

from .stored_models.save_models import answers

STORED = Path(__file__).parent / "stored_models"
RELEASES = sorted(p.name for p in STORED.iterdir() if p.is_dir() and p.name[0].isdigit())
CASES = [(release, path.stem, path.suffix)
         for release in RELEASES
         for path in sorted((STORED / release).glob("*.*"))
         if path.suffix in (".pkl", ".skops")]


def _load(path):
    with warnings.catch_warnings():
        # a model saved by another version says so when it loads: expected here
        warnings.filterwarnings("ignore", message="This .* was saved with skautoenc")
        if path.suffix == ".pkl":
            return pickle.loads(path.read_bytes())
        sio = pytest.importorskip("skops.io")
        return sio.load(path, trusted=sio.get_untrusted_types(file=path))


def test_the_first_release_is_stored():
    assert "0.2.0" in RELEASES
    assert len([c for c in CASES if c[0] == "0.2.0"]) == 16  # 8 models, 2 ways each


@pytest.mark.parametrize("release, name, suffix", CASES,
                         ids=[f"{r}-{n}{s}" for r, n, s in CASES])
def test_a_model_saved_by_a_release_loads_and_answers_the_same(release, name, suffix):
    model = _load(STORED / release / f"{name}{suffix}")
    expected = np.load(STORED / release / "expected.npz")
    for key, value in answers(model, name).items():
        # another CPU may round float32 products differently: close, not equal
        np.testing.assert_allclose(value, expected[f"{name}/{key}"], rtol=1e-5, atol=1e-6)


def test_a_newer_format_is_refused_naming_both_versions():
    model = _load(STORED / RELEASES[-1] / "AutoEncoder.pkl")
    state = model.__getstate__()
    state["_skautoenc_format"] = FORMAT_VERSION + 1
    state["_skautoenc_version"] = "9.0.0"
    fresh = type(model).__new__(type(model))
    with pytest.raises(ValueError, match=(
        rf"saved by skautoenc 9\.0\.0 in storage format {FORMAT_VERSION + 1}, which "
        rf"skautoenc {skautoenc.__version__} cannot read \(it reads format "
        rf"{FORMAT_VERSION}\)\. Upgrade skautoenc")):
        fresh.__setstate__(state)
    assert not fresh.__dict__  # nothing half set
