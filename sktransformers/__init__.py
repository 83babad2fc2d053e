"""scikit-learn estimators that fine-tune Hugging Face transformers."""

from ._classifier import TransformerClassifier
from ._regressor import TransformerRegressor

__version__ = "0.1.0"

__all__ = ["TransformerClassifier", "TransformerRegressor", "__version__"]
