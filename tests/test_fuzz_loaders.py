"""Property-based fuzzing of the loaders: any damage gives a result or a clear error.

A saved tiny classifier and its ONNX export are damaged by hypothesis:
files truncated at a random point, emptied, replaced by random bytes, by a
link to ``/dev/zero`` or to a file outside the folder; fields of the
package's own JSON files deleted or replaced by another JSON value (huge,
negative or zero numbers, NaN, strings with ``..``, lists, objects).
Loading, and one prediction when it loads, must then either work or raise
ValueError/TypeError: never another exception, never a hang.

Budget (2-core CPU): about 90 examples in all, derandomized so CI runs the
same ones; the whole file runs in about a minute.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sktransformers import TransformerClassifier  # noqa: E402
from sktransformers.engine._persistence import ESTIMATOR_FILE, load  # noqa: E402

TEXTS = ["a great film", "a terrible film", "i loved it", "i hated it"] * 2
LABELS = ["pos", "neg"] * 4
FAST = {"max_epochs": 1, "batch_size": 4, "device": "cpu", "random_state": 0, "max_length": 32}
ONNX_CONFIG = "sktransformers_onnx.json"
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


@pytest.fixture(scope="module")
def clf(tiny_model_dir):
    return TransformerClassifier(tiny_model_dir, **FAST).fit(TEXTS, LABELS)


@pytest.fixture(scope="module")
def saved(clf, tmp_path_factory):
    return clf.save_pretrained(tmp_path_factory.mktemp("fuzz") / "clf")


@pytest.fixture(scope="module")
def exported(clf, tmp_path_factory):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from sktransformers.deploy._export import export_onnx

    return export_onnx(clf, tmp_path_factory.mktemp("fuzz") / "onnx")


# ----------------------------------------------------------------------
# Damage
# ----------------------------------------------------------------------
DAMAGES = ("truncate", "empty", "random", "dev_zero", "outside")


def _damage_file(path, damage, fraction, noise, outside):
    data = path.read_bytes()
    os.remove(path)
    if damage == "truncate":
        path.write_bytes(data[: int(len(data) * fraction)])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "random":
        path.write_bytes(noise)
    elif damage == "dev_zero":
        os.symlink("/dev/zero", path)
    else:  # a link to a (valid) copy outside the folder
        outside.write_bytes(data)
        os.symlink(outside, path)


def _json_paths(value, prefix=()):
    """Every path into a JSON value: keys of objects, indices of lists."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _json_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _json_paths(item, (*prefix, i))


JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, -1, 1, 2, 3, 10**6, 10**12, -(10**9), 10**30]),
    st.sampled_from([0.0, -1.5, 1e308, float("nan"), float("inf")]),
    st.sampled_from(
        ["", "..", "../x", "/etc/passwd", "a/../../b", "object", "<U3", "zz", "model.onnx", "\x00"]
    ),
    st.lists(st.integers(-3, 3), max_size=3),
    st.just({}),
    st.just({"__dict_items__": 5}),
)


def _mutate_json(path, data, choice, delete, value):
    meta = json.loads(path.read_text())
    paths = [p for p in _json_paths(meta) if p]
    target = paths[data.draw(st.integers(0, len(paths) - 1), label=f"path of {choice}")]
    parent = meta
    for key in target[:-1]:
        parent = parent[key]
    if delete:
        del parent[target[-1]]
    else:
        parent[target[-1]] = value
    path.write_text(json.dumps(meta))
    return target


def _check(load_and_predict):
    """Loading works (and predicts), or fails with a clear ValueError / TypeError."""
    try:
        pred = load_and_predict()
    except (ValueError, TypeError):
        return
    assert len(pred) == len(TEXTS)


def _fresh_copy(source):
    root = Path(tempfile.mkdtemp(prefix="sktransformers-fuzz-"))
    target = root / "model"
    shutil.copytree(source, target, symlinks=True)
    return root, target


# ----------------------------------------------------------------------
# Saved estimator directories
# ----------------------------------------------------------------------
SAVED_FILES = (
    "config.json",
    "model.safetensors",
    "sktransformers_heads.safetensors",
    ESTIMATOR_FILE,
    "tokenizer.json",
    "tokenizer_config.json",
)


def _load_saved(directory):
    return load(directory).predict(TEXTS)


@pytest.mark.timeout(120)
@FUZZ
@given(
    name=st.sampled_from(SAVED_FILES),
    damage=st.sampled_from(DAMAGES),
    fraction=st.floats(0, 1),
    noise=st.binary(max_size=512),
)
def test_fuzz_saved_files(saved, name, damage, fraction, noise):
    root, d = _fresh_copy(saved)
    try:
        _damage_file(d / name, damage, fraction, noise, root / "outside")
        _check(lambda: _load_saved(d))
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.timeout(120)
@settings(FUZZ, max_examples=150)
@given(
    data=st.data(),
    name=st.sampled_from([ESTIMATOR_FILE, "config.json"]),
    delete=st.booleans(),
    value=JSON_VALUES,
)
def test_fuzz_saved_json_fields(saved, data, name, delete, value):
    root, d = _fresh_copy(saved)
    try:
        _mutate_json(d / name, data, name, delete, value)
        _check(lambda: _load_saved(d))
    finally:
        shutil.rmtree(root, ignore_errors=True)


# ----------------------------------------------------------------------
# Exported ONNX directories
# ----------------------------------------------------------------------
ONNX_FILES = ("model.onnx", "tokenizer.json", ONNX_CONFIG)


def _load_onnx(directory):
    from sktransformers import onnx

    return onnx.load(directory, threads=1).predict(TEXTS)


@pytest.mark.timeout(120)
@FUZZ
@given(
    name=st.sampled_from(ONNX_FILES),
    damage=st.sampled_from(DAMAGES),
    fraction=st.floats(0, 1),
    noise=st.binary(max_size=512),
)
def test_fuzz_onnx_files(exported, name, damage, fraction, noise):
    root, d = _fresh_copy(exported)
    try:
        _damage_file(d / name, damage, fraction, noise, root / "outside")
        _check(lambda: _load_onnx(d))
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.timeout(120)
@settings(FUZZ, max_examples=150)
@given(data=st.data(), delete=st.booleans(), value=JSON_VALUES)
def test_fuzz_onnx_json_fields(exported, data, delete, value):
    root, d = _fresh_copy(exported)
    try:
        _mutate_json(d / ONNX_CONFIG, data, ONNX_CONFIG, delete, value)
        _check(lambda: _load_onnx(d))
    finally:
        shutil.rmtree(root, ignore_errors=True)
