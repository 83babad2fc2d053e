"""Experiment tracking: per-epoch metrics and the estimator's parameters.

skorch's logging callbacks work in any estimator's ``callbacks=``; this
module adds what they lack for sktransformers (``pip install -e
".[tracking]"`` for TensorBoard and MLflow):

* :class:`TensorBoard` takes a log directory instead of a ``SummaryWriter``
  and opens the writer when training starts, so the estimator can still be
  cloned, pickled and searched over (a ``SummaryWriter`` holds a thread lock
  and cannot be copied, and the estimators copy their callbacks on ``fit``).
* :class:`MlflowLogger` starts an MLflow run when none is active and does not
  upload the model's weights after every ``fit`` by default.
* Both record the estimator's parameters (:func:`estimator_params`) next to
  the metrics; :func:`log_params` does the same for any other logger.

Examples
--------
>>> import tempfile
>>> from sktransformers import TransformerClassifier
>>> from sktransformers.tracking import TensorBoard
>>> log_dir = tempfile.mkdtemp()
>>> clf = TransformerClassifier(max_epochs=1, callbacks=[TensorBoard(log_dir)])
>>> clf.get_params()["callbacks"][0].log_dir == log_dir
True
"""

from .integrations import _tracking
from .integrations._tracking import *  # noqa: F403  (its __all__)

__all__ = _tracking.__all__
