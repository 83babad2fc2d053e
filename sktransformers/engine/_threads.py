"""CPU thread budget of torch while several fits share one machine.

A search with ``n_jobs > 1`` runs several fits at once. Each torch process
would otherwise start one compute thread per core, so two workers on two
cores run four busy threads and spend their time switching. The budget is:

* in a worker process of joblib's loky backend (the default of
  ``GridSearchCV`` and ``cross_val_score``), the ``OMP_NUM_THREADS`` joblib
  gives each worker (``cpu_count // n_jobs``);
* in a worker of a Dask cluster, the ``OMP_NUM_THREADS`` its nanny sets
  (1 by default), else the cores divided by the worker's threads;
* in any process, divided by the number of fits running at the same time in
  that process (joblib's threading backend).

A limit the user has set with ``torch.set_num_threads`` is never raised.
"""

from __future__ import annotations

import contextlib
import os
import threading

_lock = threading.Lock()
_active = 0
_saved = None


def _cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def _in_parallel_worker():
    """True inside a joblib (loky) or Dask worker process."""
    import multiprocessing

    if multiprocessing.current_process().name.startswith("LokyProcess"):
        return True
    return _dask_worker() is not None


def _dask_worker():
    import sys

    if "distributed" not in sys.modules:
        return None
    try:
        from distributed import get_worker

        return get_worker()
    except (ImportError, ValueError):
        return None


def process_budget():
    """Threads this process may use in total."""
    cpus = _cpu_count()
    if not _in_parallel_worker():
        return cpus
    # joblib's loky workers and Dask's nanny set this for their workers.
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit():
        return max(1, int(env))
    worker = _dask_worker()
    if worker is not None:
        nthreads = getattr(getattr(worker, "state", worker), "nthreads", 1) or 1
        return max(1, cpus // nthreads)
    return cpus


@contextlib.contextmanager
def thread_budget():
    """Limit torch's intra-op threads for the duration of one fit or predict."""
    import torch

    global _active, _saved
    with _lock:
        if _active == 0:
            _saved = torch.get_num_threads()
        _active += 1
        limit = max(1, min(_saved, process_budget() // _active))
        if torch.get_num_threads() != limit:
            torch.set_num_threads(limit)
    try:
        yield limit
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and torch.get_num_threads() != _saved:
                torch.set_num_threads(_saved)
