"""The task decides every kind-specific step after training.

Export, the server, explanations and training curves ask the estimator's
task (``sktransformers.tasks``) what to write, answer and name; these tests
pin what a user sees from that: the right description and answers for a
multi-label ONNX export (older exports included), clear errors for models
of several tasks or of no prediction, and score axes named after the task.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sktransformers import (
    MultiTaskTransformer,
    TransformerClassifier,
    TransformerEmbedder,
    TransformerRegressor,
    TransformerTokenClassifier,
)
from sktransformers.tasks import (
    TASK_KINDS,
    ClassificationTask,
    MultiLabelTask,
    Task,
    register_task,
    single_task,
    task_class_of_export,
    task_from_json,
)

TEXTS = ["a great film", "a terrible film", "i loved it", "i hated it", "wonderful", "dull"]
FAST = {"max_epochs": 1, "batch_size": 4, "device": "cpu", "random_state": 0, "max_length": 32}
EMOTIONS = pd.DataFrame({"joy": [1, 0, 1, 0, 1, 0], "anger": [0, 1, 0, 1, 1, 0]})


@pytest.fixture(scope="module")
def multilabel(tiny_model_dir):
    return TransformerClassifier(tiny_model_dir, **FAST).fit(TEXTS, EMOTIONS)


@pytest.fixture(scope="module")
def multitask(tiny_model_dir):
    Y = pd.DataFrame({"sentiment": ["pos", "neg"] * 3, "score": np.arange(6.0)})
    return MultiTaskTransformer(tiny_model_dir, **FAST).fit(TEXTS, Y)


def test_each_task_names_its_score_on_the_training_curves(tiny_model_dir, multilabel):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from sktransformers.plot import HistoryDisplay

    ner = TransformerTokenClassifier(tiny_model_dir, max_epochs=2, device="cpu").fit(
        [["Ada", "lived", "in", "London"]] * 4, [["B-PER", "O", "O", "B-LOC"]] * 4
    )
    regressor = TransformerRegressor(tiny_model_dir, **FAST).fit(TEXTS, np.arange(6.0))
    for estimator, name in [
        (ner, "entity F1"),
        (multilabel, "subset accuracy"),
        (regressor, "R²"),
    ]:
        display = HistoryDisplay.from_estimator(estimator)
        assert display.score_name == name
    import matplotlib.pyplot as plt

    plt.close("all")


def test_several_tasks_or_none_are_refused_with_the_reason(tiny_model_dir, multitask, tmp_path):
    pytest.importorskip("onnxruntime")
    from sktransformers.deploy._export import export_onnx
    from sktransformers.explain._attributions import explain

    with pytest.raises(TypeError, match=r"one task; this MultiTaskTransformer has 2 \(sentiment"):
        export_onnx(multitask, tmp_path / "mt")
    with pytest.raises(TypeError, match="explain works with an estimator of one task"):
        explain(multitask, ["fine"])
    embedder = TransformerEmbedder(tiny_model_dir, device="cpu").fit()
    with pytest.raises(TypeError, match=r"\(embedding\) predicts nothing to explain"):
        explain(embedder, ["fine"])
    with pytest.raises(TypeError, match="works with the estimators of sktransformers"):
        single_task(object(), "export_onnx")


def test_serving_a_saved_multitask_model_says_why_not(multitask, tmp_path):
    pytest.importorskip("fastapi")
    from sktransformers.deploy._serve import load_model

    saved = multitask.save_pretrained(tmp_path / "mt")
    with pytest.raises(ValueError, match="one task; this MultiTaskTransformer has 2"):
        load_model(saved)
    meta = json.loads((saved / "sktransformers.json").read_text())
    meta["estimator"] = "os"  # a hostile file naming something that is not an estimator
    (saved / "sktransformers.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="holds a 'os'; the server serves estimators"):
        load_model(saved)


def test_onnx_multilabel_export_is_served_as_multilabel_old_exports_too(multilabel, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    pytest.importorskip("fastapi")
    from sktransformers.deploy._export import export_onnx
    from sktransformers.deploy._serve import ServedModel, load_model

    directory = export_onnx(multilabel, tmp_path / "emotions")
    config = json.loads((directory / "sktransformers_onnx.json").read_text())
    assert (config["kind"], config["task_kind"]) == ("classifier", "multilabel")
    expected = ServedModel.wrap(multilabel).predict(TEXTS[:2])
    served = load_model(directory)
    assert (served.kind, served.task) == ("classifier", "multilabel classification")
    answers = served.predict(TEXTS[:2])
    assert [a["labels"] for a in answers] == [e["labels"] for e in expected]
    assert set(answers[0]["probabilities"]) == {"joy", "anger"}

    # An export written before task_kind existed is read as its kind and flags say.
    del config["task_kind"]
    (directory / "sktransformers_onnx.json").write_text(json.dumps(config))
    assert load_model(directory).task == "multilabel classification"

    # A task_kind that does not match the deployed kind is refused (a hostile file).
    config["task_kind"] = "regression"
    (directory / "sktransformers_onnx.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="task_kind 'regression' and kind 'classifier'"):
        load_model(directory)


def test_register_task_adds_a_kind_that_saved_models_find():
    with pytest.raises(TypeError, match="Task subclass with a str kind"):
        register_task(dict)

    @register_task
    class Ranking(ClassificationTask):
        kind = "test-ranking"

    try:
        task = task_from_json(Ranking(np.array(["a", "b"])).to_json())
        assert type(task) is Ranking and task.classes.tolist() == ["a", "b"]
        config = {"kind": "classifier", "task_kind": "test-ranking", "task": {}}
        assert task_class_of_export(config) is Ranking
    finally:
        del TASK_KINDS["test-ranking"]
    assert {cls.kind for cls in TASK_KINDS.values()} >= {"classification", "multilabel"}
    assert all(issubclass(cls, Task) for cls in TASK_KINDS.values())
    assert MultiLabelTask.deploy_kind == ClassificationTask.deploy_kind == "classifier"
