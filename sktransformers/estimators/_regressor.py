"""TransformerRegressor: fine-tune a transformer for continuous targets."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.base import RegressorMixin
from sklearn.exceptions import DataConversionWarning

from ..deploy._export import ExportMixin
from ..engine._base import BaseTransformerEstimator
from ..engine._parameters import WholeTextParameters, estimator_parameters
from ..engine._persistence import register_estimator
from ..explain._attributions import ExplainMixin
from ..tasks import RegressionTask, check_numeric
from ..utils._typing import (
    Targets,
    Texts,
)

if TYPE_CHECKING:
    from typing_extensions import Self


@register_estimator
@estimator_parameters
class TransformerRegressor(
    ExplainMixin, ExportMixin, RegressorMixin, WholeTextParameters, BaseTransformerEstimator
):
    """Fine-tune a Hugging Face transformer to predict numbers from texts or pairs.

    Targets are standardised internally (mean 0, variance 1 per output) and
    predictions mapped back, so targets on any scale train alike. One output
    (``y`` of shape (n,)) or several (``y`` of shape (n, k)).

    Parameters
    ----------
    validation_fraction : float or None, default=None
        Share of the data held out to record ``valid_loss`` and
        ``valid_score`` (R²) each epoch, and for early stopping. None trains
        on everything.

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
