"""A new kind of work lives in one place: this file registers one and uses it end to end.

An ordinal task (ordered levels such as ratings 1 < 2 < 3: a head of K-1
cumulative logits, binary cross-entropy on "level > k", decoded as the
number of thresholds passed) is defined here with its thin front end and
its ONNX runtime class, registered, and taken through ``fit``, ``predict``,
``save_pretrained``/``from_pretrained``, ``export_onnx`` + the torch-free
runtime, and the server. No package file names it: the proof that the
engine, persistence, export, runtime and server ask the task.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import wait_ready

from sktransformers.deploy._export import ExportMixin
from sktransformers.deploy._onnx_runtime import RUNTIMES, OnnxModel
from sktransformers.engine._base import BaseTransformerEstimator
from sktransformers.engine._persistence import ESTIMATORS, register_estimator
from sktransformers.tasks import TASK_KINDS, Task, register_task
from sktransformers.utils import _schema

KIND = "test-ordinal"
TEXTS = ["awful", "bad", "poor", "fine", "okay", "decent", "great", "superb", "wonderful"] * 2
RATINGS = [1, 1, 1, 2, 2, 2, 3, 3, 3] * 2


class OrdinalTask(Task):
    """Ordered levels: ``len(levels) - 1`` cumulative logits per text."""

    kind = KIND
    deploy_kind = KIND
    description = "ordinal regression"
    score_name = "accuracy"

    def __init__(self, levels, name="default"):
        super().__init__(name)
        self.levels = np.asarray(levels)

    @classmethod
    def from_targets(cls, y):
        levels = np.unique(np.asarray(y))
        if len(levels) < 2:
            raise ValueError("An ordinal task needs at least 2 levels.")
        return cls(levels)

    @property
    def head_size(self):
        return len(self.levels) - 1

    def encode(self, y):
        return np.searchsorted(self.levels, np.asarray(y)).astype(np.int64)

    def loss(self, output, target):
        import torch

        thresholds = torch.arange(output.shape[1], device=output.device)
        above = (target[:, None] > thresholds[None, :]).float()
        per_entry = torch.nn.functional.binary_cross_entropy_with_logits(
            output.float(), above, reduction="none"
        )
        mask = (target >= 0)[:, None].expand_as(per_entry).float()
        return (per_entry * mask).sum(), mask.sum()

    def decode(self, output):
        return self.levels[(np.asarray(output) > 0).sum(axis=1)]

    def validation_score(self, output, target):
        return float(((np.asarray(output) > 0).sum(axis=1) == target).mean())

    def export_metadata(self, estimator):
        return {"levels": self.levels.tolist()}

    @classmethod
    def serve_predictions(cls, model, texts):
        return [{"level": int(v)} for v in model.predict(texts)]

    def to_json(self):
        return {**super().to_json(), "levels": self.levels.tolist()}

    @classmethod
    def from_json(cls, data):
        return cls(data["levels"], name=data.get("name", "default"))


class OrdinalRegressor(ExportMixin, BaseTransformerEstimator):
    """The front end: the task from ``y``, predictions decoded by it."""

    def _build_tasks(self, y, inputs, *, classes=None):
        return [OrdinalTask.from_targets(y)], {}

    def predict(self, X):
        return self._tasks[0].decode(self._forward(X))


class OnnxOrdinal(OnnxModel):
    """The torch-free runtime of the kind: decodes the exported logits as the task does."""

    def __init__(self, directory, config, **kwargs):
        super().__init__(directory, config, **kwargs)
        self.levels = np.asarray(config["task"]["levels"])

    @classmethod
    def check_task(cls, path, task):
        levels = _schema.want(path, task, "levels", (list,), "task.levels")
        _schema.want_numbers(path, levels, "task.levels")
        if len(levels) < 2:
            _schema.fail(path, "'task.levels' should hold at least 2 levels.")
        return len(levels) - 1

    def _n_outputs(self):  # asked while the graph is checked, before __init__ ends
        return len(self.config["task"]["levels"]) - 1

    def predict(self, X):
        return self.levels[(self._forward(X) > 0).sum(axis=1)]


@pytest.fixture(scope="module")
def registered():
    """The kind registered for these tests only (the registries are as before afterwards)."""
    register_task(OrdinalTask)
    register_estimator(OrdinalRegressor)
    OnnxOrdinal.deploy_kind = KIND
    RUNTIMES[KIND] = OnnxOrdinal
    try:
        yield
    finally:
        TASK_KINDS.pop(KIND, None)
        ESTIMATORS.pop("OrdinalRegressor", None)
        RUNTIMES.pop(KIND, None)


def test_a_registered_kind_fits_saves_exports_and_serves(registered, tiny_model_dir, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from sktransformers import onnx
    from sktransformers.deploy._serve import create_app

    est = OrdinalRegressor(tiny_model_dir, max_epochs=8, lr=1e-3, batch_size=6, random_state=0)
    est.fit(TEXTS, RATINGS)
    assert est.history_[-1]["train_loss"] < est.history_[0]["train_loss"]  # its loss trains
    logits = est._forward(TEXTS)
    assert logits.shape == (len(TEXTS), 2)  # the task's head: K - 1 cumulative logits
    pred = est.predict(TEXTS)
    np.testing.assert_array_equal(pred, np.asarray([1, 2, 3])[(logits > 0).sum(axis=1)])

    loaded = OrdinalRegressor.from_pretrained(est.save_pretrained(tmp_path / "saved"))
    assert type(loaded._tasks[0]) is OrdinalTask
    np.testing.assert_allclose(loaded._forward(TEXTS), logits, atol=1e-5)
    np.testing.assert_array_equal(loaded.predict(TEXTS), pred)

    exported = est.export_onnx(tmp_path / "onnx")
    runtime = onnx.load(exported)
    assert type(runtime) is OnnxOrdinal and runtime.kind == KIND
    np.testing.assert_allclose(runtime._forward(TEXTS), logits, atol=1e-4)
    np.testing.assert_array_equal(runtime.predict(TEXTS), pred)

    for model in (est, exported):
        with TestClient(create_app(model)) as client:
            wait_ready(client)
            ready = client.get("/readyz").json()
            assert (ready["kind"], ready["task"]) == (KIND, "ordinal regression")
            answer = client.post("/predict", json={"texts": TEXTS[:3]}).json()
            assert answer["predictions"] == [{"level": int(v)} for v in pred[:3]]
