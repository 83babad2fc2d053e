"""Data sets shipped inside the package (small, synthetic, for demos and tests)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

_HERE = Path(__file__).resolve().parent


def load_movie_reviews_sample():
    """600 synthetic movie reviews with a binary sentiment label.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``text`` (str) and ``label`` (0 = negative, 1 = positive).

    Examples
    --------
    >>> from sktransformers.datasets import load_movie_reviews_sample
    >>> df = load_movie_reviews_sample()
    >>> df.shape, sorted(df.label.unique().tolist())
    ((600, 2), [0, 1])
    """
    return pd.read_csv(_HERE / "movie_reviews_sample.tsv", sep="\t", quoting=csv.QUOTE_NONE)


def load_ner_sample(*, as_frame=False):
    """200 synthetic sentences tagged for named entities (IOB2, CoNLL-2003 types).

    Template sentences written for this package (``tests/scripts/make_ner_sample.py``
    regenerates the file byte for byte), filled with invented or very common
    names: persons (``PER``), organizations (``ORG``), locations (``LOC``) and
    nationalities, languages, events, prizes and holidays (``MISC``), many of
    them several words long (``B-``/``I-`` tags). Punctuation is a word of its
    own, as in CoNLL files, so ``" ".join(words)`` splits back into the same
    words. Enough for a demo or a smoke test when the CoNLL-2003 files are not
    available; it says nothing about accuracy on real text.

    Parameters
    ----------
    as_frame : bool, default=False
        Return one DataFrame instead of two lists.

    Returns
    -------
    sentences : list of list of str
        The words of each sentence.
    tags : list of list of str
        One IOB2 tag per word (``B-PER``, ``I-PER``, ..., ``O``).
    frame : pandas.DataFrame
        Only when ``as_frame=True``: columns ``tokens`` and ``tags``, each
        cell a list of str.

    Examples
    --------
    >>> from sktransformers.datasets import load_ner_sample
    >>> sentences, tags = load_ner_sample()
    >>> len(sentences), sentences[0], tags[0]
    (200, ['Lucas', 'joined', 'Red', 'Cross', 'in', 'Sydney', 'last', 'year', '.'], \
['B-PER', 'O', 'B-ORG', 'I-ORG', 'O', 'B-LOC', 'O', 'O', 'O'])
    """
    raw = pd.read_csv(
        _HERE / "ner_sample.tsv",
        sep="\t",
        quoting=csv.QUOTE_NONE,
        dtype=str,
        keep_default_na=False,
    )
    frame = pd.DataFrame(
        {"tokens": raw["tokens"].str.split(" "), "tags": raw["tags"].str.split(" ")}
    )
    if as_frame:
        return frame
    return frame["tokens"].tolist(), frame["tags"].tolist()
