"""Loading directories from someone else: no code, bounded reads, no escape, clear errors.

Every test tampers with one file of a saved estimator directory or an
exported ONNX directory, as an attacker (or a damaged download) would, and
checks that loading fails with a ValueError naming the file and the
problem, before any large allocation and never with another exception.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from sktransformers import TransformerClassifier, TransformerRegressor
from sktransformers.engine import _hub
from sktransformers.engine._persistence import ESTIMATOR_FILE, HEADS_FILE, load
from sktransformers.utils import _schema

TEXTS = ["a great film", "a terrible film", "i loved it", "i hated it"] * 2
LABELS = ["pos", "neg"] * 4
FAST = {"max_epochs": 1, "batch_size": 4, "device": "cpu", "random_state": 0, "max_length": 32}


@pytest.fixture(scope="module")
def clf(tiny_model_dir):
    return TransformerClassifier(tiny_model_dir, **FAST).fit(TEXTS, LABELS)


@pytest.fixture(scope="module")
def saved(clf, tmp_path_factory):
    return clf.save_pretrained(tmp_path_factory.mktemp("saved") / "clf")


@pytest.fixture(scope="module")
def saved_reg(tiny_model_dir, tmp_path_factory):
    reg = TransformerRegressor(tiny_model_dir, **FAST).fit(TEXTS, np.arange(8.0))
    return reg.save_pretrained(tmp_path_factory.mktemp("saved") / "reg")


@pytest.fixture
def copy(tmp_path):
    """A fresh copy of a saved directory, to tamper with."""

    def make(source):
        target = tmp_path / Path(source).name
        shutil.copytree(source, target)
        return target

    return make


def _edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _refused(directory, *patterns, loader=load):
    with pytest.raises(ValueError) as info:
        loader(directory)
    message = str(info.value)
    for pattern in patterns:
        assert pattern in message, message
    return message


def test_untampered_directory_loads(clf, saved, copy):
    loaded = load(copy(saved))
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), clf.predict_proba(TEXTS), atol=1e-6)


# ----------------------------------------------------------------------
# The tokenizer: no silent fallback
# ----------------------------------------------------------------------
def test_missing_tokenizer_json_is_refused_not_replaced_by_a_fallback(saved, copy):
    # transformers alone builds a 5-token tokenizer here and predictions are garbage
    d = copy(saved)
    os.remove(d / "tokenizer.json")
    _refused(d, "tokenizer.json", "missing")


def test_tokenizer_json_linked_to_dev_zero(saved, copy):
    d = copy(saved)
    os.remove(d / "tokenizer.json")
    os.symlink("/dev/zero", d / "tokenizer.json")
    _refused(d, "tokenizer.json", "outside the model folder")


def test_tokenizer_json_that_is_a_device_is_never_read(tiny_model_dir, tmp_path):
    # a model= directory may link its files anywhere (a Hugging Face cache
    # snapshot does), but never to something that is not a regular file
    d = tmp_path / "model"
    shutil.copytree(tiny_model_dir, d)
    os.remove(d / "tokenizer.json")
    os.symlink("/dev/zero", d / "tokenizer.json")
    with pytest.raises(ValueError, match="tokenizer.json: is not a regular file"):
        _hub.load_tokenizer(str(d))


def test_truncated_tokenizer_json(saved, copy):
    d = copy(saved)
    path = d / "tokenizer.json"
    path.write_bytes(path.read_bytes()[:1000])
    _refused(d, "tokenizer.json", "not valid JSON")


def test_tokenizer_larger_than_the_model_vocabulary(saved, copy):
    d = copy(saved)
    _edit_json(d / "config.json", lambda c: c.update(vocab_size=1000))
    _refused(d, "tokenizer.json", "vocab_size")


def test_symlink_inside_the_folder_is_followed(clf, saved, copy):
    d = copy(saved)
    os.replace(d / "tokenizer.json", d / "tokenizer-copy.json")
    os.symlink("tokenizer-copy.json", d / "tokenizer.json")
    np.testing.assert_array_equal(load(d).predict(TEXTS), clf.predict(TEXTS))


def test_file_linked_outside_the_folder(saved, copy, tmp_path):
    d = copy(saved)
    outside = tmp_path / "elsewhere.json"
    shutil.copy(d / "config.json", outside)
    os.remove(d / "config.json")
    os.symlink(outside, d / "config.json")
    _refused(d, "config.json", "outside the model folder")


# ----------------------------------------------------------------------
# config.json: sizes bounded before anything is built
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "field, value, problem",
    [
        ("num_hidden_layers", 10**6, "'num_hidden_layers' should be an integer between"),
        ("num_attention_heads", 0, "'num_attention_heads' should be an integer between"),
        ("num_attention_heads", 3, "not divisible by the 3 attention heads"),
        ("hidden_size", 10**9, "'hidden_size' should be an integer between"),
        ("vocab_size", -1, "'vocab_size' should be an integer between"),
        ("max_position_embeddings", 10**12, "'max_position_embeddings' should be"),
        ("intermediate_size", "64", "'intermediate_size' should be an integer"),
        ("pad_token_id", 10**9, "'pad_token_id' should be null or a token id"),
        ("hidden_act", "rm -rf", "'hidden_act' should name an activation"),
    ],
)
def test_config_sizes_are_bounded(saved, copy, field, value, problem):
    d = copy(saved)
    _edit_json(d / "config.json", lambda c: c.update({field: value}))
    start = time.perf_counter()
    _refused(d, "config.json", problem)
    assert time.perf_counter() - start < 5


def test_config_describing_more_weights_than_the_file_holds(saved, copy):
    d = copy(saved)
    _edit_json(
        d / "config.json",
        lambda c: c.update(num_hidden_layers=200, hidden_size=4096, num_attention_heads=32),
    )
    _refused(d, "config.json", "weights")


def test_truncated_config_is_not_reported_as_a_hub_lookup(saved, copy):
    d = copy(saved)
    path = d / "config.json"
    path.write_bytes(path.read_bytes()[:100])
    message = _refused(d, "config.json", "not valid JSON")
    assert "Hub" not in message


# ----------------------------------------------------------------------
# Weights: safetensors headers checked, no pickles
# ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["model.safetensors", HEADS_FILE])
@pytest.mark.parametrize("damage", ["truncated", "random", "empty"])
def test_damaged_weights_name_the_file(saved, copy, name, damage):
    d = copy(saved)
    path = d / name
    data = path.read_bytes()
    damaged = {"truncated": data[: len(data) // 2], "random": os.urandom(len(data)), "empty": b""}[
        damage
    ]
    path.write_bytes(damaged)
    _refused(d, name)


def test_pickled_weights_are_never_loaded(saved, copy):
    d = copy(saved)
    os.remove(d / "model.safetensors")
    (d / "pytorch_model.bin").write_bytes(b"not even a pickle")
    _refused(d, "model.safetensors", "never loaded")


def test_class_count_that_does_not_match_the_head(saved, copy):
    d = copy(saved)
    _edit_json(
        d / ESTIMATOR_FILE, lambda m: m["tasks"][0]["classes"].update(values=["a", "b", "c"])
    )
    _refused(d, HEADS_FILE, "does not match the head")


# ----------------------------------------------------------------------
# sktransformers.json: validated field by field
# ----------------------------------------------------------------------
def _drop_y_mean(meta):
    del meta["tasks"][0]["y_mean"]


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda m: m.update(tasks=[]), "'tasks'"),
        (lambda m: m.update(tasks="x"), "'tasks'"),
        (lambda m: m.update(tasks=[5]), "'tasks[0]'"),
        (lambda m: m["tasks"][0].update(kind="nope"), "'tasks[0].kind'"),
        (lambda m: m["tasks"][0]["classes"].update(dtype="zz"), "tasks[0].classes.values"),
        (lambda m: m["tasks"][0]["classes"].update(dtype="<M8[ns]"), "tasks[0].classes.values"),
        (lambda m: m["tasks"][0]["classes"].update(values=["pos", "pos"]), "distinct"),
        (lambda m: m["tasks"][0].update(class_weight=[1.0]), "'tasks[0].class_weight'"),
        (lambda m: m.update(is_pair="yes"), "'is_pair'"),
        (lambda m: m.update(format=0), "'format'"),
        (lambda m: m.update(format=True), "'format'"),
        (lambda m: m["params"].update(lora={"__dict_items__": 5}), "'params.lora'"),
    ],
)
def test_tampered_estimator_file(saved, copy, change, field):
    d = copy(saved)
    _edit_json(d / ESTIMATOR_FILE, change)
    _refused(d, ESTIMATOR_FILE, field)


@pytest.mark.parametrize(
    "change, field",
    [
        (_drop_y_mean, "'tasks[0].y_mean'"),
        (lambda m: m["tasks"][0].update(y_scale=[0.0]), "'tasks[0].y_scale[0]'"),
        (lambda m: m["tasks"][0].update(y_mean=[1.0, 2.0]), "'tasks[0].y_scale'"),
        (lambda m: m.update(fitted={}), "'fitted.y_1d'"),
        (lambda m: m["tasks"][0].update(kind="classification"), "'tasks[0].classes'"),
    ],
)
def test_tampered_regressor_file(saved_reg, copy, change, field):
    d = copy(saved_reg)
    _edit_json(d / ESTIMATOR_FILE, change)
    _refused(d, ESTIMATOR_FILE, field)


def test_oversized_estimator_file(saved, copy):
    d = copy(saved)
    text = (d / ESTIMATOR_FILE).read_text()
    (d / ESTIMATOR_FILE).write_text(text + " " * _schema.JSON_LIMIT)
    _refused(d, ESTIMATOR_FILE, "more than")


def test_estimator_file_linked_to_dev_zero(saved, copy):
    d = copy(saved)
    os.remove(d / ESTIMATOR_FILE)
    os.symlink("/dev/zero", d / ESTIMATOR_FILE)
    _refused(d, ESTIMATOR_FILE)


def test_deeply_nested_json(saved, copy):
    d = copy(saved)
    (d / ESTIMATOR_FILE).write_text("[" * 100_000 + "]" * 100_000)
    _refused(d, ESTIMATOR_FILE, "not valid JSON")


def test_unit_safe_name_refuses_escapes(tmp_path):
    for name in ("/etc/passwd", "../x", "a/../../x", "", "a\x00b", 5, None, "a\\b"):
        with pytest.raises(ValueError, match="field"):
            _schema.safe_name(tmp_path, name, "field")
    assert _schema.safe_name(tmp_path, "sub/model.onnx", "field") == "sub/model.onnx"


# ----------------------------------------------------------------------
# Unknown model ids offline: fail at once
# ----------------------------------------------------------------------
@pytest.fixture
def online_env(monkeypatch):
    """HF_HUB_OFFLINE unset (conftest sets it) as on a user's machine."""
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(_hub, "_probes", {})


@pytest.mark.timeout(60)
def test_unknown_id_with_offline_env_fails_at_once(online_env, monkeypatch):
    import transformers  # noqa: F401 - imported before the clock starts

    def no_probe(*args, **kwargs):
        raise AssertionError("the Hub was probed although HF_HUB_OFFLINE is set")

    monkeypatch.setattr(_hub, "hub_reachable", no_probe)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # set after huggingface_hub was imported
    start = time.perf_counter()
    with pytest.raises(ValueError, match="Could not load model 'nobody/no-such-model'"):
        _hub.load_config("nobody/no-such-model")
    assert time.perf_counter() - start < 1.0


@pytest.mark.timeout(60)
def test_unknown_id_with_the_hub_unreachable_fails_at_once(online_env, monkeypatch):
    import transformers  # noqa: F401

    monkeypatch.setattr(_hub, "hub_reachable", lambda *a, **k: False)
    start = time.perf_counter()
    with pytest.raises(ValueError, match="Could not load model 'nobody/no-such-model'"):
        _hub.load_config("nobody/no-such-model")
    assert time.perf_counter() - start < 1.0


def test_hub_probe_times_out_fast_when_the_network_hangs(online_env, monkeypatch):
    def hanging(*args, **kwargs):
        time.sleep(3)  # a resolver or a firewall that never answers
        raise OSError("timed out")

    monkeypatch.setattr(socket, "create_connection", hanging)
    start = time.perf_counter()
    assert _hub.hub_reachable(timeout=0.2) is False
    assert time.perf_counter() - start < 1.0
    assert _hub.hub_offline() is True  # the answer is remembered: no second wait
    assert time.perf_counter() - start < 1.0


def test_hub_probe_answers(online_env, monkeypatch):
    class Connection:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    seen = []
    monkeypatch.setattr(
        socket, "create_connection", lambda address, timeout: seen.append(address) or Connection()
    )
    assert _hub.hub_reachable() is True and _hub.hub_offline() is False
    assert seen == [("huggingface.co", 443)]
    monkeypatch.setattr(_hub, "_probes", {})
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.local:3128")
    assert _hub.hub_reachable() is True
    assert seen[-1] == ("proxy.local", 3128)

    def refused(address, timeout):
        raise ConnectionRefusedError

    monkeypatch.setattr(_hub, "_probes", {})
    monkeypatch.setattr(socket, "create_connection", refused)
    assert _hub.hub_reachable() is False


# ----------------------------------------------------------------------
# Exported ONNX directories
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def exported(clf, tmp_path_factory):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from sktransformers.deploy._export import export_onnx

    return export_onnx(clf, tmp_path_factory.mktemp("onnx") / "clf")


def _onnx_load(directory):
    from sktransformers import onnx

    return onnx.load(directory, threads=1)


def test_untampered_export_loads(clf, exported, copy):
    model = _onnx_load(copy(exported))
    np.testing.assert_allclose(model.predict_proba(TEXTS), clf.predict_proba(TEXTS), atol=1e-4)


ONNX_CONFIG = "sktransformers_onnx.json"


@pytest.mark.parametrize(
    "change, pattern",
    [
        (lambda c: c.update(max_length=10**30), "'max_length' should be between"),
        (lambda c: c.update(batch_size=0), "'batch_size' should be between"),
        (lambda c: c.update(long_texts="chunk", stride=30), "'stride'"),
        (lambda c: c.pop("model_files"), "'model_files' is missing"),
        (lambda c: c.update(model_files={"fp32": "/etc/passwd"}), "outside the model folder"),
        (lambda c: c.update(model_files={"fp16": "model.onnx"}), "'model_files'"),
        (lambda c: c.update(tokenizer_file="../clf/tokenizer.json"), "outside the model folder"),
        (lambda c: c.update(kind="nope"), "'kind'"),
        (lambda c: c.update(format_version=0), "format_version"),
        (lambda c: c["task"].update(classes=["a"]), "'task.classes'"),
        (lambda c: c["task"].update(classes_dtype="zz"), "'task.classes'"),
        (lambda c: c["task"].update(threshold="high"), "'task.threshold'"),
        (lambda c: c.update(kind="regressor"), "'task.n_outputs' is missing"),
        (lambda c: c.update(task=[]), "'task'"),
    ],
)
def test_tampered_onnx_config(exported, copy, change, pattern):
    d = copy(exported)
    _edit_json(d / ONNX_CONFIG, change)
    _refused(d, ONNX_CONFIG, pattern, loader=_onnx_load)


def test_onnx_config_naming_more_classes_than_the_graph_has(exported, copy):
    d = copy(exported)
    _edit_json(d / ONNX_CONFIG, lambda c: c["task"].update(classes=["a", "b", "c"]))
    _refused(d, "model.onnx", "describes 3", loader=_onnx_load)


def test_onnx_files_linked_outside_the_folder(exported, copy, tmp_path):
    d = copy(exported)
    os.remove(d / "model.onnx")
    os.symlink(exported / "model.onnx", d / "model.onnx")
    _refused(d, "model.onnx", "outside the model folder", loader=_onnx_load)
    d2 = tmp_path / "second"
    shutil.copytree(exported, d2)
    os.remove(d2 / "tokenizer.json")
    os.symlink("/dev/zero", d2 / "tokenizer.json")
    _refused(d2, "tokenizer.json", loader=_onnx_load)


@pytest.mark.parametrize("name", ["model.onnx", "tokenizer.json", ONNX_CONFIG])
@pytest.mark.parametrize("damage", ["truncated", "random", "empty"])
def test_damaged_onnx_files_name_the_file(exported, copy, name, damage):
    d = copy(exported)
    path = d / name
    data = path.read_bytes()
    path.write_bytes(
        {"truncated": data[: len(data) // 2], "random": os.urandom(2000), "empty": b""}[damage]
    )
    _refused(d, name, loader=_onnx_load)


def test_oversized_onnx_config(exported, copy):
    d = copy(exported)
    (d / ONNX_CONFIG).write_text((d / ONNX_CONFIG).read_text() + " " * _schema.JSON_LIMIT)
    _refused(d, ONNX_CONFIG, "more than", loader=_onnx_load)
