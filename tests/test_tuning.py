"""Optuna: OptunaSearchCV with pruning through partial_fit, the pruning callback, tune()."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")
pytest.importorskip("optuna_integration")

from optuna.distributions import CategoricalDistribution, FloatDistribution  # noqa: E402
from optuna.trial import TrialState  # noqa: E402

from sktransformers import TransformerClassifier, TransformerRegressor  # noqa: E402
from sktransformers.tuning import (  # noqa: E402
    OptunaPruningCallback,
    default_search_space,
    tune,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)


class PruneOddTrials(optuna.pruners.BasePruner):
    """Prunes every odd-numbered trial at its first report: pruned trials on demand."""

    def prune(self, study, trial):
        return trial.number % 2 == 1


class PruneAfterFirstEpoch(optuna.pruners.BasePruner):
    def prune(self, study, trial):
        return True


def _texts(n=24):
    pos = ["a great film", "wonderful acting", "i loved it", "truly excellent"]
    neg = ["a terrible film", "awful acting", "i hated it", "truly boring"]
    X = (pos + neg) * (n // 8)
    y = (["pos"] * 4 + ["neg"] * 4) * (n // 8)
    return X, y


def _numbers(n=24):
    X, y = _texts(n)
    return X, np.array([1.0 if v == "pos" else -1.0 for v in y]) + np.linspace(0, 0.1, n)


def _small(cls, model, **kw):
    params = dict(max_epochs=2, batch_size=8, device="cpu", random_state=0)
    params.update(kw)
    return cls(model, **params)


@pytest.mark.parametrize(
    "cls, data", [(TransformerClassifier, _texts), (TransformerRegressor, _numbers)]
)
def test_optuna_search_cv_prunes_through_partial_fit(tiny_model_dir, cls, data):
    from optuna_integration import OptunaSearchCV

    X, y = data(16)
    est = _small(cls, tiny_model_dir)
    study = optuna.create_study(direction="maximize", pruner=PruneOddTrials())
    search = OptunaSearchCV(
        est,
        {"lr": FloatDistribution(1e-4, 1e-2, log=True)},
        cv=2,
        n_trials=2,
        enable_pruning=True,
        max_iter=est.max_epochs,  # one partial_fit call per epoch
        study=study,
        random_state=0,
    )
    search.fit(X, y)
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE, TrialState.PRUNED]
    # Pruned after its first epoch; complete trials trained every epoch.
    assert sorted(study.trials[1].intermediate_values) == [0]
    assert sorted(study.trials[0].intermediate_values) == list(range(est.max_epochs))
    best = search.best_estimator_
    assert len(best.history_) == est.max_epochs
    assert best.lr == study.best_params["lr"]
    assert search.predict(X[:3]).shape == (3,)


def test_pruning_callback_stops_cleanly_and_marks_trial(tiny_model_dir):
    X, y = _texts()
    study = optuna.create_study(direction="maximize", pruner=PruneAfterFirstEpoch())
    fitted = {}

    def objective(trial):
        pruning = OptunaPruningCallback(trial)
        clf = _small(
            TransformerClassifier,
            tiny_model_dir,
            max_epochs=4,
            validation_fraction=0.25,
            callbacks=[pruning],  # deep-copied by the estimator: still this trial
        )
        clf.fit(X, y)
        fitted["clf"], fitted["pruning"] = clf, pruning
        pruning.raise_if_pruned()
        return clf.history_[-1, "valid_score"]

    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.PRUNED
    assert list(trial.intermediate_values) == [1]
    clf, pruning = fitted["clf"], fitted["pruning"]
    assert pruning.pruned and pruning.pruned_epoch == 1
    # Stopped after one of four epochs, and the estimator is still usable.
    assert len(clf.history_) == 1
    assert clf.predict(X[:2]).shape == (2,)
    clf.partial_fit(X, y)  # reports again, to the same (finished) trial: no crash
    assert len(clf.history_) == 2
    # Pickling drops the trial; the unpickled estimator still predicts.
    restored = pickle.loads(pickle.dumps(clf))
    assert restored.predict(X[:2]).tolist() == clf.predict(X[:2]).tolist()


def test_pruning_callback_reports_every_epoch_when_not_pruned(tiny_model_dir):
    from sklearn.base import clone

    X, y = _texts()
    study = optuna.create_study(direction="minimize", pruner=optuna.pruners.NopPruner())

    def objective(trial):
        pruning = OptunaPruningCallback(trial, monitor="valid_loss")
        clf = _small(
            TransformerClassifier,
            tiny_model_dir,
            max_epochs=2,
            validation_fraction=0.25,
            callbacks=[pruning],
        )
        clf = clone(clf).fit(X, y)  # clone keeps the trial too
        pruning.raise_if_pruned()
        return clf.history_[-1, "valid_loss"]

    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.COMPLETE
    assert sorted(trial.intermediate_values) == [1, 2]
    assert trial.value == pytest.approx(trial.intermediate_values[2])


def test_pruning_callback_needs_a_validation_split(tiny_model_dir):
    X, y = _texts(8)
    trial = optuna.create_study().ask()
    clf = _small(TransformerClassifier, tiny_model_dir, callbacks=[OptunaPruningCallback(trial)])
    with pytest.raises(ValueError, match="validation_fraction"):
        clf.fit(X, y)


def test_tune_sqlite_prunes_resumes_and_refits(tiny_model_dir, tmp_path):
    X, y = _texts(16)
    storage = f"sqlite:///{tmp_path / 'tune.db'}"
    space = {
        "lr": FloatDistribution(1e-4, 1e-2, log=True),
        "batch_size": CategoricalDistribution([8, 16]),
        "max_epochs": 1,  # fixed values pass through
    }
    best, study = tune(
        _small(TransformerClassifier, tiny_model_dir, max_epochs=2),
        X,
        y,
        search_space=space,
        n_trials=2,
        storage=storage,
        study_name="s",
        pruner=PruneOddTrials(),
        random_state=0,
    )
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.PRUNED]
    assert best.lr == study.best_params["lr"]
    assert best.batch_size == study.best_params["batch_size"]
    assert best.max_epochs == 1 and len(best.history_) == 1
    # Refitted on all the data: the template's validation_fraction (None) is kept.
    assert best.validation_fraction is None and "valid_score" not in best.history_[-1]
    assert best.predict(X[:2]).shape == (2,)
    # The study lives in the file: a second call joins it.
    _, again = tune(
        _small(TransformerClassifier, tiny_model_dir, max_epochs=1),
        X,
        y,
        search_space=space,
        n_trials=1,
        storage=storage,
        study_name="s",
        load_if_exists=True,
        refit=False,
        pruner=optuna.pruners.NopPruner(),
    )
    assert len(again.trials) == 3
    assert all("worker" in t.user_attrs for t in again.trials)


def test_tune_default_space_without_refit(tiny_model_dir):
    X, y = _texts(16)
    best, study = tune(
        _small(TransformerRegressor, tiny_model_dir),
        X,
        _numbers(16)[1],
        n_trials=2,
        validation_fraction=0.25,
        refit=False,
        random_state=0,
    )
    est = _small(TransformerRegressor, tiny_model_dir)
    space = default_search_space(est)
    # The tiny model has 128 positions: longer max_length choices are left out.
    assert space["max_length"].choices == (64, 128)
    for trial in study.trials:
        assert set(trial.params) == set(space)
        for name, value in trial.params.items():
            assert space[name]._contains(space[name].to_internal_repr(value))
    # The best trial's own estimator, trained on its training split.
    assert best.validation_fraction == 0.25
    assert best.lr == study.best_params["lr"]
    assert np.isfinite(best.predict(X[:2])).all()


def test_tune_callable_space_and_all_pruned(tiny_model_dir):
    X, y = _texts(16)

    def space(trial):
        return {"lr": 10 ** trial.suggest_float("log_lr", -4, -2)}

    best, study = tune(
        _small(TransformerClassifier, tiny_model_dir, max_epochs=1),
        X,
        y,
        search_space=space,
        n_trials=1,
        validation_fraction=0.25,
    )
    assert best.lr == pytest.approx(10 ** study.best_params["log_lr"])
    with pytest.raises(RuntimeError, match="No trial"):
        tune(
            _small(TransformerClassifier, tiny_model_dir, max_epochs=1),
            X,
            y,
            search_space=space,
            n_trials=1,
            validation_fraction=0.25,
            pruner=PruneAfterFirstEpoch(),
        )


def test_postgres_url_without_driver_uses_psycopg2(monkeypatch):
    import importlib.util

    from sktransformers.integrations._tuning import _storage_url

    real = importlib.util.find_spec
    # As installed by the ``postgres`` extra: psycopg2 present, psycopg 3 absent.
    found = {"psycopg2": object(), "psycopg": None}
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: found.get(name, real(name, *a))
    )
    assert _storage_url("postgresql://u:p@h:5432/db") == "postgresql+psycopg2://u:p@h:5432/db"
    assert _storage_url("postgresql+psycopg2://u@h/db") == "postgresql+psycopg2://u@h/db"
    assert _storage_url("sqlite:///x.db") == "sqlite:///x.db"
    assert _storage_url(None) is None


def test_storage_open_is_retried_when_another_worker_creates_the_tables(monkeypatch, tmp_path):
    # Workers started together on a new database race to create Optuna's
    # tables; the loser's first open fails and must be retried, not raised.
    import optuna
    import sqlalchemy.exc

    from sktransformers.integrations import _tuning as tuning

    real = optuna.storages.RDBStorage
    calls = []

    class Racing(real):
        def __init__(self, url, *args, **kwargs):
            calls.append(url)
            if len(calls) == 1:
                raise sqlalchemy.exc.IntegrityError(
                    "CREATE TYPE studydirection", {}, Exception("duplicate key value")
                )
            super().__init__(url, *args, **kwargs)

    monkeypatch.setattr(optuna.storages, "RDBStorage", Racing)
    monkeypatch.setattr(tuning.time, "sleep", lambda s: None)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    storage = tuning._open_storage(url)
    assert isinstance(storage, real) and calls == [url, url]
    assert optuna.create_study(storage=storage, study_name="s").study_name == "s"

    # A database that stays unreachable still raises, after a few attempts.
    calls.clear()

    class Unreachable(real):
        def __init__(self, url, *args, **kwargs):
            calls.append(url)
            raise sqlalchemy.exc.OperationalError("connect", {}, Exception("refused"))

    monkeypatch.setattr(optuna.storages, "RDBStorage", Unreachable)
    with pytest.raises(sqlalchemy.exc.OperationalError):
        tuning._open_storage("postgresql+psycopg2://u@127.0.0.1:1/db")
    assert len(calls) == 5
    assert tuning._open_storage(None) is None
