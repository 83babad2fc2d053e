"""Words read from sub-word windows: the rule of the token classifier, in one place.

NumPy only: ``TransformerTokenClassifier`` (training targets, prediction,
explanations) and the torch-free ONNX runtime read a word's tag at the same
position of the same window through these functions.

- :func:`first_subwords`: in one window, the position of each word's first
  sub-word (a window that starts inside a word does not read that word).
- :func:`word_reads`: of the windows holding a word, the one where it sits
  farthest from the edges (the most context on both sides).
- :func:`words_from_rows`: per text, each word's outputs read there.
"""

from __future__ import annotations

import numpy as np


def first_subwords(word_ids, offsets, continuation):
    """Per position of one window, the word whose first sub-word sits there (-1 elsewhere).

    ``word_ids`` gives each position's word (None for special tokens),
    ``offsets`` each position's character offsets within its word, and
    ``continuation`` whether the window is a later window of the same text:
    a later window may start inside a word, and its first position is then
    not that word's first sub-word.
    """
    index = np.full(len(word_ids), -1, dtype=np.int64)
    before = None
    first_content = True
    for p, w in enumerate(word_ids):
        if w is not None and w != before:
            if not (first_content and continuation and offsets[p][0] > 0):
                index[p] = w
        if w is not None:
            first_content = False
        before = w
    return index


def word_reads(docs, word_index, n_words):
    """Where each word's tag is read: its first sub-word, in one window.

    A word seen in several windows (a long sentence, see
    :func:`~sktransformers.engine._data.encode_words`) is read from the window where
    it sits farthest from the window's edges (the most context on both
    sides; the first such window on a tie).

    Returns
    -------
    reads : list of ndarray of shape (n_words, 2)
        Per text, each word's ``(row, position)``: the window (its row
        index) and the token position in it; ``(-1, -1)`` for a word
        with no sub-word.
    centrality : list of ndarray of shape (n_words,)
        Per text, the distance of each read position to its window's nearer
        edge (-1 for a word with no sub-word).
    """
    reads = [np.full((n, 2), -1, dtype=np.int64) for n in n_words]
    best = [np.full(n, -1, dtype=np.int64) for n in n_words]
    for r, doc in enumerate(docs):
        index = word_index[r]
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


def words_from_rows(rows, docs, word_index, n_words, size):
    """Per text, the (n_words, size) outputs read at each word's first sub-word.

    ``rows`` holds each window's (length, size) outputs. Each word is read
    where :func:`word_reads` places it; a word with no sub-word at all (rare:
    characters the tokenizer drops) gets zeros (uniform probabilities).
    Returns the outputs and, per text, each read's distance to its window's
    nearer edge.
    """
    reads, best = word_reads(docs, word_index, n_words)
    out = []
    for where, n in zip(reads, n_words):
        values = np.zeros((n, size), dtype=np.float32)
        for r in np.unique(where[:, 0][where[:, 0] >= 0]):
            words = np.flatnonzero(where[:, 0] == r)
            values[words] = rows[r][where[words, 1]]
        out.append(values)
    return out, best
