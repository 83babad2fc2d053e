"""Multi-label ``threshold="auto"``: per-label thresholds chosen on the held-out texts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sktransformers import TransformerClassifier
from sktransformers.tasks import MultiLabelTask, label_thresholds

TEXTS = ["sunny and warm", "cold rain", "warm rain", "cold and sunny", "hail", "mild"] * 6
Y = np.array(
    [[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0], [0, 1, 1], [1, 0, 0]] * 6
)  # the third label is rare
FAST = {"max_epochs": 2, "batch_size": 8, "device": "cpu", "random_state": 0}


def test_choose_thresholds_maximises_each_labels_f1():
    task = MultiLabelTask(3)
    proba = np.array(
        [
            [0.9, 0.30, 0.1],
            [0.8, 0.20, 0.2],
            [0.2, 0.25, 0.3],
            [0.1, 0.10, 0.4],
        ]
    )
    target = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 0], [0, 0, 0]], dtype=float)
    thresholds = task.choose_thresholds(proba, target)
    # Label 0: anything in (0.2, 0.8] separates; the tie goes to the candidate nearest 0.5.
    assert thresholds[0] == 0.5
    # Label 1, a "rare" label the model is unsure of: 0.30 and 0.20 are positives, 0.25 is not.
    # Below 0.20 every row is predicted (F1 0.67); at 0.20 the 0.25 row is a false positive
    # (F1 0.8) and 0.3 keeps one positive of two (F1 0.67): 0.2 wins.
    assert thresholds[1] == pytest.approx(0.2)
    # Label 2 has no positive among these rows: no evidence, 0.5 kept.
    assert thresholds[2] == 0.5


def test_unknown_targets_are_left_out():
    task = MultiLabelTask(1)
    proba = np.array([[0.3], [0.2], [0.9]])
    target = np.array([[1.0], [0.0], [np.nan]])  # read as a negative, 0.9 would change it
    # 0.25 and 0.30 separate the known rows; the one nearest 0.5 wins.
    assert task.choose_thresholds(proba, target)[0] == pytest.approx(0.3)


def test_fit_chooses_thresholds_on_the_held_out_texts_and_predict_applies_them(tiny_model_dir):
    clf = TransformerClassifier(
        tiny_model_dir, threshold="auto", validation_fraction=0.25, **FAST
    ).fit(TEXTS, Y)
    assert clf.thresholds_.shape == (3,)
    assert ((clf.thresholds_ >= 0.05) & (clf.thresholds_ <= 0.95)).all()
    proba = clf.predict_proba(TEXTS)
    np.testing.assert_array_equal(clf.predict(TEXTS), (proba >= clf.thresholds_).astype(int))
    # A number given later with set_params applies at once, as before.
    clf.set_params(threshold=0.3)
    np.testing.assert_array_equal(clf.predict(TEXTS), (proba >= 0.3).astype(int))


def test_a_fixed_threshold_is_every_labels_threshold(tiny_model_dir):
    clf = TransformerClassifier(tiny_model_dir, threshold=0.4, **FAST).fit(TEXTS, Y)
    np.testing.assert_array_equal(clf.thresholds_, [0.4, 0.4, 0.4])


def test_auto_threshold_without_a_held_out_set_is_refused_before_loading():
    clf = TransformerClassifier("no/such-model-anywhere", threshold="auto")
    with pytest.raises(ValueError, match="threshold='auto'.*validation_fraction"):
        clf.fit(TEXTS, Y)


@pytest.fixture(scope="module")
def auto_clf(tiny_model_dir):
    return TransformerClassifier(
        tiny_model_dir, threshold="auto", validation_fraction=0.25, **FAST
    ).fit(TEXTS, Y)


def test_thresholds_survive_save_and_load(auto_clf, tmp_path):
    auto_clf.save_pretrained(tmp_path / "m")
    loaded = TransformerClassifier.from_pretrained(tmp_path / "m")
    np.testing.assert_array_equal(loaded.thresholds_, auto_clf.thresholds_)
    np.testing.assert_array_equal(loaded.predict(TEXTS), auto_clf.predict(TEXTS))


@pytest.mark.parametrize("value", [[0.5, 0.5], [0.5, 0.5, 1.5], "high", [0.5, None, 0.5]])
def test_tampered_saved_thresholds_are_refused(auto_clf, tmp_path, value):
    auto_clf.save_pretrained(tmp_path / "m")
    path = tmp_path / "m" / "sktransformers.json"
    meta = json.loads(path.read_text())
    meta["fitted"]["thresholds"] = value
    path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="thresholds"):
        TransformerClassifier.from_pretrained(tmp_path / "m")


def test_onnx_export_runtime_and_server_use_the_chosen_thresholds(auto_clf, tmp_path):
    pytest.importorskip("onnxruntime")
    from sktransformers import onnx as skonnx
    from sktransformers.deploy._export import export_onnx

    model = skonnx.load(export_onnx(auto_clf, tmp_path / "x", quantize=None))
    assert model.threshold == pytest.approx(auto_clf.thresholds_.tolist())
    np.testing.assert_array_equal(label_thresholds(model, 3), auto_clf.thresholds_)
    proba = model.predict_proba(TEXTS)
    np.testing.assert_array_equal(model.predict(TEXTS), (proba >= auto_clf.thresholds_).astype(int))
    np.testing.assert_array_equal(label_thresholds(auto_clf, 3), auto_clf.thresholds_)
