"""A shared Optuna study in PostgreSQL: two worker processes, one study.

Needs a server: ``source .ci/postgres.sh`` starts one on 127.0.0.1 and exports
SKTRANSFORMERS_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

URL = os.environ.get("SKTRANSFORMERS_TEST_POSTGRES_URL")
WORKER = Path(__file__).parent / "scripts" / "optuna_worker.py"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not URL,
        reason="SKTRANSFORMERS_TEST_POSTGRES_URL is not set; `source .ci/postgres.sh` starts "
        "a local PostgreSQL server and sets it",
    ),
]


@pytest.fixture
def storage_url():
    """A new, empty PostgreSQL schema per test, as a first use of a new database.

    The workers then race to create Optuna's tables, as workers started
    together on a new database do.
    """
    pytest.importorskip("optuna")
    pytest.importorskip("psycopg2")
    import sqlalchemy

    schema = f"skt_{uuid.uuid4().hex[:8]}"
    engine = sqlalchemy.create_engine(URL)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in URL else "?"
    yield f"{URL}{sep}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.mark.timeout(400)
def test_two_workers_share_one_study(tiny_model_dir, storage_url):
    import optuna
    from optuna.trial import TrialState

    study_name = "shared-study"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(WORKER.parents[2]),
    }
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), tiny_model_dir, storage_url, study_name, "2"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=360)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], "\n".join(o[-2000:] for o in outputs)

    study = optuna.load_study(study_name=study_name, storage=storage_url)
    assert len(study.trials) == 4
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    # Both processes ran trials of the same study, with distinct trial numbers.
    assert len({t.user_attrs["worker"] for t in study.trials}) == 2
    assert sorted(t.number for t in study.trials) == [0, 1, 2, 3]

    # A third process (this one) joins, and refits the study's best parameters;
    # a URL without a driver works too (psycopg2, the ``postgres`` extra).
    plain_url = "postgresql://" + storage_url.split("://", 1)[1]
    from optuna.distributions import FloatDistribution

    from sktransformers import TransformerClassifier
    from sktransformers.tuning import tune

    X = ["a great film", "awful acting", "i loved it", "i hated it"] * 4
    y = [1, 0, 1, 0] * 4
    best, study = tune(
        TransformerClassifier(tiny_model_dir, max_epochs=1, batch_size=8, device="cpu"),
        X,
        y,
        search_space={"lr": FloatDistribution(1e-4, 1e-2, log=True)},
        n_trials=1,
        validation_fraction=0.25,
        storage=plain_url,
        study_name=study_name,
        load_if_exists=True,
    )
    assert len(study.trials) == 5
    assert best.lr == study.best_params["lr"]


@pytest.mark.timeout(400)
def test_worker_killed_mid_trial_is_retried(tiny_model_dir, storage_url, tmp_path):
    # A worker SIGKILLed inside a trial leaves it RUNNING; with heartbeats the
    # next worker marks it FAIL and completes a retried copy (same parameters).
    from test_tuning_faults import check_dead_trial_retried, kill_worker_mid_trial

    kill_worker_mid_trial(tiny_model_dir, storage_url, "killed", tmp_path)
    check_dead_trial_retried(tiny_model_dir, storage_url, "killed")
