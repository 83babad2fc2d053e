"""Experiment tracking: per-epoch metrics and the estimator's parameters.

The code of :mod:`sktransformers.tracking` (its public path, which documents it).
"""

from __future__ import annotations

from numbers import Number

from skorch.callbacks import Callback
from skorch.callbacks.logging import filter_log_keys

from ..engine._parameters import NET_PARAMS_ATTRIBUTE, estimator_params
from ..utils._extras import install_hint

__all__ = ["TensorBoard", "MlflowLogger", "estimator_params", "log_params", "tensorboard_tag"]


def log_params(estimator, *, run=None, client=None, writer=None):
    """Record the estimator's parameters in an MLflow run and/or a TensorBoard writer.

    For loggers other than this module's callbacks (skorch's own, Weights &
    Biases). With neither ``run`` nor ``writer``, logs to MLflow's active run.

    Parameters
    ----------
    estimator : sktransformers estimator
    run : mlflow.entities.Run, default=None
        The MLflow run; None means the active run when ``writer`` is None.
    client : mlflow.MlflowClient, default=None
        None: ``MlflowClient()`` (the current tracking URI).
    writer : torch.utils.tensorboard.SummaryWriter, default=None
        A TensorBoard writer: the parameters go in as a text summary.
    """
    params = estimator_params(estimator)
    if writer is not None:
        writer.add_text("params", _markdown_table(params))
    if run is not None or client is not None or writer is None:
        mlflow = _import("mlflow", "MLflow")
        from mlflow.entities import Param

        run_id = run.info.run_id if run is not None else _active_run_id(mlflow)
        (client or mlflow.MlflowClient()).log_batch(
            run_id, params=[Param(k, _param_str(v)) for k, v in params.items()]
        )


def _active_run_id(mlflow):
    active = mlflow.active_run()
    if active is None:
        raise ValueError("No active MLflow run: pass run= or call inside mlflow.start_run().")
    return active.info.run_id


def _param_str(value):
    return "None" if value is None else str(value)


def _markdown_table(params):
    rows = ["| parameter | value |", "|---|---|"]
    rows += [f"| {k} | {v} |" for k, v in params.items()]
    return "\n".join(rows)


def _import(name, what):
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        raise ImportError(f"{what} logging needs {name}: {install_hint('tracking')}.") from None


def tensorboard_tag(key):
    """History key to TensorBoard tag: ``Loss/train_loss``, ``Score/valid_score``, ``dur``."""
    if key.endswith("_loss"):
        return f"Loss/{key}"
    if "score" in key:
        return f"Score/{key}"
    return key


def _net_params(net):
    return getattr(net, NET_PARAMS_ATTRIBUTE, None)


class TensorBoard(Callback):
    """Log every epoch's losses and scores to TensorBoard, and the estimator's parameters.

    Parameters
    ----------
    log_dir : str or path-like, default=None
        The run's directory (``SummaryWriter(log_dir)``); None means
        ``runs/<date>_<host>`` as in torch.
    keys_ignored : str or list of str, default=None
        History keys not to log (besides skorch's ``event_*``, ``*_best``
        and ``batches``).
    key_mapper : callable, default=tensorboard_tag
        History key to TensorBoard tag: losses go under ``Loss/``, scores
        (``valid_score``, ``valid_score_<task>``) under ``Score/``, so each
        group shares a chart.

    Attributes
    ----------
    writer_ : torch.utils.tensorboard.SummaryWriter
        The writer, open while training runs.

    Notes
    -----
    Each ``fit`` (and each ``partial_fit``) appends to the same directory;
    give each run its own ``log_dir`` to compare runs side by side.
    The parameters are written as a text summary (``params``) and, at the
    end of training, as hyperparameters with the last epoch's metrics
    (``hparam/<key>``) for TensorBoard's HParams tab.
    """

    def __init__(self, log_dir=None, *, keys_ignored=None, key_mapper=tensorboard_tag):
        self.log_dir = log_dir
        self.keys_ignored = keys_ignored
        self.key_mapper = key_mapper

    def initialize(self):
        keys = self.keys_ignored
        self.keys_ignored_ = set([keys] if isinstance(keys, str) else (keys or []))
        self.keys_ignored_.add("batches")
        self.writer_ = None
        return self

    def on_train_begin(self, net, **kwargs):
        _import("tensorboard", "TensorBoard")
        from torch.utils.tensorboard import SummaryWriter

        self.writer_ = SummaryWriter(None if self.log_dir is None else str(self.log_dir))
        params = _net_params(net)
        if params:
            self.writer_.add_text("params", _markdown_table(params))

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        for key in filter_log_keys(row, keys_ignored=self.keys_ignored_):
            value = row.get(key)
            if isinstance(value, Number) and not isinstance(value, bool):
                self.writer_.add_scalar(self.key_mapper(key), value, global_step=row["epoch"])

    def on_train_end(self, net, **kwargs):
        if self.writer_ is None:
            return
        params = _net_params(net)
        if params and len(net.history):
            from torch.utils.tensorboard.summary import hparams

            row = net.history[-1]
            metrics = {
                f"hparam/{key}": row[key]
                for key in filter_log_keys(row, keys_ignored=self.keys_ignored_)
                if isinstance(row.get(key), Number) and key != "epoch"
            }
            values = {k: ("None" if v is None else v) for k, v in params.items()}
            for summary in hparams(values, metrics):
                self.writer_.file_writer.add_summary(summary)
            for key, value in metrics.items():
                self.writer_.add_scalar(key, value, global_step=row["epoch"])
        self.writer_.close()
        self.writer_ = None

    def __getstate__(self):
        # An open writer holds a thread lock; a copy starts without one.
        state = self.__dict__.copy()
        state["writer_"] = None
        return state


class MlflowLogger(Callback):
    """Log every epoch's losses and scores to MLflow, and the estimator's parameters.

    Parameters
    ----------
    run : mlflow.entities.Run, default=None
        The run to log to. None: without ``client``, the active run
        (``with mlflow.start_run():``) or else a new run in the current
        experiment (``mlflow.set_experiment``); with ``client``, a new run in
        ``experiment_name``. A run this callback starts ends after training.
    client : mlflow.MlflowClient, default=None
        None: ``MlflowClient()``, which follows ``mlflow.set_tracking_uri``
        and ``MLFLOW_TRACKING_URI``.
    log_on_batch_end : bool, default=False
        Also log each batch's loss.
    keys_ignored : str or list of str, default=None
        History keys not to log.
    create_artifact : bool, default=False
        Upload the model's weights, optimizer state and history as artifacts
        after training (skorch's ``save_params``): about 90 MB for the default
        model, at every ``fit``.
    experiment_name : str, default=None
        With ``client`` and no ``run``: the experiment of the new run
        (created if missing); None means MLflow's "Default".

    Attributes
    ----------
    run_ : mlflow.entities.Run
        The run logged to.

    Notes
    -----
    Metrics are logged at step = epoch number, so ``partial_fit`` calls
    continue the curves. Parameters are logged once per run; MLflow refuses
    to change a logged parameter, so log a refit with other parameters to a
    new run.
    """

    def __init__(
        self,
        run=None,
        client=None,
        *,
        log_on_batch_end=False,
        keys_ignored=None,
        create_artifact=False,
        experiment_name=None,
    ):
        self.run = run
        self.client = client
        self.experiment_name = experiment_name
        self.log_on_batch_end = log_on_batch_end
        self.keys_ignored = keys_ignored
        self.create_artifact = create_artifact

    def initialize(self):
        keys = self.keys_ignored
        self.keys_ignored_ = set([keys] if isinstance(keys, str) else (keys or []))
        self.keys_ignored_.add("batches")
        return self

    def on_train_begin(self, net, **kwargs):
        mlflow = _import("mlflow", "MLflow")
        self.client_ = self.client if self.client is not None else mlflow.MlflowClient()
        self.started_ = None
        self.run_ = self.run
        if self.run_ is None and self.client is None:
            self.run_ = mlflow.active_run()
            if self.run_ is None:
                self.run_, self.started_ = mlflow.start_run(), "fluent"
        elif self.run_ is None:
            name = self.experiment_name or "Default"
            experiment = self.client_.get_experiment_by_name(name)
            experiment_id = (
                self.client_.create_experiment(name)
                if experiment is None
                else experiment.experiment_id
            )
            self.run_, self.started_ = self.client_.create_run(experiment_id), "client"
        self._batch_step = 0
        params = _net_params(net)
        run_id = self.run_.info.run_id
        if params:
            from mlflow.entities import Param

            logged = self.client_.get_run(run_id).data.params
            new = [Param(k, _param_str(v)) for k, v in params.items() if k not in logged]
            if new:
                self.client_.log_batch(run_id, params=new)

    def on_batch_end(self, net, training=False, **kwargs):
        if not self.log_on_batch_end:
            return
        self._batch_step += 1
        row = net.history[-1]["batches"][-1]
        self._log(row, suffix="_batch", step=self._batch_step)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        self._log(row, suffix="", step=int(row["epoch"]))

    def _log(self, row, *, suffix, step):
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [
            Metric(key + suffix, float(row[key]), now, step)
            for key in filter_log_keys(row, keys_ignored=self.keys_ignored_)
            if isinstance(row.get(key), Number) and not isinstance(row.get(key), bool)
        ]
        if metrics:
            self.client_.log_batch(self.run_.info.run_id, metrics=metrics)

    def on_train_end(self, net, **kwargs):
        try:
            if self.create_artifact:
                import tempfile
                from pathlib import Path

                with tempfile.TemporaryDirectory(prefix="sktransformers_mlflow_") as tmp:
                    paths = {
                        name: Path(tmp) / filename
                        for name, filename in (
                            ("f_params", "params.pth"),
                            ("f_optimizer", "optimizer.pth"),
                            ("f_history", "history.json"),
                        )
                    }
                    net.save_params(**paths)
                    for path in paths.values():
                        self.client_.log_artifact(self.run_.info.run_id, str(path))
        finally:
            if self.started_ == "fluent":
                import mlflow

                mlflow.end_run()
            elif self.started_ == "client":
                self.client_.set_terminated(self.run_.info.run_id)

    def __getstate__(self):
        state = self.__dict__.copy()
        for key in ("client_", "run_"):
            state.pop(key, None)
        return state
