"""Hyper-parameter tuning with Optuna (``pip install -e ".[optuna]" (from a checkout)``).

Three ways to tune an estimator, from the least to the most code:

* :func:`tune` runs a whole study with a default search space for
  fine-tuning (learning rate, epochs, batch size, warmup, weight decay,
  maximum length), prunes poor trials after each epoch, and returns the best
  estimator refitted on all the data together with the study. Studies can
  live in memory, in a SQLite file, or in a PostgreSQL database shared by
  workers on several machines.
* ``optuna_integration.OptunaSearchCV`` works with every estimator as with
  any scikit-learn estimator; with ``enable_pruning=True`` it calls
  ``partial_fit`` once per epoch (pass ``max_iter=max_epochs``) and prunes
  between epochs.
* :class:`OptunaPruningCallback` reports each epoch's validation score of a
  hand-written objective to its trial and stops a pruned trial cleanly.

Every estimator trained here frees its model when the trial ends (only the
best one is kept), so long studies do not grow in memory.

Faults: :func:`tune` opens database storages with Optuna's heartbeats, so a
trial whose worker died (killed, out of memory, machine lost) is marked
failed by the next worker that starts a trial and retried with the same
parameters; Ctrl+C ends a study cleanly and the interrupted trial is run
again first when the study is resumed.
"""

from .integrations import _tuning
from .integrations._tuning import *  # noqa: F403  (its __all__)

__all__ = _tuning.__all__
