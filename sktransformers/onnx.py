"""Run an exported estimator with ONNX Runtime: no torch, no transformers.

A directory written by :func:`sktransformers.export_onnx` (or an estimator's
``export_onnx`` method) holds the graph (``model.onnx``, and
``model.int8.onnx`` when exported with ``quantize="int8"``), the tokenizer
(``tokenizer.json``) and ``sktransformers_onnx.json`` with what decoding
needs. :func:`load` reads it with ``onnxruntime``, ``tokenizers`` and
``numpy`` only, and returns an object with the estimator's inference
methods::

    from sktransformers import onnx
    model = onnx.load("exported/")          # the int8 graph when there is one
    model.predict(["a great film"])
    model.predict_proba(["a great film"])

Texts are tokenized once, sorted by length and run in batches padded to
their own longest text, as the estimators do. Install with
``pip install -e ".[onnx]" (from a checkout)``.
"""

from .deploy import _onnx_runtime
from .deploy._onnx_runtime import *  # noqa: F403  (its __all__)
from .deploy._onnx_runtime import CONFIG_FILE, FORMAT_VERSION, RUNTIMES, read_config  # noqa: F401  (public, not in __all__)

__all__ = _onnx_runtime.__all__
