"""Experiment tracking: TensorBoard and MLflow record per-epoch metrics and the parameters."""

from __future__ import annotations

import pickle

import pytest
from sklearn.base import clone

from sktransformers import TransformerClassifier
from sktransformers.tracking import MlflowLogger, TensorBoard, estimator_params, log_params

X = ["good", "great", "fine film", "loved it", "bad", "awful", "dull film", "hated it"] * 2
Y = ["pos"] * 4 + ["neg"] * 4
Y = Y * 2


def _clf(tiny_model_dir, callbacks):
    return TransformerClassifier(
        tiny_model_dir,
        max_epochs=2,
        batch_size=4,
        validation_fraction=0.25,
        callbacks=callbacks,
        random_state=0,
    )


def _scalars(log_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    return acc


def test_estimator_params_are_flat_and_loggable(tiny_model_dir):
    clf = TransformerClassifier(
        tiny_model_dir, lora={"r": 4}, callbacks=[TensorBoard("runs/x")], random_state=3
    )
    params = estimator_params(clf)
    assert params["model"] == str(tiny_model_dir)
    assert params["lora"] == '{"r": 4}'
    assert params["callbacks"] == '["TensorBoard"]'
    assert params["random_state"] == 3 and params["lr"] == 5e-5
    assert all(v is None or isinstance(v, (str, int, float, bool)) for v in params.values())


def test_tensorboard_logs_epochs_and_params(tiny_model_dir, tmp_path):
    clf = _clf(tiny_model_dir, [TensorBoard(tmp_path)])
    # The callback holds a directory, not a writer: clone and pickle work before and after fit.
    clone(clf)
    clf.fit(X, Y)
    pickle.loads(pickle.dumps(clf))
    acc = _scalars(tmp_path)
    tags = acc.Tags()["scalars"]
    for tag in ("Loss/train_loss", "Loss/valid_loss", "Score/valid_score", "dur"):
        assert [e.step for e in acc.Scalars(tag)] == [1, 2], tag
    history = clf.history_
    assert acc.Scalars("Loss/train_loss")[-1].value == pytest.approx(history[-1, "train_loss"])
    assert "hparam/valid_score" in tags
    text = [t for t in acc.Tags()["tensors"] if t.startswith("params")]
    assert text, acc.Tags()
    content = acc.Tensors(text[0])[0].tensor_proto.string_val[0].decode()
    assert "| lr | 5e-05 |" in content and "| max_epochs | 2 |" in content


def test_skorch_tensorboard_with_a_writer(tiny_model_dir, tmp_path):
    """skorch's own callback works given as a (name, callback) tuple, which is not copied."""
    from skorch.callbacks import TensorBoard as SkorchTensorBoard
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path))
    clf = _clf(tiny_model_dir, [("tensorboard", SkorchTensorBoard(writer))]).fit(X, Y)
    assert [e.step for e in _scalars(tmp_path).Scalars("Loss/train_loss")] == [1, 2]
    assert clf.history_[-1, "epoch"] == 2


def _mlflow_uri(tmp_path):
    # MLflow 3 refuses the ./mlruns file store unless MLFLOW_ALLOW_FILE_STORE=true;
    # a SQLite file is its local store now.
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


@pytest.fixture
def mlflow_client(tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.chdir(tmp_path)  # artifact folders, if any, land here
    return mlflow.MlflowClient(tracking_uri=_mlflow_uri(tmp_path))


def test_mlflow_logs_epochs_and_params(tiny_model_dir, mlflow_client):
    client = mlflow_client
    clf = _clf(tiny_model_dir, [MlflowLogger(client=client, experiment_name="tiny")])
    clone(clf)
    clf.fit(X, Y)
    experiment = client.get_experiment_by_name("tiny")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    for key in ("train_loss", "valid_loss", "valid_score"):
        history = client.get_metric_history(run.info.run_id, key)
        assert sorted(m.step for m in history) == [1, 2], key
    last = {m.step: m.value for m in client.get_metric_history(run.info.run_id, "valid_score")}
    assert last[2] == pytest.approx(clf.history_[-1, "valid_score"])
    params = run.data.params
    assert params["lr"] == "5e-05" and params["max_epochs"] == "2"
    assert params["validation_fraction"] == "0.25"
    # No 90 MB weight upload by default.
    assert client.list_artifacts(run.info.run_id) == []


def test_mlflow_active_run_and_partial_fit(tiny_model_dir, tmp_path, mlflow_client):
    import mlflow

    client = mlflow_client
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(_mlflow_uri(tmp_path))
    try:
        clf = TransformerClassifier(
            tiny_model_dir,
            max_epochs=1,
            batch_size=4,
            callbacks=[MlflowLogger()],
            random_state=0,
        )
        with mlflow.start_run() as run:
            clf.partial_fit(X, Y)
            clf.partial_fit(X, Y)
            assert mlflow.active_run().info.run_id == run.info.run_id
    finally:
        mlflow.set_tracking_uri(previous)
    steps = [m.step for m in client.get_metric_history(run.info.run_id, "train_loss")]
    assert sorted(steps) == [1, 2]
    assert client.get_run(run.info.run_id).data.params["batch_size"] == "4"


def test_log_params_to_mlflow_and_tensorboard(tiny_model_dir, tmp_path, mlflow_client):
    client = mlflow_client
    from torch.utils.tensorboard import SummaryWriter

    clf = TransformerClassifier(tiny_model_dir, lr=1e-3)
    run = client.create_run("0")
    log_params(clf, run=run, client=client)
    assert client.get_run(run.info.run_id).data.params["lr"] == "0.001"
    with SummaryWriter(str(tmp_path / "tb")) as writer:
        log_params(clf, writer=writer)
    assert any(t.startswith("params") for t in _scalars(tmp_path / "tb").Tags()["tensors"])
    with pytest.raises(ValueError, match="No active MLflow run"):
        log_params(clf)


def test_missing_extra_names_it(tiny_model_dir, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "mlflow", None)
    clf = _clf(tiny_model_dir, [MlflowLogger()])
    with pytest.raises(ImportError, match=r"\.\[tracking\]"):
        clf.fit(X, Y)


def test_wandb_offline(tiny_model_dir, tmp_path, monkeypatch):
    """skorch's WandbLogger with an offline run: the parameters as config, the epochs logged."""
    wandb = pytest.importorskip("wandb")
    from skorch.callbacks import WandbLogger

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    clf = _clf(tiny_model_dir, None)
    run = wandb.init(project="sktransformers-test", dir=str(tmp_path), config=estimator_params(clf))
    try:
        # A run cannot be copied: give the callback a name so the estimator keeps it as is.
        clf.set_params(callbacks=[("wandb", WandbLogger(run, save_model=False))]).fit(X, Y)
        assert run.config["lr"] == 5e-5 and run.config["max_epochs"] == 2
        assert run.summary["valid_score"] == pytest.approx(clf.history_[-1, "valid_score"])
        assert run.summary["train_loss"] == pytest.approx(clf.history_[-1, "train_loss"])
    finally:
        run.finish()
    assert list(tmp_path.glob("wandb/offline-run-*/run-*.wandb"))
