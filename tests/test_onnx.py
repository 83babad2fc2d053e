"""ONNX export and the torch-free runtime: same outputs as torch, int8, no torch imported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from transformers import AutoTokenizer  # noqa: E402

from sktransformers import (  # noqa: E402
    TransformerClassifier,
    TransformerEmbedder,
    TransformerRegressor,
)
from sktransformers import onnx as skonnx  # noqa: E402
from sktransformers.deploy._export import export_onnx  # noqa: E402
from sktransformers.utils._text_input import check_texts, entity_spans  # noqa: E402

TEXTS = [
    "a great film",
    "a terrible film",
    "i loved every minute of it",
    "i hated it",
    "wonderful acting",
    "awful acting and a silly plot that goes on and on and never seems to end at all",
    "truly excellent",
    "dull",
]
LABELS = ["pos", "neg", "pos", "neg", "pos", "neg", "pos", "neg"]
# Texts of many lengths (one past max_length) so batches pad differently from torch's.
PREDICT = TEXTS + ["x", "", "one two three " * 30, "Ünïcode çafé ☕ and émojis 🎉"]
FAST = {"max_epochs": 1, "batch_size": 4, "device": "cpu", "random_state": 0, "max_length": 32}


@pytest.fixture(scope="module")
def classifier(tiny_model_dir):
    return TransformerClassifier(tiny_model_dir, **FAST).fit(TEXTS, LABELS)


@pytest.fixture(scope="module")
def classifier_dir(classifier, tmp_path_factory):
    return export_onnx(classifier, tmp_path_factory.mktemp("clf"), quantize="int8")


def _load(directory, **kwargs):
    # Small batches: several ONNX Runtime calls, each padded to its own length.
    return skonnx.load(directory, batch_size=3, **kwargs)


def test_classifier_fp32_matches_torch(classifier, classifier_dir):
    model = _load(classifier_dir, precision="fp32")
    assert isinstance(model, skonnx.OnnxClassifier)
    np.testing.assert_array_equal(model.classes_, classifier.classes_)
    assert model.classes_.dtype == classifier.classes_.dtype
    np.testing.assert_allclose(
        model.predict_proba(PREDICT), classifier.predict_proba(PREDICT), atol=1e-4
    )
    np.testing.assert_array_equal(model.predict(PREDICT), classifier.predict(PREDICT))
    assert model.score(TEXTS, LABELS) == pytest.approx(classifier.score(TEXTS, LABELS))


def test_export_directory_contents(classifier_dir):
    names = {p.name for p in classifier_dir.iterdir()}
    assert {"model.onnx", "model.int8.onnx", "tokenizer.json", "sktransformers_onnx.json"} <= names
    config = json.loads((classifier_dir / "sktransformers_onnx.json").read_text())
    assert config["kind"] == "classifier"
    assert config["estimator"] == "TransformerClassifier"
    assert config["format_version"] == skonnx.FORMAT_VERSION
    assert config["max_length"] == 32
    assert config["task"]["classes"] == ["neg", "pos"]
    assert config["task"]["multilabel"] is False
    assert config["model_files"] == {"fp32": "model.onnx", "int8": "model.int8.onnx"}
    assert config["inputs"] == ["input_ids", "attention_mask", "token_type_ids"]
    assert config["quantization"]["op_types"] == ["MatMul"]


def test_float32_graph_is_fused_for_onnx_runtime(classifier_dir):
    # Bias + GELU fused (ONNX Runtime's transformer optimizer); SkipLayerNorm
    # and the fused Attention operator left out (measured slower on CPU).
    import onnx

    config = json.loads((classifier_dir / "sktransformers_onnx.json").read_text())
    assert config["fusions"]["BiasGelu"] == 2  # one per layer of the tiny model
    for name in ("model.onnx", "model.int8.onnx"):
        ops = {node.op_type for node in onnx.load(str(classifier_dir / name)).graph.node}
        assert "BiasGelu" in ops
        assert not ops & {"SkipLayerNormalization", "Attention", "MultiHeadAttention"}
        assert "IsNaN" not in ops  # exported with eager attention, not SDPA's guarded pattern


def test_runtime_session_options(classifier_dir):
    from sktransformers.deploy._onnx_runtime import _slow_cpu_fusions

    assert _slow_cpu_fusions(["CPUExecutionProvider"]) == ["SkipLayerNormFusion"]
    assert _slow_cpu_fusions(["CUDAExecutionProvider", "CPUExecutionProvider"]) == []
    quiet = skonnx.load(classifier_dir, spinning=False)
    spinning = skonnx.load(classifier_dir)
    options = quiet.session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    np.testing.assert_allclose(quiet.predict_proba(PREDICT), spinning.predict_proba(PREDICT))
    with pytest.raises(ValueError, match="spinning"):
        skonnx.load(classifier_dir, spinning="no")


def test_int8_is_the_default_and_agrees(classifier, classifier_dir):
    import onnx

    model = _load(classifier_dir)
    assert model.precision == "int8"
    proba = model.predict_proba(PREDICT)
    assert proba.shape == (len(PREDICT), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(proba, classifier.predict_proba(PREDICT), atol=0.02)
    graph = onnx.load(str(classifier_dir / "model.int8.onnx")).graph
    ops = {node.op_type for node in graph.node}
    assert "MatMulInteger" in ops or "DynamicQuantizeMatMul" in ops
    assert "MatMul" in ops  # attention score products stay float32


def test_runtime_tokenization_matches_transformers(classifier_dir, tiny_model_dir):
    hf = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = _load(classifier_dir)
    windows, rows = model._encode(check_texts(PREDICT))
    expected = hf(PREDICT, truncation=True, max_length=32)["input_ids"]
    assert [w.ids for w in windows] == expected
    assert rows.tolist() == list(range(len(PREDICT)))
    pairs = [("a premise", "a hypothesis " * 40), ("short", "x")]
    windows, _ = model._encode(check_texts(pairs))
    enc = hf([a for a, _ in pairs], [b for _, b in pairs], truncation=True, max_length=32)
    assert [w.ids for w in windows] == enc["input_ids"]
    assert [w.type_ids for w in windows] == enc["token_type_ids"]


def test_pairs(tiny_model_dir, tmp_path):
    pairs = [(a, b) for a, b in zip(TEXTS, TEXTS[1:] + TEXTS[:1])]
    clf = TransformerClassifier(tiny_model_dir, **FAST).fit(pairs, LABELS)
    model = _load(export_onnx(clf, tmp_path))
    assert model.is_pair_ and model.precision == "fp32"
    np.testing.assert_allclose(model.predict_proba(pairs), clf.predict_proba(pairs), atol=1e-4)
    with pytest.raises(ValueError, match="fitted on sentence pairs"):
        model.predict(["a single text"])


def test_multiclass_integer_labels(tiny_model_dir, tmp_path):
    y = [0, 1, 2, 0, 1, 2, 0, 1]
    clf = TransformerClassifier(tiny_model_dir, **FAST).fit(TEXTS, y)
    model = _load(export_onnx(clf, tmp_path))
    pred = model.predict(PREDICT)
    assert pred.dtype == clf.predict(PREDICT).dtype
    np.testing.assert_array_equal(pred, clf.predict(PREDICT))
    np.testing.assert_allclose(model.predict_proba(PREDICT), clf.predict_proba(PREDICT), atol=1e-4)


def test_multilabel(tiny_model_dir, tmp_path):
    Y = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]] * 2)
    clf = TransformerClassifier(tiny_model_dir, threshold=0.4, **FAST).fit(TEXTS, Y)
    assert clf.multilabel_
    model = _load(export_onnx(clf, tmp_path))
    assert model.multilabel_ and model.threshold == 0.4
    np.testing.assert_array_equal(model.classes_, clf.classes_)
    np.testing.assert_allclose(model.predict_proba(PREDICT), clf.predict_proba(PREDICT), atol=1e-4)
    np.testing.assert_array_equal(model.predict(PREDICT), clf.predict(PREDICT))


def test_long_texts_chunk(tiny_model_dir, tmp_path):
    long_text = " ".join(TEXTS * 3)  # about 90 tokens: several windows of 16
    X = [*TEXTS, long_text]
    y = [*LABELS, "pos"]
    params = {**FAST, "max_length": 16, "long_texts": "chunk", "stride": 4}
    clf = TransformerClassifier(tiny_model_dir, **params).fit(X, y)
    model = _load(export_onnx(clf, tmp_path / "clf"))
    assert model.long_texts == "chunk" and model.stride == 4
    np.testing.assert_allclose(model.predict_proba(X), clf.predict_proba(X), atol=1e-4)
    pairs = [("a premise", long_text), ("short", "dull " + long_text)]  # first text kept whole
    clf = TransformerClassifier(tiny_model_dir, **params).fit(pairs * 2, ["pos", "neg"] * 2)
    model = _load(export_onnx(clf, tmp_path / "pairs"))
    np.testing.assert_allclose(model.predict_proba(pairs), clf.predict_proba(pairs), atol=1e-4)
    emb = TransformerEmbedder(
        tiny_model_dir, device="cpu", normalize=True, max_length=16, long_texts="chunk", stride=4
    ).fit()
    model = _load(export_onnx(emb, tmp_path / "emb"))
    np.testing.assert_allclose(model.transform(X), emb.transform(X), atol=1e-4)


def test_pruned_model(tiny_model_dir, tmp_path):
    clf = TransformerClassifier(tiny_model_dir, num_layers=1, **FAST).fit(TEXTS, LABELS)
    model = _load(export_onnx(clf, tmp_path))
    np.testing.assert_allclose(model.predict_proba(PREDICT), clf.predict_proba(PREDICT), atol=1e-4)


@pytest.mark.parametrize("y_2d", [False, True])
def test_regressor(tiny_model_dir, tmp_path, y_2d):
    y = np.arange(len(TEXTS), dtype=float) * 10 + 3
    if y_2d:
        y = np.column_stack([y, -y / 7])
    reg = TransformerRegressor(tiny_model_dir, **FAST).fit(TEXTS, y)
    model = _load(export_onnx(reg, tmp_path))
    pred = model.predict(PREDICT)
    assert pred.shape == reg.predict(PREDICT).shape
    np.testing.assert_allclose(pred, reg.predict(PREDICT), atol=1e-4 * np.abs(y).max())
    assert model.score(TEXTS, y) == pytest.approx(reg.score(TEXTS, y), abs=1e-4)


@pytest.mark.parametrize("pooling, normalize", [("mean", True), ("cls", False)])
def test_embedder(tiny_model_dir, tmp_path, pooling, normalize):
    emb = TransformerEmbedder(
        tiny_model_dir, pooling=pooling, normalize=normalize, device="cpu", max_length=32
    ).fit()
    model = _load(export_onnx(emb, tmp_path))
    assert isinstance(model, skonnx.OnnxEmbedder) and model.n_features_out_ == 32
    out = model.transform(PREDICT)
    assert out.dtype == np.float32 and out.shape == (len(PREDICT), 32)
    np.testing.assert_allclose(out, emb.transform(PREDICT), atol=1e-4)
    pairs = [("a", "b"), ("a longer first text", "and a second")]
    np.testing.assert_allclose(model.transform(pairs), emb.transform(pairs), atol=1e-4)
    if normalize:
        np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_lora_adapters_are_merged(tiny_model_dir, tmp_path):
    pytest.importorskip("peft")
    clf = TransformerClassifier(
        tiny_model_dir, lora={"r": 4, "target_modules": ["query", "value"]}, **FAST
    ).fit(TEXTS, LABELS)
    model = _load(export_onnx(clf, tmp_path))
    np.testing.assert_allclose(model.predict_proba(PREDICT), clf.predict_proba(PREDICT), atol=1e-4)
    # The estimator keeps its adapters (the export merged a copy).
    assert hasattr(clf.net_.module_.backbone, "peft_config")


NER_X = [
    ["Ada", "Lovelace", "lived", "in", "London"],
    ["Paris", "is", "big"],
    "Grace Hopper visited Rome",
    ["Alan", "Turing", "worked", "at", "Bletchley", "Park", "near", "London", "in", "England"],
]
NER_Y = [
    ["B-PER", "I-PER", "O", "O", "B-LOC"],
    ["B-LOC", "O", "O"],
    ["B-PER", "I-PER", "O", "B-LOC"],
    ["B-PER", "I-PER", "O", "O", "B-LOC", "I-LOC", "O", "B-LOC", "O", "B-LOC"],
]


def test_token_classifier(tiny_model_dir, tmp_path):
    from sktransformers import TransformerTokenClassifier

    # max_length 8: the longer sentences are read as overlapping windows.
    ner = TransformerTokenClassifier(
        tiny_model_dir,
        max_length=8,
        stride=2,
        max_epochs=1,
        batch_size=2,
        device="cpu",
        random_state=0,
    )
    ner.fit(NER_X, NER_Y)
    model = _load(export_onnx(ner, tmp_path))
    assert isinstance(model, skonnx.OnnxTokenClassifier)
    np.testing.assert_array_equal(model.classes_, ner.classes_)
    X = [*NER_X, "Straße  naïve   Zürich ☕ émigré", ["x"]]
    for got, want in zip(model.predict_proba(X), ner.predict_proba(X)):
        np.testing.assert_allclose(got, want, atol=1e-4)
    assert model.predict(X) == ner.predict(X)
    got, want = model.predict_entities(X), ner.predict_entities(X)
    assert [
        [{k: e[k] for k in ("entity", "start", "end", "text")} for e in row] for row in got
    ] == [[{k: e[k] for k in ("entity", "start", "end", "text")} for e in row] for row in want]
    assert model.score(NER_X, NER_Y) == pytest.approx(ner.score(NER_X, NER_Y))
    assert entity_spans(["B-PER", "I-PER", "O", "I-PER"]) == [("PER", 0, 2)]


def test_errors(classifier, classifier_dir, tmp_path, tiny_model_dir):
    with pytest.raises(ValueError, match="quantize"):
        export_onnx(classifier, tmp_path, quantize="int4")
    with pytest.raises(ValueError, match="opset"):
        export_onnx(classifier, tmp_path, opset=11)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        export_onnx(TransformerClassifier(tiny_model_dir), tmp_path)
    with pytest.raises(TypeError, match="export_onnx works with the estimators"):
        export_onnx(object(), tmp_path)
    with pytest.raises(ValueError, match="not a directory written by export_onnx"):
        skonnx.load(tmp_path / "missing")
    with pytest.raises(ValueError, match="precision"):
        skonnx.load(classifier_dir, precision="fp16")
    model = _load(classifier_dir)
    with pytest.raises(TypeError, match="wrap it in a list"):
        model.predict("a single string")
    with pytest.raises(TypeError, match="row 1"):
        model.predict(["fine", 3])
    with pytest.raises(ValueError, match="missing value"):
        model.predict(["fine", None])
    with pytest.raises(ValueError, match="empty"):
        model.predict([])
    with pytest.raises(ValueError, match="fitted on single texts"):
        model.predict([("a", "b")])
    with pytest.raises(ValueError, match="different lengths"):
        model.score(TEXTS, LABELS[:3])
    with pytest.raises(ValueError, match="lone surrogate"):
        model.predict(["bad \udc80 text"])


def test_runtime_never_imports_torch(classifier_dir):
    """`sktransformers.onnx` runs with onnxruntime, tokenizers and numpy only."""
    code = textwrap.dedent(f"""
        import sys
        from sktransformers import onnx
        model = onnx.load({str(classifier_dir)!r}, threads=1)
        assert model.threads == 1
        print(model.predict(["a great film", "dull"]).tolist())
        heavy = sorted(m for m in ("torch", "transformers", "skorch", "sklearn", "pandas")
                       if m in sys.modules)
        assert not heavy, heavy
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith("[")


def test_threads_default_to_the_cores_this_process_may_use(classifier_dir):
    import os

    model = skonnx.load(classifier_dir)
    assert model.threads == len(os.sched_getaffinity(0))
    with pytest.raises(ValueError, match="threads"):
        skonnx.load(classifier_dir, threads=0)
