"""Regression: one or several numbers per text."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..utils._decoding import unscale
from ._base import Task


# ----------------------------------------------------------------------
# Regression
# ----------------------------------------------------------------------
def check_numeric(y, what="y", allow_missing=False):
    try:
        values = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be numeric for regression.") from None
    if values.ndim not in (1, 2):
        raise ValueError(f"{what} must be 1- or 2-dimensional, got shape {values.shape}.")
    if len(values) == 0:
        raise ValueError(f"{what} is empty.")
    bad = np.isinf(values) if allow_missing else ~np.isfinite(values)
    if bad.any():
        raise ValueError(
            f"{what} contains {'infinite' if allow_missing else 'NaN or infinite'} values; "
            "regression needs finite targets."
        )
    return values


class RegressionTask(Task):
    """One or several numbers per text, standardised; squared-error loss.

    Parameters
    ----------
    y_mean, y_scale : ndarray of shape (n_outputs,)
        Standardisation of the targets (predictions are mapped back).
    """

    kind = "regression"
    deploy_kind = "regressor"
    description = "regression"
    score_name = "R²"
    target_what = "outputs"

    def __init__(self, y_mean, y_scale, name="default"):
        super().__init__(name)
        self.y_mean = np.atleast_1d(np.asarray(y_mean, dtype=np.float64))
        self.y_scale = np.atleast_1d(np.asarray(y_scale, dtype=np.float64))

    @classmethod
    def from_targets(cls, y, *, name="default", allow_missing=False):
        values = check_numeric(y, allow_missing=allow_missing)
        values = values.reshape(len(values), -1)
        if np.isnan(values).all(axis=0).any():
            raise ValueError(
                f"Regression task {name!r} has no labelled row (every entry is missing)."
            )
        with np.errstate(over="ignore", invalid="ignore"):
            mean = np.nanmean(values, axis=0)
            scale = np.nanstd(values, axis=0)
        if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
            raise ValueError(
                "y is too large to standardise in float64 (its mean or spread overflows); "
                "rescale the targets (e.g. divide by a constant) first."
            )
        scale = np.where(scale > 0, scale, 1.0)
        return cls(mean, scale, name=name)

    @property
    def n_outputs(self):
        return len(self.y_mean)

    @property
    def head_size(self):
        return self.n_outputs

    def encode(self, y, allow_missing=False):
        values = check_numeric(y, allow_missing=allow_missing).reshape(len(y), -1)
        if values.shape[1] != self.n_outputs:
            raise ValueError(
                f"y has {values.shape[1]} outputs; the model was fitted with {self.n_outputs}."
            )
        return ((values - self.y_mean) / self.y_scale).astype(np.float32)

    def loss(self, output, target):
        import torch

        mask = ~torch.isnan(target)
        safe = torch.where(mask, target, torch.zeros_like(target))
        m = mask.to(torch.float32)
        return (((output.float() - safe) ** 2) * m).sum(), m.sum()

    def decode(self, output):
        return unscale(output, self.y_mean, self.y_scale)

    def validation_score(self, output, target):
        from sklearn.metrics import r2_score

        keep = ~np.isnan(target).any(axis=1)
        if keep.sum() < 2:
            return None
        return float(r2_score(target[keep], output[keep]))

    # -- one column of a multi-task Y (None/NaN: no label for this task) ----
    @classmethod
    def from_column(cls, column, *, name):
        """The task of one column of ``MultiTaskTransformer``'s ``Y`` (one output)."""
        return cls.from_targets(_float_column(name, column), name=name, allow_missing=True)

    def encode_column(self, column):
        return self.encode(_float_column(self.name, column), allow_missing=True)

    def decode_column(self, output):
        """Predictions of the column: one number per text."""
        return self.decode(output)[:, 0]

    def score_column(self, y_true, y_pred, sample_weight=None):
        """R² over the labelled rows ``y_true``."""
        from sklearn.metrics import r2_score

        y_true = _float_values(self.name, y_true)
        return float(r2_score(y_true, y_pred, sample_weight=sample_weight))

    def export_metadata(self, estimator):
        return {
            "n_outputs": self.n_outputs,
            "y_mean": self.y_mean.tolist(),
            "y_scale": self.y_scale.tolist(),
            "y_1d": bool(getattr(estimator, "_y_1d", self.n_outputs == 1)),
        }

    @classmethod
    def serve_predictions(cls, model, texts):
        values = np.asarray(model.predict(texts), dtype=np.float64)
        if values.ndim == 1:
            return [{"value": float(v)} for v in values]
        return [{"values": [float(v) for v in row]} for row in values]

    def explain_target(self, target, estimator):
        n = self.n_outputs
        if target is None:
            return 0
        if (
            isinstance(target, (int, np.integer))
            and not isinstance(target, bool)
            and 0 <= target < n
        ):
            return int(target)
        raise ValueError(
            f"target must be an output index in [0, {n}) for this regressor, got {target!r}."
        )

    def target_name(self, index, estimator):
        return index

    def explained_output(self, target, columns):
        """The prediction of output ``target``, on the scale of ``y``."""
        scale = float(self.y_scale[target])
        mean = float(self.y_mean[target])
        return lambda z: z[:, target] * scale + mean

    def explained_prediction(self, logits, estimator):
        pred = self.decode(logits)
        return float(pred[0]) if getattr(estimator, "_y_1d", True) else pred

    def to_json(self):
        return {
            **super().to_json(),
            "y_mean": self.y_mean.tolist(),
            "y_scale": self.y_scale.tolist(),
        }

    @classmethod
    def check_json(cls, path, task, where):
        """Validate a saved entry of this kind (a file a user loads); returns the head size."""
        from ..utils._schema import check_regression_json

        return check_regression_json(path, task, where)

    @classmethod
    def from_json(cls, data):
        return cls(data["y_mean"], data["y_scale"], name=data.get("name", "default"))


def _float_column(name, column):
    """A regression column as float64, NaN where a row has no label."""
    column = np.asarray(column)
    missing = np.asarray(pd.isna(column), dtype=bool)
    values = np.full(len(column), np.nan)
    values[~missing] = _float_values(name, column[~missing])
    return values


def _float_values(name, values):
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"Regression task {name!r} has non-numeric targets.") from None
