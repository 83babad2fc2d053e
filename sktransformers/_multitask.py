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

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

from ._base import BaseTransformerEstimator
from ._data import LengthGroupedBatchSampler, check_texts
from ._hub import DEFAULT_MODEL, to_json_value

CLASSIFICATION = "classification"
REGRESSION = "regression"


# ----------------------------------------------------------------------
# Torch / skorch pieces (module level so that fitted models pickle)
# ----------------------------------------------------------------------
class MultiTaskLoss(torch.nn.Module):
    """Weighted sum over tasks of each task's mean loss on its labelled entries.

    ``y_true`` is an (n, n_tasks) float tensor, NaN where a row has no label
    for a task; class labels are encoded as class indices. Cross-entropy for
    classification, squared error (on standardised targets) for regression.
    No boolean indexing, so no host synchronisation per batch.
    """

    def __init__(self, tasks, kinds, weights):
        super().__init__()
        self.tasks = list(tasks)
        self.kinds = list(kinds)
        self.weights = [float(w) for w in weights]

    def forward(self, y_pred, y_true):
        if not isinstance(y_pred, dict):
            y_pred = {self.tasks[0]: y_pred}
        total = 0.0
        for j, (task, kind, weight) in enumerate(zip(self.tasks, self.kinds, self.weights)):
            target = y_true[:, j]
            mask = ~torch.isnan(target)
            safe = torch.where(mask, target, torch.zeros_like(target))
            out = y_pred[task].float()
            if kind == CLASSIFICATION:
                per_row = torch.nn.functional.cross_entropy(out, safe.long(), reduction="none")
            else:
                per_row = (out[:, 0] - safe) ** 2
            m = mask.to(per_row.dtype)
            total = total + weight * (per_row * m).sum() / m.sum().clamp(min=1.0)
        return total


def concat_outputs(out):
    """skorch ``predict_nonlinearity``: the heads' outputs side by side, in task order."""
    if isinstance(out, dict):
        return torch.cat(list(out.values()), dim=1)
    return out


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
    """``batch_sampler`` factory of :class:`~sktransformers._net.TransformerNet`."""

    def __init__(self, sampling="proportional", temperature=2.0):
        self.sampling = sampling
        self.temperature = temperature

    def __call__(self, dataset, batch_size, *, shuffle, seed):
        if not shuffle or dataset.y is None:
            return LengthGroupedBatchSampler(dataset.lengths, batch_size, shuffle=False)
        return TaskBatchSampler(
            ~np.isnan(dataset.y),
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
        arr = np.asarray(Y)
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


def _labels(values):
    """Class labels as given; integral floats (ints turned float by NaN) back to int."""
    values = np.asarray(values)
    if values.dtype == object:
        kinds = {type(v) for v in values}
        if len(kinds) > 1 and not all(issubclass(k, (int, float, np.number)) for k in kinds):
            raise TypeError(f"labels mix types {sorted(k.__name__ for k in kinds)}.")
        if all(issubclass(k, (int, float, np.number)) for k in kinds):
            values = values.astype(np.float64)
    if values.dtype.kind == "f" and np.all(np.mod(values, 1) == 0):
        values = values.astype(np.int64)
    return values


class MultiTaskTransformer(BaseTransformerEstimator):
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
    model : str, path-like or FittedBackbone, default="sentence-transformers/all-MiniLM-L6-v2"
        A Hugging Face model id, a local model directory, a directory written
        by any estimator's ``save_pretrained``, or ``estimator.backbone()``.
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
    max_length, batch_size, predict_batch_size, max_epochs, lr, weight_decay, \
warmup_ratio, max_grad_norm, early_stopping, patience, pooling, dropout, \
gradient_accumulation_steps, compile, \
freeze, lora, device, precision, trust_remote_code, callbacks, random_state, verbose
        As in :class:`TransformerClassifier`.
    validation_fraction : float or None, default=None
        Share of the rows held out (stratified by task) to record
        ``valid_loss``, ``valid_score`` (mean over tasks) and
        ``valid_score_<task>`` (accuracy or R²) each epoch.

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

    _parameter_constraints: dict = {
        **BaseTransformerEstimator._parameter_constraints,
        "tasks": [dict, None],
        "task_weights": [dict, None],
        "sampling": [StrOptions({"proportional", "temperature", "uniform"})],
        "sampling_temperature": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        model=DEFAULT_MODEL,
        *,
        tasks=None,
        task_weights=None,
        sampling="proportional",
        sampling_temperature=2.0,
        max_length=128,
        batch_size=32,
        predict_batch_size=None,
        max_epochs=3,
        lr=5e-5,
        weight_decay=0.01,
        warmup_ratio=0.06,
        max_grad_norm=1.0,
        validation_fraction=None,
        early_stopping=False,
        patience=2,
        pooling="mean",
        dropout=None,
        freeze=None,
        lora=None,
        device="auto",
        precision="auto",
        gradient_accumulation_steps=1,
        compile=False,
        trust_remote_code=False,
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            model,
            max_length=max_length,
            batch_size=batch_size,
            predict_batch_size=predict_batch_size,
            max_epochs=max_epochs,
            lr=lr,
            weight_decay=weight_decay,
            warmup_ratio=warmup_ratio,
            max_grad_norm=max_grad_norm,
            validation_fraction=validation_fraction,
            early_stopping=early_stopping,
            patience=patience,
            pooling=pooling,
            dropout=dropout,
            freeze=freeze,
            lora=lora,
            device=device,
            precision=precision,
            gradient_accumulation_steps=gradient_accumulation_steps,
            compile=compile,
            trust_remote_code=trust_remote_code,
            callbacks=callbacks,
            random_state=random_state,
            verbose=verbose,
        )
        self.tasks = tasks
        self.task_weights = task_weights
        self.sampling = sampling
        self.sampling_temperature = sampling_temperature

    # ------------------------------------------------------------------
    # Core hooks
    # ------------------------------------------------------------------
    def _check_X(self, X, *, fitted=False):
        return check_texts(X, allow_mixed=True)

    def _task_option(self, option, name, what):
        if option is None:
            return None
        unknown = [k for k in option if k not in self.tasks_]
        if unknown:
            raise ValueError(
                f"{what} names tasks {unknown} that are not columns of Y; "
                f"the tasks are {self.tasks_}."
            )
        return option.get(name)

    def _prepare_targets(self, Y, *, classes=None):
        columns, names, is_frame = _check_Y(Y)
        self.tasks_ = names
        self._y_frame = is_frame
        self.task_kinds_, self.classes_ = {}, {}
        self.y_mean_, self.y_scale_, self.task_weights_ = {}, {}, {}
        for name, column in zip(names, columns):
            labelled = column[~_missing(column)]
            if len(labelled) == 0:
                raise ValueError(f"Task {name!r} has no labelled row (every entry is missing).")
            kind = self._task_option(self.tasks, name, "tasks")
            if kind is None:
                try:
                    kind = _infer_kind(name, _labels(labelled))
                except TypeError:
                    kind = _infer_kind(name, labelled)
            elif kind not in (CLASSIFICATION, REGRESSION):
                raise ValueError(
                    f"tasks[{name!r}]={kind!r}; expected 'classification' or 'regression'."
                )
            self.task_kinds_[name] = kind
            if kind == CLASSIFICATION:
                try:
                    classes = np.unique(_labels(labelled))
                except TypeError as exc:
                    raise TypeError(f"Task {name!r}: {exc}") from None
                if len(classes) < 2:
                    raise ValueError(
                        f"Classification task {name!r} needs at least 2 classes, but its "
                        f"labels are only {classes.tolist()}."
                    )
                self.classes_[name] = classes
            else:
                values = _as_float(name, labelled)
                scale = values.std()
                self.y_mean_[name] = float(values.mean())
                self.y_scale_[name] = float(scale) if scale > 0 else 1.0
            weight = self._task_option(self.task_weights, name, "task_weights")
            weight = 1.0 if weight is None else weight
            if not isinstance(weight, Real) or weight < 0:
                raise ValueError(f"task_weights[{name!r}]={weight!r}; expected a number >= 0.")
            self.task_weights_[name] = float(weight)
        return self._encode_targets(Y)

    def _encode_targets(self, Y):
        columns, names, _ = _check_Y(Y)
        if [str(n) for n in names] != [str(n) for n in self.tasks_]:
            raise ValueError(f"Y has tasks {names}; the model was fitted on {self.tasks_}.")
        out = np.full((len(columns[0]), len(columns)), np.nan, dtype=np.float32)
        for j, (name, column) in enumerate(zip(names, columns)):
            missing = _missing(column)
            labelled = column[~missing]
            if self.task_kinds_[name] == CLASSIFICATION:
                labels = _labels(labelled)
                known = np.isin(labels, self.classes_[name])
                if not known.all():
                    raise ValueError(
                        f"Task {name!r} has labels not seen in the first fit: "
                        f"{np.unique(labels[~known]).tolist()}."
                    )
                out[~missing, j] = np.searchsorted(self.classes_[name], labels)
            else:
                values = _as_float(name, labelled)
                out[~missing, j] = (values - self.y_mean_[name]) / self.y_scale_[name]
        return out

    def _stratify_labels(self, y_encoded):
        # Stratify the validation split by each row's first labelled task.
        labelled = ~np.isnan(y_encoded)
        return np.where(labelled.any(axis=1), labelled.argmax(axis=1), -1)

    def _head_key(self, name):
        return str(name)

    def _head_size(self, name):
        return len(self.classes_[name]) if self.task_kinds_[name] == CLASSIFICATION else 1

    def _head_sizes(self):
        return {self._head_key(n): self._head_size(n) for n in self.tasks_}

    def _y_dtype(self):
        return torch.float32

    def _criterion(self):
        return MultiTaskLoss, {
            "criterion__tasks": [self._head_key(n) for n in self.tasks_],
            "criterion__kinds": [self.task_kinds_[n] for n in self.tasks_],
            "criterion__weights": [self.task_weights_[n] for n in self.tasks_],
            # Not a criterion argument: the net's outputs side by side for prediction.
            "predict_nonlinearity": concat_outputs,
        }

    def _batch_sampler(self):
        return TaskSampling(self.sampling, self.sampling_temperature)

    @staticmethod
    def _valid_score(net, X, y):
        """Mean of per-task scores; also records ``valid_score_<task>``."""
        out = net.predict_proba(X)
        crit = net.criterion_
        y = np.asarray(y, dtype=np.float64).reshape(len(out), -1)
        scores, offset = [], 0
        for j, (task, kind) in enumerate(zip(crit.tasks, crit.kinds)):
            size = net.module_.heads[task].out_features
            part = out[:, offset : offset + size]
            offset += size
            mask = ~np.isnan(y[:, j])
            if kind == CLASSIFICATION and mask.any():
                score = accuracy_score(y[mask, j].astype(np.int64), part[mask].argmax(axis=1))
            elif kind == REGRESSION and mask.sum() >= 2:
                score = r2_score(y[mask, j], part[mask, 0])
            else:
                continue
            net.history.record(f"valid_score_{task}", float(score))
            scores.append(score)
        return float(np.mean(scores)) if scores else float("nan")

    def _fitted_metadata(self):
        classes = {}
        for name, values in self.classes_.items():
            dtype = values.dtype.str if values.dtype != object else "object"
            classes[str(name)] = {"values": to_json_value(values), "dtype": dtype}
        return {
            "tasks": to_json_value(self.tasks_),
            "kinds": [self.task_kinds_[n] for n in self.tasks_],
            "classes": classes,
            "y_mean": {str(k): v for k, v in self.y_mean_.items()},
            "y_scale": {str(k): v for k, v in self.y_scale_.items()},
            "task_weights": [self.task_weights_[n] for n in self.tasks_],
            "y_frame": bool(self._y_frame),
        }

    def _restore_metadata(self, meta):
        self.tasks_ = list(meta["tasks"])
        self._y_frame = meta["y_frame"]
        self.task_kinds_ = dict(zip(self.tasks_, meta["kinds"]))
        self.task_weights_ = dict(zip(self.tasks_, meta["task_weights"]))
        self.classes_, self.y_mean_, self.y_scale_ = {}, {}, {}
        for name in self.tasks_:
            key = str(name)
            if self.task_kinds_[name] == CLASSIFICATION:
                entry = meta["classes"][key]
                dtype = object if entry["dtype"] == "object" else np.dtype(entry["dtype"])
                self.classes_[name] = np.asarray(entry["values"], dtype=dtype)
            else:
                self.y_mean_[name] = meta["y_mean"][key]
                self.y_scale_[name] = meta["y_scale"][key]

    # ------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------
    def fit(self, X, Y):
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
        return self._fit(X, Y, epochs=self.max_epochs)

    def partial_fit(self, X, Y):
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

    def _task_outputs(self, X):
        out = self._forward(X)
        parts, offset = {}, 0
        for name in self.tasks_:
            size = self._head_size(name)
            parts[name] = out[:, offset : offset + size]
            offset += size
        return parts

    @staticmethod
    def _softmax(logits):
        z = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def _predict_columns(self, parts):
        columns = {}
        for name in self.tasks_:
            if self.task_kinds_[name] == CLASSIFICATION:
                columns[name] = self.classes_[name][parts[name].argmax(axis=1)]
            else:
                values = parts[name][:, 0].astype(np.float64)
                columns[name] = values * self.y_scale_[name] + self.y_mean_[name]
        return columns

    def predict(self, X):
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

    def predict_proba(self, X):
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
        parts = self._task_outputs(X)
        return [
            self._softmax(parts[n].astype(np.float64))
            for n in self.tasks_
            if self.task_kinds_[n] == CLASSIFICATION
        ]

    def score(self, X, Y, sample_weight=None):
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
        for name, column in zip(self.tasks_, columns):
            keep = ~_missing(column)
            if not keep.any():
                continue
            w = None if weights is None else weights[keep]
            if self.task_kinds_[name] == CLASSIFICATION:
                scores[name] = accuracy_score(
                    _labels(column[keep]), predicted[name][keep], sample_weight=w
                )
            else:
                scores[name] = r2_score(
                    _as_float(name, column[keep]), predicted[name][keep], sample_weight=w
                )
        if not scores:
            raise ValueError("Y has no labelled entry to score.")
        return {k: float(v) for k, v in scores.items()}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags


def _as_float(name, values):
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"Regression task {name!r} has non-numeric targets.") from None
