"""Readers for public data sets kept in a local folder (nothing is downloaded).

Where the files are looked for, in this order (the first folder holding the
file wins):

1. ``data_dir`` when the caller gives one (then only there);
2. the folder named by the environment variable ``SKTRANSFORMERS_DATA_DIR``
   (the older ``SKTRANSFORMERS_GLUE_DIR``, which named the ``glue`` folder
   itself, is still read);
3. ``../shared/data`` and ``shared/data`` relative to the working directory;
4. ``shared/data`` beside a source checkout of the package.

:func:`get_data_dir` gives the first of these folders that exists: the one
default every example and benchmark uses for its ``--data-dir`` option.

Each data set lives in a sub-folder of that data folder (``glue/``,
``conll2003/``, ``semeval2018_ec/``); ``data_dir`` may name either the data
folder or the data set's own sub-folder.
"""

from __future__ import annotations

import csv
import os
import random
from pathlib import Path

import numpy as np
import pandas as pd

ENV_VAR = "SKTRANSFORMERS_DATA_DIR"
#: Read for compatibility: it named the ``glue`` folder itself, not its parent.
LEGACY_GLUE_ENV_VAR = "SKTRANSFORMERS_GLUE_DIR"

#: Where each data set comes from, for the error raised when it is missing.
SOURCES = {
    "glue": "the GLUE benchmark task files (https://gluebenchmark.com/tasks)",
    "conll2003": (
        "the CoNLL-2003 English NER shared task (Tjong Kim Sang and De Meulder, 2003; "
        "https://www.clips.uantwerpen.be/conll2003/ner/), one 'TOKEN POS TAG' line per word"
    ),
    "semeval2018_ec": (
        "SemEval-2018 Task 1, subtask E-c, English (Mohammad et al., 2018; "
        "https://competitions.codalab.org/competitions/17751), saved as a TSV with a header"
    ),
    "squad2_subset": (
        "SQuAD 2.0 (Rajpurkar et al., 2018; https://rajpurkar.github.io/SQuAD-explorer/), "
        "articles of its development set in the official JSON layout"
    ),
}

#: Per-task reading rules for the GLUE TSV files: (header?, text columns, label column).
GLUE_TASKS = {
    "SST-2": (True, ["sentence"], "label"),
    "CoLA": (False, [3], 1),
    "MRPC": (True, ["#1 String", "#2 String"], "Quality"),
    "STS-B": (True, ["sentence1", "sentence2"], "score"),
    "RTE": (True, ["sentence1", "sentence2"], "label"),
}

#: The 11 emotion columns of SemEval-2018 E-c, in file order.
SEMEVAL2018_EMOTIONS = (
    "anger",
    "anticipation",
    "disgust",
    "fear",
    "joy",
    "love",
    "optimism",
    "pessimism",
    "sadness",
    "surprise",
    "trust",
)

#: The IOB2 tags of CoNLL-2003.
CONLL2003_TAGS = (
    "O",
    "B-PER",
    "I-PER",
    "B-ORG",
    "I-ORG",
    "B-LOC",
    "I-LOC",
    "B-MISC",
    "I-MISC",
)


def _candidate_dirs(data_dir):
    if data_dir is not None:
        return [Path(data_dir)]
    found = []
    if os.environ.get(ENV_VAR):
        found.append(Path(os.environ[ENV_VAR]))
    if os.environ.get(LEGACY_GLUE_ENV_VAR):
        found.append(Path(os.environ[LEGACY_GLUE_ENV_VAR]).parent)
    cwd = Path.cwd()
    found += [cwd.parent / "shared" / "data", cwd / "shared" / "data"]
    # A source checkout: <checkout>/sktransformers/datasets/_local.py, data beside the checkout.
    checkout = Path(__file__).resolve().parents[2]
    found += [checkout.parent / "shared" / "data", checkout / "shared" / "data"]
    unique = []
    for path in found:
        if path not in unique:
            unique.append(path)
    return unique


def get_data_dir(data_dir=None):
    """The data folder: ``data_dir`` if given, else the first that exists of the usual places.

    The usual places, in order: ``$SKTRANSFORMERS_DATA_DIR``; the parent of
    ``$SKTRANSFORMERS_GLUE_DIR`` (the older variable, which named the ``glue``
    folder itself); ``../shared/data`` and ``shared/data`` from the working
    directory; ``shared/data`` beside a source checkout. Each data set lives in
    a sub-folder of it (``glue/``, ``conll2003/``, ``semeval2018_ec/``,
    ``chinese/``, ...). Every example and benchmark takes ``--data-dir`` with
    this as its default.

    Parameters
    ----------
    data_dir : str or path-like, default=None
        A folder given by the caller; returned as it is.

    Returns
    -------
    path : pathlib.Path
        The folder, or the environment variable's folder (or else
        ``../shared/data`` beside the checkout) when none of them exists, so
        that a "not found" message names where the files were expected.

    Examples
    --------
    >>> from sktransformers.datasets import get_data_dir
    >>> str(get_data_dir("/data/nlp"))
    '/data/nlp'
    """
    if data_dir is not None:
        return Path(data_dir)
    candidates = _candidate_dirs(None)
    for path in candidates:
        if path.is_dir():
            return path
    if os.environ.get(ENV_VAR) or os.environ.get(LEGACY_GLUE_ENV_VAR):
        return candidates[0]
    return Path(__file__).resolve().parents[3] / "shared" / "data"


def find_data_file(dataset, filename, data_dir=None):
    """The path of one file of a local data set, or a FileNotFoundError that says where to look.

    Parameters
    ----------
    dataset : str
        The data set's sub-folder, e.g. ``"conll2003"``.
    filename : str
        The file inside it, e.g. ``"train.txt"`` (may hold a sub-path).
    data_dir : str or path-like, default=None
        The data folder (holding ``<dataset>/``) or the data set's own folder.
        ``None`` looks in ``$SKTRANSFORMERS_DATA_DIR``, then ``../shared/data``
        and ``shared/data`` (from the working directory and from a source
        checkout).

    Returns
    -------
    path : pathlib.Path
    """
    looked = []
    for base in _candidate_dirs(data_dir):
        for path in (base / dataset / filename, base / filename):
            looked.append(path)
            if path.is_file():
                return path
    where = "\n  ".join(str(p) for p in looked)
    source = SOURCES.get(dataset, dataset)
    raise FileNotFoundError(
        f"{dataset}/{filename} not found. Looked in:\n  {where}\n"
        f"Pass data_dir= or set {ENV_VAR} to the folder holding {dataset}/. "
        f"The files are not shipped with sktransformers; they come from {source}."
    )


def load_glue(task, split, data_dir=None):
    """Read one GLUE task split from a local folder.

    Parameters
    ----------
    task : {"SST-2", "CoLA", "MRPC", "STS-B", "RTE"}
    split : {"train", "dev"}
    data_dir : str or path-like, default=None
        The folder holding ``<task>/<split>.tsv`` (for example
        ``../shared/data/glue``). ``None`` looks for ``glue/`` where
        :func:`find_data_file` looks.

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
    path = find_data_file("glue", f"{task}/{split}.tsv", data_dir)
    frame = pd.read_csv(
        path,
        sep="\t",
        quoting=csv.QUOTE_NONE,
        header=0 if header else None,
        encoding="utf-8-sig",
        on_bad_lines="skip",
        keep_default_na=False,
    )
    X = frame[text_cols]
    X = X.iloc[:, 0] if len(text_cols) == 1 else X
    y = frame[label_col]
    if task == "STS-B":
        y = y.astype(float)
    return X, y


def read_conll(path):
    """Sentences and tags of a CoNLL-style file (word first, tag last, blank line between).

    ``-DOCSTART-`` lines are skipped. Any number of middle columns (POS,
    chunk) is accepted and ignored.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    sentences, tags : list of list of str
    """
    sentences, tags, words, labels = [], [], [], []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            fields = line.split()
            if not fields or fields[0] == "-DOCSTART-":
                if words:
                    sentences.append(words)
                    tags.append(labels)
                    words, labels = [], []
                continue
            if len(fields) < 2:
                raise ValueError(
                    f"{path}, line {number}: expected 'WORD ... TAG', got {line.rstrip()!r}."
                )
            words.append(fields[0])
            labels.append(fields[-1])
    if words:
        sentences.append(words)
        tags.append(labels)
    return sentences, tags


def load_conll2003(split="train", *, data_dir=None, as_frame=False):
    """CoNLL-2003 English named-entity recognition, read from a local folder.

    Parameters
    ----------
    split : {"train", "dev", "test"}, default="train"
        Reads ``conll2003/<split>.txt`` (14,041 training and 3,250
        development sentences in the shared folder; ``test`` only when a
        ``test.txt`` is present).
    data_dir : str or path-like, default=None
        The data folder holding ``conll2003/`` (or ``conll2003/`` itself);
        ``None`` looks in ``$SKTRANSFORMERS_DATA_DIR``, then ``../shared/data``
        and ``shared/data``.
    as_frame : bool, default=False
        Return one DataFrame instead of two lists.

    Returns
    -------
    sentences : list of list of str
        The words of each sentence, as in the file.
    tags : list of list of str
        One IOB2 tag per word (see ``CONLL2003_TAGS``).
    frame : pandas.DataFrame
        Only when ``as_frame=True``: columns ``tokens`` and ``tags``, each
        cell a list of str.

    Raises
    ------
    FileNotFoundError
        When the file is in none of the folders looked in (the message lists
        them and where the data comes from).

    Examples
    --------
    >>> from sktransformers.datasets import load_conll2003
    >>> sentences, tags = load_conll2003("dev")  # doctest: +SKIP
    >>> len(sentences), sentences[0], tags[0]  # doctest: +SKIP
    (3250, ['CRICKET', '-', 'LEICESTERSHIRE', ...], ['O', 'O', 'B-ORG', ...])
    """
    if split not in ("train", "dev", "test"):
        raise ValueError(f"split must be 'train', 'dev' or 'test', got {split!r}.")
    sentences, tags = read_conll(find_data_file("conll2003", f"{split}.txt", data_dir))
    if as_frame:
        return pd.DataFrame({"tokens": sentences, "tags": tags})
    return sentences, tags


def load_semeval2018_ec(split="train", *, data_dir=None, as_frame=False):
    """SemEval-2018 Task 1 E-c: English tweets with 11 binary emotion labels.

    A multi-label data set: a tweet may carry none, one or several of the
    emotions in ``SEMEVAL2018_EMOTIONS`` (2.3 on average). The shared folder
    holds the task's training file only (5,858 tweets); split your own
    validation rows. The official metric is the Jaccard index averaged over
    tweets, ``sklearn.metrics.jaccard_score(Y, P, average="samples")``.

    Parameters
    ----------
    split : str, default="train"
        Reads ``semeval2018_ec/<split>.tsv``.
    data_dir : str or path-like, default=None
        The data folder holding ``semeval2018_ec/`` (or that folder itself);
        ``None`` looks in ``$SKTRANSFORMERS_DATA_DIR``, then ``../shared/data``
        and ``shared/data``.
    as_frame : bool, default=False
        Return the whole table (``ID``, ``Tweet`` and the emotion columns).

    Returns
    -------
    tweets : pandas.Series of str
        The tweets (named ``"Tweet"``).
    labels : pandas.DataFrame
        One 0/1 int column per emotion, the indicator matrix multi-label
        estimators take as ``y``.
    frame : pandas.DataFrame
        Only when ``as_frame=True``.

    Examples
    --------
    >>> from sktransformers.datasets import load_semeval2018_ec
    >>> tweets, labels = load_semeval2018_ec()  # doctest: +SKIP
    >>> labels.shape, labels.sum(axis=1).mean().round(1)  # doctest: +SKIP
    ((5858, 11), 2.3)
    """
    path = find_data_file("semeval2018_ec", f"{split}.tsv", data_dir)
    # Tweets hold quote characters: no quoting, keep "NA"-like text as text.
    frame = pd.read_csv(
        path,
        sep="\t",
        quoting=csv.QUOTE_NONE,
        encoding="utf-8-sig",
        keep_default_na=False,
        dtype={"ID": str, "Tweet": str},
    )
    missing = [c for c in ("Tweet", *SEMEVAL2018_EMOTIONS) if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: columns {missing} missing; found {list(frame.columns)}.")
    labels = frame[list(SEMEVAL2018_EMOTIONS)].astype(np.int64)
    if not labels.isin([0, 1]).all().all():
        raise ValueError(f"{path}: emotion columns must hold 0 or 1 only.")
    frame[list(SEMEVAL2018_EMOTIONS)] = labels
    if as_frame:
        return frame
    return frame["Tweet"], labels


# ----------------------------------------------------------------------
# Long reviews: SST-2 sentences behind neutral filler
# ----------------------------------------------------------------------
_FILLER_TEMPLATES = (
    "the film was shot in {place} over {n} weeks .",
    "it runs {minutes} minutes and opened in {year} .",
    "the screenplay is adapted from a {source} by {name} .",
    "most of the scenes take place in {setting} .",
    "the cast includes {name} and {name} in the main roles .",
    "the score was recorded with a {ensemble} in {place} .",
    "the director 's earlier work includes {n} {kind} .",
    "the story follows a {job} who moves to {place} in {year} .",
    "the film is distributed by {studio} in {n} countries .",
    "a {job} , a {job} and a {job} share an apartment in {place} .",
    "the credits list {n} writers and {n} producers .",
    "principal photography began in {month} {year} .",
    "the dialogue is in english with some scenes in {language} .",
    "the running order of the scenes follows the {source} closely .",
)
_FILLER_WORDS = {
    "place": (
        "toronto",
        "lisbon",
        "a small town in ohio",
        "vancouver",
        "a studio in london",
        "the outskirts of madrid",
        "marseille",
        "a village near krakow",
    ),
    "n": ("two", "three", "four", "five", "six", "seven", "eight", "nine"),
    "minutes": ("94", "101", "108", "112", "117", "123", "131"),
    "year": ("1987", "1994", "2001", "2006", "2011", "2015", "2019"),
    "source": ("novel", "stage play", "short story", "comic book", "radio drama"),
    "name": (
        "dana whitfield",
        "omar reyes",
        "lena kowalski",
        "tom ashby",
        "ruth nakamura",
        "paul ferreira",
        "ines bauer",
        "sam okoro",
    ),
    "setting": (
        "a train station",
        "an office building",
        "a farmhouse",
        "a hospital",
        "a boarding school",
        "a hotel",
        "a harbour",
        "an apartment block",
    ),
    "ensemble": ("string quartet", "full orchestra", "jazz trio", "choir", "brass band"),
    "kind": ("documentaries", "short films", "television episodes", "music videos"),
    "job": (
        "teacher",
        "nurse",
        "taxi driver",
        "lawyer",
        "student",
        "chef",
        "journalist",
        "police officer",
    ),
    "studio": ("northgate pictures", "harbor films", "seven hills media", "bluestone releasing"),
    "month": ("january", "march", "may", "july", "september", "november"),
    "language": ("french", "portuguese", "polish", "japanese", "german"),
}


def _filler_sentence(rng):
    template = rng.choice(_FILLER_TEMPLATES)
    parts = template.split("{")
    out = [parts[0]]
    for part in parts[1:]:
        slot, rest = part.split("}", 1)
        out.append(rng.choice(_FILLER_WORDS[slot]) + rest)
    return "".join(out)


def _filler(rng, n_words):
    sentences, count = [], 0
    while count < n_words:
        sentence = _filler_sentence(rng)
        sentences.append(sentence)
        count += len(sentence.split())
    return sentences


def make_long_texts(
    texts,
    labels,
    *,
    n_texts=None,
    n_evidence=3,
    filler_words=200,
    evidence_at="end",
    random_state=0,
):
    """Long texts from short labelled ones: ``n_evidence`` texts of one label plus neutral filler.

    The filler is factual sentences about a film (templates written for this
    package: where it was shot, its cast, its running time; no opinion),
    lower-cased and spaced like SST-2. Each short text is used at most once;
    labels are balanced (the first labels in sorted order get one more text
    when ``n_texts`` does not divide evenly). Deterministic for a given
    ``random_state``.

    Parameters
    ----------
    texts : sequence of str
        Short texts, each carrying the label at the same position in ``labels``.
    labels : array-like
        One label per text (any hashable, sortable values).
    n_texts : int, default=None
        Number of long texts. ``None``: as many as the texts allow without
        reuse, with every label equally represented.
    n_evidence : int, default=3
        Short texts per long text, all of the long text's label.
    filler_words : int, default=200
        Words of neutral filler per long text (0 for none).
    evidence_at : {"end", "start", "scattered"}, default="end"
        Where the short texts go: after the filler, before it, or each at a
        random place among the filler sentences.
    random_state : int, default=0

    Returns
    -------
    long_texts : list of str
    long_labels : numpy.ndarray
        The label of each long text's short texts.

    Examples
    --------
    >>> from sktransformers.datasets import make_long_texts
    >>> texts, labels = make_long_texts(
    ...     ["a fine film .", "a dull film .", "great fun .", "awful ."], [1, 0, 1, 0],
    ...     n_evidence=2, filler_words=12)
    >>> labels.tolist(), texts[1].endswith("a dull film . awful .")
    ([1, 0], True)
    """
    if evidence_at not in ("end", "start", "scattered"):
        raise ValueError(f"evidence_at must be 'end', 'start' or 'scattered', got {evidence_at!r}.")
    if n_evidence < 1:
        raise ValueError(f"n_evidence must be at least 1, got {n_evidence}.")
    texts = [str(t).strip() for t in texts]
    labels = np.asarray(labels)
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels.")
    rng = random.Random(random_state)
    classes = sorted(set(labels.tolist()))
    pools = {}
    for label in classes:
        pool = [t for t, lab in zip(texts, labels.tolist()) if lab == label]
        rng.shuffle(pool)
        pools[label] = pool
    if n_texts is None:
        n_texts = len(classes) * min(len(p) // n_evidence for p in pools.values())
    per_label = {
        c: n_texts // len(classes) + (i < n_texts % len(classes)) for i, c in enumerate(classes)
    }
    for label, count in per_label.items():
        need = count * n_evidence
        if need > len(pools[label]):
            raise ValueError(
                f"n_texts={n_texts} with n_evidence={n_evidence} needs {need} texts of label "
                f"{label!r}; there are {len(pools[label])}."
            )
    order = [c for c in classes for _ in range(per_label[c])]
    rng.shuffle(order)
    used = dict.fromkeys(classes, 0)
    out = []
    for label in order:
        evidence = pools[label][used[label] : used[label] + n_evidence]
        used[label] += n_evidence
        filler = _filler(rng, filler_words) if filler_words > 0 else []
        if evidence_at == "end":
            parts = filler + evidence
        elif evidence_at == "start":
            parts = evidence + filler
        else:
            parts = list(filler)
            for sentence in evidence:
                parts.insert(rng.randint(0, len(parts)), sentence)
        out.append(" ".join(parts))
    return out, np.asarray(order, dtype=labels.dtype)


def load_long_reviews(
    split="dev",
    *,
    n_texts=None,
    n_evidence=3,
    filler_words=200,
    evidence_at="end",
    min_words=5,
    random_state=0,
    data_dir=None,
):
    """Long texts whose sentiment sits far from the start: SST-2 sentences behind neutral filler.

    :func:`make_long_texts` over the SST-2 sentences of ``split``: each text
    is ``filler_words`` words (or a few more) of neutral, factual sentences
    about a film, with ``n_evidence`` SST-2 sentences of one label placed at
    the end (by default), at the start, or scattered among the filler. With
    the evidence at the end and ``filler_words`` above the model's
    ``max_length`` in tokens (a word is about 1.2 tokens of the default
    model's tokenizer), a model that truncates at ``max_length`` sees only
    filler; one that reads the whole text in windows
    (``long_texts="chunk"``) sees the evidence. Deterministic for a given
    ``random_state``; each SST-2 sentence is used at most once.

    Parameters
    ----------
    split : {"train", "dev"}, default="dev"
        The SST-2 file the evidence sentences come from.
    n_texts : int, default=None
        Number of texts, half of each label (one more negative when odd).
        ``None``: as many as the split's sentences allow without reuse (280
        for ``"dev"`` with the other defaults).
    n_evidence : int, default=3
        SST-2 sentences per text, all of the text's label.
    filler_words : int, default=200
        Words of neutral filler per text (0 for no filler).
    evidence_at : {"end", "start", "scattered"}, default="end"
        Where the evidence sentences go.
    min_words : int, default=5
        Only SST-2 sentences of at least this many words are used (the
        training file also holds short phrases).
    random_state : int, default=0
    data_dir : str or path-like, default=None
        The data folder holding ``glue/SST-2/`` (or ``glue/`` itself); ``None``
        looks where :func:`find_data_file` looks.

    Returns
    -------
    texts : list of str
    labels : numpy.ndarray of int
        0 (negative) or 1 (positive), the label of the text's evidence.

    Examples
    --------
    >>> from sktransformers.datasets import load_long_reviews
    >>> texts, labels = load_long_reviews("dev", n_texts=4)  # doctest: +SKIP
    >>> [len(t.split()) for t in texts], labels.tolist()  # doctest: +SKIP
    ([248, 263, 271, 265], [0, 1, 0, 1])
    """
    X, y = load_glue("SST-2", split, data_dir)
    sentences = X.astype(str).str.strip()
    keep = (sentences.str.split().str.len() >= min_words).to_numpy()
    return make_long_texts(
        sentences[keep].tolist(),
        y[keep].astype(np.int64).to_numpy(),
        n_texts=n_texts,
        n_evidence=n_evidence,
        filler_words=filler_words,
        evidence_at=evidence_at,
        random_state=random_state,
    )
