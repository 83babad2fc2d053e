"""TextSelfTrainingClassifier: self-training on raw texts, warm-started each round.

scikit-learn's :class:`~sklearn.semi_supervised.SelfTrainingClassifier`
validates ``X`` as a numeric array, so it rejects a list of texts whatever
estimator it wraps, and it refits a clone of the estimator from scratch in
every round (for a fine-tuned transformer: ``max_iter`` full fine-tunings).
This meta-estimator keeps its interface and its fitted attributes, takes
texts, and continues from the previous round's model:

* estimators of this package that train a network and have
  ``partial_fit`` (:class:`~sktransformers.TransformerClassifier`): the
  first round is a full ``fit`` on the labelled rows, each later round
  ``epochs_per_round`` more epochs (``partial_fit``) over the rows labelled
  so far, from the current weights;
* :class:`~sktransformers.FewShotClassifier`: the contrastive stage runs
  once on the labelled rows; all texts are embedded once with the tuned
  encoder and each round refits only the head on those embeddings;
* any other classifier (a scikit-learn pipeline over texts, say): a clone
  is refitted from scratch each round, as scikit-learn does.

The name says "Text" so that it neither shadows scikit-learn's class when
both are imported nor suggests that it is a drop-in for numeric data.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..engine._data import check_texts
from ..utils._typing import Targets, Texts

if TYPE_CHECKING:
    from typing_extensions import Self


def _estimator_has(attr):
    def check(self):
        if "estimator_" in self.__dict__:
            return hasattr(self.estimator_, attr)
        return hasattr(self.estimator, attr)

    return check


def _take(X, rows):
    """Rows of ``X`` in a form every estimator of the package accepts."""
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    if isinstance(X, np.ndarray):
        return X[rows]
    return [X[i] for i in rows]


class TextSelfTrainingClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Self-training for text classifiers: pseudo-label confident unlabelled texts.

    Fits ``estimator`` on the labelled texts, predicts the unlabelled ones,
    adds those predicted with enough confidence (``criterion``) to the
    labelled set with their predicted labels, and trains again, until
    ``max_iter`` rounds, no new label, or no unlabelled text is left. Each
    round continues from the previous round's model (see the module notes:
    ``partial_fit`` epochs for fine-tuned transformers, a refitted head for
    :class:`~sktransformers.FewShotClassifier`), so the whole costs one fit
    plus ``max_iter`` short rounds, each an epoch over the rows labelled so
    far and a prediction over the rows still unlabelled.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
        Any classifier that accepts texts: an estimator of this package, or
        a scikit-learn pipeline over texts (refitted from scratch each round).
    criterion : {"threshold", "k_best"}, default="threshold"
        "threshold": add every unlabelled text whose top probability exceeds
        ``threshold``; "k_best": add the ``k_best`` most confident ones.
    threshold : float, default=0.75
        Confidence needed with ``criterion="threshold"``.
    k_best : int, default=10
        Texts added per round with ``criterion="k_best"``.
    max_iter : int or None, default=10
        Maximum pseudo-labelling rounds; None runs until nothing changes or
        everything is labelled.
    unlabeled : object, default=-1
        The label that marks an unlabelled row (scikit-learn's convention).
        None / NaN labels count as unlabelled too, so string labels can mark
        them with None.
    warm_start : bool, default=True
        Continue from the previous round's model (see above); False refits a
        clone from scratch each round, as scikit-learn does.
    epochs_per_round : int, default=1
        ``partial_fit`` calls per round for estimators trained that way.
    verbose : bool, default=False
        Print a line per round.

    Attributes
    ----------
    estimator_ : classifier
        The fitted estimator.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    transduction_ : ndarray of shape (n_samples,)
        Labels used for the final fit: the given ones and the pseudo-labels
        (``unlabeled`` where a row never got one).
    labeled_iter_ : ndarray of shape (n_samples,)
        Round in which each row got its label: 0 for given labels, -1 for
        rows never labelled.
    n_iter_ : int
        Pseudo-labelling rounds run.
    termination_condition_ : {"max_iter", "no_change", "all_labeled"}
        Why it stopped.

    See Also
    --------
    sklearn.semi_supervised.SelfTrainingClassifier : the same for numeric features.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sktransformers import TextSelfTrainingClassifier
    >>> X = ["a great film", "a dull film", "great acting", "dull acting",
    ...      "a great story", "a dull story"]
    >>> y = [1, 0, -1, -1, -1, -1]
    >>> base = make_pipeline(TfidfVectorizer(), LogisticRegression(C=100))
    >>> st = TextSelfTrainingClassifier(base, threshold=0.6).fit(X, y)
    >>> st.labeled_iter_.tolist()
    [0, 0, 1, 1, 1, 1]
    >>> st.predict(["great fun"]).tolist()
    [1]
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "criterion": [StrOptions({"threshold", "k_best"})],
        "threshold": [Interval(Real, 0.0, 1.0, closed="left")],
        "k_best": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left"), None],
        "unlabeled": "no_validation",
        "warm_start": ["boolean"],
        "epochs_per_round": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator: Any,
        *,
        criterion: Literal["threshold", "k_best"] = "threshold",
        threshold: float = 0.75,
        k_best: int = 10,
        max_iter: int = 10,
        unlabeled: Any = -1,
        warm_start: bool = True,
        epochs_per_round: int = 1,
        verbose: bool | int = False,
    ) -> None:
        self.estimator = estimator
        self.criterion = criterion
        self.threshold = threshold
        self.k_best = k_best
        self.max_iter = max_iter
        self.unlabeled = unlabeled
        self.warm_start = warm_start
        self.epochs_per_round = epochs_per_round
        self.verbose = verbose

    def _labeled_mask(self, y):
        missing = pd.isna(y)
        if self.unlabeled is None:
            return ~missing
        try:
            is_marker = np.array([v == self.unlabeled for v in y], dtype=bool)
        except (TypeError, ValueError):  # pragma: no cover - exotic label types
            is_marker = np.zeros(len(y), dtype=bool)
        return ~(missing | is_marker)

    def fit(self, X: Texts, y: Targets) -> Self:
        """Self-train ``estimator`` on texts ``X``; unlabelled rows have ``unlabeled`` in ``y``.

        Parameters
        ----------
        X : list of str, array-like of str, or text pairs
        y : array-like of shape (n_samples,)
            Labels; ``unlabeled`` (default -1) or None/NaN for unlabelled rows.

        Returns
        -------
        self : object
        """
        from ._fewshot import FewShotClassifier

        self._validate_params()
        texts = check_texts(X)  # clear errors on bad texts before any model loads
        raw = y.to_numpy() if hasattr(y, "to_numpy") else y
        y = np.asarray(raw, dtype=object if isinstance(raw, list) else None)
        if y.ndim != 1 or len(y) != len(texts):
            raise ValueError(
                f"y must be 1-dimensional with one label per text: {len(texts)} texts, "
                f"y of shape {y.shape}."
            )
        labeled = self._labeled_mask(y)
        if not labeled.any():
            raise ValueError(
                f"y has no labelled row: every label is the unlabeled marker "
                f"{self.unlabeled!r} (or missing)."
            )
        if labeled.all():
            warnings.warn(
                "y contains no unlabelled row (marked unlabeled="
                f"{self.unlabeled!r}); self-training just fits the estimator.",
                UserWarning,
                stacklevel=2,
            )
        known = y[labeled]
        if known.dtype == object and len({type(v) for v in known}) == 1:
            known = np.asarray(known.tolist())
        n = len(y)
        self.transduction_ = np.array(
            y, dtype=object if y.dtype.kind in "iuf" and known.dtype.kind not in "iuf" else y.dtype
        )
        self.labeled_iter_ = np.full(n, -1, dtype=np.int64)
        self.labeled_iter_[labeled] = 0
        self.n_iter_ = 0

        estimator = clone(self.estimator)
        fewshot = self.warm_start and isinstance(estimator, FewShotClassifier)
        incremental = (
            self.warm_start
            and not fewshot
            and hasattr(estimator, "partial_fit")
            and hasattr(estimator, "backbone")
        )
        rows = np.flatnonzero(labeled)
        estimator.fit(_take(X, rows), known)
        embeddings = estimator.transform(X) if fewshot else np.empty((0, 0))
        seed = np.random.RandomState(getattr(estimator, "random_state", None)).randint(2**31 - 1)

        self.termination_condition_ = "all_labeled"
        while not labeled.all() and (self.max_iter is None or self.n_iter_ < self.max_iter):
            self.n_iter_ += 1
            unl = np.flatnonzero(~labeled)
            if fewshot:
                proba = estimator.head_.predict_proba(embeddings[unl])
            else:
                proba = estimator.predict_proba(_take(X, unl))
            classes = estimator.classes_
            confidence = proba.max(axis=1)
            predicted = classes[proba.argmax(axis=1)]
            if self.criterion == "threshold":
                chosen = np.flatnonzero(confidence > self.threshold)
            else:
                k = self.k_best
                if k > len(unl):
                    warnings.warn(
                        f"k_best={k} is larger than the {len(unl)} unlabelled rows left; "
                        "all of them are labelled.",
                        UserWarning,
                        stacklevel=2,
                    )
                    k = len(unl)
                chosen = np.argsort(-confidence, kind="stable")[:k]
            if self.verbose:
                print(
                    f"round {self.n_iter_}: {len(chosen)} new labels, "
                    f"{len(unl) - len(chosen)} unlabelled left"
                )
            if len(chosen) == 0:
                self.termination_condition_ = "no_change"
                break
            new_rows = unl[chosen]
            self.transduction_[new_rows] = predicted[chosen]
            self.labeled_iter_[new_rows] = self.n_iter_
            labeled[new_rows] = True
            rows = np.flatnonzero(labeled)
            y_rows = _labels(self.transduction_[rows])
            if fewshot:
                estimator.refit_head(embeddings[rows], y_rows, random_state=seed)
            elif incremental:
                for _ in range(self.epochs_per_round):
                    estimator.partial_fit(_take(X, rows), y_rows)
            else:
                estimator = clone(self.estimator).fit(_take(X, rows), y_rows)
        else:
            if not labeled.all():
                self.termination_condition_ = "max_iter"
        self.transduction_ = _labels(self.transduction_)
        self.estimator_ = estimator
        self.classes_ = estimator.classes_
        return self

    @available_if(_estimator_has("predict"))
    def predict(self, X: Texts) -> np.ndarray:
        """Predicted labels from ``estimator_``."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X: Texts) -> np.ndarray:
        """Class probabilities from ``estimator_``."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X: Texts) -> np.ndarray:
        """Log class probabilities from ``estimator_``."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X: Texts) -> np.ndarray:
        """Decision function of ``estimator_``."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.decision_function(X)

    def score(self, X: Texts, y: Targets, sample_weight: ArrayLike | None = None) -> float:
        """Accuracy of ``estimator_`` on ``X, y``."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


def _labels(values):
    """An object array of one label type as a plain typed array (str or int)."""
    values = np.asarray(values)
    if values.dtype == object and len(values) and len({type(v) for v in values}) == 1:
        return np.asarray(values.tolist())
    return values
