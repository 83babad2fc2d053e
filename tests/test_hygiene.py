"""Search hygiene: models are released between fits; parallel searches neither
oversubscribe the CPU nor deadlock."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from sklearn.base import clone
from skorch.callbacks import Callback

from sktransformers import TransformerClassifier
from sktransformers.engine._threads import _cpu_count, thread_budget

N_FITS = 20


def _data(n=16):
    pos = ["a great film", "wonderful acting", "i loved it", "truly excellent"]
    neg = ["a terrible film", "awful acting", "i hated it", "truly boring"]
    return (pos + neg) * (n // 8), ([1] * 4 + [0] * 4) * (n // 8)


def _model_bytes(est):
    # Weights, gradients and AdamW's two moments, in float32.
    n = sum(p.numel() for p in est.net_.module_.parameters())
    return 4 * 4 * n


def _twenty_fits(template, measure):
    """Alternate refits of one estimator with fresh clones that are dropped (as a search does)."""
    X, y = _data(8)
    kept = clone(template)
    values = []
    for i in range(N_FITS):
        if i % 2 == 0:
            kept.fit(X, y)
        else:
            dropped = clone(template).fit(X, y)
            dropped.predict(X[:2])
            del dropped
        values.append(measure())
    return kept, values


def test_memory_is_released_across_fits_cpu(tiny_model_dir):
    psutil = pytest.importorskip("psutil")
    proc = psutil.Process()
    template = TransformerClassifier(
        tiny_model_dir, max_epochs=1, batch_size=16, device="cpu", random_state=0
    )
    kept, rss = _twenty_fits(template, lambda: proc.memory_info().rss)
    # Minimums over windows ignore allocator noise; a leak of one model per
    # fit would add ~15 models between the windows.
    growth = min(rss[-5:]) - min(rss[3:8])
    assert growth < 3 * _model_bytes(kept), [round(v / 2**20, 1) for v in rss]


@pytest.mark.gpu
def test_memory_is_released_across_fits_gpu(tiny_model_dir):
    import torch

    template = TransformerClassifier(
        tiny_model_dir, max_epochs=1, batch_size=16, device="cuda", random_state=0
    )

    def allocated():
        torch.cuda.synchronize()
        return torch.cuda.memory_allocated()

    kept, values = _twenty_fits(template, allocated)
    model = _model_bytes(kept)
    # No growth from fit to fit; at most one model more than the kept one at
    # any time (a dropped clone is collected when the next fit starts).
    assert min(values[-5:]) - min(values[3:8]) < model / 2, values
    assert max(values[3:]) - min(values[3:]) < 2 * model, values


class RecordThreads(Callback):
    """Records the torch thread count each fit trains with."""

    def on_epoch_end(self, net, **kwargs):
        import torch

        net.history.record("torch_threads", torch.get_num_threads())


@pytest.fixture
def picklable_test_module():
    # Worker processes cannot import this test module: send it by value.
    try:
        from joblib.externals import cloudpickle
    except ImportError:  # joblib >= 1.5 uses the cloudpickle package
        import cloudpickle

    module = sys.modules[__name__]
    cloudpickle.register_pickle_by_value(module)
    yield
    cloudpickle.unregister_pickle_by_value(module)


@pytest.mark.timeout(300)
def test_parallel_search_does_not_oversubscribe_or_deadlock(tiny_model_dir, picklable_test_module):
    from sklearn.model_selection import GridSearchCV, cross_validate

    X, y = _data(24)
    clf = TransformerClassifier(
        tiny_model_dir,
        max_epochs=1,
        batch_size=8,
        device="cpu",
        random_state=0,
        callbacks=[RecordThreads()],
    )
    result = cross_validate(clf, X, y, cv=2, n_jobs=2, return_estimator=True)
    budget = max(1, _cpu_count() // 2)
    threads = [est.history_[-1, "torch_threads"] for est in result["estimator"]]
    assert all(1 <= t <= budget for t in threads), (threads, budget)
    assert np.isfinite(result["test_score"]).all()

    search = GridSearchCV(clf, {"lr": [1e-4, 1e-3]}, cv=2, n_jobs=2).fit(X, y)
    assert search.best_estimator_.predict(X[:2]).shape == (2,)


@pytest.mark.timeout(300)
def test_threading_backend_does_not_deadlock(tiny_model_dir):
    import joblib
    from sklearn.model_selection import cross_val_score

    X, y = _data(16)
    clf = TransformerClassifier(tiny_model_dir, max_epochs=1, batch_size=8, device="cpu")
    with joblib.parallel_backend("threading", n_jobs=2):
        scores = cross_val_score(clf, X, y, cv=2, n_jobs=2)
    assert np.isfinite(scores).all()


def test_thread_budget_is_shared_by_concurrent_fits_and_restored():
    import torch

    before = torch.get_num_threads()
    with thread_budget() as first:
        assert first == torch.get_num_threads() <= before
        with thread_budget() as second:
            # Two fits at once in one process share the cores.
            assert second == max(1, min(before, _cpu_count() // 2))
            assert torch.get_num_threads() == second
    assert torch.get_num_threads() == before
