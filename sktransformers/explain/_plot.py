"""Plots of fitted estimators (``pip install -e '.[plot]' (from a checkout)`` for matplotlib).

The code of :mod:`sktransformers.plot` (its public path, which documents it).
"""

from __future__ import annotations

import numpy as np

from ..utils._extras import install_hint

__all__ = ["HistoryDisplay"]


def _import_pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(f"Plotting needs matplotlib: {install_hint('plot')}.") from None
    return plt


def _score_name(estimator):
    """The name of the estimator's validation score: its task's (several tasks: "score")."""
    tasks = estimator._fitted_tasks() if hasattr(estimator, "_fitted_tasks") else []
    return tasks[0].score_name if len(tasks) == 1 else "score"


class HistoryDisplay:
    """Training and validation loss and the validation score, per epoch.

    Two axes side by side (or one given Axes with a twin y-axis): the
    losses (``train_loss``, and ``valid_loss`` when the estimator held out a
    validation set) and the validation scores
    (``valid_score``, and one ``valid_score_<task>`` line per task of a
    :class:`~sktransformers.MultiTaskTransformer`). Without a validation set
    (``validation_fraction=None``) the score axis says so.

    Parameters
    ----------
    history : skorch.History or list of dict
        One dict per epoch, as in a fitted estimator's ``history_``.
    score_name : str, default="score"
        The label of the score axis (``from_estimator`` names it: accuracy
        for classifiers, R² for regressors).

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
        The figure holding the axes.
    ax_ : ndarray of shape (2,) of matplotlib Axes
        The loss axes and the score axes (given one Axes: it and its twin).
    lines_ : dict of str to matplotlib.lines.Line2D
        The lines drawn, by history key.

    See Also
    --------
    sklearn.model_selection.LearningCurveDisplay : scores against training size.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sktransformers.plot import HistoryDisplay
    >>> history = [
    ...     {"epoch": 1, "train_loss": 0.69, "valid_loss": 0.61, "valid_score": 0.70},
    ...     {"epoch": 2, "train_loss": 0.52, "valid_loss": 0.55, "valid_score": 0.78},
    ... ]
    >>> display = HistoryDisplay(history, score_name="accuracy").plot()
    >>> sorted(display.lines_)
    ['train_loss', 'valid_loss', 'valid_score']
    """

    def __init__(self, history, *, score_name="score"):
        self.history = history
        self.score_name = score_name

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, score_name=None, **kwargs):
        """Plot the history of a fitted estimator.

        Parameters
        ----------
        estimator : fitted estimator of sktransformers
            Anything with a ``history_`` (TransformerClassifier,
            TransformerRegressor, MultiTaskTransformer, ...).
        ax : matplotlib Axes, sequence of 2 Axes, or None, default=None
            Where to draw the losses and the scores (one Axes: the scores on
            a twin y-axis); None makes a new figure.
        score_name : str, default=None
            The score axis label; None names it after the estimator.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : HistoryDisplay
        """
        from sklearn.utils.validation import check_is_fitted

        _import_pyplot()
        check_is_fitted(estimator, "net_")
        history = estimator.history_
        display = cls(history, score_name=score_name or _score_name(estimator))
        return display.plot(ax=ax, **kwargs)

    def _rows(self):
        rows = [dict(row) for row in self.history]
        if not rows:
            raise ValueError("The history is empty: fit the estimator first.")
        return rows

    def plot(self, ax=None, *, marker="o", **line_kw):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, sequence of 2 Axes, or None, default=None
            Where to draw. Two Axes: the losses on the first, the scores on
            the second. One Axes: the losses on it and the scores on a twin
            y-axis to its right (``ax.twinx()``), one legend for both. None
            makes a new figure with two axes side by side.
        marker : str, default="o"
            Marker of each epoch's point.
        **line_kw
            Passed to every ``Axes.plot`` call.

        Returns
        -------
        self : HistoryDisplay
        """
        plt = _import_pyplot()
        rows = self._rows()
        single = False
        if ax is None:
            figure, ax = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
            loss_ax, score_ax = ax
        else:
            from matplotlib.axes import Axes

            axes = [ax] if isinstance(ax, Axes) else list(np.asarray(ax, dtype=object).ravel())
            if len(axes) not in (1, 2) or not all(isinstance(a, Axes) for a in axes):
                raise ValueError(
                    "ax must be one matplotlib Axes (losses, with the scores on a twin "
                    f"y-axis) or 2 Axes (losses, scores), got {ax!r}."
                )
            single = len(axes) == 1
            loss_ax = axes[0]
            score_ax = loss_ax.twinx() if single else axes[1]
            figure = loss_ax.figure
        epochs = np.asarray([row.get("epoch", i + 1) for i, row in enumerate(rows)])
        keys = list(dict.fromkeys(k for row in rows for k in row))
        loss_keys = [k for k in keys if k in ("train_loss", "valid_loss")]
        score_keys = [
            k
            for k in keys
            if (k == "valid_score" or k.startswith("valid_score_")) and not k.endswith("_best")
        ]
        self.lines_ = {}
        n_drawn = 0
        for target_ax, names in ((loss_ax, loss_keys), (score_ax, score_keys)):
            for key in names:
                values = np.asarray(
                    [np.nan if row.get(key) is None else float(row[key]) for row in rows]
                )
                label = key.replace("_", " ").replace("valid ", "validation ")
                kw = dict(line_kw)
                if single and "color" not in kw and "c" not in kw:
                    # A twin axis restarts the colour cycle: keep the lines apart.
                    kw["color"] = f"C{n_drawn % 10}"
                    if target_ax is score_ax:
                        kw.setdefault("linestyle", "--")
                (self.lines_[key],) = target_ax.plot(
                    epochs, values, marker=marker, label=label, **kw
                )
                n_drawn += 1
        loss_ax.set_xlabel("epoch")
        loss_ax.set_ylabel("loss")
        score_ax.set_ylabel(self.score_name)
        if single:
            loss_ax.set_title("Loss and validation score")
            if self.lines_:
                loss_ax.legend(handles=list(self.lines_.values()))
            if not score_keys:
                score_ax.set_ylabel(f"{self.score_name} (no validation set)")
                score_ax.set_yticks([])
        else:
            loss_ax.set_title("Loss")
            if loss_keys:
                loss_ax.legend()
            score_ax.set_xlabel("epoch")
            score_ax.set_title("Validation score")
            if score_keys:
                score_ax.legend()
            else:
                score_ax.text(
                    0.5,
                    0.5,
                    "no validation set\n(set validation_fraction)",
                    ha="center",
                    va="center",
                    transform=score_ax.transAxes,
                )
        for a in (loss_ax, score_ax):
            # Epochs are whole numbers.
            a.xaxis.get_major_locator().set_params(integer=True)
        self.figure_ = figure
        self.ax_ = np.asarray([loss_ax, score_ax], dtype=object)
        return self
