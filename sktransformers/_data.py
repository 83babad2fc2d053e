"""Texts and pairs in, clear errors out; tokenize once; length-grouped batches.

The path of a text through the package starts here: :func:`check_texts`
validates what the user passed, :func:`encode` tokenizes it once (no
padding), :class:`EncodedDataset` holds the ragged token ids, and
:class:`LengthGroupedBatchSampler` with :class:`PadCollator` turns them into
batches padded only to their own longest sequence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch


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


def _check_column(values, where, allow_missing=False):
    out = []
    for i, value in enumerate(values):
        if isinstance(value, str):
            out.append(value)
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
            out.append(str(value))
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


def check_same_length(texts, y):
    n_y = len(y)
    if len(texts) != n_y:
        raise ValueError(
            f"X and y have different lengths: {len(texts)} texts but {n_y} targets."
        )


@dataclass
class Encoded:
    """Token ids of every text, unpadded (ragged lists of ints)."""

    input_ids: list
    token_type_ids: list | None

    def __len__(self):
        return len(self.input_ids)

    @property
    def lengths(self):
        return np.fromiter((len(ids) for ids in self.input_ids), dtype=np.int64, count=len(self))


def encode(tokenizer, texts, max_length, chunk_size=4096):
    """Tokenize every text once, truncated to ``max_length``, without padding.

    Chunks keep the fast tokenizer's batch parallelism while bounding memory.
    """
    if texts.second is not None and any(s is None for s in texts.second):
        return _encode_mixed(tokenizer, texts, max_length, chunk_size)
    input_ids, token_type_ids = [], []
    wants_types = "token_type_ids" in getattr(tokenizer, "model_input_names", [])
    for start in range(0, len(texts), chunk_size):
        stop = start + chunk_size
        second = None if texts.second is None else texts.second[start:stop]
        out = tokenizer(
            texts.first[start:stop],
            second,
            truncation=True,
            max_length=max_length,
            padding=False,
            return_attention_mask=False,
            return_token_type_ids=wants_types,
        )
        input_ids.extend(out["input_ids"])
        if wants_types:
            token_type_ids.extend(out["token_type_ids"])
    return Encoded(input_ids, token_type_ids if wants_types else None)


def _encode_mixed(tokenizer, texts, max_length, chunk_size):
    """Single texts and pairs in one input (``second`` is None for single texts)."""
    single = [i for i, s in enumerate(texts.second) if s is None]
    pairs = [i for i, s in enumerate(texts.second) if s is not None]
    parts = [
        (single, encode(tokenizer, TextInput([texts.first[i] for i in single]), max_length,
                        chunk_size)),
        (pairs, encode(tokenizer, texts.take(pairs), max_length, chunk_size)),
    ]
    input_ids = [None] * len(texts)
    wants_types = parts[1][1].token_type_ids is not None
    token_type_ids = [None] * len(texts) if wants_types else None
    for rows, enc in parts:
        for j, i in enumerate(rows):
            input_ids[i] = enc.input_ids[j]
            if wants_types:
                token_type_ids[i] = enc.token_type_ids[j]
    return Encoded(input_ids, token_type_ids)


class EncodedDataset(torch.utils.data.Dataset):
    """Ragged token ids plus optional targets; items are ``(index, y)``.

    Items are only indices: :class:`PadCollator` reads the token ids of a
    whole batch at once, which is much cheaper than building one tensor per
    text.
    """

    def __init__(self, encoded, y=None):
        self.encoded = encoded
        self.y = None if y is None else np.asarray(y)
        self.lengths = encoded.lengths

    def __len__(self):
        return len(self.encoded)

    def __getitem__(self, i):
        return i

    def subset(self, indices):
        indices = np.asarray(indices)
        enc = Encoded(
            [self.encoded.input_ids[i] for i in indices],
            None
            if self.encoded.token_type_ids is None
            else [self.encoded.token_type_ids[i] for i in indices],
        )
        return EncodedDataset(enc, None if self.y is None else self.y[indices])


def eval_order(lengths):
    """Indices sorting texts by length (longest first), for prediction batches."""
    return np.argsort(-np.asarray(lengths), kind="stable")


def in_caller_order(rows, lengths):
    """Rows computed in :func:`eval_order` put back in the order of ``lengths``."""
    result = np.empty_like(rows)
    result[eval_order(lengths)] = rows
    return result


class LengthGroupedBatchSampler(torch.utils.data.Sampler):
    """Batches of texts of similar length.

    For training, indices are shuffled, cut into chunks of ``group_factor``
    batches, each chunk is sorted by length and cut into batches, and the
    batches are shuffled: padding waste drops sharply while every epoch still
    sees a different random order. For evaluation, all texts are sorted by
    length (longest first, so the largest batch comes first and memory peaks
    early).
    """

    def __init__(self, lengths, batch_size, *, shuffle, seed=0, group_factor=50):
        self.lengths = np.asarray(lengths)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = seed
        self.group_factor = group_factor
        self.epoch = 0

    def __len__(self):
        return math.ceil(len(self.lengths) / self.batch_size)

    def __iter__(self):
        n, bs = len(self.lengths), self.batch_size
        if not self.shuffle:
            order = eval_order(self.lengths)
            yield from (order[i : i + bs].tolist() for i in range(0, n, bs))
            return
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        perm = rng.permutation(n)
        chunk = bs * self.group_factor
        batches = []
        for start in range(0, n, chunk):
            part = perm[start : start + chunk]
            part = part[np.argsort(-self.lengths[part], kind="stable")]
            batches.extend(part[i : i + bs] for i in range(0, len(part), bs))
        for j in rng.permutation(len(batches)):
            yield batches[j].tolist()


class PadCollator:
    """Pad a batch of indices to its own longest sequence.

    Returns ``(inputs, y)`` where ``inputs`` is a dict of int64 tensors
    (``input_ids``, ``attention_mask`` and, for models that use them,
    ``token_type_ids``) and ``y`` a tensor or ``None``.
    """

    def __init__(self, dataset, pad_token_id, y_dtype=None):
        self.dataset = dataset
        self.pad_token_id = int(pad_token_id)
        self.y_dtype = y_dtype

    def __call__(self, indices):
        enc = self.dataset.encoded
        lengths = self.dataset.lengths[indices]
        width = int(lengths.max())
        ids = np.full((len(indices), width), self.pad_token_id, dtype=np.int64)
        mask = np.zeros((len(indices), width), dtype=np.int64)
        types = None if enc.token_type_ids is None else np.zeros_like(ids)
        for row, (i, n) in enumerate(zip(indices, lengths)):
            ids[row, :n] = enc.input_ids[i]
            mask[row, :n] = 1
            if types is not None:
                types[row, :n] = enc.token_type_ids[i]
        inputs = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
        if types is not None:
            inputs["token_type_ids"] = torch.from_numpy(types)
        y = self.dataset.y
        if y is None:
            return inputs, None
        yb = torch.as_tensor(y[indices])
        if self.y_dtype is not None:
            yb = yb.to(self.y_dtype)
        return inputs, yb
