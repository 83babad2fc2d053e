"""Learning from few labels: contrastive few-shot training and self-training."""

from ._fewshot import FewShotClassifier
from ._self_training import TextSelfTrainingClassifier

__all__ = ["FewShotClassifier", "TextSelfTrainingClassifier"]
