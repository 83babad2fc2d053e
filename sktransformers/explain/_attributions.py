"""Token attributions: which words drove a prediction.

:func:`explain` scores every word of every text for one output of a fitted
:class:`~sktransformers.TransformerClassifier` or
:class:`~sktransformers.TransformerRegressor`, or for one word's tag of a
:class:`~sktransformers.TransformerTokenClassifier`:

* ``"integrated_gradients"`` (default; needs ``pip install -e ".[explain]" (from a checkout)``
  for Captum): Integrated Gradients over the word-embedding layer (Captum's
  ``LayerIntegratedGradients``), from a baseline text in which every token but
  the special ones (``[CLS]``, ``[SEP]``, ...) is replaced by ``[PAD]`` (or
  ``[MASK]``). The scores of a text add up to the output at the text minus the
  output at the baseline (completeness); ``Explanation.delta`` says how far the
  numerical integral is from that.
* ``"gradient_x_input"``: the gradient of the output at the text times the
  difference between the text's and the baseline's word embeddings, one
  backward pass per text (no Captum needed): the first-order estimate of what
  IG integrates, cheap and noisier.
* ``"occlusion"``: the drop of the output when a word's tokens are replaced by
  the baseline token, one forward pass per word (no Captum needed).

Token scores are summed into words (``_text_input.word_spans``:
runs of non-space characters, and one word per CJK character) through the
fast tokenizer's character offsets, so every score points at a span of the
text the caller passed. The text's path: ``X`` -> :func:`check_texts` ->
the token windows the estimator reads (:func:`_windows`: one, or with
``long_texts="chunk"`` the overlapping windows whose logits it averages; all
windows of a text are interpolated together, so completeness holds for the
averaged output) -> attributions per token -> words (:func:`_merge_words`) ->
:class:`Explanation`.

A token classifier takes the same path with three differences
(:func:`_token_jobs`): its words are the estimator's own (:func:`check_words`:
a string split by ``word_spans`` or a list of words, spans in
``WordInput.offsets``); the one window read is the one the estimator reads the
explained word's tag from (:func:`~sktransformers.tasks.word_reads`: the
window of :func:`~sktransformers.engine._data.encode_words` where the word sits
farthest from the edges); and the output picks that word's row of the token
logits (``columns``: its first sub-word, where the tag is decoded).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, get_args

import numpy as np

from ..tasks import TOKEN, single_task
from ..utils._extras import install_hint
from ..utils._typing import Baseline, ExplainMethod, Texts

METHODS = get_args(ExplainMethod)
BASELINES = get_args(Baseline)


@dataclass
class Explanation:
    """Word scores for one text (or text pair) and one output of the model.

    Attributes
    ----------
    text : str
        The text (the first text of a pair).
    text_pair : str or None
        The second text of a pair.
    words : list of str
        The words, as they appear in the text(s): runs of non-space characters,
        and one word per Chinese, Japanese or Korean character (Chinese text
        is scored character by character, not as one whole sentence).
    offsets : list of (int, int)
        Character span of each word in its own text (``text[start:end]``).
    segments : list of int
        0 for words of ``text``, 1 for words of ``text_pair``.
    scores : ndarray of shape (n_words,)
        Contribution of each word to the explained output (positive: pushes
        it up). Words cut off by ``max_length`` are not listed.
    prediction : object
        The estimator's prediction for the text (a class label or a number).
    target : object
        The explained output: a class label (classifier) or an output index
        (regressor).
    output : float
        The explained quantity at the text: the target's log-probability
        (classifier) or the prediction on the scale of ``y`` (regressor).
    baseline_output : float or None
        The same quantity at the baseline text (Integrated Gradients and
        gradient x input); the scores of IG add up to ``output - baseline_output``.
    method : str
        The attribution method.
    delta : float or None
        Integrated Gradients' convergence error: ``sum(scores) - (output -
        baseline_output)``, token scores included; None for other methods.
    truncated : bool
        True when ``max_length`` cut the text(s): the words past the cut have no
        score. Token classifier: True when the sentence is longer than the
        window the explained word is read from; every word is still listed,
        and those outside that window score 0 (the tag cannot depend on them).
    word_index : int or None
        Token classifier: the index (in ``words``) of the word whose tag is
        explained; ``prediction`` is its predicted tag. None for other
        estimators.
    """

    text: str
    text_pair: str | None
    words: list
    offsets: list
    segments: list
    scores: np.ndarray
    prediction: object
    target: object
    output: float
    baseline_output: float | None
    method: str
    delta: float | None = None
    truncated: bool = False
    word_index: int | None = None
    _max_abs: float = field(default=0.0, repr=False)

    def __post_init__(self):
        self.scores = np.asarray(self.scores, dtype=np.float64)
        self._max_abs = float(np.abs(self.scores).max()) if len(self.scores) else 0.0

    @property
    def word(self):
        """The explained word (token classifier), or None."""
        return None if self.word_index is None else self.words[self.word_index]

    def top(self, k=5):
        """The ``k`` words with the largest scores, as ``(word, score)`` pairs."""
        order = np.argsort(-self.scores, kind="stable")[:k]
        return [(self.words[i], float(self.scores[i])) for i in order]

    def __str__(self):
        head = (
            f"{self._word_head()}prediction={self.prediction!r} target={self.target!r} "
            f"output={self.output:.4g} method={self.method}"
        )
        if self.delta is not None:
            head += f" delta={self.delta:.2g}"
        lines = [head]
        for segment in sorted(set(self.segments)) or [0]:
            words = [
                f"{w}({s:+.3f})"
                for w, s, g in zip(self.words, self.scores, self.segments)
                if g == segment
            ]
            lines.append(("  " if segment == 0 else "  | ") + " ".join(words))
        if self.truncated and self.word_index is not None:
            lines.append("  (long sentence: words outside the explained word's window score 0)")
        elif self.truncated:
            lines.append("  (truncated at max_length)")
        return "\n".join(lines)

    def _word_head(self):
        return "" if self.word_index is None else f"word={self.word_index} {self.word!r} "

    def _repr_html_(self):
        head = html.escape(
            f"{self._word_head()}prediction={self.prediction!r}, target={self.target!r}, "
            f"method={self.method}"
        )
        parts = [f'<div class="sktransformers-explanation"><div><small>{head}</small></div>']
        texts = [self.text] if self.text_pair is None else [self.text, self.text_pair]
        for segment, text in enumerate(texts):
            parts.append('<div style="line-height:1.8">')
            cursor = 0
            for j, (word, (start, end), score, seg) in enumerate(
                zip(self.words, self.offsets, self.scores, self.segments)
            ):
                if seg != segment:
                    continue
                # The explained word (token classifier) is boxed.
                box = ";outline:2px solid #333" if j == self.word_index else ""
                parts.append(html.escape(text[cursor:start]))
                parts.append(
                    f'<span title="{score:+.4f}" style="background-color:'
                    f'{_colour(score, self._max_abs)};padding:0 2px;border-radius:3px{box}">'
                    f"{html.escape(word)}</span>"
                )
                cursor = end
            parts.append(html.escape(text[cursor:]) + "</div>")
        parts.append("</div>")
        return "".join(parts)


def _colour(score, max_abs):
    """Green for positive, red for negative scores; opacity grows with the magnitude."""
    alpha = 0.0 if max_abs == 0 else min(abs(score) / max_abs, 1.0) * 0.8
    rgb = "0,160,0" if score >= 0 else "220,0,0"
    return f"rgba({rgb},{alpha:.2f})"


class Explanations(list):
    """A list of :class:`Explanation` (one per text) that exports to pandas."""

    def to_frame(self):
        """One row per word per text.

        Returns
        -------
        frame : pandas.DataFrame
            Columns ``text_index``, ``segment``, ``word_index``, ``word``,
            ``start``, ``end``, ``score``, ``prediction``, ``target``,
            ``method``; for token-classifier explanations also ``explained``
            (True on the row of the word whose tag is explained).
        """
        import pandas as pd

        rows = []
        for i, exp in enumerate(self):
            for j, (word, (start, end), seg, score) in enumerate(
                zip(exp.words, exp.offsets, exp.segments, exp.scores)
            ):
                rows.append(
                    (
                        i,
                        seg,
                        j,
                        word,
                        start,
                        end,
                        float(score),
                        exp.prediction,
                        exp.target,
                        exp.method,
                        j == exp.word_index,
                    )
                )
        columns = [
            "text_index",
            "segment",
            "word_index",
            "word",
            "start",
            "end",
            "score",
            "prediction",
            "target",
            "method",
            "explained",
        ]
        frame = pd.DataFrame(rows, columns=columns)
        if all(exp.word_index is None for exp in self):
            frame = frame.drop(columns="explained")
        return frame

    def _repr_html_(self):
        return "<hr>".join(exp._repr_html_() for exp in self)


# ----------------------------------------------------------------------
# The public function
# ----------------------------------------------------------------------
def explain(
    estimator: Any,
    X: Texts,
    *,
    word: int | list[int | None] | None = None,
    target: Any = None,
    method: ExplainMethod = "integrated_gradients",
    n_steps: int = 50,
    baseline: Baseline = "pad",
    batch_size: int | None = None,
) -> Explanations:
    """Score each word of each text for one output of a fitted estimator.

    Parameters
    ----------
    estimator : fitted TransformerClassifier, TransformerRegressor or \
TransformerTokenClassifier
    X : texts, text pairs or word lists
        As accepted by the estimator's ``predict``.
    word : int, list of (int or None), or None, default=None
        Token classifier only: the word whose tag is explained, by index in
        the text's words (negative counts from the end); one int for every
        text or one entry per text. None picks, per text, the first word
        not predicted ``"O"`` (the first word if all are).
    target : label, int or None, default=None
        Classifier: the class to explain (a label from ``classes_``); None
        explains each text's predicted class. Multi-label classifier: a label
        index or a name from ``label_names_``; None takes the most probable
        label. Regressor: the output index;
        None means output 0. Token classifier: a tag from ``classes_``;
        None explains the explained word's predicted tag.
    method : {"integrated_gradients", "gradient_x_input", "occlusion"}, \
default="integrated_gradients"
        How the scores are computed (see the module notes).
    n_steps : int, default=50
        Integrated Gradients' number of integration points (Gauss-Legendre).
    baseline : {"pad", "mask"}, default="pad"
        The reference text: every token but the special ones replaced by the
        tokenizer's pad (or mask) token. Also the replacement token for
        occlusion.
    batch_size : int or None, default=None
        Interpolation points (IG) or occluded copies (occlusion) per forward
        pass; None means all at once (``n_steps``). Lower it to save memory.

    Returns
    -------
    explanations : Explanations
        One :class:`Explanation` per text, in the order of ``X``.

    Notes
    -----
    A classifier's explained output is the log-probability of the target
    class (of the target label for a multi-label classifier), so a positive
    score is evidence for the class. A regressor's is the prediction on the
    scale of ``y``. A token classifier's is the log-probability of the
    target tag at the explained word, read from the window the estimator
    reads that word's tag from. The model runs in float32 and eval mode (no
    dropout).

    Examples
    --------
    >>> from sktransformers import TransformerClassifier
    >>> X = ["a wonderful film", "dull and far too long", "loved it", "a waste of time"]
    >>> clf = TransformerClassifier(max_epochs=1, random_state=0).fit(X, [1, 0, 1, 0])
    >>> exp = explain(clf, ["a wonderful film"], method="gradient_x_input")[0]
    >>> exp.words
    ['a', 'wonderful', 'film']
    """
    task = single_task(estimator, "explain")  # TypeError, or NotFittedError before fit
    if task.target_what is None:
        raise TypeError(
            f"explain explains what a model predicts; a {type(estimator).__name__} "
            f"({task.description}) predicts nothing to explain."
        )
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}.")
    if baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {list(BASELINES)}, got {baseline!r}.")
    if not isinstance(n_steps, (int, np.integer)) or isinstance(n_steps, bool) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive int, got {n_steps!r}.")
    if batch_size is not None and (
        not isinstance(batch_size, (int, np.integer))
        or isinstance(batch_size, bool)
        or batch_size < 1
    ):
        raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}.")
    own_jobs = getattr(estimator, "_explanation_jobs", None)
    if callable(own_jobs):  # a front end that picks what to explain itself
        if word is not None:
            raise ValueError(
                f"word= picks the word whose tag a TransformerTokenClassifier explains; "
                f"a {type(estimator).__name__} takes no word=."
            )
        task.explain_target(target, estimator)
        plan = None
    elif task.level == TOKEN:
        plan = _token_plan(estimator, task, X, word, target)
    else:
        if word is not None:
            raise ValueError(
                "word= picks the word whose tag a TransformerTokenClassifier explains; "
                f"a {type(estimator).__name__} explains whole texts."
            )
        plan = _text_plan(estimator, task, X, target)
    if method == "integrated_gradients":
        try:
            import captum.attr  # noqa: F401
        except ImportError:
            raise ImportError(
                f"method='integrated_gradients' needs Captum: {install_hint('explain')} "
                "(or use method='gradient_x_input' or 'occlusion', which need nothing more)."
            ) from None
    if plan is None:
        assert callable(own_jobs)
        jobs = own_jobs(X)
    else:
        jobs = (_token_jobs if task.level == TOKEN else _text_jobs)(estimator, *plan)

    import torch

    module = estimator.net_.module_
    tokenizer = estimator.tokenizer_
    device = torch.device(estimator.device_)
    baseline_id = _baseline_token(tokenizer, baseline)
    was_training = module.training
    module.eval()
    out = Explanations()
    try:
        for job in jobs:
            inputs = _tensors(job.windows, tokenizer, device)
            target_i = job.target
            if target_i is None:
                with torch.no_grad():
                    z = _doc_logits(module, inputs, inputs["input_ids"])
                    target_i = int(z[0, job.columns].argmax())
            fn = task.explained_output(target_i, job.columns)
            attr, output, base_output, delta, logits = _ATTRIBUTORS[method](
                fn, module, inputs, job.windows, baseline_id, n_steps, batch_size
            )
            words, offsets, segments, scores, truncated = _merge_words(
                job.windows, attr, job.first, job.second, job.spans
            )
            out.append(
                Explanation(
                    text=job.first,
                    text_pair=job.second,
                    words=words,
                    offsets=offsets,
                    segments=segments,
                    scores=scores,
                    prediction=task.explained_prediction(logits[job.columns], estimator)
                    if job.prediction is None
                    else job.prediction,
                    target=task.target_name(target_i, estimator)
                    if job.target_name is None
                    else job.target_name,
                    output=float(output),
                    baseline_output=None if base_output is None else float(base_output),
                    method=method,
                    delta=None if delta is None else float(delta),
                    truncated=truncated,
                    word_index=job.word,
                )
            )
    finally:
        module.train(was_training)
    return out


class ExplainMixin:
    """The ``explain`` method of the estimators of one text-level task (mixin on the left)."""

    def explain(
        self,
        X: Texts,
        *,
        target: Any = None,
        method: ExplainMethod = "integrated_gradients",
        n_steps: int = 50,
        baseline: Baseline = "pad",
        batch_size: int | None = None,
    ) -> Explanations:
        """Word attributions per text: which words drove the output.

        Integrated Gradients over the input embeddings by default (needs
        ``captum``); ``"gradient_x_input"`` and ``"occlusion"`` need nothing
        more. See the "Explaining predictions" page of the docs.
        :class:`~sktransformers.TransformerTokenClassifier` explains one
        word's tag per text and adds a ``word=`` argument (see its
        ``explain``).

        Returns
        -------
        explanations : Explanations
            One :class:`~sktransformers.Explanation` per text (words,
            character offsets, a score per word, the prediction);
            ``.to_frame()`` gives a DataFrame.
        """
        return explain(
            self,
            X,
            target=target,
            method=method,
            n_steps=n_steps,
            baseline=baseline,
            batch_size=batch_size,
        )


@dataclass
class _Job:
    """One text to explain: its windows (with ``_words``) and what to read from the logits.

    ``columns`` selects the explained logits from a copy's flattened output
    (all of them for a text-level head; one word's tags for a token head);
    ``spans`` gives the words' character spans when they are not the words of
    ``word_spans`` of the text(s) (every word is then listed, scored
    or not); ``word`` is the explained word's index (token classifier).
    ``prediction`` and ``target_name``, when set, are reported as they are
    (a front end that builds its own jobs, such as the question answerer).
    """

    first: str
    second: str | None
    windows: list
    target: int | None
    columns: slice = field(default_factory=lambda: slice(None))
    spans: list | None = None
    word: int | None = None
    prediction: object = None
    target_name: object = None


def _text_plan(estimator, task, X, target):
    """Checked texts and target index of a text-level estimator (cheap, before any forward)."""
    from ..engine._data import check_texts

    texts = check_texts(X)
    if texts.is_pair != estimator.is_pair_:
        want = "sentence pairs (2 columns)" if estimator.is_pair_ else "single texts (1 column)"
        raise ValueError(f"This estimator was fitted on {want}; X does not match.")
    return texts, task.explain_target(target, estimator)


def _text_jobs(estimator, texts, target_index):
    for i in range(len(texts)):
        first = texts.first[i]
        second = None if texts.second is None else texts.second[i]
        windows = _windows(estimator, first, second)
        for window in windows:
            _assign_words(window, first, second)
        yield _Job(first, second, windows, target_index)


# ----------------------------------------------------------------------
# Checks
# ----------------------------------------------------------------------
def _baseline_token(tokenizer, baseline):
    token_id = tokenizer.pad_token_id if baseline == "pad" else tokenizer.mask_token_id
    if token_id is None:
        raise ValueError(
            f"baseline={baseline!r} but this tokenizer has no {baseline} token; "
            f"use baseline={'mask' if baseline == 'pad' else 'pad'!r}."
        )
    return token_id


def _check_word(word, inputs):
    """One word index per text (None: the default word), negative indices resolved."""

    def is_index(value):
        return isinstance(value, (int, np.integer)) and not isinstance(value, bool)

    n = len(inputs)
    if word is None or is_index(word):
        words = [word] * n
    elif isinstance(word, (list, tuple, np.ndarray)) and all(
        w is None or is_index(w) for w in word
    ):
        words = list(word)
        if len(words) != n:
            raise ValueError(
                f"word has {len(words)} entries but X has {n} texts; give one word index "
                "(or None) per text, or a single int for all."
            )
    else:
        raise TypeError(
            f"word must be an int, None, or a list with one int (or None) per text, got {word!r}."
        )
    out = []
    for i, w in enumerate(words):
        n_words = len(inputs.words[i])
        if w is not None and not -n_words <= w < n_words:
            raise ValueError(
                f"word={int(w)} is out of range for text {i}, which has {n_words} words "
                f"(indices 0 to {n_words - 1}, or negative from the end)."
            )
        out.append(None if w is None else int(w) % n_words)
    return out


def _token_plan(estimator, task, X, word, target):
    """Checked words, word indices, target and windows of a token classifier.

    Cheap (validation and tokenization, no forward pass), so that bad input
    fails before any heavy work.
    """
    from ..engine._base import window_stride
    from ..engine._data import encoded_words, tokenize_words
    from ..tasks import word_reads

    inputs = estimator._check_X(X, fitted=True)
    words = _check_word(word, inputs)
    target_index = task.explain_target(target, estimator)
    tokenized = tokenize_words(
        estimator.tokenizer_, inputs.words, estimator.max_length, window_stride(estimator)
    )
    enc = encoded_words(estimator.tokenizer_, tokenized)
    reads, _ = word_reads(enc, [len(w) for w in inputs.words])
    for i, w in enumerate(words):
        if w is not None and reads[i][w, 0] < 0:
            raise ValueError(
                f"Word {w} of text {i} ({inputs.words[i][w]!r}) has no sub-word token (the "
                "tokenizer drops its characters): the model gives it no tag to explain."
            )
    return inputs, words, target_index, tokenized, enc, reads


def _default_words(estimator, inputs, words, reads):
    """Fill in the words left None: the first word not predicted "O" (else the first word)."""
    missing = [i for i, w in enumerate(words) if w is None]
    tags = estimator.predict([inputs.words[i] for i in missing]) if missing else []
    words = list(words)
    for i, row in zip(missing, tags):
        readable = [j for j in range(len(row)) if reads[i][j, 0] >= 0]
        if not readable:
            raise ValueError(
                f"No word of text {i} has a sub-word token: there is no tag to explain."
            )
        words[i] = next((j for j in readable if str(row[j]) != "O"), readable[0])
    return words


def _token_jobs(estimator, inputs, words, target_index, tokenized, enc, reads):
    """One job per text: the window the explained word's tag is read from."""
    words = _default_words(estimator, inputs, words, reads)
    n_tags = len(estimator.classes_)
    docs = enc.docs()
    jobs = []
    for i, w in enumerate(words):
        row, position = (int(v) for v in reads[i][w])
        word_ids = tokenized.word_ids(row)
        window = {
            "input_ids": enc.input_ids[row],
            "special_tokens_mask": [int(v is None) for v in word_ids],
            "_words": [None if v is None else (0, v) for v in word_ids],
            "_truncated": int((docs == i).sum()) > 1,
        }
        if enc.token_type_ids is not None:
            window["token_type_ids"] = enc.token_type_ids[row]
        columns = slice(position * n_tags, (position + 1) * n_tags)
        jobs.append(
            _Job(
                inputs.texts[i],
                None,
                [window],
                target_index,
                columns,
                spans=[inputs.offsets[i], []],
                word=w,
            )
        )
    return jobs


# ----------------------------------------------------------------------
# Tokens
# ----------------------------------------------------------------------
def _windows(estimator, first, second):
    """The token windows the estimator reads for one text, with character offsets.

    One window truncated to ``max_length``; with ``long_texts="chunk"``, the
    overlapping windows of ``_data.encode`` (same tokenizer arguments), whose
    logits the estimator averages.
    """
    from ..engine._base import window_stride

    tokenizer = estimator.tokenizer_
    max_length = estimator.max_length
    chunk = getattr(estimator, "long_texts", "truncate") == "chunk"
    kwargs = {"truncation": True}
    capped = False
    if chunk:
        stride = window_stride(estimator)
        kwargs = {
            "return_overflowing_tokens": True,
            "stride": stride,
            "truncation": "only_second" if second is not None else True,
        }
        if second is not None:
            from types import SimpleNamespace

            from ..engine._data import _cap_first_texts

            cut = _cap_first_texts(
                tokenizer, SimpleNamespace(first=[first], second=[second]), max_length, stride
            ).first[0]
            capped = len(cut) < len(first)
            first = cut
    enc = tokenizer(
        [first],
        None if second is None else [second],
        max_length=max_length,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        **kwargs,
    )
    n_windows = len(enc["input_ids"])
    windows = []
    for w in range(n_windows):
        window = {
            "input_ids": enc["input_ids"][w],
            "special_tokens_mask": enc["special_tokens_mask"][w],
            "offset_mapping": enc["offset_mapping"][w],
            "sequence_ids": enc.sequence_ids(w),
        }
        if "token_type_ids" in enc:
            window["token_type_ids"] = enc["token_type_ids"][w]
        windows.append(window)
    if chunk:
        truncated = capped
    else:
        full = tokenizer(first, second, truncation=False)["input_ids"]
        truncated = len(full) > len(windows[0]["input_ids"])
    windows[0]["_truncated"] = truncated
    return windows


def _tensors(windows, tokenizer, device):
    """The windows of one text as a padded (n_windows, length) batch."""
    import torch

    length = max(len(w["input_ids"]) for w in windows)
    pad = tokenizer.pad_token_id or 0

    def padded(key, fill):
        return torch.tensor(
            [w[key] + [fill] * (length - len(w[key])) for w in windows], device=device
        )

    inputs = {
        "input_ids": padded("input_ids", pad),
        "attention_mask": torch.tensor(
            [[1] * len(w["input_ids"]) + [0] * (length - len(w["input_ids"])) for w in windows],
            device=device,
        ),
        # Padding counts as special: the baseline keeps it, and it gets no score.
        "special": padded("special_tokens_mask", 1).bool(),
    }
    if "token_type_ids" in windows[0]:
        inputs["token_type_ids"] = padded("token_type_ids", 0)
    return inputs


def _word_spans(text):
    from ..utils._text_input import word_spans

    return [] if text is None else word_spans(text)


def _assign_words(window, first, second):
    """Each token's ``(segment, word index)`` in ``window["_words"]``; None for specials."""
    starts = [np.asarray([s for s, _ in _word_spans(t)], dtype=np.int64) for t in (first, second)]
    words = []
    for (start, end), seg in zip(window["offset_mapping"], window["sequence_ids"]):
        if seg is None or end <= start:
            words.append(None)
        else:
            words.append((seg, int(np.searchsorted(starts[seg], start, side="right")) - 1))
    window["_words"] = words


def _merge_words(windows, token_scores, first, second, spans=None):
    """Sum token scores (one row per window) into words.

    Words are those of ``word_spans`` (whitespace-delimited, one per CJK
    character), listed when some window holds them; or,
    given ``spans`` (per text, each word's character span), those words, all
    listed (0 for a word no window holds).
    """
    texts = [first, second]
    keep_all = spans is not None
    if spans is None:
        spans = [_word_spans(t) for t in texts]
    totals = [np.zeros(len(sp)) for sp in spans]
    seen = [np.zeros(len(sp), dtype=bool) for sp in spans]
    for window, scores in zip(windows, token_scores):
        for t, word in enumerate(window["_words"]):
            if word is not None:
                seg, w = word
                totals[seg][w] += scores[t]
                seen[seg][w] = True
    words, offsets, segments, scores = [], [], [], []
    for seg, text in enumerate(texts):
        for w, (start, end) in enumerate(spans[seg]):
            if seen[seg][w] or keep_all:
                words.append(text[start:end])
                offsets.append((start, end))
                segments.append(seg)
                scores.append(totals[seg][w])
    return words, offsets, segments, np.asarray(scores), bool(windows[0]["_truncated"])


# ----------------------------------------------------------------------
# The model's output and the attribution methods
# ----------------------------------------------------------------------
def _doc_logits(module, inputs, ids):
    """Logits of ``m`` copies of the text from ids of shape (m * n_windows, length).

    The windows of each copy are averaged, as the estimator does for long texts.
    A token head's (m, length, n_tags) logits come back flattened to
    (m, length * n_tags) (a token classifier's explanation reads one window).
    """
    k = inputs["input_ids"].shape[0]
    m = ids.shape[0] // k
    kwargs = {"attention_mask": inputs["attention_mask"].repeat(m, 1)}
    if "token_type_ids" in inputs:
        kwargs["token_type_ids"] = inputs["token_type_ids"].repeat(m, 1)
    logits = module(input_ids=ids, **kwargs).float()
    return logits.reshape(m, k, -1).mean(1)


def _baseline_ids(inputs, baseline_id):
    import torch

    return torch.where(
        inputs["special"], inputs["input_ids"], torch.full_like(inputs["input_ids"], baseline_id)
    )


def _integrated_gradients(fn, module, inputs, windows, baseline_id, n_steps, batch_size):
    import torch
    from captum.attr import LayerIntegratedGradients

    k = inputs["input_ids"].shape[0]

    def forward(ids):
        # Captum sends whole steps of k windows (step-major); each window's row
        # carries 1/k of its copy's output so that the rows of a step sum to it.
        out = fn(_doc_logits(module, inputs, ids))
        return out.repeat_interleave(k) / k

    layer = module.backbone.get_input_embeddings()
    lig = LayerIntegratedGradients(forward, layer)
    base = _baseline_ids(inputs, baseline_id)
    attr = lig.attribute(
        inputs["input_ids"],
        baselines=base,
        n_steps=n_steps,
        internal_batch_size=(batch_size or n_steps) * k,  # whole steps per pass
    )
    with torch.no_grad():
        z = _doc_logits(module, inputs, inputs["input_ids"])
        out_x = float(fn(z)[0])
        out_b = float(fn(_doc_logits(module, inputs, base))[0])
    scores = attr.sum(-1).detach().double().cpu().numpy()
    delta = float(scores.sum()) - (out_x - out_b)
    return scores, out_x, out_b, delta, z[0].cpu().numpy()


def _gradient_x_input(fn, module, inputs, windows, baseline_id, n_steps, batch_size):
    """(embeddings - baseline embeddings) . gradient at the text: one backward pass."""
    import torch

    layer = module.backbone.get_input_embeddings()
    captured = {}

    def hook(_module, _args, output):
        # A leaf of its own, so frozen embeddings (freeze=...) get a gradient too.
        captured["embeds"] = output.detach().requires_grad_()
        return captured["embeds"]

    handle = layer.register_forward_hook(hook)
    try:
        with torch.enable_grad():
            z = _doc_logits(module, inputs, inputs["input_ids"])
            out = fn(z)[0]
            # autograd.grad, not backward: the parameters' .grad stay untouched.
            (grad,) = torch.autograd.grad(out, captured["embeds"])
    finally:
        handle.remove()
    with torch.no_grad():
        base = layer(_baseline_ids(inputs, baseline_id))
        scores = ((captured["embeds"] - base) * grad).sum(-1).double().cpu().numpy()
    return scores, out.item(), None, None, z[0].detach().cpu().numpy()


def _occlusion(fn, module, inputs, windows, baseline_id, n_steps, batch_size):
    """Replace all tokens of one word at a time; the drop is the score (on its first token)."""
    import torch

    ids = inputs["input_ids"]
    k = ids.shape[0]
    groups = {}
    for w, window in enumerate(windows):
        for t, word in enumerate(window["_words"]):
            if word is not None:
                groups.setdefault(word, []).append((w, t))
    groups = list(groups.values())
    scores = np.zeros(tuple(ids.shape))
    with torch.no_grad():
        z = _doc_logits(module, inputs, ids)
        out_x = float(fn(z)[0])
        step = max(1, (batch_size or 64) // k)
        for start in range(0, len(groups), step):
            chunk = groups[start : start + step]
            batch = ids.repeat(len(chunk), 1, 1)
            for row, positions in enumerate(chunk):
                for w, t in positions:
                    batch[row, w, t] = baseline_id
            drops = out_x - fn(_doc_logits(module, inputs, batch.reshape(-1, ids.shape[1])))
            for positions, drop in zip(chunk, drops.double().cpu().numpy()):
                scores[positions[0]] = drop
    return scores, out_x, None, None, z[0].cpu().numpy()


_ATTRIBUTORS = {
    "integrated_gradients": _integrated_gradients,
    "gradient_x_input": _gradient_x_input,
    "occlusion": _occlusion,
}


# ----------------------------------------------------------------------
# Faithfulness (ERASER comprehensiveness)
# ----------------------------------------------------------------------
def delete_words(explanation, indices):
    """The text with the words at ``indices`` removed.

    The rest is joined by single spaces, with none next to a CJK character
    (Chinese characters are words of their own and take no spaces).
    """
    from ..utils._text_input import join_words

    if explanation.text_pair is not None:
        raise ValueError("delete_words works on single texts, not pairs.")
    drop = set(int(i) for i in indices)
    return join_words([w for i, w in enumerate(explanation.words) if i not in drop])[0]


def comprehensiveness(estimator, explanations, ks=(1, 2, 3, 4, 5), random_state=0):
    """Mean drop of the explained class's probability after deleting words (ERASER).

    For each ``k``: delete the ``k`` highest-scored words of each text, and
    separately ``k`` words drawn at random (``random_state``), and average the
    drop of the probability of the explained class (``Explanation.target``)
    over the texts. A text with fewer than ``k`` words loses all of them.

    Returns
    -------
    result : dict
        ``{"k": [...], "top": [...], "random": [...]}``, one mean drop per k.
    """
    rng = np.random.RandomState(random_state)
    classes = list(estimator.classes_)
    base_texts = [delete_words(exp, []) for exp in explanations]
    columns = [classes.index(exp.target) for exp in explanations]
    rows = np.arange(len(explanations))
    p0 = estimator.predict_proba(base_texts)[rows, columns]
    result = {"k": list(ks), "top": [], "random": []}
    for k in ks:
        top, rand = [], []
        for exp in explanations:
            n = len(exp.words)
            top.append(delete_words(exp, np.argsort(-exp.scores, kind="stable")[:k]))
            rand.append(delete_words(exp, rng.permutation(n)[: min(k, n)]))
        result["top"].append(float(np.mean(p0 - estimator.predict_proba(top)[rows, columns])))
        result["random"].append(float(np.mean(p0 - estimator.predict_proba(rand)[rows, columns])))
    return result
