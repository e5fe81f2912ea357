"""The estimators' docstrings: every parameter documented, shared entries from one place."""

import re

import pytest
from numpydoc.docscrape import ClassDoc, NumpyDocString

from skautoenc import _docstrings

from .conftest import public_estimators

ESTIMATORS = public_estimators()
USER_GUIDE = {"AutoEncoder": "autoencoder", "DenoisingAutoEncoder": "denoising",
              "SparseAutoEncoder": "sparse", "VariationalAutoEncoder": "variational"}


def _entries(estimator_class, section):
    return {p.name: (p.type, "\n".join(p.desc)) for p in ClassDoc(estimator_class)[section]}


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_every_parameter_is_documented_once_and_filled_in(estimator_class):
    doc = estimator_class.__doc__
    assert not re.search(r"^\s*\{\w+\}\s*$", doc, re.M), "an unfilled placeholder"
    documented = [p.name for p in ClassDoc(estimator_class)["Parameters"]]
    assert sorted(documented) == sorted(estimator_class().get_params())
    assert f":ref:`User Guide <{USER_GUIDE[estimator_class.__name__]}>`" in doc


@pytest.mark.parametrize("section", ["Parameters", "Attributes"])
def test_shared_entries_come_from_one_place(section):
    # an entry documented by two estimators is either the shared one (identical), or named
    # in ESTIMATOR_SPECIFIC with the reason it differs: copied text that drifts fails here,
    # and so does text copied between some of the estimators instead of shared
    docs = {cls.__name__: _entries(cls, section) for cls in ESTIMATORS}
    names = {name for entries in docs.values() for name in entries}
    for name in sorted(names):
        holders = {cls: entries[name] for cls, entries in docs.items() if name in entries}
        if len(holders) < 2:
            continue
        if name not in _docstrings.ESTIMATOR_SPECIFIC:
            assert name in _docstrings.SHARED, (
                f"{name} is documented by {sorted(holders)} with its own text: move it to "
                "skautoenc._docstrings.SHARED, or say in ESTIMATOR_SPECIFIC why it differs"
            )
            assert len(set(holders.values())) == 1, f"{name} differs between {sorted(holders)}"
        copies = {}
        for cls, text in holders.items():
            copies.setdefault(text, []).append(cls)
        for text, classes in copies.items():
            if len(classes) > 1:
                assert text == _shared_entry(name, section), (
                    f"{name} is copied between {sorted(classes)}: share it through "
                    "skautoenc._docstrings.SHARED"
                )


def _shared_entry(name, section):
    """The shared entry of ``name`` as numpydoc reads it, or None."""
    if name not in _docstrings.SHARED:
        return None
    doc = NumpyDocString(f"{section}\n{'-' * len(section)}\n{_docstrings.SHARED[name]}\n")
    (entry,) = doc[section]
    return entry.type, "\n".join(entry.desc)


def test_shared_entries_are_used_and_specific_ones_differ():
    sources = {cls.__name__: cls.__doc__ for cls in ESTIMATORS}
    for name, entry in _docstrings.SHARED.items():
        header = entry.splitlines()[0]
        assert any(header in doc for doc in sources.values()), f"{name} is used nowhere"
    for name in _docstrings.ESTIMATOR_SPECIFIC:
        texts = {
            entries[name]
            for cls in ESTIMATORS
            for section in ("Parameters", "Attributes")
            if name in (entries := _entries(cls, section))
        }
        assert len(texts) > 1, (
            f"{name} reads the same everywhere now: share it instead"
        )


def test_an_unknown_placeholder_is_an_error():
    class Thing:
        """Parameters
        ----------
        {no_such_entry}
        """

    with pytest.raises(KeyError, match="no_such_entry"):
        _docstrings.fill_doc(Thing)



def test_fill_doc_leaves_a_class_without_docstring_alone():
    # python -OO strips docstrings (skorch 1.4 itself does not import then, but the
    # decorator must not be what fails)
    class Bare:
        pass

    assert _docstrings.fill_doc(Bare) is Bare and Bare.__doc__ is None
