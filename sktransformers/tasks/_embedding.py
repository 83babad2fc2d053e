"""Embeddings (TransformerEmbedder): a vector per text, nothing trained."""

from __future__ import annotations

import numpy as np

from ._base import Task


# ----------------------------------------------------------------------
# Embeddings (TransformerEmbedder: nothing is trained)
# ----------------------------------------------------------------------
class EmbeddingTask(Task):
    """A pooled, optionally normalised vector per text; no head and no loss.

    Parameters
    ----------
    pooling : {"mean", "cls"}
    normalize : bool
    n_features : int
        Length of the vectors (the backbone's hidden size).
    """

    kind = "embedding"
    deploy_kind = "embedder"
    description = "embedding"
    endpoint = "transform"
    accepts = "any"

    def __init__(self, pooling, normalize, n_features, name="default"):
        super().__init__(name)
        self.pooling = pooling
        self.normalize = bool(normalize)
        self.n_features = int(n_features)

    @property
    def head_size(self):
        return 0

    def export_metadata(self, estimator):
        return {
            "pooling": self.pooling,
            "normalize": self.normalize,
            "n_features_out": self.n_features,
        }

    @classmethod
    def serve_predictions(cls, model, texts):
        return [
            {"embedding": row.tolist()}
            for row in np.asarray(model.transform(texts), dtype=np.float32)
        ]

    def to_json(self):
        return {
            **super().to_json(),
            "pooling": self.pooling,
            "normalize": self.normalize,
            "n_features": self.n_features,
        }

    @classmethod
    def from_json(cls, data):
        return cls(
            data["pooling"], data["normalize"], data["n_features"], name=data.get("name", "default")
        )
