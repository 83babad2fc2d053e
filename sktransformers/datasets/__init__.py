"""Small data sets shipped with the package, and a loader for the GLUE files.

``load_movie_reviews_sample`` returns 600 short synthetic movie reviews
(template sentences written for this package, not taken from any corpus):
enough for a demo or a smoke test when the GLUE files are not available.
``load_glue`` reads a task from a local GLUE folder (the files as
distributed with the benchmark; nothing is downloaded).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

_HERE = Path(__file__).resolve().parent

#: Per-task reading rules for the GLUE TSV files: (header?, text columns, label column).
GLUE_TASKS = {
    "SST-2": (True, ["sentence"], "label"),
    "CoLA": (False, [3], 1),
    "MRPC": (True, ["#1 String", "#2 String"], "Quality"),
    "STS-B": (True, ["sentence1", "sentence2"], "score"),
    "RTE": (True, ["sentence1", "sentence2"], "label"),
}


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


def load_glue(task, split, data_dir):
    """Read one GLUE task split from a local folder.

    Parameters
    ----------
    task : {"SST-2", "CoLA", "MRPC", "STS-B", "RTE"}
    split : {"train", "dev"}
    data_dir : str or path-like
        The folder holding ``<task>/<split>.tsv`` (for example
        ``../shared/data/glue``).

    Returns
    -------
    X : pandas.Series or pandas.DataFrame
        The texts (a two-column frame for pair tasks).
    y : pandas.Series
        The labels (floats for STS-B).
    """
    if task not in GLUE_TASKS:
        raise ValueError(f"Unknown GLUE task {task!r}; choose from {sorted(GLUE_TASKS)}.")
    header, text_cols, label_col = GLUE_TASKS[task]
    path = Path(data_dir) / task / f"{split}.tsv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found.")
    frame = pd.read_csv(
        path, sep="\t", quoting=csv.QUOTE_NONE, header=0 if header else None,
        encoding="utf-8-sig", on_bad_lines="skip", keep_default_na=False,
    )
    X = frame[text_cols]
    X = X.iloc[:, 0] if len(text_cols) == 1 else X
    y = frame[label_col]
    if task == "STS-B":
        y = y.astype(float)
    return X, y
