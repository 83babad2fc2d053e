"""Torch-free validation of texts and pairs: what the ONNX runtime and the server share.

:func:`check_texts` accepts what the estimators accept (a list, tuple, numpy
array or pandas Series of str; a one-column DataFrame or (n, 1) array; a
two-column DataFrame, an (n, 2) array or a list of 2-tuples for sentence
pairs) and fails with the same messages, but imports neither torch nor
pandas: the ONNX runtime (:mod:`sktransformers.onnx`) must run without them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class TextInput:
    """Validated texts: ``first`` always, ``second`` for sentence pairs."""

    first: list
    second: list | None = None

    def __len__(self):
        return len(self.first)

    @property
    def is_pair(self):
        return self.second is not None


def _describe(value):
    return f"{value!r} (type {type(value).__name__})"


def _check_encodable(text, where, i):
    """A lone surrogate (e.g. from a bad decode) cannot reach the Rust tokenizer."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"X has invalid Unicode at {where}row {i}, character {exc.start}: "
            f"{text[exc.start:exc.end]!r} is a lone surrogate, not a character. Decode the "
            "source with errors='replace' or fix the text."
        ) from None
    return text


def _check_column(values, where):
    out = []
    for i, value in enumerate(values):
        if isinstance(value, (str, np.str_)):
            out.append(_check_encodable(str(value), where, i))
            continue
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        if missing or type(value).__name__ in ("NAType", "NaTType"):
            raise ValueError(
                f"X contains a missing value at {where}row {i}: {_describe(value)}. "
                "Every text must be a string; drop or fill missing texts first."
            )
        raise TypeError(
            f"X must contain strings, but {where}row {i} is {_describe(value)}. "
            "Convert the column to str first if the values are meant as text."
        )
    return out


def _columns(X):
    if hasattr(X, "iloc") and hasattr(X, "columns"):  # pandas DataFrame
        return [X.iloc[:, j].tolist() for j in range(X.shape[1])]
    if hasattr(X, "iloc"):  # pandas Series
        return [X.tolist()]
    if isinstance(X, (list, tuple)):
        if len(X) and all(isinstance(item, (tuple, list, np.ndarray)) for item in X):
            widths = {len(item) for item in X}
            if len(widths) != 1:
                raise ValueError(
                    "X mixes rows of different lengths; sentence pairs must all have "
                    "exactly 2 texts."
                )
            width = widths.pop()
            return [[item[j] for item in X] for j in range(width)]
        if any(isinstance(item, (tuple, list, np.ndarray)) for item in X):
            raise ValueError(
                "X mixes single texts and pairs; pass either strings or 2-item pairs."
            )
        return [list(X)]
    if hasattr(X, "__array__"):
        arr = np.asarray(X, dtype=object)
        if arr.ndim == 0:
            raise TypeError("X must be a collection of texts, got a scalar.")
        if arr.ndim == 1:
            return [arr.tolist()]
        if arr.ndim == 2:
            return [arr[:, j].tolist() for j in range(arr.shape[1])]
        raise ValueError(f"X must be 1- or 2-dimensional, got {arr.ndim} dimensions.")
    raise TypeError(
        f"X must be a list, array, pandas Series or DataFrame of texts, got {type(X).__name__}."
    )


def check_texts(X, *, allow_pairs=True):
    """Validate ``X`` and return a :class:`TextInput` (same rules as the estimators).

    Examples
    --------
    >>> check_texts(["a text", "another"]).first
    ['a text', 'another']
    >>> check_texts([("premise", "hypothesis")]).second
    ['hypothesis']
    """
    if X is None:
        raise ValueError("X is None; expected a list of texts or of text pairs.")
    if isinstance(X, (str, bytes)):
        raise TypeError(
            "X must be a collection of texts, not a single string; wrap it in a list: [text]."
        )
    columns = _columns(X)
    if len(columns) == 0 or len(columns[0]) == 0:
        raise ValueError("X is empty: at least one text is needed.")
    if len(columns) > 2 or (len(columns) == 2 and not allow_pairs):
        expected = "1 column (single texts)" + (
            " or 2 columns (sentence pairs)" if allow_pairs else ""
        )
        raise ValueError(f"X has {len(columns)} columns; expected {expected}.")
    if len(columns) == 1:
        return TextInput(_check_column(columns[0], ""))
    first = _check_column(columns[0], "column 0, ")
    return TextInput(first, _check_column(columns[1], "column 1, "))


def check_words(X):
    """Validate token-classification input: texts (str) or pre-split word lists.

    Returns ``(words, offsets, texts)``: per row the list of words, their
    ``(start, end)`` character offsets (None for pre-split input) and the
    text (None for pre-split input).

    Examples
    --------
    >>> words, offsets, _ = check_words(["Ada  Lovelace"])
    >>> words, offsets
    ([['Ada', 'Lovelace']], [[(0, 3), (5, 13)]])
    """
    if X is None or isinstance(X, (str, bytes)):
        raise TypeError(
            "X must be a collection of texts or of word lists, not "
            f"{'None' if X is None else 'a single string'}; wrap it in a list."
        )
    rows = X.tolist() if hasattr(X, "tolist") else list(X)
    if not rows:
        raise ValueError("X is empty: at least one text is needed.")
    all_words, all_offsets, texts = [], [], []
    for i, row in enumerate(rows):
        if isinstance(row, (str, np.str_)):
            row = _check_encodable(str(row), "", i)
            words, offsets, pos = [], [], 0
            for word in row.split():
                start = row.index(word, pos)
                pos = start + len(word)
                words.append(word)
                offsets.append((start, pos))
            all_offsets.append(offsets)
            texts.append(row)
        elif isinstance(row, (list, tuple, np.ndarray)):
            words = list(row)
            for j, word in enumerate(words):
                if not isinstance(word, (str, np.str_)):
                    raise TypeError(
                        f"X row {i}, word {j} is {_describe(word)}; words must be strings."
                    )
                if not str(word) or str(word).isspace():
                    raise ValueError(
                        f"X row {i}, word {j} is empty or blank; every word needs a character."
                    )
                _check_encodable(str(word), "", i)
            words = [str(w) for w in words]
            all_offsets.append(None)
            texts.append(None)
        else:
            raise TypeError(f"X row {i} is {_describe(row)}; expected a string or a list of words.")
        if not words:
            raise ValueError(f"X row {i} has no words; every sentence needs at least one.")
        all_words.append(words)
    return all_words, all_offsets, texts
