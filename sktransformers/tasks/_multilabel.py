"""Multi-label classification: several 0/1 labels per text."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..utils._decoding import sigmoid
from ._base import Task
from ._classification import _export_labels, _label_index, _scalar


# ----------------------------------------------------------------------
# Multi-label classification
# ----------------------------------------------------------------------
def is_multilabel(y):
    """Whether ``y`` is a 2-D indicator matrix (dense, DataFrame or sparse)."""
    import scipy.sparse as sp

    if sp.issparse(y):
        return True
    if isinstance(y, pd.DataFrame):
        return y.shape[1] > 1 or False
    arr = np.asarray(y) if not isinstance(y, (list, tuple)) else None
    if arr is None:
        if not y or not isinstance(y[0], (list, tuple, np.ndarray)):
            return False
        try:
            arr = np.asarray(y)
        except ValueError:
            return False
    return arr.ndim == 2 and arr.shape[1] > 1


def check_indicator(y):
    """A dense float (n, n_labels) 0/1 matrix and the column names (or None)."""
    import scipy.sparse as sp

    names = None
    if isinstance(y, pd.DataFrame):
        names = [str(c) for c in y.columns]
        values = y.to_numpy()
    elif sp.issparse(y):
        values = y.toarray()
    else:
        values = np.asarray(y)
    if values.ndim != 2:
        raise ValueError(f"A multi-label y must be 2-dimensional, got shape {values.shape}.")
    if values.shape[0] == 0:
        raise ValueError("y is empty.")
    try:
        values = values.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            "A multi-label y must hold 0/1 indicators (one column per label)."
        ) from None
    if np.isnan(values).any():
        raise ValueError("A multi-label y has missing values (NaN); use 0 or 1 for each label.")
    if not np.isin(values, (0.0, 1.0)).all():
        raise ValueError(
            "A multi-label y must hold only 0 and 1 (one column per label); for several "
            "targets of other kinds use MultiTaskTransformer."
        )
    return values, names


def label_thresholds(model, n_labels):
    """A multi-label model's decision threshold for each label (a torch or ONNX model).

    ``threshold`` as the model holds it now: a number for every label, one
    per label (an ONNX export of ``threshold="auto"``), or ``"auto"`` (the
    ``thresholds_`` chosen at fit).
    """
    threshold = getattr(model, "threshold", 0.5)
    if isinstance(threshold, str) and threshold == "auto":
        threshold = model.thresholds_
    return np.broadcast_to(np.asarray(threshold, dtype=float), (n_labels,))


class MultiLabelTask(Task):
    """Several 0/1 labels per text; sigmoid outputs, binary cross-entropy.

    Parameters
    ----------
    n_labels : int
    label_names : list of str or None
        Column names of a DataFrame ``y``.
    pos_weight : ndarray or None
        Weight of the positive entries of each label in the loss (rare labels).
    """

    kind = "multilabel"
    deploy_kind = "classifier"
    description = "multilabel classification"
    score_name = "subset accuracy"
    target_what = "labels"

    def __init__(self, n_labels, label_names=None, pos_weight=None, name="default"):
        super().__init__(name)
        self.n_labels = int(n_labels)
        self.label_names = None if label_names is None else list(label_names)
        self.pos_weight = None if pos_weight is None else np.asarray(pos_weight, float)

    @classmethod
    def from_targets(cls, y, *, class_weight=None, name="default"):
        values, names = check_indicator(y)
        n_labels = values.shape[1]
        pos_weight = None
        if class_weight == "balanced":
            positives = values.sum(axis=0)
            negatives = len(values) - positives
            degenerate = (positives == 0) | (negatives == 0)
            if degenerate.any():
                keys = names or list(range(n_labels))
                always = [keys[j] for j in np.flatnonzero(negatives == 0)]
                never = [keys[j] for j in np.flatnonzero(positives == 0)]
                parts = ([f"labels {always} are set in every row"] if always else []) + (
                    [f"labels {never} are set in no row"] if never else []
                )
                warnings.warn(
                    f"class_weight='balanced': {' and '.join(parts)}, so negatives / "
                    "positives is no weight for them (0 would stop them from being learned); "
                    "they get weight 1. Such a label teaches the model nothing from this y.",
                    UserWarning,
                    stacklevel=5,
                )
            pos_weight = np.where(degenerate, 1.0, negatives / np.maximum(positives, 1))
        elif isinstance(class_weight, dict):
            pos_weight = np.ones(n_labels)
            keys = names or list(range(n_labels))
            for label, weight in class_weight.items():
                if label not in keys:
                    raise ValueError(
                        f"class_weight names label {label!r}, which is not a column of y "
                        f"(the labels are {keys})."
                    )
                pos_weight[keys.index(label)] = float(weight)
        return cls(n_labels, names, pos_weight, name=name)

    @property
    def head_size(self):
        return self.n_labels

    def encode(self, y):
        values, _ = check_indicator(y)
        if values.shape[1] != self.n_labels:
            raise ValueError(
                f"y has {values.shape[1]} labels; the model was fitted with {self.n_labels}."
            )
        return values.astype(np.float32)

    def loss(self, output, target):
        import torch

        mask = ~torch.isnan(target)
        safe = torch.where(mask, target, torch.zeros_like(target))
        pos_weight = None
        if self.pos_weight is not None:
            pos_weight = self._on_device("pos_weight", self.pos_weight, output)
        per_entry = torch.nn.functional.binary_cross_entropy_with_logits(
            output.float(), safe, reduction="none", pos_weight=pos_weight
        )
        m = mask.to(per_entry.dtype)
        return (per_entry * m).sum(), m.sum()

    def probabilities(self, output):
        return sigmoid(output)

    def decode(self, output, threshold=0.5):
        return (self.probabilities(output) >= threshold).astype(np.int64)

    def choose_thresholds(self, proba, target):
        """Per-label thresholds that maximise each label's F1 on held-out rows.

        Candidates are 0.05, 0.10, ..., 0.95; a tie goes to the candidate
        nearest 0.5, and a label without a positive (or a negative) among the
        held-out rows keeps 0.5.

        Parameters
        ----------
        proba : ndarray of shape (n_rows, n_labels)
            Predicted probabilities of the held-out rows.
        target : ndarray of shape (n_rows, n_labels)
            Their 0/1 targets (NaN: unknown).

        Returns
        -------
        thresholds : ndarray of shape (n_labels,)
        """
        grid = np.round(np.arange(0.05, 0.951, 0.05), 2)
        order = np.argsort(np.abs(grid - 0.5), kind="stable")  # ties: nearest 0.5
        thresholds = np.full(self.n_labels, 0.5)
        for j in range(self.n_labels):
            known = ~np.isnan(target[:, j])
            truth = target[known, j] > 0.5
            if truth.all() or not truth.any():
                continue
            predicted = proba[known, j][:, None] >= grid[None, :]
            tp = (predicted & truth[:, None]).sum(axis=0)
            f1 = 2 * tp / (predicted.sum(axis=0) + truth.sum())
            thresholds[j] = grid[order[np.argmax(f1[order])]]
        return thresholds

    def validation_score(self, output, target):
        """Subset accuracy (every label right), scikit-learn's multi-label ``score``."""
        keep = ~np.isnan(target).any(axis=1)
        if not keep.any():
            return None
        predicted = output[keep] >= 0.0
        return float((predicted == (target[keep] > 0.5)).all(axis=1).mean())

    def export_metadata(self, estimator):
        threshold = getattr(estimator, "threshold", 0.5)
        if isinstance(threshold, str) and threshold == "auto":  # one per label, as chosen
            threshold = [float(t) for t in estimator.thresholds_]
        else:
            threshold = 0.5 if threshold is None else float(threshold)
        names = self.label_names
        return {
            **_export_labels(estimator.classes_),
            "multilabel": True,
            "threshold": threshold,
            "label_names": None if names is None else [str(n) for n in names],
        }

    @classmethod
    def serve_predictions(cls, model, texts):
        proba = np.asarray(model.predict_proba(texts))
        classes = [_scalar(c) for c in np.asarray(model.classes_).tolist()]
        names = getattr(model, "label_names_", None) or classes
        thresholds = label_thresholds(model, len(names))
        return [
            {
                "labels": [c for c, p, t in zip(names, row, thresholds) if p >= t],
                "probabilities": dict(zip(map(str, names), map(float, row))),
            }
            for row in proba
        ]

    def explain_target(self, target, estimator):
        if target is None:
            return None
        names = self.label_names
        if names is not None and target in names:
            return names.index(target)
        choices = None
        if names is not None:
            choices = f"{np.asarray(estimator.classes_).tolist()} (label names {names})"
        return _label_index(estimator.classes_, target, "classes", choices)

    def target_name(self, index, estimator):
        if self.label_names is not None:
            return self.label_names[index]
        return _scalar(np.asarray(estimator.classes_)[index])

    def explained_output(self, target, columns):
        """The log-probability (sigmoid) of label ``target``."""
        import torch

        return lambda z: torch.nn.functional.logsigmoid(z[:, target])

    def explained_prediction(self, logits, estimator):
        """As ``predict``: a 0/1 indicator per label at the estimator's thresholds."""
        proba = self.probabilities(logits)
        return (proba >= label_thresholds(estimator, proba.shape[-1])).astype(np.int64)

    def to_json(self):
        return {
            **super().to_json(),
            "n_labels": self.n_labels,
            "label_names": self.label_names,
            "pos_weight": None if self.pos_weight is None else self.pos_weight.tolist(),
        }

    @classmethod
    def check_json(cls, path, task, where):
        """Validate a saved entry of this kind (a file a user loads); returns the head size."""
        from ..utils._schema import MAX_LABELS, fail, want_int, want_numbers

        size = want_int(path, task, "n_labels", 1, MAX_LABELS, f"{where}.n_labels")
        names = task.get("label_names")
        if names is not None and (not isinstance(names, list) or len(names) != size):
            fail(path, f"'{where}.label_names' should be null or a list of {size} names.")
        if task.get("pos_weight") is not None:
            want_numbers(path, task["pos_weight"], f"{where}.pos_weight", length=size)
        return size

    @classmethod
    def from_json(cls, data):
        return cls(
            data["n_labels"],
            data.get("label_names"),
            data.get("pos_weight"),
            name=data.get("name", "default"),
        )
