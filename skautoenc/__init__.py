"""skautoenc: autoencoders as scikit-learn estimators, on PyTorch and skorch."""

from ._autoencoder import AutoEncoder
from ._denoising import DenoisingAutoEncoder
from ._sparse import SparseAutoEncoder
from ._variational import VariationalAutoEncoder

__version__ = "0.1.0"

__all__ = [
    "AutoEncoder",
    "DenoisingAutoEncoder",
    "SparseAutoEncoder",
    "VariationalAutoEncoder",
    "__version__",
]
