"""Classification (binary and multi-class): one label per text."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..utils._decoding import softmax
from ._base import Task, _json_labels, _labels_from_json


# ----------------------------------------------------------------------
# Classification (binary and multi-class)
# ----------------------------------------------------------------------
def check_labels(y, *, allow_missing=False, what="y"):
    """1-D labels as given (ints made float by NaNs back to int); clear errors."""
    if y is None:
        raise ValueError(f"{what} is None; one label per text is needed.")
    raw = y.to_numpy() if hasattr(y, "to_numpy") else y
    if isinstance(raw, (list, tuple)) and len({isinstance(v, str) for v in raw}) > 1:
        # np.asarray would silently turn ["pos", 1] into the strings ["pos", "1"].
        raw = np.asarray(raw, dtype=object)
    try:
        y = np.asarray(raw)
    except ValueError:  # entries that are sequences of different lengths
        raise ValueError(
            f"{what} must be 1-dimensional (one label per text), but its entries are sequences "
            "of different lengths; for several labels per text pass a 0/1 indicator matrix "
            "(one column per label)."
        ) from None
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"{what} must be 1-dimensional (one label per text), got shape {y.shape}.")
    if len(y) == 0:
        raise ValueError(f"{what} is empty.")
    missing = np.asarray(pd.isna(y), dtype=bool)
    if missing.any() and not allow_missing:
        raise ValueError(
            f"{what} has {int(missing.sum())} missing labels (None/NaN), first at row "
            f"{int(np.flatnonzero(missing)[0])}; drop those rows first."
        )
    return y, missing


def _normalise_labels(values):
    """Class labels as given; integral floats (ints turned float by NaN) back to int."""
    values = np.asarray(values)
    if values.dtype == object:
        kinds = {type(v) for v in values}
        numeric = all(
            issubclass(k, (int, float, np.number)) and not issubclass(k, bool) for k in kinds
        )
        if len(kinds) > 1 and not numeric:
            raise TypeError(f"mixes label types {sorted(k.__name__ for k in kinds)}.")
        if numeric and kinds:
            values = values.astype(np.float64)
    if values.dtype.kind == "f" and len(values) and np.all(np.mod(values, 1) == 0):
        values = values.astype(np.int64)
    return values


class ClassificationTask(Task):
    """One label per text among ``classes``; softmax outputs, cross-entropy loss.

    Parameters
    ----------
    classes : ndarray
        Sorted class labels.
    class_weight : ndarray or None
        Weight of each class in the loss (torch's weighted mean).
    """

    kind = "classification"
    deploy_kind = "classifier"
    description = "classification"
    score_name = "accuracy"
    target_what = "classes"

    def __init__(self, classes, class_weight=None, name="default"):
        super().__init__(name)
        self.classes = np.asarray(classes)
        self.class_weight = None if class_weight is None else np.asarray(class_weight, float)

    @classmethod
    def from_targets(
        cls, y, *, classes=None, class_weight=None, name="default", allow_missing=False
    ):
        """Check labels (and ``classes``/``class_weight``) and build the task."""
        from sklearn.utils.multiclass import check_classification_targets

        y, missing = check_labels(y, allow_missing=allow_missing)
        labelled = y[~missing]
        try:
            labelled = _normalise_labels(labelled)
        except TypeError as exc:
            raise TypeError(f"y {exc}" if name == "default" else f"Task {name!r} {exc}") from None
        where = "" if name == "default" else f"Classification task {name!r}: "
        if len(labelled) == 0:
            raise ValueError(f"{where}no labelled row (every entry is missing).")
        check_classification_targets(labelled)
        all_classes = _all_classes(np.unique(labelled), classes, f"{where}y has labels")
        if len(all_classes) < 2:
            raise ValueError(
                f"{where or 'TransformerClassifier '}needs at least 2 classes, but y has only "
                f"{len(all_classes)}: {all_classes.tolist()}."
            )
        weights = None
        if class_weight is not None:
            weights = _class_weights(class_weight, all_classes, labelled)
        return cls(all_classes, weights, name=name)

    @property
    def head_size(self):
        return len(self.classes)

    def encode(self, y, allow_missing=False):
        y, missing = check_labels(y, allow_missing=allow_missing)
        out = np.full(len(y), -1, dtype=np.int64)
        labels = _normalise_labels(y[~missing])
        known = np.isin(labels, self.classes)
        if not known.all():
            raise ValueError(
                f"y has labels not seen in the first fit: {np.unique(labels[~known]).tolist()}"
                f"; the classes are {self.classes.tolist()}."
            )
        out[~missing] = np.searchsorted(self.classes, labels)
        return out

    def loss(self, output, target):
        import torch

        mask = target >= 0
        safe = torch.where(mask, target, torch.zeros_like(target))
        per_row = torch.nn.functional.cross_entropy(output.float(), safe, reduction="none")
        weight = mask.to(per_row.dtype)
        if self.class_weight is not None:
            weight = weight * self._on_device("class_weight", self.class_weight, output)[safe]
        return (per_row * weight).sum(), weight.sum()

    def probabilities(self, output):
        return softmax(output)

    def decode(self, output):
        return self.classes[np.asarray(output).argmax(axis=1)]

    def validation_score(self, output, target):
        mask = target >= 0
        if not mask.any():
            return None
        return float((output[mask].argmax(axis=1) == target[mask]).mean())

    # -- one column of a multi-task Y (None/NaN: no label for this task) ----
    @classmethod
    def from_column(cls, column, *, name):
        """The task of one column of ``MultiTaskTransformer``'s ``Y``."""
        return cls.from_targets(column, name=name, allow_missing=True)

    def encode_column(self, column):
        try:
            return self.encode(column, allow_missing=True)
        except ValueError as exc:
            raise ValueError(f"Task {self.name!r}: {exc}") from None

    def decode_column(self, output):
        """Predictions of the column: one label per text."""
        return self.decode(output)

    def score_column(self, y_true, y_pred, sample_weight=None):
        """Accuracy over the labelled rows ``y_true``."""
        from sklearn.metrics import accuracy_score

        y_true = _normalise_labels(y_true)
        return float(accuracy_score(y_true, y_pred, sample_weight=sample_weight))

    def export_metadata(self, estimator):
        threshold = getattr(estimator, "threshold", None)  # unused by a single-label runtime
        return {
            **_export_labels(self.classes),
            "multilabel": False,
            "threshold": 0.5 if threshold in (None, "auto") else float(threshold),
            "label_names": None,
        }

    @classmethod
    def serve_predictions(cls, model, texts):
        proba = np.asarray(model.predict_proba(texts))
        classes = [_scalar(c) for c in np.asarray(model.classes_).tolist()]
        return [
            {
                "label": classes[int(row.argmax())],
                "probabilities": dict(zip(map(str, classes), map(float, row))),
            }
            for row in proba
        ]

    def explain_target(self, target, estimator):
        return None if target is None else _label_index(self.classes, target, self.target_what)

    def target_name(self, index, estimator):
        return _scalar(self.classes[index])

    def explained_output(self, target, columns):
        """The log-probability of class ``target`` (among the logits in ``columns``)."""
        import torch

        return lambda z: torch.log_softmax(z[:, columns], dim=-1)[:, target]

    def explained_prediction(self, logits, estimator):
        return _scalar(self.classes[int(np.argmax(logits))])

    def to_json(self):
        return {
            **super().to_json(),
            "classes": _json_labels(self.classes),
            "class_weight": None if self.class_weight is None else self.class_weight.tolist(),
        }

    @classmethod
    def check_json(cls, path, task, where):
        """Validate a saved entry of this kind (a file a user loads); returns the head size."""
        from ..utils._schema import want, want_labels, want_numbers

        classes = want(path, task, "classes", (dict,), f"{where}.classes")
        labels = want_labels(
            path, classes.get("values"), classes.get("dtype"), f"{where}.classes.values", minimum=2
        )
        if task.get("class_weight") is not None:
            want_numbers(path, task["class_weight"], f"{where}.class_weight", length=len(labels))
        return len(labels)

    @classmethod
    def from_json(cls, data):
        return cls(
            _labels_from_json(data["classes"]),
            data.get("class_weight"),
            name=data.get("name", "default"),
        )


def _all_classes(seen, classes, what):
    """``classes`` (sorted) when given, after checking it covers ``seen``; else ``seen``."""
    if classes is None:
        return seen
    all_classes = np.unique(np.asarray(classes))
    unknown = ~np.isin(seen, all_classes)
    if unknown.any():
        raise ValueError(
            f"{what} that are not in classes={all_classes.tolist()}: {seen[unknown].tolist()}."
        )
    return all_classes


def _scalar(value):
    """A numpy scalar as the Python value JSON and users expect."""
    return value.item() if isinstance(value, np.generic) else value


def _export_labels(classes):
    """Labels and their dtype, as an ONNX export's JSON stores them."""
    classes = np.asarray(classes)
    dtype = "object" if classes.dtype == object else classes.dtype.str
    return {"classes": [_scalar(v) for v in classes.tolist()], "classes_dtype": dtype}


def _label_index(classes, target, what, choices=None):
    """The index of label ``target`` in ``classes``; a ValueError listing them if absent."""
    classes = np.asarray(classes)
    matches = np.flatnonzero(np.asarray([c == target for c in classes], dtype=bool))
    if len(matches) != 1 or type(target) is bool and classes.dtype != bool:
        listed = classes.tolist() if choices is None else choices
        raise ValueError(f"target={target!r} is not one of the {what} {listed}.")
    return int(matches[0])


def _class_weights(class_weight, classes, labels):
    from sklearn.utils.class_weight import compute_class_weight

    if isinstance(class_weight, dict):
        unknown = [k for k in class_weight if k not in set(classes.tolist())]
        if unknown:
            raise ValueError(
                f"class_weight names labels that are not classes: {unknown}; the classes are "
                f"{classes.tolist()}."
            )
    if class_weight == "balanced":
        absent = classes[~np.isin(classes, labels)]
        if len(absent):
            raise ValueError(
                f"class_weight='balanced' needs every class in y, but {absent.tolist()} "
                "(named in classes=) never occurs. Pass class_weight as a dict instead."
            )
    return compute_class_weight(class_weight, classes=classes, y=labels)
