"""Decoding a head's outputs, shared by the tasks and the torch-free ONNX runtime.

NumPy only: the estimators (through their tasks) and :mod:`sktransformers.onnx`
turn logits into probabilities and labels with these same functions, so an
export predicts what the estimator predicts.
"""

from __future__ import annotations

import numpy as np


def softmax(logits):
    """Probabilities over the last axis, computed stably in float64."""
    logits = np.asarray(logits, dtype=np.float64)
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(logits):
    """Independent per-label probabilities (multi-label), in float64."""
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))


def labels_from_json(values, dtype):
    """Labels saved as JSON values with their numpy dtype string (``"object"`` for mixed)."""
    return np.asarray(values, dtype=object if dtype == "object" else np.dtype(dtype))


def unscale(output, mean, scale):
    """Regression outputs back on the scale of ``y`` (targets were standardised)."""
    return np.asarray(output, dtype=np.float64) * scale + mean
