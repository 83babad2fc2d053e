"""The estimators: thin front ends that build their tasks from ``y``."""

from ._classifier import TransformerClassifier
from ._embedder import TransformerEmbedder
from ._multitask import MultiTaskTransformer
from ._question_answerer import TransformerQuestionAnswerer
from ._regressor import TransformerRegressor
from ._token_classifier import TransformerTokenClassifier

__all__ = [
    "MultiTaskTransformer",
    "TransformerClassifier",
    "TransformerEmbedder",
    "TransformerQuestionAnswerer",
    "TransformerRegressor",
    "TransformerTokenClassifier",
]
