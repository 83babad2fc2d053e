"""Extractive question answering: the answer is a span of the context, or none."""

from __future__ import annotations

import numpy as np

from ..utils import _spans
from ..utils._spans import (  # noqa: F401  (re-exported with the span task)
    reference_texts,
    squad_exact_match,
    squad_f1,
)
from ._base import TOKEN, Task

# ----------------------------------------------------------------------
# Answers
# ----------------------------------------------------------------------


def check_answers(y, contexts):
    """Per question, its reference answers as ``(text, start)`` pairs (empty: no answer).

    Accepts SQuAD's layout (a dict per question with ``text`` and
    ``answer_start``, single values or lists), a two-column DataFrame with
    those columns, or ``(text, answer_start)`` pairs. Every answer must sit
    at its offset in its context; errors name the row.
    """
    if y is None:
        raise ValueError(
            "y is None; TransformerQuestionAnswerer needs one answer per question (a dict "
            "{'text': ..., 'answer_start': ...}, or none)."
        )
    if isinstance(y, (str, bytes)):
        raise TypeError("y must hold one answer per question, not a string.")
    rows = _spans.answer_rows(y)
    if len(rows) != len(contexts):
        raise ValueError(
            f"X and y have different lengths: {len(contexts)} questions but {len(rows)} answers."
        )
    out = []
    for i, (row, context) in enumerate(zip(rows, contexts)):
        refs = _spans.answer_references(row, i)
        for text, start in refs:
            if (
                not 0 <= start <= len(context) - len(text)
                or context[start : start + len(text)] != text
            ):
                raise ValueError(
                    f"y row {i}: the answer {text!r:.60} is not at character {start} of its "
                    f"context (found {context[max(start, 0) : max(start, 0) + len(text)]!r:.60})."
                )
        out.append(refs)
    return out


# ----------------------------------------------------------------------
# The task
# ----------------------------------------------------------------------
class SpanTask(Task):
    """The answer to a question is a span of its context, or none (SQuAD 2.0).

    The head gives every token a start and an end logit; the loss is the
    cross-entropy of the answer's start and end token in each window (the
    first special token when the window does not hold the answer). A
    question's windows combine by taking the best span over all of them
    (:func:`~sktransformers.utils._spans.best_answers`).
    """

    kind = "span"
    level = TOKEN
    deploy_kind = "question_answerer"
    description = "extractive question answering"
    score_name = "span accuracy"
    accepts = "as_fitted"
    target_what = "answers"
    head_size = 2

    def encode(self, answers):
        """(n, 2) character start and end (exclusive) of each first reference; -1: none."""
        out = np.full((len(answers), 2), -1, dtype=np.int64)
        for i, refs in enumerate(answers):
            if refs:
                text, start = refs[0]
                out[i] = start, start + len(text)
        return out

    def labelled(self, encoded):
        return np.ones(len(encoded), dtype=bool)

    def row_targets(self, encoded, enc):
        return _spans.span_targets(encoded, enc.docs(), enc.offsets)

    def loss(self, output, target):
        import torch

        logits = output.float()
        start = torch.nn.functional.cross_entropy(logits[..., 0], target[:, 0], reduction="sum")
        end = torch.nn.functional.cross_entropy(logits[..., 1], target[:, 1], reduction="sum")
        # The count as a fill on the device (no host-to-device copy per batch).
        count = torch.full((), float(target.shape[0]), device=logits.device)
        return (start + end) / 2, count

    def validation_score(self, output, target):
        """Share of validation windows whose best start and end are both right."""
        if not len(output):
            return None
        right = [
            int(out[:, 0].argmax()) == int(t[0]) and int(out[:, 1].argmax()) == int(t[1])
            for out, t in zip(output, target)
        ]
        return float(np.mean(right))

    def combine_rows(self, rows, enc, inputs):
        """Per question, its windows as ``(logits, offsets)`` (decoded with the context)."""
        return _spans.windows_by_pair(rows, enc.docs(), enc.offsets, len(inputs))

    def export_metadata(self, estimator):
        return {
            "max_answer_length": int(estimator.max_answer_length),
            "no_answer_threshold": float(estimator._threshold()),
            "n_best": int(estimator.n_best),
        }

    @classmethod
    def serve_predictions(cls, model, texts):
        return [
            {
                "answer": a["text"],
                "answer_start": a["answer_start"],
                "score": a["score"],
                "no_answer_score": a["no_answer_score"],
            }
            for a in model.predict_answers(texts)
        ]

    # -- explanations: the chosen answer's span score (the front end's jobs say
    # which window and logits, and report the answer and "answer" / "no answer")
    def explain_target(self, target, estimator):
        if target is not None:
            raise ValueError(
                "TransformerQuestionAnswerer explains its own answer (target=None): the "
                "start + end logit of the answer's span, or of 'no answer'."
            )
        return 0

    def explained_output(self, target, columns):
        return lambda z: z[:, columns].sum(-1)

    @classmethod
    def from_json(cls, data):
        return cls(name=data.get("name", "default"))

    @classmethod
    def check_json(cls, path, task, where):
        """Validate the saved entry of this kind; returns the head size."""
        return cls.head_size
