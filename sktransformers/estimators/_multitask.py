"""MultiTaskTransformer: one backbone, one head per task, trained jointly.

Targets are one column per task; a missing entry (None/NaN) means "no label
for this task", so the datasets of several tasks are simply stacked. Each
training batch is drawn from the labelled rows of one task
(:class:`TaskBatchSampler`), and the loss (:class:`MultiTaskLoss`) counts
labelled entries only.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import torch
from numpy.typing import ArrayLike
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

from ..engine._base import BaseTransformerEstimator
from ..engine._data import LengthGroupedBatchSampler, check_texts
from ..engine._parameters import WholeTextParameters, estimator_parameters, parameter
from ..engine._persistence import register_estimator
from ..tasks import TASK_KINDS, ClassificationTask, RegressionTask
from ..tasks._classification import _normalise_labels
from ..utils._typing import (
    Targets,
    Texts,
)

if TYPE_CHECKING:
    from typing_extensions import Self

CLASSIFICATION = "classification"
REGRESSION = "regression"


# ----------------------------------------------------------------------
# Batch sampling by task (module level so that fitted models pickle)
# ----------------------------------------------------------------------
def _task_probabilities(sizes, sampling, temperature):
    sizes = np.asarray(sizes, dtype=np.float64)
    if sampling == "uniform":
        weights = (sizes > 0).astype(np.float64)
    elif sampling == "temperature":
        weights = np.where(sizes > 0, sizes ** (1.0 / temperature), 0.0)
    else:  # proportional
        weights = sizes
    return weights / weights.sum()


class TaskBatchSampler(torch.utils.data.Sampler):
    """Training batches each drawn from the labelled rows of one task.

    An epoch has about ``ceil(n_labelled_rows / batch_size)`` batches (at
    least one per task), shared among tasks with probabilities ``p_t``:
    proportional to the task's number of labelled rows ``n_t``, to
    ``n_t ** (1 / temperature)``, or uniform. A task's rows are drawn
    without replacement in length-grouped batches, reshuffled and drawn
    again when a small task needs more batches than it has rows for.
    Batches of all tasks are then shuffled together.
    """

    def __init__(self, labelled, lengths, batch_size, *, sampling, temperature, seed=0):
        labelled = np.asarray(labelled, dtype=bool)
        self.lengths = np.asarray(lengths)
        self.batch_size = int(batch_size)
        self.seed = seed
        self.epoch = 0
        self.rows = [np.flatnonzero(labelled[:, t]) for t in range(labelled.shape[1])]
        sizes = np.array([len(r) for r in self.rows])
        if sizes.sum() == 0:
            raise ValueError("No row of the training data carries a label.")
        self.probabilities = _task_probabilities(sizes, sampling, temperature)
        n_rows = int(labelled.any(axis=1).sum())
        total = max(1, math.ceil(n_rows / self.batch_size))
        expected = self.probabilities * total
        counts = np.floor(expected).astype(int)
        # Largest remainders first, so the counts add up to the total.
        for t in np.argsort(-(expected - counts), kind="stable")[: total - counts.sum()]:
            counts[t] += 1
        counts[(sizes > 0) & (counts == 0)] = 1
        self.counts = counts

    def __len__(self):
        return int(self.counts.sum())

    def _task_batches(self, t, rng):
        rows = self.rows[t]
        sampler = LengthGroupedBatchSampler(
            self.lengths[rows], self.batch_size, shuffle=True, seed=int(rng.integers(2**31))
        )
        return [rows[b] for b in sampler]

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        batches = []
        for t, need in enumerate(self.counts):
            drawn = []
            while len(drawn) < need:
                drawn.extend(self._task_batches(t, rng))
            batches.extend(drawn[:need])
        for j in rng.permutation(len(batches)):
            yield batches[j].tolist()


class TaskSampling:
    """``batch_sampler`` factory of :class:`~sktransformers.engine._net.TransformerNet`."""

    def __init__(self, sampling="proportional", temperature=2.0):
        self.sampling = sampling
        self.temperature = temperature

    def __call__(self, dataset, batch_size, *, shuffle, seed):
        if not shuffle or dataset.labelled is None:
            return LengthGroupedBatchSampler(dataset.lengths, batch_size, shuffle=False)
        return TaskBatchSampler(
            dataset.labelled,
            dataset.lengths,
            batch_size,
            sampling=self.sampling,
            temperature=self.temperature,
            seed=seed,
        )


# ----------------------------------------------------------------------
# Targets
# ----------------------------------------------------------------------
def _check_Y(Y):
    """(list of per-task 1-D arrays, task names, was a DataFrame)."""
    if Y is None:
        raise ValueError("Y is None; MultiTaskTransformer needs one column of targets per task.")
    if isinstance(Y, pd.Series):
        Y = Y.to_frame()
    if isinstance(Y, pd.DataFrame):
        names = list(Y.columns)
        columns = [Y.iloc[:, j].to_numpy() for j in range(Y.shape[1])]
        is_frame = True
    else:
        try:
            arr = np.asarray(Y)
        except ValueError:  # ragged rows
            raise ValueError(
                "Y must be 2-dimensional (one column per task), but its rows have different "
                "lengths."
            ) from None
        if arr.ndim != 2:
            raise ValueError(
                f"Y must be 2-dimensional (one column per task), got shape {arr.shape}. "
                "For a single task use TransformerClassifier or TransformerRegressor, or "
                "pass Y as a one-column DataFrame."
            )
        names = list(range(arr.shape[1]))
        columns = [arr[:, j] for j in range(arr.shape[1])]
        is_frame = False
    if len(columns) == 0:
        raise ValueError("Y has no columns; expected one column per task.")
    if len(columns[0]) == 0:
        raise ValueError("Y is empty.")
    keys = [str(name) for name in names]
    if len(set(keys)) != len(keys):
        raise ValueError(f"Y has duplicate task names: {keys}.")
    for key in keys:
        if not key or "." in key:
            raise ValueError(
                f"Task name {key!r} is not allowed: it must be non-empty, without '.'."
            )
    return columns, names, is_frame


def _missing(column):
    return np.asarray(pd.isna(column), dtype=bool)


def _infer_kind(name, values):
    kind = type_of_target(values)
    if kind == "continuous":
        return REGRESSION
    if kind in ("binary", "multiclass"):
        return CLASSIFICATION
    raise ValueError(
        f"Could not infer the kind of task {name!r} (type_of_target says {kind!r}); "
        "set it with tasks={name: 'classification' or 'regression'}."
    )


_labels = _normalise_labels


def _column_kinds():
    """The task kinds a column of ``Y`` may be (those whose task reads one column)."""
    return [kind for kind, cls in TASK_KINDS.items() if hasattr(cls, "from_column")]


@register_estimator
@estimator_parameters
class MultiTaskTransformer(WholeTextParameters, BaseTransformerEstimator):
    """Fine-tune one transformer backbone with one head per task, jointly.

    ``Y`` has one column per task. A missing entry (None or NaN) means the
    row carries no label for that task, so the datasets of several tasks are
    simply stacked into one ``X`` and one ``Y``. Each training batch comes
    from the labelled rows of a single task (chosen by ``sampling``) and the
    loss counts labelled entries only. Rows may be single texts or sentence
    pairs, mixed freely: in a two-column ``X`` a missing second text marks a
    single text.

    Parameters
    ----------
    tasks : dict or None, default=None
        Kind of each task, ``{name: "classification" or "regression"}``.
        Tasks not listed are inferred from their labelled values with
        scikit-learn's ``type_of_target``: non-integral numbers are
        regression; strings, booleans and integral numbers (including ints
        stored as float because of NaNs) are classification.
    task_weights : dict or None, default=None
        Weight of each task's loss, ``{name: weight}``; unlisted tasks weigh 1.
    sampling : {"proportional", "temperature", "uniform"}, default="proportional"
        How often each task's batches come up: in proportion to its number
        of labelled rows ``n_t``, to ``n_t ** (1 / sampling_temperature)``,
        or equally often. An epoch has about ``n_labelled_rows / batch_size``
        batches in all; a small task drawn more often than its size allows
        goes through its rows again.
    sampling_temperature : float, default=2.0
        Temperature of ``sampling="temperature"``: 1 is proportional, larger
        values move toward uniform.
    validation_fraction : float or None, default=None
        Share of the rows held out (stratified by task) to record
        ``valid_loss``, ``valid_score`` (mean over tasks) and
        ``valid_score_<task>`` (accuracy or R²) each epoch, and for early
        stopping. None trains on everything.

    Attributes
    ----------
    tasks_ : list
        Task names: the columns of ``Y`` (0, 1, ... for an array).
    task_kinds_ : dict
        ``"classification"`` or ``"regression"`` for each task.
    classes_ : dict
        Class labels of each classification task.
    net_, tokenizer_, history_, device_, is_pair_
        As in :class:`TransformerClassifier`; ``is_pair_`` is True when any
        row was a pair.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sktransformers import MultiTaskTransformer
    >>> X = ["a wonderful film", "dull and far too long", "a fine cast", "a waste of time"]
    >>> Y = pd.DataFrame({"sentiment": ["pos", "neg", None, None],
    ...                   "rating": [np.nan, np.nan, 3.5, 1.2]})
    >>> mt = MultiTaskTransformer(max_epochs=1, random_state=0).fit(X, Y)
    >>> mt.task_kinds_
    {'sentiment': 'classification', 'rating': 'regression'}
    >>> mt.predict(["what a great movie"]).columns.tolist()
    ['sentiment', 'rating']
    """

    # Its own parameters; the engine's are declared and documented once, in
    # engine/_parameters.py.
    tasks: dict[str, str] | list[str] | None = parameter(default=None, constraints=[dict, None])
    task_weights: dict[str, float] | list[float] | None = parameter(
        default=None, constraints=[dict, None]
    )
    sampling: Literal["proportional", "temperature", "uniform"] = parameter(
        default="proportional",
        constraints=[StrOptions({"proportional", "temperature", "uniform"})],
    )
    sampling_temperature: float = parameter(
        default=2.0, constraints=[Interval(Real, 0, None, closed="neither")]
    )

    _FITTED = (
        "tasks_",
        "task_kinds_",
        "classes_",
        "y_mean_",
        "y_scale_",
        "task_weights_",
        "_y_frame",
    )
    # What a saved directory of this class may hold (checked before loading).
    _task_kinds = ("classification", "regression")
    _several_tasks = True

    @staticmethod
    def _check_saved_fitted(path, fitted, tasks, heads):
        """The ``fitted`` entry of a saved directory (a file a user loads)."""
        from ..utils._schema import fail, want, want_numbers

        for i, (task, size) in enumerate(zip(tasks, heads.values())):
            if task["kind"] == "regression" and size != 1:
                fail(
                    path,
                    f"'tasks[{i}].y_mean' should hold one value for a multi-task "
                    "regression target.",
                )
        names = want(path, fitted, "tasks", (list,), "fitted.tasks")
        if names != [t.get("name", "default") for t in tasks]:
            fail(path, "'fitted.tasks' should list the names of 'tasks', in order.")
        want(path, fitted, "y_frame", (bool,), "fitted.y_frame")
        weights = want(path, fitted, "task_weights", (list,), "fitted.task_weights")
        want_numbers(path, weights, "fitted.task_weights", length=len(tasks))

    # ------------------------------------------------------------------
    # Tasks
    # ------------------------------------------------------------------
    def _check_X(self, X, *, fitted=False):
        texts = check_texts(X, allow_mixed=True)
        if fitted:
            self._check_fitted_max_length()
        return texts

    def _task_option(self, option, names, name, what):
        if option is None:
            return None
        unknown = [k for k in option if k not in names]
        if unknown:
            raise ValueError(
                f"{what} names tasks {unknown} that are not columns of Y; the tasks are {names}."
            )
        return option.get(name)

    def _build_tasks(self, Y, inputs, *, classes=None):
        columns, names, is_frame = _check_Y(Y)
        tasks, weights = [], []
        for name, column in zip(names, columns):
            labelled = column[~_missing(column)]
            if len(labelled) == 0:
                raise ValueError(f"Task {name!r} has no labelled row (every entry is missing).")
            kind = self._task_option(self.tasks, names, name, "tasks")
            if kind is None:
                try:
                    kind = _infer_kind(name, _labels(labelled))
                except TypeError:
                    kind = _infer_kind(name, labelled)
            elif kind not in _column_kinds():
                expected = " or ".join(repr(k) for k in _column_kinds())
                raise ValueError(f"tasks[{name!r}]={kind!r}; expected {expected}.")
            task = TASK_KINDS[kind].from_column(column, name=name)
            weight = self._task_option(self.task_weights, names, name, "task_weights")
            weight = 1.0 if weight is None else weight
            if (
                not isinstance(weight, Real)
                or isinstance(weight, bool)
                or not np.isfinite(weight)
                or weight < 0
            ):
                raise ValueError(
                    f"task_weights[{name!r}]={weight!r}; expected a finite number >= 0."
                )
            tasks.append(task)
            weights.append(float(weight))
        if sum(weights) == 0:
            raise ValueError("task_weights are all 0: no task would be trained.")
        return tasks, {"tasks": names, "y_frame": is_frame, "task_weights": weights}

    def _encode_targets(self, tasks, Y, inputs):
        columns, names, _ = _check_Y(Y)
        if [str(n) for n in names] != [t.key for t in tasks]:
            raise ValueError(
                f"Y has tasks {names}; the model was fitted on {[t.name for t in tasks]}."
            )
        return {task.key: task.encode_column(column) for task, column in zip(tasks, columns)}

    def _set_fitted(self, tasks, extra):
        self.tasks_ = list(extra["tasks"])
        self._y_frame = bool(extra["y_frame"])
        self.task_kinds_ = {t.name: t.kind for t in tasks}
        # Each task's own fitted values, by task name (labels; target scaling).
        self.classes_ = {t.name: t.classes for t in tasks if hasattr(t, "classes")}
        self.y_mean_ = {t.name: float(t.y_mean[0]) for t in tasks if hasattr(t, "y_mean")}
        self.y_scale_ = {t.name: float(t.y_scale[0]) for t in tasks if hasattr(t, "y_scale")}
        self.task_weights_ = dict(zip(self.tasks_, extra["task_weights"]))

    def _fitted_extra(self):
        from ..utils._json_values import to_json_value

        return {
            "tasks": to_json_value(self.tasks_),
            "y_frame": bool(self._y_frame),
            "task_weights": [self.task_weights_[n] for n in self.tasks_],
        }

    def _legacy_tasks(self, fitted):
        names = list(fitted["tasks"])
        tasks = []
        for name, kind in zip(names, fitted["kinds"]):
            key = str(name)
            if kind == CLASSIFICATION:
                entry = fitted["classes"][key]
                dtype = object if entry["dtype"] == "object" else np.dtype(entry["dtype"])
                tasks.append(
                    ClassificationTask(np.asarray(entry["values"], dtype=dtype), name=name)
                )
            else:
                tasks.append(
                    RegressionTask(fitted["y_mean"][key], fitted["y_scale"][key], name=name)
                )
        return tasks, {
            "tasks": names,
            "y_frame": fitted["y_frame"],
            "task_weights": fitted["task_weights"],
        }

    def _task_weights(self, tasks):
        return [self.task_weights_[t.name] for t in tasks]

    def _stratify_labels(self, tasks, encoded):
        # Stratify the validation split by each row's first labelled task.
        labelled = np.column_stack([t.labelled(encoded[t.key]) for t in tasks])
        return np.where(labelled.any(axis=1), labelled.argmax(axis=1), -1)

    def _batch_sampler(self):
        return TaskSampling(self.sampling, self.sampling_temperature)

    # ------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------
    def fit(self, X: Texts, Y: Targets) -> Self:
        """Fine-tune the backbone and all heads on texts ``X`` and targets ``Y``.

        Parameters
        ----------
        X : texts, text pairs, or a mix
            A list of texts or of 2-tuples (or both), or a one- or two-column
            DataFrame / array; a missing second text (None/NaN) in two
            columns marks a single text.
        Y : DataFrame or array-like of shape (n_samples, n_tasks)
            One column per task; None/NaN where a row has no label for a task.

        Returns
        -------
        self : object
        """
        return self._fit(X, Y, epochs=None)

    def partial_fit(self, X: Texts, Y: Targets) -> Self:
        """Train for one epoch, starting from the current weights.

        The first call builds the model from ``Y`` (tasks, kinds, classes);
        later calls must have the same task columns and known labels.

        Parameters
        ----------
        X : texts, text pairs, or a mix
        Y : DataFrame or array-like of shape (n_samples, n_tasks)

        Returns
        -------
        self : object
        """
        first = "net_" not in self.__dict__
        return self._fit(X, Y, epochs=1, first_call=first)

    def _forward(self, X):
        """Every head's raw outputs side by side, in task order."""
        outputs = self._task_outputs(X)
        return np.concatenate([outputs[t.key] for t in self._tasks], axis=1)

    def _predict_columns(self, outputs):
        return {t.name: t.decode_column(outputs[t.key]) for t in self._tasks}

    def predict(self, X: Texts) -> Any:
        """Predictions for every task.

        Parameters
        ----------
        X : texts, text pairs, or a mix

        Returns
        -------
        Y_pred : DataFrame or ndarray of shape (n_samples, n_tasks)
            A DataFrame with one column per task when ``fit`` got a
            DataFrame; otherwise a 2-D array (numeric when every task's
            predictions are numbers, else of dtype object).
        """
        check_is_fitted(self, "net_")
        columns = self._predict_columns(self._task_outputs(X))
        columns = {name: columns[name] for name in self.tasks_}
        if self._y_frame:
            index = X.index if isinstance(X, (pd.DataFrame, pd.Series)) else None
            return pd.DataFrame(columns, columns=self.tasks_, index=index)
        values = list(columns.values())
        if all(v.dtype.kind in "biuf" for v in values):
            return np.column_stack(values)
        out = np.empty((len(values[0]), len(values)), dtype=object)
        for j, v in enumerate(values):
            out[:, j] = v
        return out

    def predict_proba(self, X: Texts) -> Any:
        """Class probabilities of each classification task.

        Parameters
        ----------
        X : texts, text pairs, or a mix

        Returns
        -------
        probas : list of ndarray of shape (n_samples, n_classes_t)
            One array per classification task, in the order of ``tasks_``;
            columns ordered as ``classes_[task]``.
        """
        check_is_fitted(self, "net_")
        outputs = self._task_outputs(X)
        return [
            t.probabilities(outputs[t.key].astype(np.float64))
            for t in self._tasks
            if hasattr(t, "probabilities")
        ]

    def score(self, X: Texts, Y: Targets, sample_weight: ArrayLike | None = None) -> float:
        """Mean over tasks of accuracy (classification) or R² (regression).

        Each task is scored on the rows that carry a label for it; tasks
        with no labelled row in ``Y`` are left out.

        Parameters
        ----------
        X : texts, text pairs, or a mix
        Y : DataFrame or array-like of shape (n_samples, n_tasks)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        return float(np.mean(list(self.task_scores(X, Y, sample_weight).values())))

    def task_scores(self, X, Y, sample_weight=None):
        """Per-task accuracy (classification) or R² (regression), as a dict.

        Parameters
        ----------
        X : texts, text pairs, or a mix
        Y : DataFrame or array-like of shape (n_samples, n_tasks)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        scores : dict of task name to float
        """
        check_is_fitted(self, "net_")
        columns, names, _ = _check_Y(Y)
        if [str(n) for n in names] != [str(n) for n in self.tasks_]:
            raise ValueError(f"Y has tasks {names}; the model was fitted on {self.tasks_}.")
        predicted = self._predict_columns(self._task_outputs(X))
        weights = None if sample_weight is None else np.asarray(sample_weight)
        scores = {}
        for task, column in zip(self._tasks, columns):
            keep = ~_missing(column)
            if not keep.any():
                continue
            w = None if weights is None else weights[keep]
            scores[task.name] = task.score_column(
                column[keep], predicted[task.name][keep], sample_weight=w
            )
        if not scores:
            raise ValueError("Y has no labelled entry to score.")
        return {k: float(v) for k, v in scores.items()}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags
