"""Hyper-parameter tuning with Optuna (``pip install -e ".[optuna]" (from a checkout)``).

The code of :mod:`sktransformers.tuning` (its public path, which documents it).
"""

from __future__ import annotations

import copy
import gc
import inspect
import numbers
import os
import re
import socket
import time
import warnings
from typing import Any

from skorch.callbacks import Callback

from ..utils._extras import install_hint
from ..utils._typing import RandomState, Targets, Texts

__all__ = ["OptunaPruningCallback", "default_search_space", "tune"]

_EXTRA_HINT = f"Install it with: {install_hint('optuna')}"


def _import_optuna():
    try:
        import optuna
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise ImportError(f"sktransformers.tuning needs optuna. {_EXTRA_HINT}") from exc
    return optuna


class _PruneState:
    """Shared by a callback and its copies, so the caller's instance sees the outcome."""

    def __init__(self):
        self.pruned = False
        self.epoch = None


class OptunaPruningCallback(Callback):
    """Report the validation score of every epoch to an Optuna trial; stop if pruned.

    Pass it in the estimator's ``callbacks`` and fit with
    ``validation_fraction`` set, so that ``valid_score`` (accuracy for
    classifiers, R² for regressors) or ``valid_loss`` is recorded each epoch.
    After every epoch the callback calls ``trial.report(value, epoch)``; when
    ``trial.should_prune()`` says so, training stops at the end of that epoch
    as early stopping does (``fit`` returns normally and the estimator can
    predict, be saved or be trained further). Then call
    :meth:`raise_if_pruned` in the objective, which raises
    ``optuna.TrialPruned`` so that Optuna marks the trial as pruned.

    The estimator (and scikit-learn's ``clone``) copy their callbacks; every
    copy of this callback reports to the same trial and shares the
    ``pruned`` flag with the instance you created. Pickling an estimator
    drops the trial (a trial belongs to its study's storage): the unpickled
    callback does nothing, and neither does it once the trial has finished
    (training the returned estimator further is fine).

    Parameters
    ----------
    trial : optuna.trial.Trial
        The trial of the running objective.
    monitor : str, default="valid_score"
        History key to report: ``"valid_score"`` (higher is better; create
        the study with ``direction="maximize"``) or ``"valid_loss"`` (lower
        is better; ``direction="minimize"``).

    Attributes
    ----------
    pruned : bool
        Whether the last fit was stopped by the pruner.
    pruned_epoch : int or None
        The epoch after which it was stopped.

    Examples
    --------
    >>> import optuna
    >>> from sktransformers import TransformerClassifier
    >>> from sktransformers.tuning import OptunaPruningCallback
    >>> X = ["great film", "awful film", "loved it", "hated it"] * 4
    >>> y = ["pos", "neg", "pos", "neg"] * 4
    >>> def objective(trial):
    ...     pruning = OptunaPruningCallback(trial)
    ...     clf = TransformerClassifier(
    ...         lr=trial.suggest_float("lr", 1e-5, 1e-3, log=True), max_epochs=2,
    ...         validation_fraction=0.25, callbacks=[pruning], random_state=0,
    ...     ).fit(X, y)
    ...     pruning.raise_if_pruned()
    ...     return clf.history_[-1, "valid_score"]
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study(direction="maximize")
    >>> study.optimize(objective, n_trials=1)
    >>> len(study.trials)
    1
    """

    def __init__(self, trial, monitor="valid_score"):
        self.trial = trial
        self.monitor = monitor
        self._state = _PruneState()

    @property
    def pruned(self):
        return self._state.pruned

    @property
    def pruned_epoch(self):
        return self._state.epoch

    def initialize(self):
        self._state.pruned = False
        self._state.epoch = None
        return self

    def on_epoch_end(self, net, **kwargs):
        if self.trial is None:
            return
        row = net.history[-1]
        if self.monitor not in row:
            raise ValueError(
                f"OptunaPruningCallback monitors {self.monitor!r}, which this fit does not "
                f"record (recorded: {sorted(k for k in row if k != 'batches')}). Set "
                "validation_fraction on the estimator (for example 0.2) to record "
                "valid_loss and valid_score each epoch."
            )
        epoch = int(row["epoch"])
        optuna = _import_optuna()
        try:
            self.trial.report(float(row[self.monitor]), step=epoch)
        except optuna.exceptions.UpdateFinishedTrialError:
            # Training on after the trial ended (partial_fit of the returned
            # estimator): nothing left to report to.
            self.trial = None
            return
        if self.trial.should_prune():
            self._state.pruned = True
            self._state.epoch = epoch
            # skorch's partial_fit ends training on KeyboardInterrupt and then
            # runs on_train_end, exactly as for its own EarlyStopping.
            raise KeyboardInterrupt

    def raise_if_pruned(self):
        """Raise ``optuna.TrialPruned`` if the last fit was stopped by the pruner."""
        if self._state.pruned:
            optuna = _import_optuna()
            raise optuna.TrialPruned(f"trial pruned after epoch {self._state.epoch}")

    # Copies (the estimator's deepcopy of its callbacks, sklearn's clone) keep
    # the very same trial and pruning state: a trial cannot be copied.
    def __deepcopy__(self, memo):
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            shared = key in ("trial", "_state")
            new.__dict__[key] = value if shared else copy.deepcopy(value, memo)
        return new

    def __getstate__(self):
        state = self.__dict__.copy()
        state["trial"] = None
        return state

    def __sklearn_clone__(self):
        return copy.deepcopy(self)


def default_search_space(estimator=None):
    """The search space :func:`tune` uses unless told otherwise.

    Parameters
    ----------
    estimator : estimator or None, default=None
        When given, ``max_length`` choices longer than its model's position
        table are left out (the config is read; no weights are loaded).

    Returns
    -------
    space : dict of str to optuna distribution
        ``lr`` log-uniform in [1e-5, 3e-4]; ``max_epochs`` in 1..5;
        ``batch_size`` in {16, 32, 64}; ``warmup_ratio`` in [0, 0.2];
        ``weight_decay`` in [0, 0.1]; ``max_length`` in {64, 128, 256}.
        Copy it and change entries to build your own.

    Examples
    --------
    >>> from optuna.distributions import FloatDistribution
    >>> from sktransformers.tuning import default_search_space
    >>> space = {**default_search_space(), "lr": FloatDistribution(1e-4, 1e-3, log=True)}
    >>> sorted(space)
    ['batch_size', 'lr', 'max_epochs', 'max_length', 'warmup_ratio', 'weight_decay']
    """
    _import_optuna()
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    return {
        "lr": FloatDistribution(1e-5, 3e-4, log=True),
        "max_epochs": IntDistribution(1, 5),
        "batch_size": CategoricalDistribution([16, 32, 64]),
        "warmup_ratio": FloatDistribution(0.0, 0.2),
        "weight_decay": FloatDistribution(0.0, 0.1),
        "max_length": CategoricalDistribution(_max_length_choices(estimator, (64, 128, 256))),
    }


def _max_length_choices(estimator, choices):
    model = None if estimator is None else estimator.get_params(deep=False).get("model")
    if not isinstance(model, (str, os.PathLike)):
        return list(choices)
    from ..engine import _base, _hub

    trust = getattr(estimator, "trust_remote_code", False)
    config = _hub.load_config(_hub.resolve_model(model), trust)
    reserved = getattr(_base, "_ABSOLUTE_POSITIONS", {}).get(getattr(config, "model_type", None))
    n_positions = getattr(config, "max_position_embeddings", None)
    if reserved is None or not isinstance(n_positions, int):
        return list(choices)
    limit = n_positions - reserved
    return [c for c in choices if c <= limit] or [limit]


def _suggest(trial, space):
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    params = {}
    for name, dist in space.items():
        if isinstance(dist, FloatDistribution):
            params[name] = trial.suggest_float(
                name, dist.low, dist.high, log=dist.log, step=dist.step
            )
        elif isinstance(dist, IntDistribution):
            params[name] = trial.suggest_int(
                name, dist.low, dist.high, log=dist.log, step=dist.step
            )
        elif isinstance(dist, CategoricalDistribution):
            params[name] = trial.suggest_categorical(name, dist.choices)
        else:  # a fixed value
            params[name] = dist
    return params


def _release(estimator):
    if estimator is not None and hasattr(estimator, "_release"):
        estimator._release()


def tune(
    estimator: Any,
    X: Texts,
    y: Targets,
    *,
    search_space: dict[str, Any] | None = None,
    n_trials: int | None = 20,
    timeout: float | None = None,
    validation_fraction: float = 0.2,
    storage: Any = None,
    study_name: str | None = None,
    load_if_exists: bool = False,
    sampler: Any = None,
    pruner: Any = None,
    refit: bool = True,
    random_state: RandomState = None,
    show_progress_bar: bool = False,
    heartbeat_interval: int | None = 60,
    grace_period: int | None = None,
    max_retry: int | None = 3,
) -> Any:
    """Tune an estimator's hyper-parameters with Optuna, pruning poor trials.

    Each trial fits a clone of ``estimator`` with suggested parameters on
    ``1 - validation_fraction`` of the data and scores it every epoch on the
    rest (accuracy or R², the estimator's ``valid_score``); the pruner stops
    trials that fall behind. The trial's value is the score after its last
    epoch. Then the best parameters are refitted on all of ``X, y``.

    Parameters
    ----------
    estimator : sktransformers estimator
        The template; its parameters that are not searched are kept.
    X : texts or text pairs
    y : array-like
    search_space : dict or callable, default=None
        None uses ``default_search_space(estimator)``. A dict maps parameter names to
        optuna distributions (or to fixed values) and replaces the default
        space; merge with ``{**default_search_space(), ...}`` to change only
        some entries. A callable ``search_space(trial) -> dict of params``
        gives full control (conditional parameters, derived values).
    n_trials : int or None, default=20
        Trials run by this call (several workers sharing a study each run
        their own ``n_trials``).
    timeout : float or None, default=None
        Stop starting new trials after this many seconds.
    validation_fraction : float, default=0.2
        Share of ``X`` held out in each trial when ``estimator`` has no
        ``validation_fraction`` of its own.
    storage : str, optuna storage or None, default=None
        Where the study lives. None keeps it in memory (nothing written;
        lost when the process exits). ``"sqlite:///tuning.db"`` keeps it in
        a local file (embedded, no server): a study can be resumed or
        inspected with ``optuna-dashboard``, and a few processes on one
        machine can share it. A PostgreSQL URL
        (``"postgresql://user:password@host:5432/db"``, needs
        ``pip install -e ".[postgres]"``) lets workers on several machines share
        one study: start each with the same ``study_name`` and
        ``load_if_exists=True``. Workers may start at the same moment on a
        new database: a worker that loses the race to create Optuna's tables
        opens the storage again (up to five attempts).
    study_name : str or None, default=None
        Name of the study in ``storage``.
    load_if_exists : bool, default=False
        Join the existing study ``study_name`` instead of failing.
    sampler : optuna sampler or None, default=None
        None uses ``TPESampler(seed=random_state)``.
    pruner : optuna pruner or None, default=None
        None uses ``MedianPruner(n_startup_trials=5, n_warmup_steps=1)``:
        from the sixth trial on, a trial whose score after an epoch (from the
        second on) is below the median of earlier trials at that epoch stops.
    refit : bool, default=True
        Refit the best parameters on all of ``X, y`` (as scikit-learn's
        searches do). With False, the estimator of the best trial is returned
        as trained in its trial (on the training part only) if this process
        ran it, else None; this saves one training.
    random_state : int or None, default=None
        Seeds the default sampler.
    show_progress_bar : bool, default=False
        Optuna's progress bar.
    heartbeat_interval : int or None, default=60
        Seconds between the heartbeats a running trial writes to a database
        ``storage`` (a URL; storage objects are used as given, and in-memory
        studies have no heartbeats). A trial whose worker died (killed, out
        of memory, machine lost) stops beating and stays ``RUNNING`` in the
        database; after ``grace_period`` the next worker that starts a trial
        marks it ``FAIL`` and enqueues a copy with the same parameters, which
        the next free worker runs first (for each copy,
        ``optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number``,
        ``RetryFailedTrialCallback`` before Optuna 4.9, names the original).
        None turns heartbeats and these retries off.
    grace_period : int or None, default=None
        Seconds without a heartbeat after which a running trial counts as
        dead; None means ``2 * heartbeat_interval``. Workers sharing a study
        should use the same settings.
    max_retry : int or None, default=3
        How many times a trial whose worker died is retried (0: never; None:
        without limit). A trial that kills its worker every time (running out
        of memory, say) then stays failed.

    Returns
    -------
    best_estimator : fitted estimator or None
        See ``refit``.
    study : optuna.Study
        All trials, with ``study.best_params`` and ``study.best_value``; each
        trial's ``user_attrs`` hold the estimator parameters it used and the
        worker (host and process id) that ran it.

    Raises
    ------
    KeyboardInterrupt
        After Ctrl+C (``SIGINT``) during a trial, once the study is left
        clean: the interrupted trial is stored as ``PRUNED`` with the user
        attribute ``interrupted=True`` (never as a failure, and never with a
        score of a half-trained model), its parameters are enqueued so that
        the next ``tune`` on the same study (``load_if_exists=True``) runs
        them first, no further trial starts and nothing is refitted. The
        study is in ``storage`` (resume it, or read it with
        ``optuna.load_study``) and in the exception's ``study`` attribute.
        An interrupt during the final refit propagates as it does from
        ``fit``.
    RuntimeError
        When no trial completed, or when a trial's fit recorded no
        ``valid_score`` for its last epoch (validation switched off by the
        search space, or training stopped in the middle of an epoch).

    Examples
    --------
    >>> from optuna.distributions import FloatDistribution
    >>> from sktransformers import TransformerClassifier
    >>> from sktransformers.tuning import tune
    >>> X = ["great film", "awful film", "loved it", "hated it"] * 2
    >>> y = ["pos", "neg", "pos", "neg"] * 2
    >>> best, study = tune(
    ...     TransformerClassifier(max_epochs=1, random_state=0), X, y,
    ...     search_space={"lr": FloatDistribution(1e-5, 1e-3, log=True)},
    ...     n_trials=2, validation_fraction=0.25, random_state=0,
    ... )
    >>> len(study.trials), best.predict(["what a film"]).shape
    (2, (1,))
    """
    optuna = _import_optuna()
    from sklearn.base import clone

    _check_fault_params(heartbeat_interval, grace_period, max_retry)
    if search_space is None:
        search_space = default_search_space(estimator)
    if not (callable(search_space) or isinstance(search_space, dict)):
        raise TypeError(
            f"search_space must be a dict or a callable, got {type(search_space).__name__}."
        )
    if sampler is None:
        sampler = optuna.samplers.TPESampler(seed=random_state)
    if pruner is None:
        pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    study = optuna.create_study(
        storage=_open_storage(
            storage,
            heartbeat_interval=heartbeat_interval,
            grace_period=grace_period,
            max_retry=max_retry,
        ),
        study_name=study_name,
        load_if_exists=load_if_exists,
        direction="maximize",
        sampler=sampler,
        pruner=pruner,
    )
    held_out = estimator.get_params(deep=False).get("validation_fraction") or validation_fraction
    worker = f"{socket.gethostname()}:{os.getpid()}"
    kept = {"number": None, "estimator": None}
    interrupted: list[int] = []

    def run_trial(trial):
        params = search_space(trial) if callable(search_space) else _suggest(trial, search_space)
        trial.set_user_attr("worker", worker)
        trial.set_user_attr("estimator_params", _jsonable(params))
        pruning = OptunaPruningCallback(trial, monitor="valid_score")
        est = clone(estimator)  # its own copies of the user's callbacks, per trial
        base_callbacks = list(est.get_params(deep=False).get("callbacks") or [])
        est.set_params(
            **{"validation_fraction": held_out, **params},
            callbacks=[*base_callbacks, ("optuna_pruning", pruning)],
        )
        try:
            try:
                est.fit(X, y)
            except KeyboardInterrupt:
                if not pruning.pruned:  # a stop the pruner asked for is no interrupt
                    raise
            pruning.raise_if_pruned()
            value = _trial_score(est, trial.number)
        except BaseException:
            _release(est)
            raise
        if not refit and (kept["estimator"] is None or value > kept["value"]):
            _release(kept["estimator"])
            est.set_params(callbacks=base_callbacks or None)
            kept.update(number=trial.number, value=value, estimator=est)
        else:
            _release(est)
        return value

    def objective(trial):
        try:
            return run_trial(trial)
        except KeyboardInterrupt:
            raise _interrupt_trial(optuna, study, trial, interrupted) from None

    study.optimize(
        objective,
        n_trials=n_trials,
        timeout=timeout,
        gc_after_trial=True,
        show_progress_bar=show_progress_bar,
    )
    if interrupted:
        _release(kept["estimator"])
        stop = KeyboardInterrupt(
            f"tune was interrupted during trial {interrupted[0]} of study "
            f"{study.study_name!r}; that trial is stored as pruned (user attribute "
            "interrupted=True) and its parameters are enqueued: run tune again with the "
            "same storage, study_name and load_if_exists=True to resume."
        )
        stop.study = study  # type: ignore[attr-defined]  # the study rides on the interrupt
        raise stop
    completed = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not completed:
        raise RuntimeError(
            f"No trial of study {study.study_name!r} completed ({len(study.trials)} trials, all "
            "pruned or failed); run more trials or use a less aggressive pruner."
        )
    best_trial = study.best_trial
    if not refit:
        best = kept["estimator"] if kept["number"] == best_trial.number else None
        if best is None:
            _release(kept["estimator"])
        return best, study
    _release(kept["estimator"])
    gc.collect()
    params = best_trial.user_attrs.get("estimator_params", best_trial.params)
    best = clone(estimator).set_params(**params)
    best.fit(X, y)
    return best, study


def _interrupt_trial(optuna, study, trial, interrupted):
    """End ``trial`` cleanly after Ctrl+C; return the exception for the objective to raise.

    Optuna stores a trial whose objective raised ``KeyboardInterrupt`` as
    failed. The interrupt says nothing about the parameters, so the trial is
    pruned instead (with ``interrupted=True``), its parameters are enqueued
    for the next run of the study, and the study stops after it; :func:`tune`
    raises ``KeyboardInterrupt`` once ``optimize`` has returned.
    """
    interrupted.append(trial.number)
    trial.set_user_attr("interrupted", True)
    study.enqueue_trial(
        trial.params, user_attrs={"retry_of_interrupted": trial.number}, skip_if_exists=False
    )
    study.stop()
    return optuna.TrialPruned(
        f"trial {trial.number} interrupted (KeyboardInterrupt); its parameters are enqueued"
    )


def _trial_score(est, number):
    """The trial's value: ``valid_score`` after the last epoch, or a clear error."""
    history = est.history_
    row = history[-1] if len(history) else {}
    if "valid_score" not in row:
        recorded = sorted(k for k in row if k != "batches")
        raise RuntimeError(
            f"Trial {number}: the fit recorded no 'valid_score' for its last epoch "
            f"(recorded: {recorded}). tune scores each trial on held-out data at the end of "
            "every epoch: keep validation_fraction set (the search space must not set it to "
            "None), and let every epoch finish (training stopped in the middle of an epoch, "
            "for example by a callback raising KeyboardInterrupt from on_batch_end, leaves "
            "that epoch unscored)."
        )
    return float(row["valid_score"])


def _check_fault_params(heartbeat_interval, grace_period, max_retry):
    for name, value, low in (
        ("heartbeat_interval", heartbeat_interval, 1),
        ("grace_period", grace_period, 1),
        ("max_retry", max_retry, 0),
    ):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(
                f"{name} must be None or an integer >= {low} (seconds for the heartbeat "
                f"settings), got {value!r}."
            )


def _heartbeat_kwargs(heartbeat_interval, grace_period, max_retry):
    """``RDBStorage`` keyword arguments for heartbeats and retries of dead workers' trials.

    Optuna 4.9 renamed ``RetryFailedTrialCallback`` and the storage's
    ``failed_trial_callback`` (``...HeartbeatStale...``); both spellings work.
    """
    if heartbeat_interval is None:
        return {}
    import optuna

    storages = optuna.storages
    retry = getattr(storages, "RetryHeartbeatStaleTrialCallback", None)
    retry = retry or storages.RetryFailedTrialCallback
    accepted = inspect.signature(storages.RDBStorage.__init__).parameters
    key = (
        "heartbeat_stale_trial_callback"
        if "heartbeat_stale_trial_callback" in accepted
        else "failed_trial_callback"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        callback = retry(max_retry=max_retry)
    return {
        "heartbeat_interval": int(heartbeat_interval),
        "grace_period": None if grace_period is None else int(grace_period),
        key: callback,
    }


def _storage_url(storage):
    """A database URL string, read safely; other values pass through.

    A password may hold any character: ``@``, ``:`` or ``/`` that the user did
    not percent-encode are encoded here (the user information ends at the
    first ``@`` followed by ``host[:port]``), so SQLAlchemy never reads part
    of the password as the host or the port. An unreadable URL is a
    ``ValueError`` that shows the URL with its password masked.

    SQLAlchemy 2.1 reads ``postgresql://`` as psycopg 3; the ``postgres``
    extra installs psycopg2, so a PostgreSQL URL without a driver uses
    psycopg2 when psycopg (3) is missing.
    """
    if not isinstance(storage, str) or "://" not in storage:
        return storage
    import importlib.util

    scheme, rest = storage.split("://", 1)
    if (
        scheme in ("postgresql", "postgres")
        and importlib.util.find_spec("psycopg") is None
        and importlib.util.find_spec("psycopg2")
    ):
        scheme = "postgresql+psycopg2"
    url = f"{scheme}://{_quoted_user_info(rest)}"
    from sqlalchemy.engine import make_url

    try:
        make_url(url)
    except Exception:  # its message may quote the URL; never show the password
        raise ValueError(
            f"storage={_masked_url(storage)!r} is not a valid database URL "
            "(dialect+driver://user:password@host:port/database)."
        ) from None
    return url


_HOST_PORT = re.compile(r"(\[[^\]]*\]|[^:/?#@\[\]]*)(:[0-9]*)?")


def _user_info_end(rest):
    """Index of the ``@`` that ends the user information of a URL's rest, or -1."""
    if rest.startswith("/"):  # sqlite:///path: no authority
        return -1
    at = rest.find("@")
    while at >= 0:
        host = re.split(r"[/?#]", rest[at + 1 :], maxsplit=1)[0]
        if _HOST_PORT.fullmatch(host):
            return at
        at = rest.find("@", at + 1)
    return -1


def _quoted_user_info(rest):
    """The URL's rest with its user name and password percent-encoded (once)."""
    from urllib.parse import quote, unquote

    at = _user_info_end(rest)
    if at < 0:
        return rest
    user, colon, password = rest[:at].partition(":")
    info = quote(unquote(user), safe="")
    if colon:
        info += ":" + quote(unquote(password), safe="")
    return info + rest[at:]


def _masked_url(storage):
    """The URL with its password replaced by ``***`` (for error messages)."""
    scheme, sep, rest = storage.partition("://")
    at = _user_info_end(rest)
    if at < 0:
        # No readable host after an "@": mask everything up to the last one.
        at = rest.rfind("@")
        if at < 0:
            return storage
    user = rest[:at].partition(":")[0]
    return f"{scheme}{sep}{user}:***{rest[at:]}"


def _open_storage(
    storage, attempts=5, *, heartbeat_interval=None, grace_period=None, max_retry=None
):
    """Open a database URL as an optuna ``RDBStorage``; other values pass through.

    With ``heartbeat_interval``, running trials write heartbeats and a trial
    whose worker died is failed and retried (see :func:`tune`).

    Workers started together on a new database all create Optuna's tables at
    once; all but one then fail (PostgreSQL: duplicate key on the
    ``studydirection`` type). Opening again finds the tables made by the
    winner, so a failed first open is retried a few times before the error is
    raised.
    """
    if not isinstance(storage, str):
        return storage
    import optuna
    import sqlalchemy.exc

    url = _storage_url(storage)
    kwargs = _heartbeat_kwargs(heartbeat_interval, grace_period, max_retry)
    for attempt in range(attempts):
        try:
            with warnings.catch_warnings():
                # Heartbeats are "experimental" in Optuna since 2.9; chosen knowingly.
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(url, **kwargs)
        except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


def _jsonable(params):
    out = {}
    for key, value in params.items():
        if hasattr(value, "item"):  # numpy scalars
            value = value.item()
        out[key] = value
    return out
