"""The task interface: what every kind of task says and does (see the package)."""

from __future__ import annotations

import numpy as np

TEXT = "text"
TOKEN = "token"
IGNORE = -100


def _json_labels(values):
    from ..utils._json_values import to_json_value

    return {
        "values": to_json_value(values),
        "dtype": values.dtype.str if values.dtype != object else "object",
    }


def _labels_from_json(entry):
    from ..utils._decoding import labels_from_json

    return labels_from_json(entry["values"], entry["dtype"])


def mean_by_doc(rows, doc, n_docs):
    """Average the rows (windows) of each text: long texts read whole."""
    if doc is None:
        return rows
    rows = np.asarray(rows, dtype=np.float64)
    total = np.zeros((n_docs,) + rows.shape[1:], dtype=np.float64)
    np.add.at(total, doc, rows)
    counts = np.bincount(doc, minlength=n_docs).astype(np.float64)
    return (total / counts.reshape((-1,) + (1,) * (rows.ndim - 1))).astype(np.float32)


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
    #: Whether the targets have one entry per token (tags), not one row per text.
    targets_per_token = False
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

    def combine_rows(self, rows, enc, inputs):
        """The outputs of each input from those of its rows (windows of long texts).

        ``rows`` holds the head's output per row of ``enc`` (the
        :class:`~sktransformers.engine._data.Encoded` input); ``inputs`` is
        the checked input. Text-level tasks average the windows of a text.
        """
        return mean_by_doc(rows, enc.doc, len(inputs))

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
