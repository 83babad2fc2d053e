"""Task objects: what differs between kinds of targets, in one place per kind.

A task owns the checking and encoding of its targets, the size and level
(one output per text, or one per token) of its head, its loss, the decoding
of the head's outputs, its validation score and the JSON it saves. The
engine (:mod:`sktransformers._base`) trains any list of tasks on one
backbone; the estimators are thin front ends that build their tasks from
``y``:

============================  ===========================  =====================
task                          estimator(s)                 head output
============================  ===========================  =====================
:class:`ClassificationTask`   TransformerClassifier,       one logit per class
                              MultiTaskTransformer
:class:`MultiLabelTask`       TransformerClassifier        one logit per label
                              (2-D indicator ``y``)
:class:`RegressionTask`       TransformerRegressor,        one value per output
                              MultiTaskTransformer
:class:`TaggingTask`          TransformerTokenClassifier   one logit per tag, per
                                                           token
============================  ===========================  =====================

A task also decides every kind-specific step after training: the name of
its validation score (plots), the ``task`` entry of an ONNX export and the
deployed kind the torch-free runtime and the server load it as, what the
server answers for a text, and what an explanation targets and reports.
Export (:mod:`._onnx_export`), the server (:mod:`._serve`), explanations
(:mod:`._explain`) and plots (:mod:`.plot`) find an estimator's task with
:func:`single_task` and ask it; none of them names an estimator class.
:func:`register_task` adds a kind to :data:`TASK_KINDS`.

``TransformerEmbedder`` holds an :class:`EmbeddingTask` (no loss: it trains
nothing) so that export and serving treat it like any other kind.

Encoded targets: a text-level task encodes ``y`` as an array with one row
per text (int64 class indices with -1 where a label is missing;
float32 values with NaN where missing); the tagging task as one int64 array
of tag indices per text, one entry per word. :meth:`Task.row_targets` maps
them to the rows the model sees (windows of long texts, and sub-word
positions for tags, -100 where a position carries no label).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ._text_input import entity_f1, entity_spans  # noqa: F401  (part of the tagging task)

TEXT = "text"
TOKEN = "token"
IGNORE = -100


def _json_labels(values):
    from ._persistence import to_json_value

    return {
        "values": to_json_value(values),
        "dtype": values.dtype.str if values.dtype != object else "object",
    }


def _labels_from_json(entry):
    dtype = object if entry["dtype"] == "object" else np.dtype(entry["dtype"])
    return np.asarray(entry["values"], dtype=dtype)


class Task:
    """Base class of the task kinds; see the module docstring."""

    kind: str | None = None
    level = TEXT
    #: The deployed model's kind: what ``export_onnx`` writes as ``kind``, what
    #: :func:`sktransformers.onnx.load` and the server load it as (None: the
    #: task cannot be exported or served).
    deploy_kind: str | None = None
    #: What the task does, in words (the server's ``/readyz`` and startup log).
    description = ""
    #: Name of :meth:`validation_score` (the score axis of training curves).
    score_name = "score"
    #: The server's endpoint for this task: ``"predict"`` or ``"transform"``.
    endpoint = "predict"
    #: Which texts the server accepts: ``"as_fitted"`` (single texts or pairs,
    #: as the model was fitted), ``"single"`` (never pairs) or ``"any"``.
    accepts = "as_fitted"
    #: What ``explain(target=...)`` names (``"classes"``, ``"labels"``,
    #: ``"tags"``, ``"outputs"``); None: the task has no explanations.
    target_what: str | None = None

    def __init__(self, name="default"):
        self.name = name

    @property
    def key(self):
        """Name of the task's head in the model."""
        return str(self.name)

    @property
    def head_size(self):
        raise NotImplementedError

    def encode(self, y):
        """Encoded targets of the texts (see the module docstring)."""
        raise NotImplementedError

    def labelled(self, encoded):
        """Boolean array: which texts carry a label for this task."""
        if encoded.dtype.kind == "f":
            return ~np.isnan(encoded).all(axis=tuple(range(1, encoded.ndim)))
        return encoded >= 0

    def row_targets(self, encoded, enc):
        """Targets of the model's rows (``enc`` is the :class:`~._data.Encoded` input)."""
        return encoded[enc.docs()]

    def loss(self, output, target):
        """``(sum of losses, count)`` over the labelled entries of a batch (no host sync)."""
        raise NotImplementedError

    def validation_score(self, output, target):
        """Score of the outputs of the validation rows; None when nothing can be scored."""
        raise NotImplementedError

    def to_json(self):
        return {"kind": self.kind, "name": self.name}

    # -- deployment: export, runtime, server ------------------------------
    def export_metadata(self, estimator):
        """The ``task`` entry of an ONNX export's JSON: what the runtime decodes with."""
        raise TypeError(f"A {self.kind} task cannot be exported to ONNX.")

    @classmethod
    def serve_predictions(cls, model, texts):
        """The server's JSON-ready answer for each text.

        ``model`` is the fitted estimator or its ONNX runtime model (both
        have the estimator's inference methods).
        """
        raise NotImplementedError

    # -- explanations --------------------------------------------------------
    def explain_target(self, target, estimator):
        """The explained output's column in the logits (None: the predicted one)."""
        raise TypeError(f"A {self.kind} task has no explanations.")

    def target_name(self, index, estimator):
        """What an explanation reports as its target, for logit column ``index``."""
        raise NotImplementedError

    def explained_output(self, target, columns):
        """A function from a batch of logits (torch) to the explained scalar per row."""
        raise NotImplementedError

    def explained_prediction(self, logits, estimator):
        """The estimator's prediction from one text's logits (as ``predict`` gives it)."""
        raise NotImplementedError

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_device_cache", None)
        return state

    def _on_device(self, name, values, like):
        """``values`` as a float tensor on ``like``'s device, cached per device."""
        import torch

        cache = self.__dict__.setdefault("_device_cache", {})
        hit = cache.get((name, like.device))
        if hit is None:
            hit = torch.as_tensor(np.asarray(values), dtype=torch.float32, device=like.device)
            cache[(name, like.device)] = hit
        return hit


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
    y = np.asarray(raw)
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


def softmax(logits):
    """Probabilities over the last axis, computed stably in float64."""
    logits = np.asarray(logits, dtype=np.float64)
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


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
        return 1.0 / (1.0 + np.exp(-np.asarray(output, dtype=np.float64)))

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
    def from_json(cls, data):
        return cls(
            data["n_labels"],
            data.get("label_names"),
            data.get("pos_weight"),
            name=data.get("name", "default"),
        )


# ----------------------------------------------------------------------
# Regression
# ----------------------------------------------------------------------
def check_numeric(y, what="y", allow_missing=False):
    try:
        values = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be numeric for regression.") from None
    if values.ndim not in (1, 2):
        raise ValueError(f"{what} must be 1- or 2-dimensional, got shape {values.shape}.")
    if len(values) == 0:
        raise ValueError(f"{what} is empty.")
    bad = np.isinf(values) if allow_missing else ~np.isfinite(values)
    if bad.any():
        raise ValueError(
            f"{what} contains {'infinite' if allow_missing else 'NaN or infinite'} values; "
            "regression needs finite targets."
        )
    return values


class RegressionTask(Task):
    """One or several numbers per text, standardised; squared-error loss.

    Parameters
    ----------
    y_mean, y_scale : ndarray of shape (n_outputs,)
        Standardisation of the targets (predictions are mapped back).
    """

    kind = "regression"
    deploy_kind = "regressor"
    description = "regression"
    score_name = "R²"
    target_what = "outputs"

    def __init__(self, y_mean, y_scale, name="default"):
        super().__init__(name)
        self.y_mean = np.atleast_1d(np.asarray(y_mean, dtype=np.float64))
        self.y_scale = np.atleast_1d(np.asarray(y_scale, dtype=np.float64))

    @classmethod
    def from_targets(cls, y, *, name="default", allow_missing=False):
        values = check_numeric(y, allow_missing=allow_missing)
        values = values.reshape(len(values), -1)
        if np.isnan(values).all(axis=0).any():
            raise ValueError(
                f"Regression task {name!r} has no labelled row (every entry is missing)."
            )
        with np.errstate(over="ignore", invalid="ignore"):
            mean = np.nanmean(values, axis=0)
            scale = np.nanstd(values, axis=0)
        if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
            raise ValueError(
                "y is too large to standardise in float64 (its mean or spread overflows); "
                "rescale the targets (e.g. divide by a constant) first."
            )
        scale = np.where(scale > 0, scale, 1.0)
        return cls(mean, scale, name=name)

    @property
    def n_outputs(self):
        return len(self.y_mean)

    @property
    def head_size(self):
        return self.n_outputs

    def encode(self, y, allow_missing=False):
        values = check_numeric(y, allow_missing=allow_missing).reshape(len(y), -1)
        if values.shape[1] != self.n_outputs:
            raise ValueError(
                f"y has {values.shape[1]} outputs; the model was fitted with {self.n_outputs}."
            )
        return ((values - self.y_mean) / self.y_scale).astype(np.float32)

    def loss(self, output, target):
        import torch

        mask = ~torch.isnan(target)
        safe = torch.where(mask, target, torch.zeros_like(target))
        m = mask.to(torch.float32)
        return (((output.float() - safe) ** 2) * m).sum(), m.sum()

    def decode(self, output):
        return np.asarray(output, dtype=np.float64) * self.y_scale + self.y_mean

    def validation_score(self, output, target):
        from sklearn.metrics import r2_score

        keep = ~np.isnan(target).any(axis=1)
        if keep.sum() < 2:
            return None
        return float(r2_score(target[keep], output[keep]))

    def export_metadata(self, estimator):
        return {
            "n_outputs": self.n_outputs,
            "y_mean": self.y_mean.tolist(),
            "y_scale": self.y_scale.tolist(),
            "y_1d": bool(getattr(estimator, "_y_1d", self.n_outputs == 1)),
        }

    @classmethod
    def serve_predictions(cls, model, texts):
        values = np.asarray(model.predict(texts), dtype=np.float64)
        if values.ndim == 1:
            return [{"value": float(v)} for v in values]
        return [{"values": [float(v) for v in row]} for row in values]

    def explain_target(self, target, estimator):
        n = self.n_outputs
        if target is None:
            return 0
        if (
            isinstance(target, (int, np.integer))
            and not isinstance(target, bool)
            and 0 <= target < n
        ):
            return int(target)
        raise ValueError(
            f"target must be an output index in [0, {n}) for this regressor, got {target!r}."
        )

    def target_name(self, index, estimator):
        return index

    def explained_output(self, target, columns):
        """The prediction of output ``target``, on the scale of ``y``."""
        scale = float(self.y_scale[target])
        mean = float(self.y_mean[target])
        return lambda z: z[:, target] * scale + mean

    def explained_prediction(self, logits, estimator):
        pred = self.decode(logits)
        return float(pred[0]) if getattr(estimator, "_y_1d", True) else pred

    def to_json(self):
        return {
            **super().to_json(),
            "y_mean": self.y_mean.tolist(),
            "y_scale": self.y_scale.tolist(),
        }

    @classmethod
    def from_json(cls, data):
        return cls(data["y_mean"], data["y_scale"], name=data.get("name", "default"))


# ----------------------------------------------------------------------
# Token tagging (named-entity recognition)
# ----------------------------------------------------------------------
def check_tags(y, words):
    """One list of tags per text, as long as its words; clear errors naming the row."""
    if y is None:
        raise ValueError("y is None; TransformerTokenClassifier needs one tag list per text.")
    if isinstance(y, (str, bytes)):
        raise TypeError("y must be a list of tag lists (one tag per word), not a string.")
    rows = list(y.tolist() if hasattr(y, "tolist") and not isinstance(y, list) else y)
    if len(rows) != len(words):
        raise ValueError(
            f"X and y have different lengths: {len(words)} texts but {len(rows)} tag lists."
        )
    out = []
    for i, (tags, row_words) in enumerate(zip(rows, words)):
        if isinstance(tags, str) or not hasattr(tags, "__len__"):
            raise TypeError(
                f"y row {i} is {tags!r}; each entry of y must be a list of tags, one per word."
            )
        tags = list(tags)
        if len(tags) != len(row_words):
            raise ValueError(
                f"Row {i}: {len(row_words)} words but {len(tags)} tags; every word needs "
                f"exactly one tag (a string text is split at whitespace and into single CJK "
                f"characters: {row_words[:8]}...)."
            )
        for j, tag in enumerate(tags):
            if tag is None or (isinstance(tag, float) and np.isnan(tag)):
                raise ValueError(f"y row {i}, word {j} has a missing tag.")
        out.append(tags)
    return out


class TaggingTask(Task):
    """One tag per word (IOB2 for entities): a head on every token.

    The loss is computed on each word's first sub-word; other positions
    (later sub-words, special tokens, padding) carry no label.

    Parameters
    ----------
    classes : ndarray
        Sorted tags.
    """

    kind = "tagging"
    level = TOKEN
    deploy_kind = "token_classifier"
    description = "token classification"
    score_name = "entity F1"
    accepts = "single"
    target_what = "tags"

    def __init__(self, classes, name="default"):
        super().__init__(name)
        self.classes = np.asarray(classes)

    @classmethod
    def from_targets(cls, tags, *, classes=None, name="default"):
        seen = {t for row in tags for t in row}
        kinds = {type(t) for t in seen}
        if len(kinds) > 1:
            raise TypeError(f"y mixes tag types {sorted(k.__name__ for k in kinds)}.")
        all_classes = _all_classes(np.unique(np.asarray(sorted(seen))), classes, "y has tags")
        if len(all_classes) < 2:
            raise ValueError(
                f"TransformerTokenClassifier needs at least 2 distinct tags, but y has only "
                f"{all_classes.tolist()}."
            )
        return cls(all_classes, name=name)

    @property
    def head_size(self):
        return len(self.classes)

    def encode(self, tags):
        out = []
        for i, row in enumerate(tags):
            row = np.asarray(row)
            known = np.isin(row, self.classes)
            if not known.all():
                raise ValueError(
                    f"y row {i} has tags not seen in the first fit: "
                    f"{np.unique(row[~known]).tolist()}; the tags are {self.classes.tolist()}."
                )
            out.append(np.searchsorted(self.classes, row).astype(np.int64))
        return out

    def labelled(self, encoded):
        return np.ones(len(encoded), dtype=bool)

    def row_targets(self, encoded, enc):
        rows = []
        for r, doc in enumerate(enc.docs()):
            index = enc.word_index[r]
            rows.append(np.where(index >= 0, encoded[doc][np.maximum(index, 0)], IGNORE))
        return rows

    def loss(self, output, target):
        import torch

        mask = target != IGNORE
        safe = torch.where(mask, target, torch.zeros_like(target))
        per_token = torch.nn.functional.cross_entropy(
            output.float().transpose(1, 2), safe, reduction="none"
        )
        m = mask.to(per_token.dtype)
        return (per_token * m).sum(), m.sum()

    def probabilities(self, output):
        return softmax(output)

    def words_from_rows(self, rows, enc, n_words):
        """Per text, the (n_words, n_tags) outputs read at each word's first sub-word.

        Each word is read where :func:`word_reads` places it (the window
        where it has the most context). A word with no sub-word at all
        (rare: characters the tokenizer drops) gets zero logits (uniform
        probabilities).
        """
        reads, best = word_reads(enc, n_words)
        out = []
        for where, n in zip(reads, n_words):
            values = np.zeros((n, self.head_size), dtype=np.float32)
            for r in np.unique(where[:, 0][where[:, 0] >= 0]):
                words = np.flatnonzero(where[:, 0] == r)
                values[words] = rows[r][where[words, 1]]
            out.append(values)
        return out, best

    def validation_score(self, output, target):
        """Entity F1 over the validation windows (strict IOB2), read at first sub-words."""
        true_rows, pred_rows = [], []
        for out, tgt in zip(output, target):
            keep = tgt != IGNORE
            if keep.any():
                true_rows.append(self.classes[tgt[keep]].tolist())
                pred_rows.append(self.classes[out[keep].argmax(axis=-1)].tolist())
        if not true_rows:
            return None
        return entity_f1(true_rows, pred_rows)

    def export_metadata(self, estimator):
        return _export_labels(self.classes)

    @classmethod
    def serve_predictions(cls, model, texts):
        entities = model.predict_entities(texts)
        tags = model.predict(texts)
        return [
            {
                "tags": [str(t) for t in row_tags],
                "entities": [{**e, "score": float(e["score"])} for e in row_entities],
            }
            for row_tags, row_entities in zip(tags, entities)
        ]

    # The explained output is one word's tag: a class among the tags.
    explain_target = ClassificationTask.explain_target
    target_name = ClassificationTask.target_name
    explained_output = ClassificationTask.explained_output
    explained_prediction = ClassificationTask.explained_prediction

    def to_json(self):
        return {**super().to_json(), "classes": _json_labels(self.classes)}

    @classmethod
    def from_json(cls, data):
        return cls(_labels_from_json(data["classes"]), name=data.get("name", "default"))


def word_reads(enc, n_words):
    """Where each word's tag is read: its first sub-word, in one window.

    A word seen in several windows (a long sentence, see
    :func:`~sktransformers._data.encode_words`) is read from the window where
    it sits farthest from the window's edges (the most context on both
    sides; the first such window on a tie).

    Returns
    -------
    reads : list of ndarray of shape (n_words, 2)
        Per text, each word's ``(row, position)``: the window (row of
        ``enc``) and the token position in it; ``(-1, -1)`` for a word
        with no sub-word.
    centrality : list of ndarray of shape (n_words,)
        Per text, the distance of each read position to its window's nearer
        edge (-1 for a word with no sub-word).
    """
    reads = [np.full((n, 2), -1, dtype=np.int64) for n in n_words]
    best = [np.full(n, -1, dtype=np.int64) for n in n_words]
    for r, doc in enumerate(enc.docs()):
        index = enc.word_index[r]
        positions = np.flatnonzero(index >= 0)
        if not len(positions):
            continue
        centrality = np.minimum(positions, len(index) - 1 - positions)
        words = index[positions]
        better = centrality > best[doc][words]
        reads[doc][words[better], 0] = r
        reads[doc][words[better], 1] = positions[better]
        best[doc][words[better]] = centrality[better]
    return reads, best


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


# ----------------------------------------------------------------------
# The registry
# ----------------------------------------------------------------------
#: Every task kind, by :attr:`Task.kind`.
TASK_KINDS: dict[str, type[Task]] = {}


def register_task(cls):
    """Add a task class to :data:`TASK_KINDS` (usable as a class decorator).

    Saved models, ONNX exports and the server find a kind here by its
    :attr:`Task.kind`; registering a second class under a kind replaces the
    first.
    """
    if not (isinstance(cls, type) and issubclass(cls, Task)) or not isinstance(cls.kind, str):
        raise TypeError(f"register_task takes a Task subclass with a str kind, got {cls!r}.")
    TASK_KINDS[cls.kind] = cls
    return cls


for _cls in (ClassificationTask, MultiLabelTask, RegressionTask, TaggingTask, EmbeddingTask):
    register_task(_cls)


def single_task(estimator, action):
    """The one task of a fitted estimator, for ``action`` (e.g. ``"export_onnx"``).

    Raises TypeError for an object that holds no task of sktransformers or
    several, and NotFittedError (from the estimator) before ``fit``.
    """
    fitted_tasks = getattr(estimator, "_fitted_tasks", None)
    if not callable(fitted_tasks):
        raise TypeError(
            f"{action} works with the estimators of sktransformers that hold one task "
            "(TransformerClassifier, TransformerRegressor, TransformerTokenClassifier, "
            f"TransformerEmbedder), not a {type(estimator).__name__}."
        )
    tasks = fitted_tasks()
    if len(tasks) != 1 or hasattr(estimator, "tasks_"):  # tasks_: a table of per-task outputs
        raise TypeError(
            f"{action} works with an estimator of one task; this {type(estimator).__name__} "
            f"has {len(tasks)} ({', '.join(task.key for task in tasks)})."
        )
    return tasks[0]


def task_class_of_export(config):
    """The task class of an ONNX export's JSON (``task_kind``; older exports: ``kind``).

    Raises ValueError when the kind is unknown or does not match the
    deployed ``kind``.
    """
    task_kind = config.get("task_kind")
    if task_kind is None:  # written before task_kind existed: derive it as they did
        deployed = config.get("kind")
        multilabel = bool((config.get("task") or {}).get("multilabel", False))
        built_in = (ClassificationTask, MultiLabelTask, RegressionTask, TaggingTask, EmbeddingTask)
        matches = [
            cls
            for cls in built_in
            if cls.deploy_kind == deployed and (cls is MultiLabelTask) == multilabel
        ]
        if len(matches) != 1:
            raise ValueError(f"An ONNX export of an unknown kind {deployed!r:.80}.")
        return matches[0]
    cls = TASK_KINDS.get(task_kind) if isinstance(task_kind, str) else None
    if cls is None or cls.deploy_kind != config.get("kind"):
        raise ValueError(
            f"An ONNX export with task_kind {task_kind!r:.80} and kind "
            f"{config.get('kind')!r:.80}: not a pair this sktransformers knows."
        )
    return cls


def task_from_json(data):
    """Rebuild a task from its :meth:`Task.to_json`."""
    try:
        kind = TASK_KINDS[data["kind"]]
    except KeyError:
        raise ValueError(f"Unknown task kind {data.get('kind')!r} in a saved model.") from None
    return kind.from_json(data)
