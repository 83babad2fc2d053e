"""scikit-learn estimators that fine-tune Hugging Face transformers."""

from ._classifier import TransformerClassifier
from ._embedder import TransformerEmbedder
from ._multitask import MultiTaskTransformer
from ._regressor import TransformerRegressor
from ._token_classifier import TransformerTokenClassifier
from ._transfer import FittedBackbone

__version__ = "0.1.0"

__all__ = [
    "FittedBackbone",
    "MultiTaskTransformer",
    "TransformerClassifier",
    "TransformerEmbedder",
    "TransformerRegressor",
    "TransformerTokenClassifier",
    "__version__",
]
