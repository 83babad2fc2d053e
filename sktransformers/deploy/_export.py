"""Export a fitted estimator to ONNX (optionally int8), for :mod:`sktransformers.onnx`.

The directory written by :func:`export_onnx` holds:

* ``model.onnx``: the float32 graph (exported with eager attention, then
  fused by ONNX Runtime's transformer optimizer where the result still
  matches the torch model; see :func:`_fuse`), inputs ``input_ids``, ``attention_mask``
  (and ``token_type_ids`` when the tokenizer makes them), int64, with dynamic
  batch and sequence axes; one output, the head's raw output: ``logits``
  (batch, n_outputs) for classifiers and regressors, ``logits`` (batch,
  sequence, n_tags) for token classifiers, ``embeddings`` (batch, hidden) for
  the embedder (pooled; the runtime averages the windows of a long text and
  then L2-normalises when ``normalize=True``, as the estimator does);
* ``model.int8.onnx`` with ``quantize="int8"``: the same graph after ONNX
  Runtime's dynamic quantization (int8 weights of every MatMul with a
  constant weight, activations quantized per batch at run time); the float32
  graph is kept beside it so both can be compared, and the runtime loads the
  int8 one by default;
* the tokenizer files (``tokenizer.json`` is what the runtime reads);
* ``sktransformers_onnx.json``: the deployed kind and the task's kind, the
  ``task`` entry (labels and their dtype, target scaling or pooling: the
  task decides it, :meth:`~._tasks.Task.export_metadata`), max_length,
  long-text windows, pairs, versions.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..tasks import TOKEN, EmbeddingTask, single_task
from ..utils._extras import install_hint
from ..utils._typing import PathLike
from ._onnx_runtime import CONFIG_FILE, FORMAT_VERSION

FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
DEFAULT_OPSET = 18


def _import_onnx_tools():
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        raise ImportError(
            f"export_onnx needs onnx and onnxruntime: {install_hint('onnx')}."
        ) from None


def _plain(module):
    """The module under ``torch.compile``'s wrapper, if any."""
    return getattr(module, "_orig_mod", module)


def _merged(backbone):
    """``backbone`` (a copy) with any LoRA adapter merged into its weights."""
    if hasattr(backbone, "peft_config") and hasattr(backbone, "merge_and_unload"):
        return backbone.merge_and_unload()
    return backbone


def _eager_attention(backbone):
    """``backbone`` set to plain matmul-softmax attention, for export.

    transformers' default (SDPA) exports as a masked pattern with a NaN guard
    in every layer; the eager pattern is shorter and is what ONNX Runtime's
    fusions and int8 quantization read best (on SST-2 dev, 2-core CPU: int8
    820 against 736 sentences/s before any fusion). Both give the same outputs;
    :func:`_check_graph` compares the graph with the torch model.
    """
    setter = getattr(backbone, "set_attn_implementation", None)
    if setter is not None:
        try:
            setter("eager")
        except (ValueError, NotImplementedError):  # an architecture without eager attention
            pass
    return backbone


def _wrapper(estimator):
    """A CPU float32 copy of the estimator's model as an nn.Module of positional inputs.

    The copy is the estimator's own :class:`~._modules.TransformerModel`
    (backbone, pooling, head), so the graph computes what ``predict`` (or
    the embedder's ``transform``, before normalisation) computes.
    """
    from torch import nn

    net = getattr(estimator, "net_", None)
    model = estimator.module_ if net is None else net.module_  # the embedder has no net
    module = copy.deepcopy(_plain(model)).float().cpu().eval()
    if hasattr(module, "backbone"):
        module.backbone = _eager_attention(_merged(module.backbone))
    heads = getattr(module, "heads", None)
    if heads is not None and len(heads) > 1:
        raise ValueError(f"export_onnx exports one head; this model has {len(heads)}.")

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.module = module

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
            if token_type_ids is not None:
                kwargs["token_type_ids"] = token_type_ids
            out = self.module(**kwargs)
            if isinstance(out, dict):  # one head by construction
                out = next(iter(out.values()))
            # (no head: the embedder's pooled vectors, normalised by the runtime
            # after any window mean, as the estimator does)
            return out

    return Head()


def _example_inputs(estimator, task, wants_types):
    """Two padded example rows (shapes only matter: both axes are dynamic)."""
    import torch

    tokenizer = estimator.tokenizer_
    first = ["an example text for export", "short"]
    kwargs = {
        "padding": True,
        "truncation": True,
        "max_length": estimator.max_length,
        "return_tensors": "pt",
        "return_token_type_ids": wants_types,
    }
    if task.level == TOKEN:
        enc = tokenizer([["an", "example"], ["words"]], is_split_into_words=True, **kwargs)
    elif getattr(estimator, "is_pair_", False):
        enc = tokenizer(first, ["a second text", "pair"], **kwargs)
    else:
        enc = tokenizer(first, **kwargs)
    args = [enc["input_ids"].to(torch.int64), enc["attention_mask"].to(torch.int64)]
    if wants_types:
        args.append(enc["token_type_ids"].to(torch.int64))
    return tuple(args)


def export_onnx(
    estimator: Any,
    directory: PathLike,
    *,
    quantize: Literal["int8"] | None = None,
    opset: int | None = None,
) -> Path:
    """Write a fitted estimator as an ONNX graph, its tokenizer and a JSON of metadata.

    Load the result with :func:`sktransformers.onnx.load`, which needs
    onnxruntime, tokenizers and numpy only (no torch).

    Parameters
    ----------
    estimator : fitted TransformerClassifier, TransformerRegressor, TransformerEmbedder \
or TransformerTokenClassifier
        LoRA adapters are merged into the exported weights (the estimator is
        left as it is).
    directory : str or path-like
        Created if missing; files of an earlier export are overwritten.
    quantize : {None, "int8"}, default=None
        ``"int8"`` also writes ``model.int8.onnx``: ONNX Runtime's dynamic
        quantization, int8 weights (signed, per tensor) for every MatMul
        with a constant weight (the attention projections, the feed-forward
        layers and the head); embeddings, LayerNorm, softmax, GELU and the
        attention score products stay float32. The runtime then loads the
        int8 graph by default.
    opset : int or None, default=None
        ONNX opset; None is 18 (the dynamo exporter's minimum).

    Returns
    -------
    directory : pathlib.Path

    Examples
    --------
    >>> from sktransformers import TransformerClassifier
    >>> from sktransformers.deploy._export import export_onnx
    >>> clf = TransformerClassifier(max_epochs=1).fit(["good", "bad"], [1, 0])  # doctest: +SKIP
    >>> export_onnx(clf, "exported", quantize="int8")  # doctest: +SKIP
    PosixPath('exported')
    """
    if quantize not in (None, "int8"):
        raise ValueError(f"quantize={quantize!r}; expected None or 'int8'.")
    if opset is not None and (not isinstance(opset, int) or opset < 18):
        raise ValueError(f"opset={opset!r}; expected an int >= 18 (or None for {DEFAULT_OPSET}).")
    task = single_task(estimator, "export_onnx")  # TypeError, or NotFittedError before fit
    kind = task.deploy_kind
    if kind is None:
        raise TypeError(f"export_onnx cannot export a {task.kind} task.")
    long_texts = getattr(estimator, "long_texts", None) or "truncate"
    if long_texts not in ("truncate", "chunk"):
        raise ValueError(f"long_texts={long_texts!r} is not supported by the ONNX runtime.")
    _import_onnx_tools()
    import torch

    tokenizer = estimator.tokenizer_
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(
            "export_onnx needs a fast (Rust) tokenizer: the runtime reads tokenizer.json."
        )
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    wants_types = "token_type_ids" in getattr(tokenizer, "model_input_names", [])
    wrapper = _wrapper(estimator)
    args = _example_inputs(estimator, task, wants_types)
    input_names = ["input_ids", "attention_mask"] + (["token_type_ids"] if wants_types else [])
    output = "embeddings" if isinstance(task, EmbeddingTask) else "logits"
    axes = {name: {0: "batch", 1: "sequence"} for name in input_names}
    axes[output] = {0: "batch", 1: "sequence"} if task.level == TOKEN else {0: "batch"}
    opset = opset or DEFAULT_OPSET
    with _quiet_exporters(), torch.inference_mode(False), torch.no_grad():
        # The dynamo exporter (torch.export + onnxscript). The TorchScript
        # tracer (dynamo=False) bakes transformers' mask preparation into the
        # graph and gives wrong outputs (off by 0.1-2 on BERT, transformers 5).
        torch.onnx.export(
            wrapper,
            args,
            str(directory / FP32_FILE),
            input_names=input_names,
            output_names=[output],
            dynamic_axes=axes,
            opset_version=opset,
            dynamo=True,
            external_data=False,
            verbose=False,
            report=False,
            optimize=True,
        )
        reference = wrapper(*args).float().numpy()
    _check_graph(directory / FP32_FILE, input_names, args, reference)
    fusions = _fuse(directory / FP32_FILE, input_names, args, reference)
    files = {"fp32": FP32_FILE}
    if quantize == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        if (directory / INT8_FILE).exists():
            os.remove(directory / INT8_FILE)
        with _quiet_exporters():
            quantize_dynamic(
                str(directory / FP32_FILE),
                str(directory / INT8_FILE),
                weight_type=QuantType.QInt8,
                op_types_to_quantize=["MatMul"],
            )
        files["int8"] = INT8_FILE
    elif (directory / INT8_FILE).exists():
        os.remove(directory / INT8_FILE)  # a stale int8 graph of an earlier export
    tokenizer.save_pretrained(directory)
    from .._version import __version__
    from ..engine._base import window_stride

    pad = tokenizer.pad_token_id
    config = {
        "format": "sktransformers-onnx",
        "format_version": FORMAT_VERSION,
        "sktransformers_version": __version__,
        "estimator": type(estimator).__name__,
        "kind": kind,
        "task_kind": task.kind,
        "model_files": files,
        "inputs": input_names,
        "output": output,
        "opset": opset,
        "tokenizer_file": "tokenizer.json",
        "pad_token_id": 0 if pad is None else int(pad),
        "max_length": int(estimator.max_length),
        "is_pair": bool(getattr(estimator, "is_pair_", False)),
        "long_texts": long_texts,
        "stride": window_stride(estimator) if hasattr(estimator, "stride") else None,
        "pooling": getattr(estimator, "pooling", None),
        "batch_size": int(
            getattr(getattr(estimator, "net_", None), "predict_batch_size", None)
            or getattr(estimator, "predict_batch_size", None)
            or (estimator.batch_size if isinstance(task, EmbeddingTask) else 64)
        ),
        "fusions": fusions,
        "quantization": None
        if quantize is None
        else {
            "method": "onnxruntime.quantization.quantize_dynamic",
            "weight_type": "QInt8",
            "op_types": ["MatMul"],
        },
        "task": task.export_metadata(estimator),
    }
    (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2), encoding="utf-8")
    return directory


class ExportMixin:
    """The ``export_onnx`` method of the estimators of one deployable task (mixin on the left)."""

    def export_onnx(
        self,
        directory: PathLike,
        *,
        quantize: Literal["int8"] | None = None,
        opset: int | None = None,
    ) -> Path:
        """Write this fitted estimator as ONNX (``quantize="int8"`` adds an int8 graph).

        See :func:`sktransformers.export_onnx`; load the directory with
        :func:`sktransformers.onnx.load`, which needs no torch.
        """
        return export_onnx(self, directory, quantize=quantize, opset=opset)


@contextlib.contextmanager
def _quiet_exporters():
    """Silence the exporter's and the quantizer's log lines (torchvision, pre-processing hints)."""
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "onnxscript", "")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _fuse(path, input_names, args, reference):
    """Rewrite the float32 graph at ``path`` with ONNX Runtime's transformer fusions.

    ``onnxruntime.transformers.optimizer`` (BERT patterns) folds each
    feed-forward layer's bias and GELU into one ``BiasGelu`` node and tidies
    the graph; the int8 graph is quantized from the result. Two fusions stay
    off because they were measured slower on a 2-core CPU (SST-2 dev, int8,
    MiniLM-L6; see the Deploying page): ``SkipLayerNormalization`` (its CPU
    kernel took 26% of the run, against 4% for Add + LayerNormalization) and
    the fused ``Attention`` operator (554 ms against about 330 ms for the
    unfused MatMul-Softmax-MatMul). The fused graph is kept only if it still
    matches the torch model; otherwise the plain export stays and nothing is
    reported. Returns the counts of the fused operators, or None.
    """
    try:
        from onnxruntime.transformers.fusion_options import FusionOptions
        from onnxruntime.transformers.optimizer import optimize_model
    except ImportError:  # an onnxruntime build without the transformers tools
        return None
    options = FusionOptions("bert")
    options.enable_skip_layer_norm = False
    options.enable_attention = False
    fused_path = path.with_name(path.stem + ".fused.onnx")
    try:
        with _quiet_exporters():
            model = optimize_model(
                str(path),
                model_type="bert",
                num_heads=0,
                hidden_size=0,
                opt_level=0,
                optimization_options=options,
            )
            model.save_model_to_file(str(fused_path))
        _check_graph(fused_path, input_names, args, reference)
    except Exception:  # noqa: BLE001 - a speed step: any failure keeps the checked plain graph
        if fused_path.exists():
            os.remove(fused_path)
        return None
    os.replace(fused_path, path)
    stats = model.get_fused_operator_statistics()
    return {op: int(n) for op, n in sorted(stats.items()) if n}


def _check_graph(path, input_names, args, reference):
    """Run the exported graph once on the example inputs; fail loudly if it disagrees."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {name: arg.numpy() for name, arg in zip(input_names, args)}
    got = session.run(None, feed)[0]
    if got.shape != reference.shape or not np.allclose(got, reference, atol=1e-4, rtol=1e-3):
        diff = np.abs(got - reference).max() if got.shape == reference.shape else "shape"
        raise RuntimeError(
            f"The exported graph disagrees with the torch model (max difference {diff}); "
            "please report this with the model's name."
        )
