"""A reader for question-answering data in the SQuAD JSON layout (1.1 and 2.0)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..utils._schema import fail, parse_json, read_bytes, want, want_int
from ._local import find_data_file

#: The largest SQuAD file read (the full SQuAD 2.0 train set is about 42 MB).
MAX_BYTES = 256 * 1024 * 1024


def _object(path, value, field):
    if not isinstance(value, dict):
        fail(path, f"{field!r} should be an object, got {value!r:.80}.")
    return value


def _answers(path, qa, context, here):
    """The reference answers of one question: their texts and checked offsets."""
    texts, starts = [], []
    if qa.get("is_impossible", False):
        return texts, starts
    given = want(path, qa, "answers", (list,), f"{here}.answers", required=False) or []
    for k, answer in enumerate(given):
        field = f"{here}.answers[{k}]"
        _object(path, answer, field)
        text = want(path, answer, "text", (str,), f"{field}.text")
        start = want_int(path, answer, "answer_start", 0, len(context), f"{field}.answer_start")
        if context[start : start + len(text)] != text:
            fail(path, f"{field}: {text!r:.60} is not at character {start} of its context.")
        texts.append(text)
        starts.append(start)
    return texts, starts


def read_squad(path, *, max_bytes=MAX_BYTES):
    """Read a file in the SQuAD JSON layout into questions, contexts and answers.

    The file is treated as untrusted: its size is bounded, every field is
    checked, and an error (a ``ValueError``) names the file and the field that
    is wrong.

    Parameters
    ----------
    path : str or path-like
        A JSON file with ``data[].paragraphs[].context`` and
        ``qas[].question`` / ``qas[].answers[].text`` / ``answer_start``
        (``is_impossible`` for SQuAD 2.0's unanswerable questions).
    max_bytes : int, default=256 MiB
        Larger files are refused.

    Returns
    -------
    data : Bunch
        ``X`` (a DataFrame with the columns ``question`` and ``context``),
        ``y`` (a list of dicts ``{"text": [...], "answer_start": [...]}``,
        empty lists for unanswerable questions), ``groups`` (the article
        title of each question, for splitting by article with
        ``sklearn.model_selection.GroupKFold``) and ``ids``.

    Examples
    --------
    >>> from sktransformers.datasets import read_squad
    >>> data = read_squad("train.json")  # doctest: +SKIP
    >>> data.X.columns.tolist()  # doctest: +SKIP
    ['question', 'context']
    """
    size = os.path.getsize(path)
    if size > max_bytes:
        raise ValueError(f"{path}: {size} bytes, more than max_bytes={max_bytes}.")
    document = parse_json(path, read_bytes(path, max_bytes))
    articles = want(path, _object(path, document, "the top level"), "data", (list,))
    questions, contexts, answers, groups, ids = [], [], [], [], []
    for a, article in enumerate(articles):
        _object(path, article, f"data[{a}]")
        title = str(article.get("title", a))
        paragraphs = want(path, article, "paragraphs", (list,), f"data[{a}].paragraphs")
        for p, paragraph in enumerate(paragraphs):
            where = f"data[{a}].paragraphs[{p}]"
            _object(path, paragraph, where)
            context = want(path, paragraph, "context", (str,), f"{where}.context")
            for q, qa in enumerate(want(path, paragraph, "qas", (list,), f"{where}.qas")):
                here = f"{where}.qas[{q}]"
                _object(path, qa, here)
                texts, starts = _answers(path, qa, context, here)
                questions.append(want(path, qa, "question", (str,), f"{here}.question"))
                contexts.append(context)
                answers.append({"text": texts, "answer_start": starts})
                groups.append(title)
                ids.append(str(qa.get("id", len(ids))))
    X = pd.DataFrame({"question": questions, "context": contexts})
    return Bunch(X=X, y=answers, groups=np.asarray(groups, dtype=object), ids=ids)


def load_squad2_subset(*, data_dir=None):
    """Read the SQuAD 2.0 subset of the shared data folder (``squad2_subset/train.json``).

    Four Wikipedia articles of SQuAD 2.0's development set, 1,197 questions,
    about half of them unanswerable. Nothing is downloaded: the file is
    looked for where :func:`find_data_file` looks.

    Parameters
    ----------
    data_dir : str or path-like, default=None
        The data folder (holding ``squad2_subset/``) or that folder itself.

    Returns
    -------
    data : Bunch
        As :func:`read_squad` returns it.
    """
    return read_squad(find_data_file("squad2_subset", "train.json", data_dir))
