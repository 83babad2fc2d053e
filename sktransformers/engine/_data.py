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

from ..tasks._base import mean_by_doc  # noqa: F401  (re-exported: callers read it here)
from ..utils._batches import eval_batches, eval_order  # noqa: F401  (re-exported)
from ..utils._spans import first_text_limit
from ..utils._text_input import TextInput, WordInput, check_texts, check_words  # noqa: F401  (re-exported: the data path starts here)
from ..utils._words import first_subwords


def check_same_length(texts, y):
    try:
        n_y = y.shape[0] if hasattr(y, "shape") and len(getattr(y, "shape", ())) else len(y)
    except TypeError:  # a scalar, or another value without a length
        raise TypeError(
            "y must hold one target per text (a list, array, Series or DataFrame), got a "
            f"{type(y).__name__}."
        ) from None
    if len(texts) != n_y:
        raise ValueError(f"X and y have different lengths: {len(texts)} texts but {n_y} targets.")


# ----------------------------------------------------------------------
# Tokenized texts
# ----------------------------------------------------------------------
@dataclass
class Encoded:
    """Token ids of every row, unpadded (ragged lists of ints).

    A row is one text, or one window of a text when long texts are split
    (``doc[row]`` is then the text the window belongs to). For token
    classification ``word_index[row]`` maps each position to the word whose
    first sub-word sits there, -1 elsewhere. For answer spans ``offsets[row]``
    gives each position's character span in the context (-1 elsewhere).
    """

    input_ids: list
    token_type_ids: list | None
    doc: np.ndarray | None = None
    word_index: list | None = None
    offsets: list | None = None

    def __len__(self):
        return len(self.input_ids)

    @property
    def lengths(self):
        return np.fromiter((len(ids) for ids in self.input_ids), dtype=np.int64, count=len(self))

    def docs(self):
        """Index of the text each row comes from."""
        return np.arange(len(self)) if self.doc is None else self.doc

    def take(self, rows):
        return Encoded(
            [self.input_ids[i] for i in rows],
            None if self.token_type_ids is None else [self.token_type_ids[i] for i in rows],
            None if self.doc is None else self.doc[rows],
            None if self.word_index is None else [self.word_index[i] for i in rows],
            None if self.offsets is None else [self.offsets[i] for i in rows],
        )


def _wants_types(tokenizer):
    return "token_type_ids" in getattr(tokenizer, "model_input_names", [])


def encode(tokenizer, texts, max_length, *, chunk=False, stride=0, chunk_size=4096):
    """Tokenize every text once, without padding.

    Texts longer than ``max_length`` tokens are truncated, or with
    ``chunk=True`` split into windows of ``max_length`` tokens overlapping by
    ``stride`` (for pairs the second text is windowed; the first is kept
    whole). Chunks of ``chunk_size`` texts keep the fast tokenizer's batch
    parallelism while bounding memory.
    """
    if texts.second is not None and any(s is None for s in texts.second):
        return _encode_mixed(tokenizer, texts, max_length, chunk, stride, chunk_size)
    if chunk and texts.second is not None:
        texts = _cap_first_texts(tokenizer, texts, max_length, stride)
    input_ids, token_type_ids, docs = [], [], []
    wants_types = _wants_types(tokenizer)
    for start in range(0, len(texts), chunk_size):
        stop = start + chunk_size
        second = None if texts.second is None else texts.second[start:stop]
        kwargs = {}
        if chunk:
            kwargs = {"return_overflowing_tokens": True, "stride": int(stride)}
        out = tokenizer(
            texts.first[start:stop],
            second,
            truncation="only_second" if (chunk and second is not None) else True,
            max_length=max_length,
            padding=False,
            return_attention_mask=False,
            return_token_type_ids=wants_types,
            **kwargs,
        )
        input_ids.extend(out["input_ids"])
        if wants_types:
            token_type_ids.extend(out["token_type_ids"])
        if chunk:
            docs.extend(start + d for d in out["overflow_to_sample_mapping"])
    doc = np.asarray(docs, dtype=np.int64) if chunk else None
    return Encoded(input_ids, token_type_ids if wants_types else None, doc)


def _cap_first_texts(tokenizer, texts, max_length, stride):
    """Windowing a pair moves over its second text; the first must leave it room.

    A first text longer than :func:`~sktransformers.utils._spans.first_text_limit`
    tokens is cut there (at a token boundary, by character offsets).
    """
    limit = first_text_limit(max_length, stride)
    out = tokenizer(
        texts.first,
        add_special_tokens=False,
        truncation=True,
        max_length=limit,
        return_offsets_mapping=True,
        return_attention_mask=False,
    )
    first = []
    for text, offsets, full in zip(texts.first, out["offset_mapping"], out["input_ids"]):
        first.append(text[: offsets[-1][1]] if len(full) >= limit and offsets else text)
    return TextInput(first, texts.second)


def _encode_mixed(tokenizer, texts, max_length, chunk, stride, chunk_size):
    """Single texts and pairs in one input (``second`` is None for single texts)."""
    single = [i for i, s in enumerate(texts.second) if s is None]
    pairs = [i for i, s in enumerate(texts.second) if s is not None]
    parts = [
        (
            single,
            encode(
                tokenizer,
                TextInput([texts.first[i] for i in single]),
                max_length,
                chunk=chunk,
                stride=stride,
                chunk_size=chunk_size,
            ),
        ),
        (
            pairs,
            encode(
                tokenizer,
                texts.take(pairs),
                max_length,
                chunk=chunk,
                stride=stride,
                chunk_size=chunk_size,
            ),
        ),
    ]
    input_ids, token_type_ids, docs = [], [], []
    wants_types = parts[1][1].token_type_ids is not None
    for rows, enc in parts:
        input_ids.extend(enc.input_ids)
        if wants_types:
            token_type_ids.extend(enc.token_type_ids)
        docs.append(
            np.asarray(rows, dtype=np.int64)[enc.docs()]
            if len(rows)
            else np.zeros(0, dtype=np.int64)
        )
    doc = np.concatenate(docs)
    order = np.argsort(doc, kind="stable")  # rows back in the caller's text order
    enc = Encoded(input_ids, token_type_ids if wants_types else None, doc).take(order)
    if not chunk:
        enc.doc = None
    return enc


def encode_words(tokenizer, words, max_length, stride):
    """Tokenize word lists; sentences longer than ``max_length`` become overlapping windows.

    Returns an :class:`Encoded` whose ``word_index`` marks, in every window,
    the position of each word's first sub-word (the position that carries
    the word's tag in training and its prediction at inference).
    """
    return encoded_words(tokenizer, tokenize_words(tokenizer, words, max_length, stride))


def tokenize_words(tokenizer, words, max_length, stride):
    """The fast tokenizer's windows of word lists (with offsets and ``word_ids``)."""
    return tokenizer(
        [list(w) for w in words],
        is_split_into_words=True,
        truncation=True,
        max_length=max_length,
        stride=int(stride),
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
        return_attention_mask=False,
        return_token_type_ids=_wants_types(tokenizer),
    )


def encoded_words(tokenizer, out):
    """:class:`Encoded` windows (with ``word_index``) from :func:`tokenize_words`' output."""
    doc = np.asarray(out["overflow_to_sample_mapping"], dtype=np.int64)
    word_index = []
    previous_doc = -1
    for row in range(len(doc)):
        continuation = doc[row] == previous_doc  # a later window of the same sentence
        previous_doc = doc[row]
        word_index.append(
            first_subwords(out.word_ids(row), out["offset_mapping"][row], continuation)
        )
    types = out["token_type_ids"] if _wants_types(tokenizer) else None
    return Encoded(out["input_ids"], types, doc, word_index)


class EncodedDataset(torch.utils.data.Dataset):
    """Ragged token ids plus optional targets; items are indices.

    ``y`` is None or a dict of per-row targets by head name: an array
    (text-level targets) or a list of per-position arrays (token-level
    targets, -100 where a position carries no label). ``labelled`` is an
    optional (n_rows, n_tasks) boolean array used by task-aware samplers.
    Items are only indices: :class:`PadCollator` reads the token ids of a
    whole batch at once, which is much cheaper than one tensor per text.
    """

    def __init__(self, encoded, y=None, labelled=None):
        self.encoded = encoded
        self.y = y
        self.labelled = labelled
        self.lengths = encoded.lengths

    def __len__(self):
        return len(self.encoded)

    def __getitem__(self, i):
        return i

    def subset(self, rows):
        rows = np.asarray(rows, dtype=np.int64)
        y = None
        if self.y is not None:
            y = {
                k: v[rows] if isinstance(v, np.ndarray) else [v[i] for i in rows]
                for k, v in self.y.items()
            }
        labelled = None if self.labelled is None else self.labelled[rows]
        return EncodedDataset(self.encoded.take(rows), y, labelled)


def in_caller_order(rows, lengths):
    """Rows computed in :func:`eval_order` put back in the order of ``lengths``."""
    if isinstance(rows, list):
        result = [None] * len(rows)
        for position, i in enumerate(eval_order(lengths)):
            result[i] = rows[position]
        return result
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

    def __init__(self, lengths, batch_size, *, shuffle, seed=0, group_factor=50, max_tokens=None):
        self.lengths = np.asarray(lengths)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = seed
        self.group_factor = group_factor
        self.max_tokens = max_tokens
        self.epoch = 0

    def __len__(self):
        if not self.shuffle and self.max_tokens is not None:
            return len(eval_batches(self.lengths, self.batch_size, self.max_tokens))
        return math.ceil(len(self.lengths) / self.batch_size)

    def __iter__(self):
        n, bs = len(self.lengths), self.batch_size
        if not self.shuffle:
            yield from (b.tolist() for b in eval_batches(self.lengths, bs, self.max_tokens))
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
    ``token_type_ids``) and ``y`` None or a dict of target tensors by head
    name (token-level targets padded with -100).
    """

    def __init__(self, dataset, pad_token_id):
        self.dataset = dataset
        self.pad_token_id = int(pad_token_id)

    def __call__(self, indices):
        enc = self.dataset.encoded
        indices = np.asarray(indices, dtype=np.int64)
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
        if self.dataset.y is None:
            return inputs, None
        y = {}
        for key, values in self.dataset.y.items():
            if isinstance(values, np.ndarray):
                y[key] = torch.from_numpy(np.ascontiguousarray(values[indices]))
            else:  # token-level: pad to the batch width, -100 = no label
                padded = np.full((len(indices), width), -100, dtype=np.int64)
                for row, i in enumerate(indices):
                    padded[row, : len(values[i])] = values[i]
                y[key] = torch.from_numpy(padded)
        return inputs, y
