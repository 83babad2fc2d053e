"""Token tagging (named-entity recognition): one tag per word."""

from __future__ import annotations

import numpy as np

from ..utils import _words
from ..utils._text_input import entity_f1, entity_spans  # noqa: F401  (part of the tagging task)
from ._base import IGNORE, TOKEN, Task, _json_labels, _labels_from_json
from ._classification import ClassificationTask, _all_classes, _export_labels, softmax


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
    targets_per_token = True
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

    def combine_rows(self, rows, enc, inputs):
        """Per text, its words' outputs, read at first sub-words (:meth:`words_from_rows`)."""
        return self.words_from_rows(rows, enc, [len(w) for w in inputs.words])[0]

    def words_from_rows(self, rows, enc, n_words):
        """Per text, the (n_words, n_tags) outputs read at each word's first sub-word.

        Each word is read where :func:`word_reads` places it (the window
        where it has the most context). A word with no sub-word at all
        (rare: characters the tokenizer drops) gets zero logits (uniform
        probabilities).
        """
        return _words.words_from_rows(rows, enc.docs(), enc.word_index, n_words, self.head_size)

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
    def check_json(cls, path, task, where):
        """Validate a saved entry of this kind (a file a user loads); returns the head size."""
        from ..utils._schema import want, want_labels

        classes = want(path, task, "classes", (dict,), f"{where}.classes")
        labels = want_labels(
            path, classes.get("values"), classes.get("dtype"), f"{where}.classes.values", minimum=1
        )
        return len(labels)

    @classmethod
    def from_json(cls, data):
        return cls(_labels_from_json(data["classes"]), name=data.get("name", "default"))


def word_reads(enc, n_words):
    """Where each word's tag is read (:func:`sktransformers.utils._words.word_reads`).

    ``enc`` is the :class:`~sktransformers.engine._data.Encoded` input (its
    ``word_index`` marks each window's first sub-words).
    """
    return _words.word_reads(enc.docs(), enc.word_index, n_words)
