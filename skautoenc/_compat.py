"""Every private name that skautoenc takes from its dependencies, and only here.

A private name (one with a leading underscore, in a module or as the name itself) can
move or disappear in a minor release of the package that owns it. skautoenc uses a
public equivalent wherever one exists; the names below have none. They are imported
here and nowhere else (``tests/test_compat.py`` fails on a private import anywhere
else), so that a release that moves one breaks this file alone, and the fix is made
once. For each: where it lives, why it is used, and what to do when it moves.

``sklearn-compat`` (the package imbalanced-learn routes scikit-learn's private helpers
through) was considered. It backports ``validate_data``, ``_fit_context`` and the tags to
scikit-learn releases older than 1.6, which skautoenc does not support (it needs 1.6 for
``validate_data`` and ``__sklearn_tags__``); for 1.6 and later it re-exports the same
private names from the same places. It would add a dependency and hide nothing, so the
names are imported directly, here.
"""

# scikit-learn ----------------------------------------------------------------------

#: ``sklearn.base._fit_context`` (scikit-learn >= 1.3): the decorator of ``fit`` that
#: validates the parameters against ``_parameter_constraints`` once per call (and not
#: again in nested estimators' fits) and applies ``set_config`` contexts. It is what
#: scikit-learn's own estimators use and what its developer guide tells third-party
#: estimators to use; there is no public spelling. If it moves: call
#: ``self._validate_params()`` (public in behaviour, checked by
#: ``check_param_validation``) at the top of each ``fit`` instead.
from sklearn.base import _fit_context

#: ``sklearn.utils._param_validation`` (scikit-learn >= 1.2): the constraint objects of
#: ``_parameter_constraints``, which ``_fit_context`` and scikit-learn's
#: ``check_param_validation`` read. Documented in the developer guide, in a private
#: module. If they move: import them from their new home here; the constraints would
#: otherwise be checked by hand in each ``fit``, with messages of our own.
from sklearn.utils._param_validation import Interval, MissingValues, StrOptions

# skorch --------------------------------------------------------------------------------


class SkipRedundantModeSwitch:
    """A mixin for a skorch ``NeuralNet``: its ``_set_training`` (skorch >= 0.10; private)
    sets the mode of every submodule of the module and of the criterion before every
    batch, which is a measurable share of a small network's epoch; this override skips
    it when both are already in the mode asked for. skorch has no public hook for it.
    If it moves or changes its signature: delete this mixin (the networks train the
    same, a little slower)."""

    def _set_training(self, training=True):
        if self.module_.training != training or self.criterion_.training != training:
            super()._set_training(training)


def validate_params(estimator):
    """Check ``estimator``'s parameters against its ``_parameter_constraints``, as its
    ``fit`` would, with ``BaseEstimator._validate_params`` (scikit-learn >= 1.2; private,
    and what ``_fit_context`` calls). Used where a fit starts elsewhere (in other
    processes) and a bad parameter should fail here first. If it moves: do nothing here
    (the fit still refuses the parameter, in each process)."""
    check = getattr(estimator, "_validate_params", None)
    if check is not None:
        check()


__all__ = [
    "Interval",
    "MissingValues",
    "SkipRedundantModeSwitch",
    "StrOptions",
    "_fit_context",
    "validate_params",
]
