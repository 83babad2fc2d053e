"""Plots of fitted estimators (``pip install -e '.[plot]' (from a checkout)`` for matplotlib).

:class:`HistoryDisplay` draws the per-epoch training record of any fitted
estimator of the package, following scikit-learn's Display convention
(:class:`sklearn.metrics.ConfusionMatrixDisplay`,
:class:`sklearn.model_selection.LearningCurveDisplay`): build it with
:meth:`HistoryDisplay.from_estimator`, or from a history with the
constructor and :meth:`HistoryDisplay.plot`; the figure and axes are kept
as ``figure_`` and ``ax_``.
"""

from .explain._plot import (
    HistoryDisplay,
)

__all__ = [
    "HistoryDisplay",
]
