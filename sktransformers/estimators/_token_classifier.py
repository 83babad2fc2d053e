"""TransformerTokenClassifier: one tag per word (named-entity recognition)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..deploy._export import ExportMixin
from ..engine._base import BaseTransformerEstimator, window_stride
from ..engine._data import check_words, encode_words
from ..engine._parameters import estimator_parameters, parameter
from ..engine._persistence import register_estimator
from ..tasks import TaggingTask, check_tags
from ..tasks._tagging import entity_f1, entity_spans
from ..utils._typing import Baseline, ExplainMethod, Targets, Texts

if TYPE_CHECKING:
    from typing_extensions import Self

    from ..explain._attributions import Explanations


@register_estimator
@estimator_parameters
class TransformerTokenClassifier(ExportMixin, BaseTransformerEstimator):
    """Fine-tune a Hugging Face transformer to tag every word of a text (NER).

    Each text is a list of words (pre-split, as in CoNLL files) or a string
    (split at whitespace, and into single characters for Chinese, Japanese
    and Korean: ``"我在Google工作"`` is 我 在 Google 工 作; character offsets
    kept); ``y`` has one tag per
    word, e.g. IOB2 entity tags (``B-PER``, ``I-PER``, ``O``). Words are
    split into sub-words inside: the loss is computed on each word's first
    sub-word and predictions are read back there. A sentence longer than
    ``max_length`` sub-words is split into overlapping windows (``stride``
    sub-words shared), and each word is read from the window where it has
    the most context: every input word gets exactly one tag; nothing is
    truncated.

    Parameters
    ----------
    max_length : int, default=128
        Sub-words per window (special tokens included).
    stride : int or None, default=None
        Sub-words shared by consecutive windows of a long sentence; None
        means ``max_length // 4`` (32 for the default ``max_length``). An
        explicit value must be less than ``max_length // 2``.
    lr : float, default=0.0001
        Peak learning rate of AdamW; twice the text estimators' 5e-5: on
        CoNLL-2003 (500 and 2,000 training sentences, 3 seeds each) entity F1
        was higher at 1e-4 (see the Performance page).
    validation_fraction : float or None, default=None
        Share of the sentences held out to record ``valid_loss`` and
        ``valid_score`` (entity F1 on the held-out windows) each epoch, and
        for early stopping. None trains on everything.

    Attributes
    ----------
    classes_ : ndarray of shape (n_tags,)
        The tags.
    net_, tokenizer_, history_, device_
        As in :class:`TransformerClassifier`.

    See Also
    --------
    TransformerClassifier : one label per text.

    Examples
    --------
    >>> from sktransformers import TransformerTokenClassifier
    >>> X = [["Ada", "Lovelace", "lived", "in", "London"], ["Paris", "is", "big"]]
    >>> y = [["B-PER", "I-PER", "O", "O", "B-LOC"], ["B-LOC", "O", "O"]]
    >>> ner = TransformerTokenClassifier(max_epochs=1, random_state=0).fit(X, y)
    >>> [len(tags) for tags in ner.predict(["Grace Hopper visited Rome today"])]
    [5]
    """

    _FITTED = ("classes_",)
    _task_kinds = ("tagging",)
    # Settings of the engine that this front end fixes (not parameters): every
    # sentence is read in windows of ``max_length`` tokens; the head reads
    # tokens, so pooling is unused; resampling whole texts cannot keep
    # word-level tags aligned, so there is no augmentation.
    long_texts = "chunk"
    pooling = "mean"
    augment = None

    # The engine's parameters (engine/_parameters.py), this default changed:
    lr: float = parameter(default=1e-4)

    # ------------------------------------------------------------------
    # Engine hooks
    # ------------------------------------------------------------------
    def _check_X(self, X, *, fitted=False):
        words = check_words(X)
        if fitted:
            self._check_fitted_max_length()
        return words

    def _encode_inputs(self, inputs):
        return encode_words(self.tokenizer_, inputs.words, self.max_length, window_stride(self))

    def _build_tasks(self, y, inputs, *, classes=None):
        tags = check_tags(y, inputs.words)
        return [TaggingTask.from_targets(tags, classes=classes)], {}

    def _encode_targets(self, tasks, y, inputs):
        return {tasks[0].key: tasks[0].encode(check_tags(y, inputs.words))}

    def _set_fitted(self, tasks, extra):
        self.classes_ = tasks[0].classes

    # ------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------
    def fit(self, X: Texts, y: Targets) -> Self:
        """Fine-tune the model on texts ``X`` and their tags ``y``.

        Parameters
        ----------
        X : sequence of str or of lists of str
            Texts as strings (split at whitespace and into single CJK
            characters) or as lists of words.
        y : sequence of lists
            One tag per word of each text.

        Returns
        -------
        self : object
        """
        return self._fit(X, y, epochs=None)

    def partial_fit(self, X: Texts, y: Targets, classes: ArrayLike | None = None) -> Self:
        """Train for one epoch on ``X, y``, starting from the current weights.

        Parameters
        ----------
        X : sequence of str or of lists of str
        y : sequence of lists of tags
        classes : array-like, default=None
            All tags, when the first call's ``y`` may not hold every one.

        Returns
        -------
        self : object
        """
        first = "net_" not in self.__dict__
        return self._fit(X, y, epochs=1, classes=classes, first_call=first)

    def _word_outputs(self, X):
        outputs = self._task_outputs(X)
        return outputs[self._tasks[0].key]

    def predict_proba(self, X: Texts) -> list[np.ndarray]:
        """Tag probabilities of every word.

        Parameters
        ----------
        X : sequence of str or of lists of str

        Returns
        -------
        probas : list of ndarray of shape (n_words, n_tags)
            One array per text; columns ordered as ``classes_``.
        """
        logits = self._word_outputs(X)  # raises NotFittedError before fit
        task = self._tasks[0]
        return [task.probabilities(rows) for rows in logits]

    def predict(self, X: Texts) -> list[list[Any]]:
        """One tag per word.

        Parameters
        ----------
        X : sequence of str or of lists of str

        Returns
        -------
        tags : list of list
            For each text, as many tags as it has words.
        """
        return [self.classes_[p.argmax(axis=1)].tolist() for p in self.predict_proba(X)]

    def predict_entities(self, X: Texts) -> list[list[dict[str, Any]]]:
        """Entities with character offsets, as the transformers NER pipeline gives them.

        Parameters
        ----------
        X : sequence of str or of lists of str
            For lists of words, offsets refer to the words joined by single
            spaces (no space next to a CJK character, so the characters of a
            Chinese sentence join into the sentence).

        Returns
        -------
        entities : list of list of dict
            For each text, ``{"entity", "start", "end", "text", "score"}``
            for every entity (strict IOB2 spans): its type, character span,
            text, and the mean over its words of the predicted tag's
            probability.
        """
        check_is_fitted(self, "net_")
        inputs = check_words(X)
        probas = self.predict_proba(X)
        results = []
        for i, proba in enumerate(probas):
            best = proba.argmax(axis=1)
            tags = self.classes_[best]
            entities = []
            for kind, start, end in entity_spans(tags):
                a, b = inputs.offsets[i][start][0], inputs.offsets[i][end - 1][1]
                entities.append(
                    {
                        "entity": kind,
                        "start": int(a),
                        "end": int(b),
                        "text": inputs.texts[i][a:b],
                        "score": float(proba[np.arange(start, end), best[start:end]].mean()),
                    }
                )
            results.append(entities)
        return results

    def explain(
        self,
        X: Texts,
        *,
        word: int | list[int | None] | None = None,
        target: Any = None,
        method: ExplainMethod = "integrated_gradients",
        n_steps: int = 50,
        baseline: Baseline = "pad",
        batch_size: int | None = None,
    ) -> Explanations:
        """Why did a word get its tag: a score per word of the sentence.

        Each explanation takes one word of one text and scores every word
        of the text for the log-probability of one tag at that word (read
        at its first sub-word, where ``predict`` reads its tag). A positive
        score is evidence for the tag. Integrated Gradients over the input
        embeddings by default (needs ``captum``); ``"gradient_x_input"``
        and ``"occlusion"`` need nothing more. See the "Explaining
        predictions" page of the docs.

        Parameters
        ----------
        X : sequence of str or of lists of str
            Texts as for ``predict``: strings (split at whitespace and into
            single CJK characters) or lists of words.
        word : int, list of (int or None), or None, default=None
            The word whose tag is explained, by its index in the text's
            words (negative indices count from the end): one int for every
            text, or one entry per text. None picks, per text, the first
            word not predicted ``"O"`` (the first entity word), or the first
            word when every word is ``"O"``. An index out of range is a
            ``ValueError``.
        target : tag or None, default=None
            The tag to explain, from ``classes_`` (e.g. ``"B-PER"`` to ask
            what speaks for that tag even where another is predicted); None
            explains the word's predicted tag. An unknown tag is a
            ``ValueError``.
        method : {"integrated_gradients", "gradient_x_input", "occlusion"}, \
default="integrated_gradients"
            How the scores are computed.
        n_steps : int, default=50
            Integrated Gradients' number of integration points.
        baseline : {"pad", "mask"}, default="pad"
            The reference input: every sub-word but the special ones
            replaced by the pad (or mask) token; also the replacement token
            for occlusion.
        batch_size : int or None, default=None
            Interpolation points (IG) or occluded copies (occlusion) per
            forward pass; None means all at once.

        Returns
        -------
        explanations : Explanations
            One :class:`~sktransformers.Explanation` per text: all of its
            words (the estimator's words, with the character offsets
            ``predict_entities`` uses), a score per word, ``word_index``
            and ``word`` (the explained word), ``prediction`` (its
            predicted tag) and ``target`` (the explained tag).

        Notes
        -----
        A sentence longer than ``max_length`` sub-words is read as
        overlapping windows, and each word's tag comes from one window (the
        one where the word is farthest from the edges). The explanation
        reads the explained word from that same window, so ``output`` is
        the log-probability ``predict_proba`` gives; the words outside that
        window cannot change the tag and score 0, and
        ``Explanation.truncated`` is True.

        Examples
        --------
        >>> from sktransformers import TransformerTokenClassifier
        >>> X = ["Ada Lovelace lived in London", "Paris is big", "Alan Turing met Grace"]
        >>> y = [["B-PER", "I-PER", "O", "O", "B-LOC"], ["B-LOC", "O", "O"],
        ...      ["B-PER", "I-PER", "O", "B-PER"]]
        >>> ner = TransformerTokenClassifier(max_epochs=1, random_state=0).fit(X, y)
        >>> exp = ner.explain(["Grace Hopper visited Rome"], word=3, target="B-LOC",
        ...                   method="occlusion")[0]
        >>> exp.word, exp.target, exp.words
        ('Rome', 'B-LOC', ['Grace', 'Hopper', 'visited', 'Rome'])
        >>> exp.prediction == ner.predict(["Grace Hopper visited Rome"])[0][3]
        True
        """
        from ..explain._attributions import explain

        return explain(
            self,
            X,
            word=word,
            target=target,
            method=method,
            n_steps=n_steps,
            baseline=baseline,
            batch_size=batch_size,
        )

    def score(self, X: Texts, y: Targets, sample_weight: ArrayLike | None = None) -> float:
        """Entity-level micro F1 (strict IOB2 spans), as seqeval's ``f1_score``.

        Parameters
        ----------
        X : sequence of str or of lists of str
        y : sequence of lists of tags
        sample_weight : None
            Not supported (entity F1 has no per-text weights); must be None.

        Returns
        -------
        score : float
        """
        if sample_weight is not None:
            raise ValueError("TransformerTokenClassifier.score takes no sample_weight.")
        tags = check_tags(y, check_words(X).words)
        return entity_f1(tags, self.predict(X))

    def __sklearn_tags__(self):
        tags = BaseEstimator.__sklearn_tags__(self)
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.target_tags.required = True
        tags.non_deterministic = False
        return tags
