"""TransformerClassifier: fine-tune a transformer for text classification."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..deploy._export import ExportMixin
from ..engine._base import BaseTransformerEstimator
from ..engine._parameters import WholeTextParameters, estimator_parameters, parameter
from ..engine._persistence import register_estimator
from ..explain._attributions import ExplainMixin
from ..tasks import ClassificationTask, MultiLabelTask, is_multilabel, label_thresholds
from ..tasks._base import _json_labels, _labels_from_json
from ..utils._typing import (
    Targets,
    Texts,
)

if TYPE_CHECKING:
    from typing_extensions import Self


@register_estimator
@estimator_parameters
class TransformerClassifier(
    ExplainMixin, ExportMixin, ClassifierMixin, WholeTextParameters, BaseTransformerEstimator
):
    """Fine-tune a Hugging Face transformer to classify texts or text pairs.

    Binary, multi-class, or multi-label: with a 2-D 0/1 indicator ``y``
    (an array, a DataFrame of 0/1 columns, or a scipy sparse matrix, as
    :class:`~sklearn.preprocessing.MultiLabelBinarizer` makes), or with a
    list of label lists or sets (what ``MultiLabelBinarizer`` reads, e.g.
    ``[["sport"], ["sport", "politics"], []]``), every label gets a sigmoid
    output and a binary cross-entropy loss.

    The texts are tokenized once, batched by similar length and padded only
    to the longest text of each batch; training runs through a skorch net
    (``net_``) with AdamW, linear warmup and decay, and gradient clipping.

    Parameters
    ----------
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as in scikit-learn. For a
        multi-label ``y`` it weighs each label's positive entries
        (``"balanced"``: negatives / positives per label; a dict maps label
        columns to weights), for rare labels.
    threshold : float or "auto", default=0.5
        Multi-label only: a label is predicted where its probability is at
        least this. ``"auto"`` chooses one threshold per label, the one that
        maximises that label's F1 on the texts ``validation_fraction`` holds
        out (which it needs), at the end of each ``fit`` or ``partial_fit``
        call: rare labels get lower thresholds and are predicted more often.
        The thresholds in use are ``thresholds_``.
    validation_fraction : float or None, default=None
        Share of the training data held out (stratified) to record
        ``valid_loss`` and ``valid_score`` (accuracy) each epoch, and for
        early stopping. None trains on everything.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels. Multi-label: ``arange(n_labels)`` for an indicator
        ``y`` (as scikit-learn sets it); the sorted labels for a ``y`` of
        label lists or sets (the columns of ``predict``'s indicator matrix,
        as ``MultiLabelBinarizer.classes_``).
    multilabel_ : bool
        Whether ``y`` was multi-label (an indicator matrix or label sets).
    label_names_ : list of str or None
        Multi-label: the column names of a DataFrame ``y``, or the labels
        (as str) of a ``y`` of label sets.
    thresholds_ : ndarray of shape (n_labels,)
        Multi-label: each label's decision threshold, chosen on the held-out
        texts with ``threshold="auto"``, else ``threshold`` for every label.
    max_epochs_ : int
        The epochs ``fit`` planned: ``max_epochs``, or what ``"auto"`` chose.
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the torch model.
    tokenizer_ : transformers.PreTrainedTokenizerBase
        The tokenizer.
    history_ : skorch.History
        Per-epoch ``train_loss`` (and ``valid_loss``, ``valid_score``).
    device_ : str
        The device used.
    is_pair_ : bool
        Whether the model was fitted on sentence pairs.

    See Also
    --------
    TransformerRegressor : the same for continuous targets.

    Examples
    --------
    >>> from sktransformers import TransformerClassifier
    >>> X = ["a wonderful film", "dull and far too long", "loved it", "a waste of time"]
    >>> y = ["pos", "neg", "pos", "neg"]
    >>> clf = TransformerClassifier(max_epochs=1, random_state=0).fit(X, y)
    >>> clf.predict(["what a great movie"]).shape
    (1,)
    """

    # Its own parameters; the engine's are declared and documented once, in
    # engine/_parameters.py (the docstring's Parameters section is completed from them).
    class_weight: dict[Any, float] | Literal["balanced"] | None = parameter(
        default=None, constraints=[dict, StrOptions({"balanced"}), None]
    )
    threshold: float | Literal["auto"] = parameter(
        default=0.5, constraints=[Interval(Real, 0, 1, closed="both"), StrOptions({"auto"})]
    )

    _FITTED = ("classes_", "class_weight_", "multilabel_", "label_names_", "_label_classes")
    _task_kinds = ("classification", "multilabel")

    @staticmethod
    def _check_saved_fitted(path, fitted, tasks, heads):
        """The ``fitted`` entry of a saved directory (a file a user loads)."""
        from ..utils._schema import fail, want, want_thresholds

        want(path, fitted, "multilabel", (bool,), "fitted.multilabel", required=False)
        if fitted.get("thresholds") is not None:
            if not fitted.get("multilabel"):
                fail(path, "'fitted.thresholds' is set but the classifier is not multi-label.")
            want_thresholds(
                path, fitted["thresholds"], "fitted.thresholds", next(iter(heads.values()))
            )

    # ------------------------------------------------------------------
    # Tasks
    # ------------------------------------------------------------------
    def _fit(self, X, y, *, epochs, classes=None, first_call=True):
        if not is_label_sets(y):
            return super()._fit(X, y, epochs=epochs, classes=classes, first_call=first_call)
        if first_call:
            known = classes
        else:
            known = self.__dict__.get("_label_classes")
            if known is None:
                raise ValueError(
                    "This classifier was fitted on a multi-label indicator matrix; pass y as "
                    "one again (or refit with fit on label sets)."
                    if self.multilabel_
                    else "This classifier was fitted on one label per text; y does not match."
                )
            if classes is not None:
                self._check_same_classes(classes)
        indicator, labels = binarize_label_sets(y, known)
        # Read by _build_tasks; the indicator DataFrame takes the usual multi-label path.
        self._pending_label_classes = labels
        try:
            frame = pd.DataFrame(indicator, columns=[str(c) for c in labels])
            return super()._fit(X, frame, epochs=epochs, first_call=first_call)
        finally:
            self.__dict__.pop("_pending_label_classes", None)

    def _build_tasks(self, y, inputs, *, classes=None):
        labels = self.__dict__.get("_pending_label_classes")
        if labels is not None:  # y was label sets: class_weight may name the labels
            weight = self.class_weight
            if isinstance(weight, dict):
                weight = {str(k) if k in set(labels.tolist()) else k: w for k, w in weight.items()}
            task = MultiLabelTask.from_targets(y, class_weight=weight)
            return [task], {"multilabel": True, "label_classes": _json_labels(labels)}
        if is_multilabel(y):
            return [MultiLabelTask.from_targets(y, class_weight=self.class_weight)], {
                "multilabel": True
            }
        task = ClassificationTask.from_targets(y, classes=classes, class_weight=self.class_weight)
        return [task], {"multilabel": False}

    def _encode_targets(self, tasks, y, inputs):
        task = tasks[0]
        if isinstance(task, MultiLabelTask) != is_multilabel(y):
            kind = (
                "a multi-label indicator matrix"
                if isinstance(task, MultiLabelTask)
                else ("one label per text")
            )
            raise ValueError(f"This classifier was fitted on {kind}; y does not match.")
        return {task.key: task.encode(y)}

    def _set_fitted(self, tasks, extra):
        task = tasks[0]
        self.multilabel_ = isinstance(task, MultiLabelTask)
        labels = extra.get("label_classes")
        self._label_classes = None if labels is None else _labels_from_json(labels)
        if self.multilabel_:
            self.classes_ = (
                np.arange(task.n_labels) if self._label_classes is None else self._label_classes
            )
            self.label_names_ = task.label_names
            self.class_weight_ = task.pos_weight
            saved = extra.get("thresholds")
            start = 0.5 if self.threshold == "auto" else float(self.threshold)
            self.thresholds_ = (
                np.full(task.n_labels, start) if saved is None else np.asarray(saved, dtype=float)
            )
        else:
            self.classes_ = task.classes
            self.label_names_ = None
            self.class_weight_ = task.class_weight

    def _fitted_extra(self):
        extra = {"multilabel": bool(self.multilabel_)}
        if self.__dict__.get("_label_classes") is not None:
            extra["label_classes"] = _json_labels(self._label_classes)
        if self.multilabel_:
            extra["thresholds"] = [float(t) for t in self.thresholds_]
        return extra

    def _check_params(self):
        source = super()._check_params()
        if self.threshold == "auto" and self.validation_fraction is None:
            raise ValueError(
                "threshold='auto' chooses each label's threshold on held-out texts: set "
                "validation_fraction (for example 0.2)."
            )
        return source

    def _after_training(self, X, tasks, encoded, valid_docs):
        if not self.multilabel_:
            return
        if self.threshold != "auto":
            self.thresholds_ = np.full(len(self.classes_), float(self.threshold))
            return
        if valid_docs is None:
            return
        from sklearn.utils import _safe_indexing

        task = tasks[0]
        proba = self.predict_proba(_safe_indexing(X, valid_docs))
        self.thresholds_ = task.choose_thresholds(proba, encoded[task.key][valid_docs])

    def _legacy_tasks(self, fitted):
        dtype = object if fitted["classes_dtype"] == "object" else np.dtype(fitted["classes_dtype"])
        classes = np.asarray(fitted["classes"], dtype=dtype)
        return [ClassificationTask(classes, fitted.get("class_weight"))], {"multilabel": False}

    def _stratify_labels(self, tasks, encoded):
        if isinstance(tasks[0], MultiLabelTask):
            return None
        return encoded[tasks[0].key]

    # ------------------------------------------------------------------
    # Training and prediction
    # ------------------------------------------------------------------
    def partial_fit(self, X: Texts, y: Targets, classes: ArrayLike | None = None) -> Self:
        """Train for one epoch on ``X, y``, starting from the current weights.

        The first call builds the model (as ``fit`` would, for one epoch);
        later calls continue from the weights and the optimizer's state so
        far. ``classes`` lists all labels when the first batch may not
        contain every one; a later call may repeat it but not change it.

        Parameters
        ----------
        X : texts or text pairs
        y : array-like of labels, or a 2-D indicator matrix (multi-label)
        classes : array-like, default=None
            All class labels; needed on the first call only.

        Returns
        -------
        self : object
        """
        first = "net_" not in self.__dict__
        return self._fit(X, y, epochs=1, classes=classes, first_call=first)

    def predict_proba(self, X: Texts) -> np.ndarray:
        """Class probabilities, columns ordered as ``classes_``.

        Parameters
        ----------
        X : texts or text pairs

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Softmax probabilities (rows sum to 1), or for multi-label the
            probability of each label on its own (sigmoid).
        """
        logits = self._forward(X)
        return self._tasks[0].probabilities(logits)

    def predict_log_proba(self, X: Texts) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`."""
        return np.log(np.clip(self.predict_proba(X), 1e-12, None))

    def decision_function(self, X: Texts) -> np.ndarray:
        """Unnormalised scores: log-odds per label (multi-label), else log-probabilities.

        A 1-D array for binary tasks.
        """
        check_is_fitted(self, "net_")
        if self.multilabel_:
            return self._forward(X).astype(np.float64)
        log_proba = self.predict_log_proba(X)
        if len(self.classes_) == 2:
            return log_proba[:, 1] - log_proba[:, 0]
        return log_proba

    def predict(self, X: Texts) -> np.ndarray:
        """Predicted class labels (multi-label: the 0/1 indicator matrix).

        Parameters
        ----------
        X : texts or text pairs

        Returns
        -------
        labels : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Multi-label: the 0/1 indicator matrix, columns ordered as
            ``classes_`` (also when ``fit`` got label lists or sets;
            ``MultiLabelBinarizer(classes=clf.classes_).fit([]).inverse_transform``
            turns it back into label tuples).
        """
        # predict_proba first: before fit it raises NotFittedError, where
        # reading classes_ first would raise a bare AttributeError.
        proba = self.predict_proba(X)
        if self.multilabel_:
            # ``threshold`` as it is now (set_params applies at once), else thresholds_.
            return (proba >= label_thresholds(self, len(self.classes_))).astype(np.int64)
        return self.classes_[proba.argmax(axis=1)]

    def score(self, X: Texts, y: Targets, sample_weight: ArrayLike | None = None) -> float:
        """Accuracy (multi-label: subset accuracy), as scikit-learn's ``ClassifierMixin``.

        A ``y`` of label lists or sets is compared as its indicator matrix
        (columns ``classes_``).
        """
        if is_label_sets(y) and self.__dict__.get("_label_classes") is not None:
            y, _ = binarize_label_sets(y, self._label_classes)
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


# ----------------------------------------------------------------------
# Multi-label y as label lists or sets (what MultiLabelBinarizer reads)
# ----------------------------------------------------------------------
_COLLECTIONS = (list, tuple, set, frozenset, np.ndarray)


def _is_label(value):
    return isinstance(value, (str, np.str_)) or (
        isinstance(value, (Integral, np.integer)) and not isinstance(value, (bool, np.bool_))
    )


def is_label_sets(y):
    """Whether ``y`` is a sequence of label collections rather than a matrix or labels.

    A list (tuple, Series or 1-D object array) whose every row is a list,
    tuple, set or array, and which is not a 0/1 matrix: some row is a set,
    the rows differ in length, or a row holds a label that is no number.
    """
    if isinstance(y, pd.Series) or (
        isinstance(y, np.ndarray) and y.dtype == object and y.ndim == 1
    ):
        rows = list(y)
    elif isinstance(y, (list, tuple)):
        rows = y
    else:
        return False
    if not len(rows) or not all(isinstance(row, _COLLECTIONS) for row in rows):
        return False
    if any(isinstance(row, (set, frozenset)) for row in rows):
        return True
    if any(isinstance(row, np.ndarray) and row.ndim != 1 for row in rows):
        return False
    if len({len(row) for row in rows}) > 1:
        return True
    return any(isinstance(v, (str, np.str_, bytes)) for row in rows for v in row)


def binarize_label_sets(y, classes=None):
    """The 0/1 indicator matrix of label sets and its sorted labels; clear errors.

    Labels must be strings or integers, of one kind. With ``classes`` the
    columns are those labels (sorted), and a label outside them is an error.
    """
    rows = []
    for i, row in enumerate(list(y)):
        labels = set()
        for value in row:
            if value is None or (isinstance(value, float) and math.isnan(value)):
                raise ValueError(
                    f"y row {i} has a missing label (None/NaN); leave it out (a row may be "
                    "empty: no label)."
                )
            if not _is_label(value):
                raise TypeError(
                    f"y row {i} holds {value!r} (type {type(value).__name__}); labels of a "
                    "multi-label y given as label sets must be strings or integers."
                )
            labels.add(str(value) if isinstance(value, (str, np.str_)) else int(value))
        rows.append(labels)
    seen = set().union(*rows)
    kinds = {type(v) for v in seen}
    if classes is not None:
        kinds |= {type(v) for v in np.asarray(classes).tolist()}
    if len(kinds) > 1:
        raise TypeError(f"y mixes label types {sorted(k.__name__ for k in kinds)}.")
    if classes is None:
        classes = np.asarray(sorted(seen))
    else:
        classes = np.unique(np.asarray(classes))
        unknown = sorted(seen - set(classes.tolist()))
        if unknown:
            raise ValueError(f"y has labels that are not in classes={classes.tolist()}: {unknown}.")
    if len(classes) < 2:
        raise ValueError(
            f"A multi-label y needs at least 2 labels, but its label sets name "
            f"{len(classes)}: {classes.tolist()}. For one label, pass one 0/1 label per text."
        )
    column = {label: j for j, label in enumerate(classes.tolist())}
    indicator = np.zeros((len(rows), len(classes)), dtype=np.int64)
    for i, labels in enumerate(rows):
        for label in labels:
            indicator[i, column[label]] = 1
    return indicator, classes
