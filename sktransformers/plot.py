"""Plots of fitted estimators (``pip install -e '.[plot]' (from a checkout)`` for matplotlib).

:class:`HistoryDisplay` draws the per-epoch training record of any fitted
estimator of the package, following scikit-learn's Display convention
(:class:`sklearn.metrics.ConfusionMatrixDisplay`,
:class:`sklearn.model_selection.LearningCurveDisplay`): build it with
:meth:`HistoryDisplay.from_estimator`, or from a history with the
constructor and :meth:`HistoryDisplay.plot`; the figure and axes are kept
as ``figure_`` and ``ax_``.
"""

from .explain import _plot
from .explain._plot import *  # noqa: F403  (its __all__)

__all__ = _plot.__all__
