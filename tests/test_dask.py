"""Search across a cluster: GridSearchCV on joblib's Dask backend (a local 2-worker cluster)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("distributed")


@pytest.mark.timeout(400)
def test_grid_search_on_dask_cluster(tiny_model_dir):
    import logging

    import joblib
    from distributed import Client, LocalCluster
    from sklearn.model_selection import GridSearchCV

    from sktransformers import TransformerClassifier

    X = ["a great film", "awful acting", "i loved it", "i hated it"] * 4
    y = [1, 0, 1, 0] * 4
    clf = TransformerClassifier(
        tiny_model_dir, max_epochs=1, batch_size=8, device="cpu", random_state=0
    )
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        with joblib.parallel_backend("dask"):
            search = GridSearchCV(clf, {"lr": [1e-4, 1e-3]}, cv=2, n_jobs=-1).fit(X, y)
        # The fits ran in the cluster's worker processes.
        tasks = client.run(lambda dask_worker: len(dask_worker.state.log))
        assert len(tasks) == 2 and all(n > 0 for n in tasks.values())
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.predict(X[:2]).shape == (2,)
