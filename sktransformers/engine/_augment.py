"""TextAugmenter: new training texts by small random edits (EDA), as a sampler.

The four operations of EDA (Wei and Zou, 2019, "Easy Data Augmentation
Techniques for Boosting Performance on Text Classification Tasks"):
synonym replacement, random insertion of a synonym, random swap and random
deletion, each changing about ``p`` of a text's words. Synonyms come from a
built-in English table (:mod:`sktransformers.engine._synonym_table`), a table of
your own, or the nearest neighbours of a word in a transformer's input
embedding table ("embedding"). Nothing is downloaded.

Chinese text (picked per text by its script, or by ``language="zh"``) has no
spaces between words: its words are its characters (the package's one
splitting rule, ``_text_input.word_spans``), so swaps, deletions and
insertions act on characters, and synonyms come from a small hand-written
Chinese table, matched as substrings (longest first). Negation characters
(不 没 无 未 别 莫 勿) are never deleted or swapped in Chinese text: one of
them flips the sentiment of a review.

:class:`TextAugmenter` has the sampler interface of imbalanced-learn
(``fit_resample(X, y)``), so it works as a step of an
``imblearn.pipeline.Pipeline`` (applied during ``fit`` only, never at
prediction), and it can oversample minority classes with imbalanced-learn's
``sampling_strategy`` semantics. It does not inherit from imbalanced-learn's
``BaseSampler``, whose validation turns ``X`` into numbers; imbalanced-learn
is only needed for its ``Pipeline``.
"""

from __future__ import annotations

import os
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ..utils._text_input import is_cjk, join_words, word_spans
from ..utils._typing import ModelSource, RandomState, Targets, Texts
from ._data import check_texts

if TYPE_CHECKING:
    from typing_extensions import Self

METHODS = ("synonym", "embedding", "swap", "delete", "insert")
LANGUAGES = ("auto", "en", "zh")

# Words never replaced or inserted: changing them changes grammar, not meaning;
# negations and intensity words are kept because they carry the label.
_STOPWORDS = frozenset(
    """a an the and or but if then so of to in on at by for with from as is are was were be
    been being am do does did have has had i me my we our you your he him his she her it its
    they them their this that these those there here what which who whom whose when where why
    how not no nor never n't 's 're 've 'd 'll 'm than too very can could will would should
    shall may might must""".split()
)

# Chinese negations: never deleted or swapped (one of them flips a review's sentiment).
_ZH_KEEP = frozenset("不没无未别莫勿")


def _words(text):
    return [text[a:b] for a, b in word_spans(text)]


def text_language(text):
    """``"zh"`` when most words of ``text`` are CJK characters, else ``"en"``."""
    spans = word_spans(text)
    n_cjk = sum(is_cjk(text[a]) for a, _ in spans)
    return "zh" if 2 * n_cjk > len(spans) else "en"


def _match_case(word, like):
    if like[:1].isupper() and like[1:2].islower():
        return word[:1].upper() + word[1:]
    if like.isupper() and len(like) > 1:
        return word.upper()
    return word


class TextAugmenter(BaseEstimator):
    """New training texts by synonym replacement, insertion, swaps and deletions.

    A sampler with imbalanced-learn's interface: ``fit_resample(X, y)``
    returns the original texts followed by augmented copies, with their
    labels. By default every text gets ``n_aug`` augmented copies; with
    ``sampling_strategy`` it only oversamples classes (augmented copies of
    random texts of a class until the class reaches its target count).

    Each augmented copy applies one method drawn from ``methods`` (another
    one is tried when the drawn method cannot change the text, e.g. a text
    with no word in the synonym table), changing about ``p`` of its words
    (at least one).

    Parameters
    ----------
    methods : sequence of str, default=("synonym", "swap", "delete", "insert")
        Among "synonym" (replace words by synonyms), "insert" (insert a
        synonym of a word at a random place), "swap" (swap two words),
        "delete" (drop each word with probability ``p``) and "embedding"
        (replace words by their nearest neighbours in the input embedding
        table of ``embedding_model``; neighbours there include antonyms, so
        use it with care for sentiment).
    n_aug : int, default=1
        Augmented copies per text (when ``sampling_strategy`` is None).
    p : float, default=0.1
        Share of the words changed in each copy.
    sampling_strategy : None, str, float or dict, default=None
        None augments every text ``n_aug`` times. Otherwise oversample with
        imbalanced-learn's meaning: "auto" / "not majority" (every class but
        the largest, up to the largest one's count), "minority", "not
        minority", "all"; a float (binary targets: the wanted ratio of the
        minority class to the majority class); a dict ``{class: wanted
        count}``.
    synonyms : dict or None, default=None
        ``{word: [synonyms]}`` (lower-case keys) replacing the built-in table
        of about 1,000 common English words.
    embedding_model : str, path-like or None, default=None
        Model whose input embeddings give the "embedding" neighbours; None
        means the package's default model. Loaded only when "embedding" is
        among ``methods``.
    language : {"auto", "en", "zh"}, default="auto"
        How a text is edited. "zh": Chinese, where the words are single
        characters (and Latin runs such as "WiFi" or "3.5"); swaps,
        deletions and insertions act on them, synonyms are matched as
        substrings in a hand-written Chinese table (47 groups of review
        words; or ``synonyms``), and negation characters (不 没 无 未 别 莫
        勿) are never deleted or swapped; the edited words are joined with
        no spaces next to Chinese characters. "en": the English rules.
        "auto" picks per text: "zh" when most of its words are CJK
        characters. "embedding" neighbours are English words only.
    random_state : int, RandomState or None, default=None
        Seeds the edits and the choice of texts to oversample.

    Attributes
    ----------
    sampling_strategy_ : dict
        New texts generated per class in the last ``fit_resample`` (every
        class when ``sampling_strategy`` is None; empty for continuous
        targets, which are copied along with their texts).

    Examples
    --------
    >>> from sktransformers import TextAugmenter
    >>> aug = TextAugmenter(methods=("synonym",), p=0.3, random_state=0)
    >>> X_res, y_res = aug.fit_resample(["a great film", "a dull story"], [1, 0])
    >>> len(X_res), y_res.tolist()
    (4, [1, 0, 1, 0])
    >>> X_res[:2]
    ['a great film', 'a dull story']
    """

    _parameter_constraints: dict = {
        "methods": [list, tuple],
        "n_aug": [Interval(Integral, 1, None, closed="left")],
        "p": [Interval(Real, 0, 1, closed="right")],
        "sampling_strategy": [
            None,
            StrOptions({"auto", "minority", "not minority", "not majority", "all"}),
            Interval(Real, 0, 1, closed="right"),
            dict,
        ],
        "synonyms": [dict, None],
        "embedding_model": [str, os.PathLike, None],
        "language": [StrOptions(set(LANGUAGES))],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        methods: tuple[str, ...] | list[str] = ("synonym", "swap", "delete", "insert"),
        n_aug: int = 1,
        p: float = 0.1,
        sampling_strategy: Any = None,
        synonyms: dict[str, list[str]] | None = None,
        embedding_model: ModelSource | None = None,
        language: Literal["auto", "en", "zh"] = "auto",
        random_state: RandomState = None,
    ) -> None:
        self.methods = methods
        self.n_aug = n_aug
        self.p = p
        self.sampling_strategy = sampling_strategy
        self.synonyms = synonyms
        self.embedding_model = embedding_model
        self.language = language
        self.random_state = random_state

    # ------------------------------------------------------------------
    def _check_params(self):
        self._validate_params()
        methods = tuple(self.methods)
        unknown = [m for m in methods if m not in METHODS]
        if not methods or unknown:
            raise ValueError(
                f"methods={self.methods!r}: expected a non-empty subset of {list(METHODS)}"
                + (f"; unknown: {unknown}." if unknown else ".")
            )
        return methods

    def _tables(self, methods, vocabulary):
        """Synonym tables by language (``{"en": ..., "zh": ...}``) and embedding neighbours."""
        table = None
        if {"synonym", "insert"} & set(methods):
            if self.synonyms is not None:
                own = {str(k).lower(): tuple(v) for k, v in self.synonyms.items()}
                table = {"en": own, "zh": own}
            else:
                from ._synonym_table import chinese_synonym_table, synonym_table

                table = {"en": synonym_table(), "zh": chinese_synonym_table()}
        neighbours = None
        if "embedding" in methods:
            neighbours = embedding_neighbours(
                vocabulary, self.embedding_model, cache=self.__dict__.setdefault("_nn_cache", {})
            )
        return table, neighbours

    def fit(self, X: Texts, y: Targets | None = None) -> Self:
        """Check the parameters and ``X``; nothing is learned.

        Returns
        -------
        self : object
        """
        self._check_params()
        check_texts(X)
        return self

    def fit_resample(self, X: Texts, y: Targets) -> tuple[Any, Any]:
        """The original texts followed by augmented copies, and their labels.

        Parameters
        ----------
        X : list of str, array-like of str, or text pairs
            Texts (each text of a pair is edited independently).
        y : array-like of shape (n_samples,)
            Labels.

        Returns
        -------
        X_resampled : same kind as ``X``
            A list for a list (or tuple), an array for an array, a Series or
            DataFrame (new index) for pandas input.
        y_resampled : ndarray or Series of shape (n_resampled,)
        """
        methods = self._check_params()
        texts = check_texts(X)
        y_arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
        # Several targets per text (regression, multi-task) are copied along
        # with their text; oversampling classes needs one label per text.
        ndim_ok = y_arr.ndim == 1 or (y_arr.ndim == 2 and self.sampling_strategy is None)
        if not ndim_ok or len(y_arr) != len(texts):
            raise ValueError(
                f"y must be 1-dimensional with one label per text: {len(texts)} texts, "
                f"y of shape {y_arr.shape}."
            )
        if y_arr.ndim == 1 and (y_arr.dtype.kind not in "fc" or self.sampling_strategy is not None):
            _check_class_labels(y_arr)  # counted per class: no missing or mixed labels
        rng = _generator(self.random_state)
        rows = self._rows_to_augment(y_arr, rng)
        new_first, new_second = self._augment_rows(texts, rows, methods, rng)
        out_first = texts.first + new_first
        out_second = None if texts.second is None else texts.second + new_second
        y_res = np.concatenate([y_arr, y_arr[rows]]) if len(rows) else y_arr.copy()
        return _like(X, out_first, out_second), _like_y(y, y_res)

    def _rows_to_augment(self, y, rng):
        """Row indices to augment (a row may appear several times)."""
        if self.sampling_strategy is None:
            rows = np.repeat(np.arange(len(y)), self.n_aug)
            if y.ndim == 1 and y.dtype.kind not in "fc":
                classes, counts = np.unique(y, return_counts=True)
                self.sampling_strategy_ = {
                    _plain(c): int(k) * self.n_aug for c, k in zip(classes, counts)
                }
            else:  # continuous targets: no classes to count
                self.sampling_strategy_ = {}
            return rows
        classes, counts = np.unique(y, return_counts=True)
        wanted = _n_new_per_class(self.sampling_strategy, classes, counts)
        self.sampling_strategy_ = {_plain(c): n for c, n in wanted.items()}
        rows = []
        for c, n_new in wanted.items():
            members = np.flatnonzero(y == c)
            # Cycle through the class in random order, so every text is
            # augmented about equally often.
            reps = -(-n_new // len(members)) if n_new else 0
            order = np.concatenate([rng.permutation(members) for _ in range(reps)] or [[]])
            rows.append(order[:n_new].astype(np.int64))
        return np.concatenate(rows) if rows else np.array([], dtype=np.int64)

    def _augment_rows(self, texts, rows, methods, rng):
        pieces = [texts.first] + ([texts.second] if texts.second is not None else [])
        vocabulary = set()
        if "embedding" in methods:
            for column in pieces:
                for i in set(rows.tolist()):
                    vocabulary.update(w.lower() for w in _words(column[i]))
        table, neighbours = self._tables(methods, vocabulary)
        first = [self._edit(texts.first[i], methods, table, neighbours, rng) for i in rows]
        second = None
        if texts.second is not None:
            second = [self._edit(texts.second[i], methods, table, neighbours, rng) for i in rows]
        return first, second

    def augment(self, texts, *, random_state=None):
        """One augmented version of each text (texts the methods cannot change come back as is).

        Parameters
        ----------
        texts : list of str
        random_state : int, RandomState or None, default=None
            Overrides ``self.random_state`` for this call (a new seed per
            epoch gives new edits per epoch).

        Returns
        -------
        augmented : list of str, same length as ``texts``
        """
        methods = self._check_params()
        texts = check_texts(texts, allow_pairs=False).first
        rng = _generator(self.random_state if random_state is None else random_state)
        vocabulary = set()
        if "embedding" in methods:
            vocabulary = {w.lower() for t in texts for w in _words(t)}
        table, neighbours = self._tables(methods, vocabulary)
        return [self._edit(t, methods, table, neighbours, rng) for t in texts]

    # ------------------------------------------------------------------
    def _edit(self, text, methods, tables, neighbours, rng):
        words = _words(text)
        if not words:
            return text
        language = text_language(text) if self.language == "auto" else self.language
        apply = _APPLY_ZH if language == "zh" else _APPLY
        table = None if tables is None else tables[language]
        order = rng.permutation(len(methods))
        for k in order:
            out = apply[methods[k]](words, self.p, table, neighbours, rng)
            if out != words:
                # Single spaces between words, none next to a CJK character.
                return join_words(out)[0]
        return text

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _generator(random_state):
    """A numpy Generator seeded from any scikit-learn ``random_state``."""
    return np.random.default_rng(check_random_state(random_state).randint(2**31 - 1))


def _n_changes(words, p):
    return max(1, int(round(p * len(words))))


def _replace(words, p, table, rng):
    candidates = [
        i for i, w in enumerate(words) if w.lower() not in _STOPWORDS and table.get(w.lower())
    ]
    if not candidates:
        return words
    out = list(words)
    for i in rng.permutation(candidates)[: _n_changes(words, p)]:
        alternatives = table[words[i].lower()]
        out[i] = _match_case(alternatives[rng.integers(len(alternatives))], words[i])
    return out


def _synonym(words, p, table, neighbours, rng):
    return _replace(words, p, table, rng)


def _embedding(words, p, table, neighbours, rng):
    return _replace(words, p, neighbours, rng)


def _insert(words, p, table, neighbours, rng):
    candidates = [w.lower() for w in words if w.lower() not in _STOPWORDS and table.get(w.lower())]
    return _insert_synonyms(words, candidates, p, table, rng)


def _insert_synonyms(words, keys, p, table, rng):
    """Insert synonyms of randomly chosen ``keys`` (table entries) at random places."""
    if not keys:
        return words
    out = list(words)
    for _ in range(_n_changes(words, p)):
        alternatives = table[keys[rng.integers(len(keys))]]
        out.insert(int(rng.integers(len(out) + 1)), alternatives[rng.integers(len(alternatives))])
    return out


def _swap(words, p, table, neighbours, rng):
    if len(words) < 2:
        return words
    out = list(words)
    for _ in range(_n_changes(words, p)):
        i, j = rng.choice(len(out), 2, replace=False)
        out[i], out[j] = out[j], out[i]
    return out


def _delete(words, p, table, neighbours, rng):
    if len(words) < 2:
        return words
    keep = rng.random(len(words)) >= p
    if keep.all():  # at least one change, as the other methods make
        keep[rng.integers(len(words))] = False
    if not keep.any():
        keep[rng.integers(len(words))] = True
    return [w for w, k in zip(words, keep) if k]


_APPLY = {
    "synonym": _synonym,
    "embedding": _embedding,
    "insert": _insert,
    "swap": _swap,
    "delete": _delete,
}


# Chinese: ``words`` are characters (and Latin runs); table keys are matched
# as substrings of consecutive words, longest first.
def _zh_matches(words, table):
    """Non-overlapping ``(start, stop, key)`` of table keys in ``words``, greedy from the left."""
    longest = min(8, max((len(k) for k in table), default=0))
    matches, i = [], 0
    while i < len(words):
        for stop in range(min(len(words), i + longest), i, -1):
            key = "".join(words[i:stop]).lower()
            if table.get(key) and not set(key) <= _ZH_KEEP:
                matches.append((i, stop, key))
                i = stop
                break
        else:
            i += 1
    return matches


def _zh_synonym(words, p, table, neighbours, rng):
    matches = _zh_matches(words, table)
    if not matches:
        return words
    chosen = sorted(
        (matches[k] for k in rng.permutation(len(matches))[: _n_changes(words, p)]), reverse=True
    )  # from the right, so earlier positions stay valid
    out = list(words)
    for start, stop, key in chosen:
        alternatives = table[key]
        out[start:stop] = [alternatives[rng.integers(len(alternatives))]]
    return out


def _zh_insert(words, p, table, neighbours, rng):
    keys = [key for _, _, key in _zh_matches(words, table)]
    return _insert_synonyms(words, keys, p, table, rng)


def _zh_swap(words, p, table, neighbours, rng):
    movable = [i for i, w in enumerate(words) if w not in _ZH_KEEP]
    if len(movable) < 2:
        return words
    out = list(words)
    for _ in range(_n_changes(words, p)):
        i, j = rng.choice(movable, 2, replace=False)
        out[i], out[j] = out[j], out[i]
    return out


def _zh_delete(words, p, table, neighbours, rng):
    kept = np.array([w in _ZH_KEEP for w in words])
    if len(words) - kept.sum() < 1 or len(words) < 2:
        return words
    keep = (rng.random(len(words)) >= p) | kept
    if keep.all():  # at least one change, as the other methods make
        keep[rng.choice(np.flatnonzero(~kept))] = False
    if not keep.any():
        keep[rng.integers(len(words))] = True
    return [w for w, k in zip(words, keep) if k]


_APPLY_ZH = {
    "synonym": _zh_synonym,
    "embedding": _embedding,
    "insert": _zh_insert,
    "swap": _zh_swap,
    "delete": _zh_delete,
}


def _n_new_per_class(strategy, classes, counts):
    """New samples per class, as imbalanced-learn's over-samplers count them."""
    n_max, n_min = counts.max(), counts.min()
    majority = classes[counts.argmax()]
    minority = classes[counts.argmin()]
    if isinstance(strategy, dict):
        unknown = [c for c in strategy if c not in set(classes.tolist())]
        if unknown:
            raise ValueError(f"sampling_strategy names classes not in y: {unknown}.")
        wanted = {}
        for c, k in zip(classes, counts):
            target = strategy.get(c, k)
            if target < k:
                raise ValueError(
                    f"sampling_strategy asks for {target} samples of class {c!r}, which already "
                    f"has {k}; an over-sampler cannot remove samples."
                )
            wanted[c] = int(target - k)
        return wanted
    if isinstance(strategy, Real) and not isinstance(strategy, bool):
        if len(classes) != 2:
            raise ValueError("A float sampling_strategy is only meant for binary targets.")
        target = int(strategy * n_max)
        if target < n_min:
            raise ValueError(
                f"sampling_strategy={strategy} asks for {target} minority samples, fewer than "
                f"the {n_min} there are; use a larger ratio."
            )
        return {majority: 0, minority: int(target - n_min)}
    if strategy == "minority":
        chosen = {minority}
    elif strategy == "not minority":
        chosen = set(classes.tolist()) - {minority}
    elif strategy in ("auto", "not majority"):
        chosen = set(classes.tolist()) - {majority}
    else:  # "all"
        chosen = set(classes.tolist())
    return {c: int(n_max - k) if c in chosen else 0 for c, k in zip(classes, counts)}


def _like(X, first, second):
    """Texts (and second texts of pairs) in the container kind of the caller's ``X``."""
    columns = [first] + ([second] if second is not None else [])
    if hasattr(X, "iloc") and hasattr(X, "columns"):
        import pandas as pd

        return pd.DataFrame(dict(zip(X.columns, columns)))
    if hasattr(X, "iloc"):
        import pandas as pd

        return pd.Series(first, name=X.name)
    if isinstance(X, np.ndarray):
        out = np.empty((len(first), len(columns)) if X.ndim == 2 else len(first), dtype=object)
        if X.ndim == 2:
            for j, column in enumerate(columns):
                out[:, j] = column
        else:
            out[:] = first
        return out
    if second is not None:
        return list(zip(first, second))
    return list(first)


def _like_y(y, y_res):
    if hasattr(y, "iloc"):
        import pandas as pd

        if hasattr(y, "columns"):  # several targets per text (multi-task, multi-output)
            return pd.DataFrame(y_res, columns=y.columns).astype(y.dtypes.to_dict())
        return pd.Series(y_res, name=getattr(y, "name", None))
    return y_res


def embedding_neighbours(vocabulary, model=None, *, k=5, min_similarity=0.45, cache=None):
    """``{word: neighbours}`` from a transformer's input word-embedding table.

    Only whole-word alphabetic tokens of the model's vocabulary take part
    (no ``##`` pieces, no stop words); a neighbour must reach
    ``min_similarity`` (cosine) and must not share the word's first three
    letters (plural and tense variants add little).
    """
    import torch

    from . import _hub

    cache = {} if cache is None else cache
    source = _hub.resolve_model(_hub.DEFAULT_MODEL if model is None else model)
    key = str(source)
    if key not in cache:
        with _hub.quiet_transformers():
            tokenizer, backbone = _hub.load_parts(source)
        vocab = tokenizer.get_vocab()
        words = sorted(
            (
                w
                for w in vocab
                if w.isalpha() and w.isascii() and len(w) > 2 and w not in _STOPWORDS
            ),
            key=vocab.get,
        )
        weights = backbone.get_input_embeddings().weight.detach()
        ids = torch.tensor([vocab[w] for w in words])
        matrix = torch.nn.functional.normalize(weights[ids].float(), dim=1)
        cache[key] = (words, {w: i for i, w in enumerate(words)}, matrix, {})
    words, index, matrix, found = cache[key]
    wanted = [w for w in vocabulary if w in index and w not in found]
    if wanted:
        query = matrix[torch.tensor([index[w] for w in wanted])]
        sims = query @ matrix.T
        top = sims.topk(k + 8, dim=1)
        for w, values, rows in zip(wanted, top.values.tolist(), top.indices.tolist()):
            near = [
                words[r]
                for v, r in zip(values, rows)
                if v >= min_similarity and len(os.path.commonprefix([w, words[r]])) < 3
            ]
            found[w] = tuple(near[:k])
    return {w: found[w] for w in vocabulary if found.get(w)}


def sampler_params(sampler):
    """A sampler's parameters (``get_params(deep=False)``; none without ``get_params``)."""
    return sampler.get_params(deep=False) if hasattr(sampler, "get_params") else {}


def augment_training_set(augmenter, X, y, random_state=None):
    """Training texts plus ``augmenter``'s augmented copies, labels copied.

    The hook for the estimators' ``augment=`` option: called in ``fit`` (and
    each ``partial_fit``) on the validated texts of the training split.

    Parameters
    ----------
    augmenter : TextAugmenter or any sampler with ``fit_resample``
        Used as configured (``n_aug``, ``sampling_strategy``...) through a
        copy; not modified.
    X : TextInput or texts
        The validated texts of ``check_texts`` (returned in the same form;
        pairs reach the sampler as a list of 2-tuples) or anything
        ``fit_resample`` accepts.
    y : array-like
        Labels (or targets), one per text.
    random_state : int or None, default=None
        Seed of the edits, for a sampler with a ``random_state`` parameter;
        None uses ``augmenter.random_state``.

    Returns
    -------
    X_augmented, y_augmented
    """
    from sklearn.base import clone

    aug = clone(augmenter, safe=False)  # a deep copy of a sampler without get_params
    if random_state is not None and "random_state" in sampler_params(aug):
        aug.set_params(random_state=random_state)
    if hasattr(X, "first") and hasattr(X, "second"):  # validated texts (check_texts)
        raw = list(zip(X.first, X.second)) if X.second is not None else list(X.first)
        X_res, y_res = aug.fit_resample(raw, y if hasattr(y, "iloc") else np.asarray(y))
        return check_texts(X_res), y_res
    return aug.fit_resample(X, y)


def _check_class_labels(y):
    """Labels counted per class: a clear error for missing or mixed labels."""
    import pandas as pd

    missing = np.asarray(pd.isna(y), dtype=bool)
    if missing.any():
        raise ValueError(
            f"y has {int(missing.sum())} missing labels (None/NaN), first at row "
            f"{int(np.flatnonzero(missing)[0])}; drop or fill those rows before augmenting."
        )
    if y.dtype == object:
        odd = [v for v in y if not isinstance(v, (str, np.str_, Integral, Real))]
        if odd:
            raise TypeError(
                f"y holds {odd[0]!r} (type {type(odd[0]).__name__}); class labels must be "
                "strings or numbers."
            )
        kinds = {"str" if isinstance(v, (str, np.str_)) else type(v).__name__ for v in y}
        numeric = all(isinstance(v, (Integral, Real)) for v in y)
        if len(kinds) > 1 and not numeric:
            raise TypeError(f"y mixes label types {sorted(kinds)}; use one kind of label.")
