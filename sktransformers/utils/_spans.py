"""Answer spans: windows over (question, context) pairs, span targets, decoding, SQuAD scores.

NumPy and the ``tokenizers`` library only: the estimator and the torch-free
ONNX runtime read questions through the same functions, so both see the same
windows and pick the same answers.

- :func:`encode_pairs` tokenizes (question, context) pairs into windows of
  ``max_length`` tokens over the context, overlapping by ``stride`` tokens,
  each position with its character offsets in the context (-1 outside it).
- :func:`span_targets` turns an answer's character span into the start and
  end token of each window (position 0, the first special token, when the
  window does not hold the whole answer or there is none).
- :func:`best_answers` reads the windows' start and end logits back into
  answers, as the post-processing of transformers' ``run_qa.py`` example:
  the best spans of every window (at most ``max_answer_length`` tokens),
  against the "no answer" score (the lowest over the windows).
- :func:`exact_match` and :func:`token_f1` are SQuAD's official measures
  (a CJK character counts as a word, so Chinese answers score by character).
"""

from __future__ import annotations

import contextlib
import re
import string
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._text_input import check_texts

NO_ANSWER = ""


# ----------------------------------------------------------------------
# Windows
# ----------------------------------------------------------------------
def check_questions(X):
    """(question, context) pairs: a DataFrame with those columns, or any two-column input."""
    if hasattr(X, "columns") and {"question", "context"} <= set(X.columns):
        X = X[["question", "context"]]
    texts = check_texts(X)
    if not texts.is_pair:
        raise ValueError(
            "TransformerQuestionAnswerer reads (question, context) pairs: a DataFrame with "
            "the columns 'question' and 'context', an (n, 2) array or a list of 2-tuples; "
            "X holds single texts."
        )
    return texts


@dataclass
class SpanWindows:
    """Token windows of (question, context) pairs.

    ``doc[row]`` is the pair a window belongs to; ``offsets[row]`` an
    (length, 2) int array of each position's character span in the context
    (-1, -1 for the question, special tokens and padding).
    """

    input_ids: list
    token_type_ids: list
    doc: np.ndarray
    offsets: list


@contextlib.contextmanager
def _settings(tokenizer):
    """Leave a (shared) ``tokenizers.Tokenizer``'s truncation and padding as they were."""
    truncation, padding = tokenizer.truncation, tokenizer.padding
    try:
        yield
    finally:
        if truncation is None:
            tokenizer.no_truncation()
        else:
            tokenizer.enable_truncation(**truncation)
        if padding is None:
            tokenizer.no_padding()
        else:
            tokenizer.enable_padding(**padding)


def first_text_limit(max_length, stride):
    """The most tokens kept of a pair's first text (the question) when windows move over
    the second: each window must leave the second text room to move forward."""
    return max(1, min(max_length // 2, max_length - int(stride) - 4))


def encode_pairs(tokenizer, questions, contexts, max_length, stride):
    """Windows of (question, context) pairs (see :class:`SpanWindows`).

    ``tokenizer`` is a ``tokenizers.Tokenizer`` (a fast tokenizer's
    ``backend_tokenizer``); its settings are restored afterwards. A
    question longer than :func:`first_text_limit` tokens is cut there.
    """
    with _settings(tokenizer):
        tokenizer.no_padding()
        limit = first_text_limit(max_length, stride)
        tokenizer.enable_truncation(limit, strategy="longest_first")
        cut = tokenizer.encode_batch(list(questions), add_special_tokens=False)
        questions = [
            q[: e.offsets[-1][1]] if len(e.overflowing) and e.offsets else q
            for q, e in zip(questions, cut)
        ]
        tokenizer.enable_truncation(max_length, stride=int(stride), strategy="only_second")
        encodings = tokenizer.encode_batch(list(zip(questions, contexts)), add_special_tokens=True)
    input_ids, types, docs, offsets = [], [], [], []
    for i, first in enumerate(encodings):
        for enc in (first, *first.overflowing):
            input_ids.append(enc.ids)
            types.append(enc.type_ids)
            docs.append(i)
            where = np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2)
            in_context = np.asarray([s == 1 for s in enc.sequence_ids], dtype=bool)
            where[~in_context] = -1
            offsets.append(where)
    return SpanWindows(input_ids, types, np.asarray(docs, dtype=np.int64), offsets)


def span_targets(spans, doc, offsets):
    """(n_windows, 2) start and end token of each window's answer (0, 0: none here).

    ``spans`` is an (n_pairs, 2) array of the answer's character start and
    end (end exclusive; -1 for no answer), ``doc`` and ``offsets`` as in
    :class:`SpanWindows`. A window holds the answer only when it holds all
    of it (as in ``run_qa.py``).
    """
    out = np.zeros((len(doc), 2), dtype=np.int64)
    for row, (d, where) in enumerate(zip(doc, offsets)):
        start, end = spans[d]
        if start < 0:
            continue
        context = np.flatnonzero(where[:, 0] >= 0)
        if not len(context):
            continue
        starts, ends = where[context, 0], where[context, 1]
        if starts[0] > start or ends[-1] < end:
            continue
        first = context[np.flatnonzero(starts <= start)[-1]]
        last = context[np.flatnonzero(ends >= end)[0]]
        out[row] = first, max(first, last)
    return out


# ----------------------------------------------------------------------
# Decoding
# ----------------------------------------------------------------------
def _top(values, allowed, k):
    idx = np.flatnonzero(allowed)
    return idx[np.argsort(-values[idx], kind="stable")[:k]]


def _candidates(windows, n_best, max_answer_length):
    """Every window's best spans: ``{(start, end): score}``, where each was read, and "no answer".

    Spans are character spans of the context (the best score of a span seen
    in several windows); "no answer" is the lowest first-token score over the
    windows, with its window.
    """
    null, null_window = np.inf, 0
    found, read = {}, {}
    for w, (logits, offsets) in enumerate(windows):
        logits = np.asarray(logits, dtype=np.float64)
        start_l, end_l = logits[:, 0], logits[:, 1]
        if start_l[0] + end_l[0] < null:
            null, null_window = start_l[0] + end_l[0], w
        in_context = offsets[:, 0] >= 0
        starts, ends = _top(start_l, in_context, n_best), _top(end_l, in_context, n_best)
        if not len(starts):
            continue
        scores = start_l[starts][:, None] + end_l[ends][None, :]
        length = ends[None, :] - starts[:, None]
        scores[(length < 0) | (length >= max_answer_length)] = -np.inf
        for a, b in zip(*np.nonzero(np.isfinite(scores))):
            span = (int(offsets[starts[a], 0]), int(offsets[ends[b], 1]))
            if span[1] > span[0] and scores[a, b] > found.get(span, -np.inf):
                found[span] = float(scores[a, b])
                read[span] = (w, int(starts[a]), int(ends[b]))
    return found, read, null, null_window


def best_answers(
    windows, context, *, n_best=20, max_answer_length=30, no_answer_threshold=0.0, where=False
):
    """The answer to one question from its windows' logits.

    Parameters
    ----------
    windows : list of (logits, offsets)
        Per window, an (length, 2) array of start and end logits and the
        window's character offsets (as :class:`SpanWindows`).
    context : str
    n_best : int
        Start and end positions tried per window, and answers returned.
    max_answer_length : int
        Longest answer, in tokens.
    no_answer_threshold : float
        "No answer" is given when its score (the first special token's
        start + end logit, lowest over the windows) exceeds the best span's
        by more than this (``run_qa.py``'s ``null_score_diff_threshold``).
    where : bool
        Also return ``where``: the window the answer was read from and its
        start and end token there (0, 0 for no answer).

    Returns
    -------
    answer : dict
        ``text`` ("" for no answer), ``answer_start`` (-1 for no answer),
        ``score`` (its probability: a softmax over the candidates and "no
        answer"), ``no_answer_score`` and ``n_best`` (the best distinct
        spans, as dicts of ``text``, ``answer_start`` and ``score``).
    """
    found, read, null, null_window = _candidates(windows, n_best, max_answer_length)
    ranked = sorted(found.items(), key=lambda item: -item[1])[:n_best]
    values = np.asarray([s for _, s in ranked] + [null if np.isfinite(null) else 0.0])
    probs = np.exp(values - values.max())
    probs /= probs.sum()
    n_best_list = [
        {"text": context[a:b], "answer_start": a, "score": float(p)}
        for ((a, b), _), p in zip(ranked, probs)
    ]
    null_score = float(null) if np.isfinite(null) else None
    if not ranked or (null_score is not None and null_score - ranked[0][1] > no_answer_threshold):
        text, start, score = NO_ANSWER, -1, float(probs[-1])
        location = (null_window, 0, 0)
    else:
        text, start, score = n_best_list[0]["text"], n_best_list[0]["answer_start"], float(probs[0])
        location = read[ranked[0][0]]
    answer = {
        "text": text,
        "answer_start": start,
        "score": score,
        "no_answer_score": float(probs[-1]),
        "n_best": n_best_list,
    }
    if where:
        answer["where"] = location
    return answer


def no_answer_margin(windows, context, *, n_best=20, max_answer_length=30):
    """``(margin, text)``: how far "no answer" beats the best span, and that span's text.

    The answer is that span when ``margin <= no_answer_threshold``; with no
    span at all the margin is infinite.
    """
    found, _, null, _ = _candidates(windows, n_best, max_answer_length)
    if not found:
        return np.inf, NO_ANSWER
    (start, end), score = max(found.items(), key=lambda item: item[1])
    null = null if np.isfinite(null) else -np.inf
    return float(null - score), context[start:end]


def best_no_answer_threshold(margins, texts, references):
    """The ``no_answer_threshold`` with the best mean SQuAD F1 on held-out questions.

    SQuAD 2.0's best-threshold search: answering exactly the questions whose
    margin is at most the threshold, every distinct margin is tried (and
    "never answer"); a tie goes to the threshold nearest 0.
    """
    margins = np.asarray(margins, dtype=np.float64)
    if not len(margins):
        return 0.0
    answered = np.asarray([token_f1(t, refs) for t, refs in zip(texts, references)])
    silent = np.asarray([token_f1(NO_ANSWER, refs) for refs in references])
    order = np.argsort(margins, kind="stable")
    # gain[k]: F1 when the k questions of smallest margin are answered
    gain = np.concatenate([[0.0], np.cumsum(answered[order] - silent[order])])
    sorted_margins = margins[order]
    candidates = [(0, -np.inf)] + [
        (k + 1, sorted_margins[k])
        for k in range(len(order))
        # a threshold answers every question of its margin: only ends of ties
        if np.isfinite(sorted_margins[k])
        and (k + 1 == len(order) or sorted_margins[k + 1] != sorted_margins[k])
    ]
    best_k, best_t = max(
        candidates, key=lambda c: (gain[c[0]], -abs(c[1]) if np.isfinite(c[1]) else -np.inf)
    )
    if best_k == 0:  # never answer: below every margin
        finite_margins = margins[np.isfinite(margins)]
        return float(finite_margins.min() - 1.0) if len(finite_margins) else 0.0
    return float(best_t)


def check_n_best(n_best):
    """The ``n_best`` argument of ``predict_answers``: a positive int, or None."""
    if n_best is not None and (
        isinstance(n_best, bool) or not isinstance(n_best, (int, np.integer)) or n_best < 1
    ):
        raise ValueError(f"n_best must be a positive int or None, got {n_best!r}.")
    return n_best


def windows_by_pair(rows, doc, offsets, n_pairs):
    """Per pair, its windows as ``(logits, offsets)``, from every window's outputs."""
    per_pair = [[] for _ in range(n_pairs)]
    for logits, d, where in zip(rows, doc, offsets):
        per_pair[d].append((logits, where))
    return per_pair


def answers_by_pair(rows, doc, offsets, contexts, **options):
    """:func:`best_answers` for every pair, from the logits of all windows."""
    per_pair = windows_by_pair(rows, doc, offsets, len(contexts))
    return [best_answers(w, c, **options) for w, c in zip(per_pair, contexts)]


# ----------------------------------------------------------------------
# Answers in the layouts a user gives them
# ----------------------------------------------------------------------
def _is_missing(value):
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN
    except (TypeError, ValueError):
        return False


def answer_references(row, i):
    """The ``(text, start)`` references of one answer in any accepted layout."""
    if isinstance(row, dict):
        if "text" not in row or "answer_start" not in row:
            raise ValueError(
                f"y row {i} is a dict with keys {sorted(map(str, row))[:6]}; an answer dict "
                "has 'text' and 'answer_start' (SQuAD's layout)."
            )
        texts, starts = row["text"], row["answer_start"]
    elif isinstance(row, (tuple, list, np.ndarray)) and len(row) == 2:
        texts, starts = row
    elif _is_missing(row) or (isinstance(row, (tuple, list)) and not len(row)):
        return []
    else:
        raise TypeError(
            f"y row {i} is {row!r:.80}; each answer is a dict {{'text': ..., 'answer_start': "
            "...}} (SQuAD's layout) or a (text, answer_start) pair; an empty text or list, or "
            "None, for no answer."
        )
    if isinstance(texts, (list, tuple, np.ndarray)) != isinstance(
        starts, (list, tuple, np.ndarray)
    ):
        raise ValueError(
            f"y row {i}: 'text' and 'answer_start' should both be single values or both lists."
        )
    if not isinstance(texts, (list, tuple, np.ndarray)):
        texts, starts = [texts], [starts]
    if len(texts) != len(starts):
        raise ValueError(f"y row {i}: {len(texts)} answer texts but {len(starts)} answer starts.")
    refs = []
    for text, start in zip(texts, starts):
        if _is_missing(text) or text == "":
            continue
        if not isinstance(text, str):
            raise TypeError(f"y row {i}: an answer text should be a string, got {text!r:.80}.")
        if isinstance(start, (bool, np.bool_)) or not isinstance(start, (int, np.integer)):
            if isinstance(start, float) and float(start).is_integer():
                start = int(start)
            else:
                raise TypeError(
                    f"y row {i}: answer_start should be an int (a character offset), got "
                    f"{start!r:.80}."
                )
        refs.append((text, int(start)))
    return refs


# ----------------------------------------------------------------------
# SQuAD's measures
# ----------------------------------------------------------------------
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation)
_CJK = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef])")


def normalize_answer(text):
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    text = str(text).lower()
    text = "".join(
        ch for ch in text if ch not in _PUNCTUATION and not unicodedata.category(ch).startswith("P")
    )
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _tokens(text):
    return _CJK.sub(r" \1 ", normalize_answer(text)).split()


def exact_match(prediction, references):
    """1.0 when the normalised prediction equals a normalised reference (SQuAD's EM).

    ``references`` empty (an unanswerable question): 1.0 for "" only.
    """
    references = list(references) or [NO_ANSWER]
    return float(max(normalize_answer(prediction) == normalize_answer(r) for r in references))


def token_f1(prediction, references):
    """SQuAD's token F1 against the best-matching reference (CJK characters are tokens)."""
    references = list(references) or [NO_ANSWER]
    best = 0.0
    predicted = _tokens(prediction)
    for reference in references:
        truth = _tokens(reference)
        if not predicted or not truth:
            best = max(best, float(predicted == truth))
            continue
        common = {}
        for tok in truth:
            common[tok] = common.get(tok, 0) + 1
        same = 0
        for tok in predicted:
            if common.get(tok, 0) > 0:
                common[tok] -= 1
                same += 1
        if same:
            precision, recall = same / len(predicted), same / len(truth)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


# ----------------------------------------------------------------------
# SQuAD's scores over many questions
# ----------------------------------------------------------------------
def answer_rows(y):
    """One entry per question: the rows of a list, array or Series; a ``text`` /
    ``answer_start`` DataFrame's rows as SQuAD's dicts."""
    if hasattr(y, "columns"):  # a DataFrame: the two columns
        if {"text", "answer_start"} - set(y.columns):
            raise ValueError(
                f"y is a DataFrame with columns {list(y.columns)[:6]}; it needs the columns "
                "'text' and 'answer_start'."
            )
        return [{"text": t, "answer_start": s} for t, s in zip(y["text"], y["answer_start"])]
    return list(y.tolist() if hasattr(y, "tolist") and not isinstance(y, list) else y)


def reference_texts(y):
    """Per question, its reference answer texts (empty: no answer), from any accepted layout."""
    out = []
    for i, row in enumerate(answer_rows(y)):
        if isinstance(row, str):  # a plain answer text ("" for none)
            out.append([row] if row else [])
        else:
            out.append([text for text, _ in answer_references(row, i)])
    return out


def _mean_score(measure, y_true, y_pred, sample_weight):
    references = reference_texts(y_true)
    predictions = list(y_pred)
    if len(references) != len(predictions):
        raise ValueError(
            f"y_true and y_pred have different lengths: {len(references)} and {len(predictions)}."
        )
    if not predictions:
        raise ValueError("y_true and y_pred are empty.")
    scores = [measure("" if p is None else p, refs) for p, refs in zip(predictions, references)]
    return float(np.average(scores, weights=sample_weight))


def squad_exact_match(y_true: Any, y_pred: Any, *, sample_weight: ArrayLike | None = None) -> float:
    """SQuAD's exact match, averaged over questions (0 to 1).

    A prediction counts when, normalised (lower case, no punctuation, no
    articles, single spaces), it equals one of the question's reference
    answers; for an unanswerable question only ``""`` counts.

    Parameters
    ----------
    y_true : sequence of answers
        As ``TransformerQuestionAnswerer.fit`` takes them (every reference
        counts), or plain answer texts.
    y_pred : sequence of str
        Predicted answers (``""`` for no answer).
    sample_weight : array-like or None, default=None

    Returns
    -------
    score : float

    Examples
    --------
    >>> from sktransformers.metrics import squad_exact_match
    >>> squad_exact_match([{"text": ["the Normans"], "answer_start": [0]}, ""], ["Normans", ""])
    1.0
    """
    return _mean_score(exact_match, y_true, y_pred, sample_weight)


def squad_f1(y_true: Any, y_pred: Any, *, sample_weight: ArrayLike | None = None) -> float:
    """SQuAD's token F1 against the best-matching reference, averaged over questions (0 to 1).

    Words are compared after SQuAD's normalisation; a CJK character counts
    as a word, so Chinese answers are scored by character.

    Parameters
    ----------
    y_true : sequence of answers
        As ``TransformerQuestionAnswerer.fit`` takes them, or plain texts.
    y_pred : sequence of str
    sample_weight : array-like or None, default=None

    Returns
    -------
    score : float

    Examples
    --------
    >>> from sktransformers.metrics import squad_f1
    >>> round(squad_f1(["in the 10th century"], ["10th century"]), 3)
    0.8
    """
    return _mean_score(token_f1, y_true, y_pred, sample_weight)
