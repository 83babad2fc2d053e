"""Checking what users pass as texts, torch-free.

Shared by the estimators (through :mod:`sktransformers.engine._data`) and by the
ONNX runtime (:mod:`sktransformers.onnx`), which must not import torch: one
set of rules and error messages for single texts, sentence pairs and word
lists, and the entity spans of IOB2 tag sequences.
"""

from __future__ import annotations

import math
import re
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

    def take(self, indices):
        first = [self.first[i] for i in indices]
        second = None if self.second is None else [self.second[i] for i in indices]
        return TextInput(first, second)


def _describe(value):
    return f"{value!r} (type {type(value).__name__})"


def _is_pandas_na(value):
    # pd.NA / pd.NaT: the missing values of "string" and datetime columns.
    return type(value).__name__ in ("NAType", "NaTType")


def _check_encodable(text, where, i):
    """A lone surrogate (e.g. from a bad decode) cannot reach the Rust tokenizer."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"X has invalid Unicode at {where}row {i}, character {exc.start}: "
            f"{text[exc.start : exc.end]!r} is a lone surrogate, not a character. Decode the "
            "source with errors='replace' or fix the text."
        ) from None
    return text


def _check_column(values, where, allow_missing=False):
    out = []
    for i, value in enumerate(values):
        if isinstance(value, str):
            out.append(_check_encodable(value, where, i))
            continue
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        if missing or _is_pandas_na(value):
            if allow_missing:  # a single text in a frame of pairs (allow_mixed)
                out.append(None)
                continue
            raise ValueError(
                f"X contains a missing value at {where}row {i}: {_describe(value)}. "
                "Every text must be a string; drop or fill missing texts first."
            )
        if isinstance(value, np.str_):
            out.append(_check_encodable(str(value), where, i))
            continue
        raise TypeError(
            f"X must contain strings, but {where}row {i} is {_describe(value)}. "
            "Convert the column to str first if the values are meant as text."
        )
    return out


def check_texts(X, *, allow_pairs=True, allow_mixed=False):
    """Validate ``X`` and return a :class:`TextInput`.

    Accepted: a list, tuple, numpy array or pandas Series of str (single
    texts); a one-column DataFrame or (n, 1) array (single texts); a
    two-column DataFrame, an (n, 2) array or a list of 2-tuples (sentence
    pairs).

    With ``allow_mixed=True`` single texts and pairs may be mixed: in two
    columns, a missing second text (None/NaN) marks a single text (its
    ``second`` entry is None); a list may mix strings and 2-tuples.
    """
    if allow_mixed and isinstance(X, (list, tuple)):
        if any(isinstance(item, (tuple, list, np.ndarray)) for item in X) and not all(
            isinstance(item, (tuple, list, np.ndarray)) for item in X
        ):
            X = [(item, None) if isinstance(item, (str, np.str_)) else item for item in X]
    if X is None:
        raise ValueError("X is None; expected a list of texts or of text pairs.")
    if isinstance(X, str):
        raise TypeError(
            "X must be a collection of texts, not a single string; wrap it in a list: [text]."
        )
    if hasattr(X, "iloc") and hasattr(X, "columns"):  # pandas DataFrame
        n_columns = X.shape[1]
        columns = [X.iloc[:, j].tolist() for j in range(n_columns)]
    elif hasattr(X, "iloc"):  # pandas Series
        columns = [X.tolist()]
    else:
        if hasattr(X, "__array__") and not isinstance(X, (list, tuple)):
            arr = np.asarray(X, dtype=object)
        elif isinstance(X, (list, tuple)):
            arr = np.empty(len(X), dtype=object)
            for i, item in enumerate(X):
                arr[i] = item
            if len(X) and all(isinstance(item, (tuple, list, np.ndarray)) for item in X):
                widths = {len(item) for item in X}
                if len(widths) != 1:
                    raise ValueError(
                        "X mixes rows of different lengths; sentence pairs must all "
                        "have exactly 2 texts."
                    )
                arr = np.empty((len(X), widths.pop()), dtype=object)
                for i, item in enumerate(X):
                    arr[i, :] = list(item)
        else:
            raise TypeError(
                "X must be a list, array, pandas Series or DataFrame of texts, "
                f"got {type(X).__name__}."
            )
        if arr.ndim == 0:
            raise TypeError("X must be a collection of texts, got a scalar.")
        if arr.ndim == 1:
            columns = [arr.tolist()]
        elif arr.ndim == 2:
            columns = [arr[:, j].tolist() for j in range(arr.shape[1])]
        else:
            raise ValueError(f"X must be 1- or 2-dimensional, got {arr.ndim} dimensions.")
    if len(columns) == 0 or len(columns[0]) == 0:
        raise ValueError("X is empty: at least one text is needed.")
    if len(columns) > 2 or (len(columns) == 2 and not allow_pairs):
        expected = "1 column (single texts)" + (
            " or 2 columns (sentence pairs)" if allow_pairs else ""
        )
        raise ValueError(f"X has {len(columns)} columns; expected {expected}.")
    if len(columns) == 1:
        return TextInput(_check_column(columns[0], ""))
    second = _check_column(columns[1], "column 1, ", allow_missing=allow_mixed)
    if allow_mixed and all(s is None for s in second):
        second = None
    return TextInput(_check_column(columns[0], "column 0, "), second)


# ----------------------------------------------------------------------
# Words of a string: whitespace, and one word per CJK character
# ----------------------------------------------------------------------
#: Characters that are words on their own: Chinese, Japanese and Korean text
#: has no spaces between words, and CJK tokenizers (BERT's
#: ``tokenize_chinese_chars``) read one character at a time. Han (unified
#: ideographs, extension A-G, compatibility), kana, hangul and bopomofo, CJK
#: radicals, symbols and punctuation (the ideographic space U+3000 stays
#: whitespace), CJK compatibility forms, and half-width / full-width forms.
CJK_CHARACTERS = (
    "\u1100-\u11ff"  # Hangul Jamo
    "\u2e80-\u2fdf"  # CJK radicals, Kangxi radicals
    "\u2ff0-\u2fff"  # ideographic description characters
    "\u3001-\u303f"  # CJK symbols and punctuation (not U+3000, a space)
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3100-\u31ff"  # Bopomofo, Hangul compatibility Jamo, Kanbun, CJK strokes
    "\u3200-\u33ff"  # enclosed CJK letters, CJK compatibility
    "\u3400-\u4dbf"  # Han extension A
    "\u4e00-\u9fff"  # Han unified ideographs
    "\ua960-\ua97f"  # Hangul Jamo extended A
    "\uac00-\ud7ff"  # Hangul syllables, Jamo extended B
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\ufe30-\ufe4f"  # CJK compatibility forms
    "\uff00-\uffef"  # half-width and full-width forms
    "\U00020000-\U0003134f"  # Han extensions B-G, compatibility supplement
)
_CJK = re.compile(f"[{CJK_CHARACTERS}]")
# One CJK character, or a run of anything else that is neither space nor CJK.
_WORD = re.compile(f"[{CJK_CHARACTERS}]|[^\\s{CJK_CHARACTERS}]+")


def word_spans(text):
    """The words of ``text`` as ``(start, end)`` character spans (``text[start:end]``).

    The one rule by which a string becomes words everywhere in the package
    (token classification, ``predict_entities`` offsets, augmentation,
    explanations): whitespace separates words, and every CJK character
    (Han, kana, hangul, CJK punctuation, full-width forms; see
    ``CJK_CHARACTERS``) is a word of its own. Any other run of non-space
    characters stays whole, so English splits exactly as ``str.split`` does
    (``"COVID-19"``, ``"3.5"``, ``"well,"`` are one word each).

    ``"我在Google工作了3年"`` gives 我 在 Google 工 作 了 3 年.

    Limits: there is no word segmentation (``"北京"`` is two words, as a
    Chinese BERT reads it: one token per character), and scripts written
    without spaces that are not CJK (Thai, Lao, Khmer, Myanmar) are not
    split: a run of them is one word.
    """
    return [m.span() for m in _WORD.finditer(text)]


def is_cjk(char):
    """True for a character that is a word on its own (see :func:`word_spans`)."""
    return bool(char) and _CJK.fullmatch(char[0]) is not None


def join_words(words):
    """Words back into a text, and each word's span in it.

    A single space between two words, and none where either side of the
    boundary is a CJK character (Chinese and Japanese put no spaces between
    words). English words come back joined by single spaces, as before.
    """
    parts, spans, position = [], [], 0
    for k, word in enumerate(words):
        if k and not (is_cjk(words[k - 1][-1:]) or is_cjk(word[:1])):
            parts.append(" ")
            position += 1
        parts.append(word)
        spans.append((position, position + len(word)))
        position += len(word)
    return "".join(parts), spans


# ----------------------------------------------------------------------
# Word-level input (token classification)
# ----------------------------------------------------------------------


@dataclass
class WordInput:
    """Texts as words: ``words[i]`` the words of text ``i``, ``offsets[i]`` their
    ``(start, end)`` character spans in ``texts[i]``.

    A string is split by :func:`word_spans` (whitespace, and one word per CJK
    character) and keeps its own offsets; a list of words is taken as is,
    with offsets into the words joined by :func:`join_words` (single spaces,
    none next to a CJK character).
    """

    words: list
    offsets: list
    texts: list

    def __len__(self):
        return len(self.words)

    def __iter__(self):
        # ``words, offsets, texts = check_words(X)`` unpacks like a tuple.
        return iter((self.words, self.offsets, self.texts))

    def take(self, indices):
        return WordInput(
            [self.words[i] for i in indices],
            [self.offsets[i] for i in indices],
            [self.texts[i] for i in indices],
        )


def check_words(X):
    """Validate token-classification input: a sequence of word lists or strings."""
    if X is None:
        raise ValueError("X is None; expected a list of texts (strings or lists of words).")
    if isinstance(X, str):
        raise TypeError(
            "X must be a collection of texts, not a single string; wrap it in a list: [text]."
        )
    if hasattr(X, "iloc") and hasattr(X, "columns"):
        if X.shape[1] != 1:
            raise ValueError(f"X has {X.shape[1]} columns; expected one column of texts.")
        X = X.iloc[:, 0]
    scalar = isinstance(X, np.ndarray) and X.ndim == 0
    if (
        scalar
        or isinstance(X, (bytes, bytearray, dict, set, frozenset))
        or not hasattr(X, "__len__")
    ):
        raise TypeError(
            "X must be a list, tuple, array or pandas Series of texts (strings or lists of "
            f"words), got {_describe(X)}."
        )
    rows = X.tolist() if hasattr(X, "tolist") and not isinstance(X, list) else list(X)
    if not rows:
        raise ValueError("X is empty: at least one text is needed.")
    words, offsets, texts = [], [], []
    for i, row in enumerate(rows):
        if isinstance(row, (str, np.str_)):
            text = _check_encodable(str(row), "", i)
            spans = word_spans(text)
            row_words = [text[a:b] for a, b in spans]
        elif isinstance(row, (list, tuple, np.ndarray)):
            row_words = []
            for j, word in enumerate(row):
                if not isinstance(word, (str, np.str_)):
                    raise TypeError(
                        f"X row {i}, word {j} is {_describe(word)}; words must be strings."
                    )
                word = _check_encodable(str(word), "", i)
                if not word or word.isspace():
                    raise ValueError(
                        f"X row {i}, word {j} is empty or blank; every word needs a character."
                    )
                row_words.append(word)
            text, spans = join_words(row_words)
        else:
            raise TypeError(
                f"X row {i} is {_describe(row)}; each text must be a string or a list of words."
            )
        if not row_words:
            raise ValueError(f"X row {i} is an empty sentence: it has no words.")
        words.append(row_words)
        offsets.append(spans)
        texts.append(text)
    return WordInput(words, offsets, texts)


# ----------------------------------------------------------------------
# Entities of IOB2 tag sequences
# ----------------------------------------------------------------------
def entity_spans(tags):
    """Entities of one tag sequence as ``(type, start, end)`` (end exclusive), strict IOB2.

    An entity starts at ``B-X`` and runs over the ``I-X`` that follow; an
    ``I-X`` that does not continue an entity of type X starts none (strict
    mode, as ``seqeval``'s ``mode="strict", scheme=IOB2``).
    """
    spans = []
    kind, start = None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        tag = str(tag)
        prefix, _, label = tag.partition("-")
        if kind is not None and not (prefix == "I" and label == kind):
            spans.append((kind, start, i))
            kind, start = None, None
        if prefix == "B" and label:
            kind, start = label, i
    return spans


def entity_f1(y_true, y_pred):
    """Micro entity F1 of tag sequences, strict IOB2 (equal to seqeval's strict mode)."""
    true, pred = set(), set()
    for i, (t, p) in enumerate(zip(y_true, y_pred)):
        true.update((i, *span) for span in entity_spans(t))
        pred.update((i, *span) for span in entity_spans(p))
    hits = len(true & pred)
    if not true or not pred or not hits:
        return 0.0
    precision, recall = hits / len(pred), hits / len(true)
    return 2 * precision * recall / (precision + recall)
