"""The public API carries type hints (mypy checks them in CI; this test keeps them there)."""

from __future__ import annotations

import inspect

import pytest

import sktransformers
from sktransformers import onnx
from sktransformers.explain import explain
from sktransformers.tuning import tune

ESTIMATORS = [
    "TransformerClassifier",
    "TransformerRegressor",
    "TransformerTokenClassifier",
    "TransformerQuestionAnswerer",
    "MultiTaskTransformer",
    "TransformerEmbedder",
    "FewShotClassifier",
    "TextSelfTrainingClassifier",
    "TextAugmenter",
]
METHODS = [
    "__init__",
    "fit",
    "partial_fit",
    "predict",
    "predict_proba",
    "predict_log_proba",
    "predict_entities",
    "predict_answers",
    "decision_function",
    "transform",
    "fit_transform",
    "fit_resample",
    "score",
    "save_pretrained",
    "from_pretrained",
    "export_onnx",
    "explain",
    "backbone",
]
RUNTIMES = ["OnnxClassifier", "OnnxRegressor", "OnnxTokenClassifier", "OnnxQuestionAnswerer"]
RUNTIMES += ["OnnxEmbedder"]


def _ours(cls, name):
    """The method if sktransformers defines it (not scikit-learn's or skorch's)."""
    for klass in cls.__mro__:
        if name in vars(klass):
            if not klass.__module__.startswith("sktransformers"):
                return None
            attr = vars(klass)[name]
            return getattr(attr, "__func__", attr)
    return None


def _missing(func):
    sig = inspect.signature(func)
    missing = [
        p.name
        for p in sig.parameters.values()
        if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty
    ]
    if sig.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


@pytest.mark.parametrize("name", ESTIMATORS + RUNTIMES)
def test_public_methods_are_annotated(name):
    cls = getattr(sktransformers, name, None) or getattr(onnx, name)
    checked = 0
    for method in METHODS:
        if method == "__init__" and name in RUNTIMES:
            continue  # built by onnx.load, not by users
        func = _ours(cls, method)
        if func is None or not callable(func):
            continue
        checked += 1
        assert not _missing(func), f"{name}.{method} lacks hints for {_missing(func)}"
    assert checked >= 2


@pytest.mark.parametrize("func", [sktransformers.export_onnx, onnx.load, tune, explain])
def test_public_functions_are_annotated(func):
    assert not _missing(func), f"{func.__name__} lacks hints for {_missing(func)}"
