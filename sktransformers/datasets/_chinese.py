"""Readers for two Chinese data sets kept in a local folder (nothing is downloaded).

Both live in the ``chinese/`` sub-folder of the data folder (see
:func:`~sktransformers.datasets.find_data_file` for where it is looked for):

- ``chinese/chnsenticorp_htl/train.csv``: ChnSentiCorp hotel reviews,
  binary sentiment (:func:`load_chnsenticorp`);
- ``chinese/peoples_daily_ner/train.txt``: People's Daily 1998 named
  entities, one character per line (:func:`load_peoples_daily_ner`).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from ._local import ENV_VAR, _candidate_dirs

#: The IOB2 tags of People's Daily NER.
PEOPLES_DAILY_TAGS = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG")

_SOURCES = {
    "chnsenticorp_htl": (
        "ChnSentiCorp (Tan Songbo, 2008), the hotel-review part (ChnSentiCorp_htl_all, "
        "e.g. https://github.com/SophonPlus/ChineseNlpCorpus), a UTF-8 CSV with a header "
        "'label,review'"
    ),
    "peoples_daily_ner": (
        "the People's Daily 1998 NER corpus (e.g. the 'peoples_daily_ner' data set of the "
        "Hugging Face Hub or https://github.com/zjy-ucas/ChineseNER), one 'CHAR TAG' line per "
        "character and a blank line between sentences"
    ),
}
# A line of the NER file is one character and a tag; anything longer is not that format.
_MAX_LINE = 1000


def _find(name, filename, data_dir):
    """``chinese/<name>/<filename>`` under the data folder (or ``data_dir`` naming a sub-folder)."""
    looked = []
    for base in _candidate_dirs(data_dir):
        for path in (base / "chinese" / name / filename, base / name / filename, base / filename):
            looked.append(path)
            if path.is_file():
                return path
    where = "\n  ".join(str(p) for p in looked)
    raise FileNotFoundError(
        f"chinese/{name}/{filename} not found. Looked in:\n  {where}\n"
        f"Pass data_dir= or set {ENV_VAR} to the folder holding chinese/{name}/. "
        f"The file is not shipped with sktransformers; it comes from {_SOURCES[name]}."
    )


def load_chnsenticorp(*, data_dir=None, as_frame=False):
    """ChnSentiCorp hotel reviews: Chinese texts with a binary sentiment label.

    6,765 reviews in the shared folder (about 69 % positive), from a few
    characters to about 2,000 (use ``max_length`` 256 or 512, or
    ``long_texts="chunk"``, for the long ones). There is one file: hold out
    your own test rows. Accuracy is the usual metric.

    Parameters
    ----------
    data_dir : str or path-like, default=None
        The data folder holding ``chinese/chnsenticorp_htl/train.csv``, or
        ``chinese/`` or ``chnsenticorp_htl/`` itself; ``None`` looks in
        ``$SKTRANSFORMERS_DATA_DIR``, then ``../shared/data`` and
        ``shared/data``.
    as_frame : bool, default=False
        Return one DataFrame (columns ``label``, ``review``) instead of two
        Series.

    Returns
    -------
    reviews : pandas.Series of str
        The reviews (named ``"review"``).
    labels : pandas.Series of int
        1 positive, 0 negative (named ``"label"``).
    frame : pandas.DataFrame
        Only when ``as_frame=True``.

    Raises
    ------
    FileNotFoundError
        When the file is in none of the folders looked in (the message lists
        them and where the data comes from).
    ValueError
        When the file lacks the ``label`` or ``review`` column, or a label is
        not 0 or 1.

    Examples
    --------
    >>> from sktransformers.datasets import load_chnsenticorp
    >>> reviews, labels = load_chnsenticorp()  # doctest: +SKIP
    >>> len(reviews), round(labels.mean(), 2)  # doctest: +SKIP
    (6765, 0.69)
    """
    path = _find("chnsenticorp_htl", "train.csv", data_dir)
    frame = pd.read_csv(
        path, encoding="utf-8-sig", dtype=str, keep_default_na=False, quoting=csv.QUOTE_MINIMAL
    )
    missing = [c for c in ("label", "review") if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: columns {missing} missing; found {list(frame.columns)}.")
    bad = ~frame["label"].str.strip().isin(["0", "1"])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(
            f"{path}: label must be 0 or 1; row {row} has {frame['label'].iloc[row]!r}."
        )
    frame = pd.DataFrame(
        {"label": frame["label"].str.strip().astype(np.int64), "review": frame["review"]}
    )
    if as_frame:
        return frame
    return frame["review"], frame["label"]


def read_char_tags(path):
    """Sentences and tags of a ``CHAR TAG`` file (blank line between sentences).

    The character is everything before the last space of a line (so a
    full-width space, written as itself, is read too); the tag is after it.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    sentences, tags : list of list of str
    """
    sentences, tags, chars, labels = [], [], [], []
    with open(Path(path), encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, 1):
            if len(line) > _MAX_LINE:
                raise ValueError(
                    f"{path}, line {number}: {len(line)} characters; expected 'CHAR TAG'."
                )
            line = line.rstrip("\r\n")
            if not line.strip():
                if chars:
                    sentences.append(chars)
                    tags.append(labels)
                    chars, labels = [], []
                continue
            char, _, tag = line.rpartition(" ")
            if not char or not tag.strip():
                raise ValueError(f"{path}, line {number}: expected 'CHAR TAG', got {line!r}.")
            chars.append(char)
            labels.append(tag.strip())
    if chars:
        sentences.append(chars)
        tags.append(labels)
    return sentences, tags


def load_peoples_daily_ner(*, data_dir=None, as_frame=False):
    """People's Daily (1998) Chinese named entities: one IOB2 tag per character.

    2,318 sentences in the shared folder, with ``PER``, ``LOC`` and ``ORG``
    entities (see ``PEOPLES_DAILY_TAGS``). Chinese has no spaces between
    words, so the unit of labelling is the character: each sentence is a
    list of characters, which
    :class:`~sktransformers.TransformerTokenClassifier` takes as its words.
    There is one file: hold out your own sentences. Entity F1 (seqeval,
    strict IOB2) is the usual metric.

    Parameters
    ----------
    data_dir : str or path-like, default=None
        The data folder holding ``chinese/peoples_daily_ner/train.txt``, or
        ``chinese/`` or ``peoples_daily_ner/`` itself; ``None`` looks in
        ``$SKTRANSFORMERS_DATA_DIR``, then ``../shared/data`` and
        ``shared/data``.
    as_frame : bool, default=False
        Return one DataFrame instead of two lists.

    Returns
    -------
    sentences : list of list of str
        The characters of each sentence.
    tags : list of list of str
        One IOB2 tag per character.
    frame : pandas.DataFrame
        Only when ``as_frame=True``: columns ``tokens`` and ``tags``, each
        cell a list of str.

    Raises
    ------
    FileNotFoundError
        When the file is in none of the folders looked in (the message lists
        them and where the data comes from).
    ValueError
        When a line is not ``CHAR TAG``.

    Examples
    --------
    >>> from sktransformers.datasets import load_peoples_daily_ner
    >>> sentences, tags = load_peoples_daily_ner()  # doctest: +SKIP
    >>> len(sentences), "".join(sentences[0][:5]), tags[0][:5]  # doctest: +SKIP
    (2318, '在这里恕弟', ['O', 'O', 'O', 'O', 'O'])
    """
    sentences, tags = read_char_tags(_find("peoples_daily_ner", "train.txt", data_dir))
    if as_frame:
        return pd.DataFrame({"tokens": sentences, "tags": tags})
    return sentences, tags
