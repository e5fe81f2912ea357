"""scikit-learn's own estimator checks on every public estimator."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skautoenc import (
    AutoEncoder,
    AutoEncoderImputer,
    AutoEncoderOutlierDetector,
    DenoisingAutoEncoder,
    SparseAutoEncoder,
    VariationalAutoEncoder,
)

from ._networks import TinyDecoder, TinyEncoder, TinyGaussianEncoder, WindowConvEncoder

# fitting checks' data (values near 3 and near 100) with loss="auto" or a Gaussian VAE
# rightly notes the scale each time; the notes are tested in test_autoencoder.py and
# test_variational.py
pytestmark = pytest.mark.filterwarnings("ignore:X ranges over:UserWarning")

# Tiny networks and few epochs: the checks test the API contract, not model quality.
TINY = dict(hidden_layer_sizes=(8,), max_iter=3, batch_size=16)
TINY_PRETRAINING = dict(TINY, pretraining_max_iter=2)

ESTIMATORS = [
    AutoEncoder(n_components=2, **TINY),
    AutoEncoder(n_components=2, early_stopping=True, **TINY),
    DenoisingAutoEncoder(n_components=2, **TINY),
    DenoisingAutoEncoder(n_components=2, noise="masking", early_stopping=True, **TINY),
    DenoisingAutoEncoder(n_components=2, noise="salt_and_pepper", **TINY),
    SparseAutoEncoder(n_components=2, **TINY),
    SparseAutoEncoder(n_components=2, early_stopping=True, **TINY),
    VariationalAutoEncoder(n_components=2, **TINY),
    VariationalAutoEncoder(n_components=2, n_mc_samples=2, beta=0.5, early_stopping=True, **TINY),
    # conditional: p(x | y), y as class labels and as numeric values (y required)
    VariationalAutoEncoder(n_components=2, conditional=True, **TINY),
    VariationalAutoEncoder(n_components=2, conditional="values", early_stopping=True,
                           missing_values=np.nan, **TINY),
    AutoEncoder(n_components=2, activation="logistic", pretraining="rbm", **TINY_PRETRAINING),
    AutoEncoder(n_components=2, pretraining="autoencoder", **TINY_PRETRAINING),
    DenoisingAutoEncoder(n_components=2, pretraining="autoencoder", **TINY_PRETRAINING),
    SparseAutoEncoder(
        n_components=2, activation="logistic", pretraining="rbm", **TINY_PRETRAINING
    ),
    # missing values accepted (tagged allow_nan): the same contract holds
    AutoEncoder(n_components=2, missing_values=np.nan, **TINY),
    DenoisingAutoEncoder(n_components=2, noise="masking", missing_values=np.nan, **TINY),
    SparseAutoEncoder(n_components=2, missing_values=np.nan, early_stopping=True, **TINY),
    VariationalAutoEncoder(n_components=2, missing_values=np.nan, **TINY),
    # a user's own modules, with their own parameters (encoder__width)
    AutoEncoder(n_components=2, encoder=TinyEncoder, decoder=TinyDecoder, encoder__width=6,
                **TINY),
    SparseAutoEncoder(n_components=2, encoder=WindowConvEncoder, decoder=TinyDecoder, **TINY),
    VariationalAutoEncoder(n_components=2, encoder=TinyGaussianEncoder, decoder="mlp", **TINY),
    DenoisingAutoEncoder(n_components=2, encoder=TinyEncoder, decoder=TinyDecoder,
                         missing_values=np.nan, **TINY),
    # the imputer, with NaN and with a number as the placeholder
    AutoEncoderImputer(n_components=2, **TINY),
    AutoEncoderImputer(n_components=2, add_indicator=True, keep_empty_features=True, **TINY),
    AutoEncoderImputer(n_components=2, missing_values=-1, early_stopping=True, **TINY),
]


def expected_failed_checks(estimator):
    """The checks that a model conditioned on numeric values cannot pass, and why."""
    if getattr(estimator, "conditional", False) != "values":
        return {}
    why = ("score_samples of a model conditioned on numeric values needs the conditions "
           "y of the rows (there is no prior over numbers to sum over, as there is over "
           "classes), and the check calls it with X alone; transform, which needs no y, "
           "passes the same check in the model conditioned on classes")
    return {"check_methods_sample_order_invariance": why,
            "check_methods_subset_invariance": why}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# The conv network on images of one row, (1, -1): each row of a check's data (of any
# width) is an image of one pixel's height, so every check runs on it.
CONV = dict(TINY, image_shape=(1, -1), encoder="conv", conv_channels=(3,))
CONV_ESTIMATORS = [
    AutoEncoder(n_components=2, **CONV),
    DenoisingAutoEncoder(n_components=2, **CONV),
    SparseAutoEncoder(n_components=2, early_stopping=True, **CONV),
    VariationalAutoEncoder(n_components=2, **CONV),
    VariationalAutoEncoder(n_components=2, conditional="classes", **CONV),
    AutoEncoder(n_components=2, missing_values=np.nan, **CONV),
    AutoEncoderImputer(n_components=2, **CONV),
]


@parametrize_with_checks(CONV_ESTIMATORS)
def test_sklearn_compatible_conv_estimator(estimator, check):
    check(estimator)


# The outlier detector, on each kind of autoencoder, with either score and threshold
DETECTORS = [
    AutoEncoderOutlierDetector(AutoEncoder(n_components=2, **TINY)),
    AutoEncoderOutlierDetector(AutoEncoder(n_components=2, **TINY), contamination=0.1,
                               error="standardized"),
    AutoEncoderOutlierDetector(DenoisingAutoEncoder(n_components=2, **TINY), n_estimators=2),
    AutoEncoderOutlierDetector(SparseAutoEncoder(n_components=2, **TINY), contamination=0.2),
    AutoEncoderOutlierDetector(VariationalAutoEncoder(n_components=2, **TINY)),
    AutoEncoderOutlierDetector(AutoEncoder(n_components=2, **CONV)),
    AutoEncoderOutlierDetector(AutoEncoder(n_components=2, **TINY), missing_values=np.nan),
]


@parametrize_with_checks(DETECTORS)
def test_sklearn_compatible_outlier_detector(estimator, check):
    check(estimator)
