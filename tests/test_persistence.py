"""Saving and loading: pickle / joblib, GPU-to-CPU unpickling, save_pretrained / from_pretrained."""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from skorch.callbacks import Callback

from sktransformers import TransformerClassifier, TransformerRegressor
from sktransformers.engine import _hub, _persistence

TEXTS = [
    "a great film",
    "a terrible film",
    "i loved every minute of it",
    "i hated it",
    "wonderful acting",
    "awful acting and a silly plot",
    "truly excellent",
    "dull",
]
FAST = {"max_epochs": 1, "batch_size": 4, "device": "cpu", "random_state": 0}
PICKLE_SUFFIXES = {".bin", ".pkl", ".pickle", ".pt", ".pth", ".ckpt", ".joblib", ".h5", ".msgpack"}


def _same_outputs(a, b, X=TEXTS):
    if hasattr(a, "predict_proba"):
        np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-6, atol=1e-7)
    pa, pb = a.predict(X), b.predict(X)
    if pa.dtype.kind == "f":
        np.testing.assert_allclose(pa, pb, rtol=1e-6, atol=1e-7)
    else:
        np.testing.assert_array_equal(pa, pb)
        assert pa.dtype == pb.dtype


@pytest.fixture(scope="module")
def fitted_clf(tiny_model_dir):
    return TransformerClassifier(tiny_model_dir, **FAST).fit(TEXTS, ["pos", "neg"] * 4)


@pytest.fixture(scope="module")
def fitted_reg(tiny_model_dir):
    y = np.column_stack([np.arange(8.0), 100.0 - 10 * np.arange(8.0)])
    return TransformerRegressor(tiny_model_dir, **FAST).fit(TEXTS, y)


# ----------------------------------------------------------------------
# pickle / joblib
# ----------------------------------------------------------------------
@pytest.mark.parametrize("which", ["fitted_clf", "fitted_reg"])
def test_pickle_round_trip(request, which):
    est = request.getfixturevalue(which)
    loaded = pickle.loads(pickle.dumps(est))
    _same_outputs(est, loaded)
    assert loaded.get_params() == est.get_params()


@pytest.mark.parametrize("which", ["fitted_clf", "fitted_reg"])
def test_joblib_round_trip(request, which, tmp_path):
    est = request.getfixturevalue(which)
    joblib.dump(est, tmp_path / "model.joblib")
    _same_outputs(est, joblib.load(tmp_path / "model.joblib"))


def test_pickle_holds_no_training_data(fitted_clf):
    data = pickle.dumps(fitted_clf)
    assert b"i loved every minute of it" not in data


def test_unpickled_model_continues_training(fitted_clf):
    loaded = pickle.loads(pickle.dumps(fitted_clf))
    n = len(loaded.history_)
    loaded.partial_fit(TEXTS, ["pos", "neg"] * 4)
    assert len(loaded.history_) == n + 1
    assert len(fitted_clf.history_) == n  # the original is untouched


def _pickle_as_if_on_gpu(est, monkeypatch):
    """Pickle ``est`` exactly as a CUDA-trained estimator would be, on a CPU-only machine.

    torch records each tensor storage's device through
    ``torch.serialization.location_tag``; tagging the CPU storages 'cuda:0'
    writes the bytes a GPU-trained model writes (the tensors are then
    restored on CUDA unless a map_location says otherwise), and the net and
    estimator say they live on 'cuda'.
    """
    real_tag = torch.serialization.location_tag

    def cuda_tag(storage):
        tag = real_tag(storage)
        return "cuda:0" if tag == "cpu" else tag

    with monkeypatch.context() as m:
        m.setattr(torch.serialization, "location_tag", cuda_tag)
        m.setattr(est.net_, "device", "cuda")
        m.setattr(est, "device_", "cuda")
        data = pickle.dumps(est)
        control = pickle.dumps(est.net_.module_.heads)  # a bare module, no skorch
    return data, control


def test_gpu_pickle_loads_on_cpu_only_machine(tiny_model_dir, monkeypatch):
    est = TransformerClassifier(tiny_model_dir, **FAST).fit(TEXTS, [0, 1] * 4)
    expected = est.predict_proba(TEXTS)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    data, control = _pickle_as_if_on_gpu(est, monkeypatch)

    # The simulation is faithful: a bare CUDA-tagged module cannot load here ...
    with pytest.raises(RuntimeError, match="CUDA"):
        pickle.loads(control)
    # ... but the estimator can: skorch restores its tensors with map_location="cpu".
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skorch's DeviceWarning: "cuda" is not available
        loaded = pickle.loads(data)
    assert loaded.device_ == "cpu" and torch.device(loaded.net_.device).type == "cpu"
    assert all(p.device.type == "cpu" for p in loaded.net_.module_.parameters())
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), expected, rtol=1e-6, atol=1e-7)
    loaded.partial_fit(TEXTS, [0, 1] * 4)  # and trains on, on the CPU
    assert len(loaded.history_) == 2


@pytest.mark.gpu
def test_cuda_fitted_model_unpickles_without_cuda(tiny_model_dir, monkeypatch):
    # fp32 on both sides, so GPU and CPU outputs are comparable
    est = TransformerClassifier(tiny_model_dir, **{**FAST, "device": "cuda", "precision": "fp32"})
    est.fit(TEXTS, [0, 1] * 4)
    assert est.device_ == "cuda"
    expected = est.predict_proba(TEXTS)
    data = pickle.dumps(est)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = pickle.loads(data)
    assert loaded.device_ == "cpu"
    assert all(p.device.type == "cpu" for p in loaded.net_.module_.parameters())
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), expected, rtol=1e-3, atol=1e-4)


# ----------------------------------------------------------------------
# save_pretrained / from_pretrained
# ----------------------------------------------------------------------
def _saved_files(directory):
    return [p for p in Path(directory).rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    "labels",
    [["pos", "neg"] * 4, [3, 7, 11, 3, 7, 11, 3, 7], [True, False] * 4],
    ids=["str", "int-multiclass", "bool"],
)
def test_save_and_load_classifier(tiny_model_dir, tmp_path, labels):
    est = TransformerClassifier(tiny_model_dir, **FAST).fit(TEXTS, labels)
    est.save_pretrained(tmp_path / "clf")
    loaded = TransformerClassifier.from_pretrained(tmp_path / "clf")
    np.testing.assert_array_equal(loaded.classes_, est.classes_)
    assert loaded.classes_.dtype == est.classes_.dtype
    _same_outputs(est, loaded)
    assert {k: v for k, v in loaded.get_params().items() if k != "model"} == {
        k: v for k, v in est.get_params().items() if k != "model"
    }


def test_save_and_load_multi_output_regressor(fitted_reg, tmp_path):
    fitted_reg.save_pretrained(tmp_path / "reg")
    loaded = TransformerRegressor.from_pretrained(tmp_path / "reg")
    assert loaded.n_outputs_ == 2
    _same_outputs(fitted_reg, loaded)
    assert loaded.predict(TEXTS).shape == (len(TEXTS), 2)


def test_save_and_load_sentence_pairs(tiny_model_dir, tmp_path):
    pairs = list(zip(TEXTS, TEXTS[::-1], strict=True))
    est = TransformerRegressor(tiny_model_dir, **FAST).fit(pairs, np.arange(8.0))
    loaded = TransformerRegressor.from_pretrained(est.save_pretrained(tmp_path / "pairs"))
    assert loaded.is_pair_ is True
    _same_outputs(est, loaded, X=pairs)


def test_saved_directory_is_safetensors_and_json_only(fitted_clf, tmp_path):
    directory = fitted_clf.save_pretrained(tmp_path / "clf")
    files = _saved_files(directory)
    names = {p.name for p in files}
    assert {
        "config.json",
        "model.safetensors",
        _persistence.HEADS_FILE,
        _persistence.ESTIMATOR_FILE,
    } <= names
    assert not [p.name for p in files if p.suffix in PICKLE_SUFFIXES]
    # weights are safetensors; everything else is text (JSON, or the tokenizer's vocab)
    for p in files:
        if p.suffix != ".safetensors":
            p.read_text(encoding="utf-8")
    meta = json.loads((directory / _persistence.ESTIMATOR_FILE).read_text())
    assert meta["estimator"] == "TransformerClassifier"
    assert meta["tasks"][0]["classes"]["values"] == ["neg", "pos"]


def test_saved_directory_is_a_hugging_face_model(fitted_clf, tmp_path):
    from transformers import AutoModel

    directory = fitted_clf.save_pretrained(tmp_path / "clf")
    hf = AutoModel.from_pretrained(directory)
    ours = fitted_clf.net_.module_.backbone.state_dict()
    for name, tensor in hf.state_dict().items():
        torch.testing.assert_close(tensor, ours[name], rtol=0, atol=0)


def test_loaded_model_continues_training(fitted_clf, tmp_path):
    loaded = TransformerClassifier.from_pretrained(fitted_clf.save_pretrained(tmp_path / "clf"))
    before = {k: v.clone() for k, v in loaded.net_.module_.state_dict().items()}
    loaded.set_params(lr=1e-3).partial_fit(TEXTS, ["pos", "neg"] * 4)
    after = loaded.net_.module_.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)


class _WeightsAtTrainBegin(Callback):
    def on_train_begin(self, net, **kwargs):
        state = net.module_.backbone.state_dict()
        self.backbone_ = {k: v.detach().clone() for k, v in state.items()}
        self.head_sizes_ = {k: h.out_features for k, h in net.module_.heads.items()}


@pytest.mark.parametrize("make", [TransformerClassifier, TransformerRegressor])
def test_saved_directory_as_model_of_a_new_estimator(fitted_clf, tmp_path, make):
    directory = fitted_clf.save_pretrained(tmp_path / "clf")
    probe = _WeightsAtTrainBegin()
    new = make(directory, **{**FAST, "callbacks": [("probe", probe)]})
    y = ["a", "b", "c", "d"] * 2 if make is TransformerClassifier else np.arange(8.0)
    new.fit(TEXTS, y)
    probe = new.net_.callbacks_[[n for n, _ in new.net_.callbacks_].index("probe")][1]
    # a fresh head sized for the new task ...
    assert probe.head_sizes_ == {"default": 4 if make is TransformerClassifier else 1}
    # ... on top of exactly the saved (fine-tuned) backbone
    saved = fitted_clf.net_.module_.backbone.state_dict()
    for name, tensor in probe.backbone_.items():
        torch.testing.assert_close(tensor, saved[name], rtol=0, atol=0)


def test_loading_with_the_wrong_class(fitted_clf, tmp_path):
    directory = fitted_clf.save_pretrained(tmp_path / "clf")
    match = "holds a TransformerClassifier.*load it with TransformerClassifier.from_pretrained"
    with pytest.raises(ValueError, match=match):
        TransformerRegressor.from_pretrained(directory)


def test_from_pretrained_needs_a_saved_estimator(tiny_model_dir):
    with pytest.raises(ValueError, match="not written by save_pretrained.*model="):
        TransformerClassifier.from_pretrained(tiny_model_dir)


def test_from_pretrained_overrides(fitted_clf, tmp_path):
    directory = fitted_clf.save_pretrained(tmp_path / "clf")
    loaded = TransformerClassifier.from_pretrained(directory, predict_batch_size=3, lr=1e-3)
    assert loaded.predict_batch_size == 3 and loaded.lr == 1e-3
    assert loaded.model == str(directory)
    _same_outputs(fitted_clf, loaded)


def test_trust_remote_code_stays_false(fitted_clf, tmp_path, monkeypatch):
    assert TransformerClassifier().trust_remote_code is False
    assert TransformerRegressor().trust_remote_code is False
    directory = fitted_clf.save_pretrained(tmp_path / "clf")
    # a directory cannot switch remote code on by itself
    meta_path = directory / _persistence.ESTIMATOR_FILE
    meta = json.loads(meta_path.read_text())
    meta["params"]["trust_remote_code"] = True
    meta_path.write_text(json.dumps(meta))

    seen = []
    for name in ("load_config", "load_tokenizer", "load_backbone"):
        real = getattr(_hub, name)

        def spy(source, trust_remote_code=False, _real=real):
            seen.append(trust_remote_code)
            return _real(source, trust_remote_code)

        monkeypatch.setattr(_hub, name, spy)
    loaded = TransformerClassifier.from_pretrained(directory)
    assert loaded.trust_remote_code is False
    assert seen and not any(seen)
    seen.clear()
    TransformerClassifier(directory, **FAST).fit(TEXTS, ["pos", "neg"] * 4)
    assert seen and not any(seen)


def _as_format_1(directory, fitted):
    """Rewrite a saved directory's JSON the way sktransformers 0.1 wrote it."""
    path = directory / "sktransformers.json"
    meta = json.loads(path.read_text())
    legacy = {k: meta[k] for k in ("estimator", "sktransformers_version", "params", "is_pair")}
    path.write_text(json.dumps({**legacy, "format": 1, "fitted": fitted}))


def test_format_1_directories_still_load(tiny_model_dir, tmp_path):
    from sktransformers import MultiTaskTransformer, TransformerRegressor

    X = ["a great film", "awful acting", "i loved it", "truly boring"] * 2
    clf = TransformerClassifier(tiny_model_dir, max_epochs=1, random_state=0).fit(
        X, ["pos", "neg", "pos", "neg"] * 2
    )
    d = clf.save_pretrained(tmp_path / "clf")
    _as_format_1(d, {"classes": ["neg", "pos"], "classes_dtype": "<U3", "class_weight": None})
    np.testing.assert_allclose(
        TransformerClassifier.from_pretrained(d).predict_proba(X), clf.predict_proba(X), atol=1e-6
    )

    reg = TransformerRegressor(tiny_model_dir, max_epochs=1, random_state=0).fit(X, np.arange(8.0))
    d = reg.save_pretrained(tmp_path / "reg")
    _as_format_1(
        d,
        {
            "n_outputs": 1,
            "y_mean": reg.y_mean_.tolist(),
            "y_scale": reg.y_scale_.tolist(),
            "y_1d": True,
        },
    )
    np.testing.assert_allclose(
        TransformerRegressor.from_pretrained(d).predict(X), reg.predict(X), atol=1e-5
    )

    Y = pd.DataFrame({"s": ["pos", "neg"] * 4, "r": np.arange(8.0) + 0.5})
    mt = MultiTaskTransformer(tiny_model_dir, max_epochs=1, random_state=0).fit(X, Y)
    d = mt.save_pretrained(tmp_path / "mt")
    _as_format_1(
        d,
        {
            "tasks": ["s", "r"],
            "kinds": ["classification", "regression"],
            "classes": {"s": {"values": ["neg", "pos"], "dtype": "<U3"}},
            "y_mean": {"r": mt.y_mean_["r"]},
            "y_scale": {"r": mt.y_scale_["r"]},
            "task_weights": [1.0, 1.0],
            "y_frame": True,
        },
    )
    loaded = MultiTaskTransformer.from_pretrained(d)
    pd.testing.assert_frame_equal(loaded.predict(X), mt.predict(X), atol=1e-5)
