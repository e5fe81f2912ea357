"""skautoenc: autoencoders as scikit-learn estimators, on PyTorch and skorch."""

# The one place of the version (pyproject.toml reads it here); set before the imports
# below, so that the modules they load can import it at their top.
__version__ = "0.2.0"

from ._autoencoder import AutoEncoder
from ._denoising import DenoisingAutoEncoder
from ._imputer import AutoEncoderImputer
from ._outlier import AutoEncoderOutlierDetector
from ._sparse import SparseAutoEncoder
from ._variational import VariationalAutoEncoder

__all__ = [
    "AutoEncoder",
    "AutoEncoderImputer",
    "AutoEncoderOutlierDetector",
    "DenoisingAutoEncoder",
    "SparseAutoEncoder",
    "VariationalAutoEncoder",
    "__version__",
]
