"""scikit-learn estimators that fine-tune Hugging Face transformers.

The estimators are imported on first use (PEP 562 ``__getattr__``), so that
``sktransformers.onnx``, the ONNX runtime, imports neither torch nor
transformers.
"""

import importlib

__version__ = "0.2.0"

_LAZY = {
    "Explanation": "._explain",
    "Explanations": "._explain",
    "FewShotClassifier": "._fewshot",
    "FittedBackbone": "._transfer",
    "TextAugmenter": "._augment",
    "TextSelfTrainingClassifier": "._self_training",
    "MultiTaskTransformer": "._multitask",
    "TransformerClassifier": "._classifier",
    "TransformerEmbedder": "._embedder",
    "TransformerRegressor": "._regressor",
    "TransformerTokenClassifier": "._token_classifier",
    "export_onnx": "._onnx_export",
}

__all__ = [
    "Explanation",
    "Explanations",
    "FewShotClassifier",
    "FittedBackbone",
    "TextAugmenter",
    "TextSelfTrainingClassifier",
    "MultiTaskTransformer",
    "TransformerClassifier",
    "TransformerEmbedder",
    "TransformerRegressor",
    "TransformerTokenClassifier",
    "__version__",
    "export_onnx",
]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value  # later lookups skip __getattr__
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
