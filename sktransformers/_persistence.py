"""Saving and loading fitted estimators: one module, safetensors + JSON, atomic.

A saved estimator is a normal Hugging Face directory (``config.json``,
``model.safetensors`` and the tokenizer files, so ``model=directory`` or
``AutoModel.from_pretrained(directory)`` reads its backbone) plus two files
of ours: ``sktransformers_heads.safetensors`` (the heads' weights) and
``sktransformers.json`` (format version, estimator class, parameters, the
tasks and fitted metadata). A LoRA estimator adds its adapter in
``sktransformers_lora/``. Nothing is pickled and no code runs on load.

Atomicity
---------
:func:`save` serialises the JSON first (an unserialisable parameter fails
before any file is touched), writes everything into a temporary sibling
directory, then moves it into place: a failure at any step leaves a
previous model in ``directory`` intact and loadable. Files get the
permissions the umask allows (a directory shared between users or
containers stays readable).

Formats
-------
Format 1 (sktransformers 0.1) stored per-estimator metadata under
``"fitted"``; format 2 stores a list of tasks. Both load; a directory of a
newer format is refused with a message saying so. A
:class:`~sktransformers.FewShotClassifier` directory keeps its own format 1
layout (no heads file; its linear head's coefficients in
``sktransformers_head.safetensors``, the head described under ``"fitted"``),
written by the same atomic writer; :func:`load` returns it like the others.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path

FORMAT = 2
ESTIMATOR_FILE = "sktransformers.json"
HEADS_FILE = "sktransformers_heads.safetensors"
# Parameters that hold objects, not values: not written to the JSON (the
# model is the directory itself; a few-shot head is saved as coefficients).
_PARAMS_SKIPPED = ("model", "callbacks", "augment", "head")


# ----------------------------------------------------------------------
# JSON values
# ----------------------------------------------------------------------
def to_json_value(value):
    """Plain-JSON form of labels and parameters (numpy scalars, tuples, dicts)."""
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


def expand(path):
    """A path parameter as a :class:`Path`, with ``~`` expanded."""
    return Path(os.path.expanduser(os.fspath(path)))


# ----------------------------------------------------------------------
# The estimator file
# ----------------------------------------------------------------------
def write_estimator_file(directory, payload):
    path = Path(directory) / ESTIMATOR_FILE
    path.write_text(json.dumps(payload, indent=2, sort_keys=True), encoding="utf-8")


def read_estimator_file(directory):
    """The parsed ``sktransformers.json`` of ``directory``, checked; clear errors."""
    directory = expand(directory)
    if not directory.exists():
        raise FileNotFoundError(f"No such directory: {str(directory)!r}.")
    if not directory.is_dir():
        raise ValueError(
            f"{str(directory)!r} is a file, not a directory written by save_pretrained."
        )
    path = directory / ESTIMATOR_FILE
    if not path.is_file():
        raise ValueError(
            f"{str(directory)!r} has no {ESTIMATOR_FILE}: it was not written by "
            "save_pretrained. To start a new estimator from its backbone, pass it as model=."
        )
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is corrupt (not valid JSON: {exc}).") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{path} is corrupt: expected a JSON object.")
    version = meta.get("format")
    if not isinstance(version, int):
        raise ValueError(f"{path} is corrupt: 'format' should be an integer, got {version!r}.")
    if version > FORMAT:
        from . import __version__

        raise ValueError(
            f"{str(directory)!r} was written by a newer sktransformers "
            f"({meta.get('sktransformers_version', 'unknown version')}, format {version}); "
            f"this version ({__version__}) reads formats up to {FORMAT}. Upgrade sktransformers."
        )
    expected = {"estimator": str, "params": dict}
    for key, kind in expected.items():
        if not isinstance(meta.get(key), kind):
            raise ValueError(
                f"{path} is corrupt: {key!r} should be a {kind.__name__}, got "
                f"{type(meta.get(key)).__name__}."
            )
    return meta


# ----------------------------------------------------------------------
# Atomic directory writes
# ----------------------------------------------------------------------
def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _open_permissions(root):
    """What the umask allows: save_file and mkdtemp create owner-only files."""
    mask = _umask()
    os.chmod(root, 0o777 & ~mask)
    for base, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(base, name), 0o777 & ~mask)
        for name in files:
            os.chmod(os.path.join(base, name), 0o666 & ~mask)


def _is_ours(directory):
    return (directory / ESTIMATOR_FILE).is_file() or not any(directory.iterdir())


def write_atomically(directory, write):
    """Run ``write(tmp)`` on a fresh sibling directory, then move it to ``directory``.

    A previous save in ``directory`` is replaced only once everything is
    written; when ``directory`` holds other files (not a save of ours), the
    new files are moved in one by one and the others are left alone.
    """
    directory = expand(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=directory.parent))
    try:
        write(tmp)
        _open_permissions(tmp)
        if not directory.exists():
            os.replace(tmp, directory)
        elif directory.is_dir() and _is_ours(directory):
            old = directory.parent / f".{directory.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(directory, old)
            os.replace(tmp, directory)
            shutil.rmtree(old, ignore_errors=True)
        elif directory.is_dir():
            for item in tmp.iterdir():
                target = directory / item.name
                if target.is_dir():  # os.replace cannot put anything over a directory
                    shutil.rmtree(target)
                os.replace(item, target)
        else:
            raise FileExistsError(f"{str(directory)!r} exists and is not a directory.")
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return directory


# ----------------------------------------------------------------------
# Estimators
# ----------------------------------------------------------------------
def _params_json(estimator):
    params = {
        k: to_json_value(v)
        for k, v in estimator.get_params(deep=False).items()
        if k not in _PARAMS_SKIPPED
    }
    try:
        json.dumps(params)
    except TypeError:
        for name, value in params.items():
            try:
                json.dumps(value)
            except TypeError:
                raise TypeError(
                    f"Parameter {name}={value!r} cannot be saved as JSON; save_pretrained "
                    "stores parameters as JSON only (use joblib/pickle to keep Python objects)."
                ) from None
        raise
    return params


def _write_model(directory, payload, backbone, tokenizer, heads=None, quiet=True, extra=None):
    """Write a backbone, its tokenizer, optional heads and ``payload`` as JSON, atomically.

    ``extra(tmp)``, when given, writes more files into the temporary
    directory (a few-shot head's coefficients). The JSON is serialised
    first, so a value it cannot hold fails before any file is written.
    """
    from . import _hub
    from ._peft import save_backbone

    text = json.dumps(payload, indent=2, sort_keys=True)

    def write(tmp):
        with _hub.quiet_transformers(quiet):
            save_backbone(backbone, tmp)
        tokenizer.save_pretrained(tmp)
        if heads is not None:
            from safetensors.torch import save_file

            state = {k: v.detach().cpu().contiguous() for k, v in heads.state_dict().items()}
            save_file(state, str(tmp / HEADS_FILE))
        if extra is not None:
            extra(tmp)
        (tmp / ESTIMATOR_FILE).write_text(text, encoding="utf-8")

    return write_atomically(directory, write)


def _payload(estimator, **extra):
    from . import __version__

    return {
        "format": FORMAT,
        "estimator": type(estimator).__name__,
        "sktransformers_version": __version__,
        "params": _params_json(estimator),
        **extra,
    }


def save(estimator, directory):
    """Write a fitted estimator of the engine (see the module docstring)."""
    from . import _logging
    from ._distributed import is_main_process

    directory = expand(directory)
    if not is_main_process():  # data-parallel training: rank 0 writes
        return directory
    payload = _payload(
        estimator,
        is_pair=bool(getattr(estimator, "is_pair_", False)),
        tasks=[task.to_json() for task in estimator._tasks],
        fitted=estimator._fitted_extra(),
    )
    module = estimator.net_.module_
    return _write_model(directory, payload, module.backbone, estimator.tokenizer_,
                        heads=module.heads, quiet=_logging.quiet_loading(estimator.verbose))


def save_embedder(embedder, directory):
    """Write a fitted :class:`~sktransformers.TransformerEmbedder`, atomically.

    The same layout as :func:`save` without heads: the backbone (a Hugging
    Face model directory, so it also works as ``model=``), the tokenizer,
    and ``sktransformers.json`` with the parameters and an empty task list.
    """
    return _write_model(directory, _payload(embedder, tasks=[]), embedder.module_.backbone,
                        embedder.tokenizer_)


def estimator_class(name):
    """The estimator class saved under ``name``."""
    import sktransformers

    cls = getattr(sktransformers, name, None)
    if not isinstance(cls, type) or not hasattr(cls, "from_pretrained"):
        raise ValueError(f"A saved directory names an unknown estimator {name!r}.")
    return cls


def load(directory, cls=None, **params):
    """Load any directory written by ``save_pretrained``: the right class, fitted.

    Parameters
    ----------
    directory : str or path-like
    cls : estimator class or None
        When given, the directory must hold that class.
    **params
        Parameters to override (for example ``device="cpu"``).
    """
    meta = read_estimator_file(directory)
    if cls is None:
        cls = estimator_class(meta["estimator"])
    elif meta["estimator"] != cls.__name__:
        raise ValueError(
            f"{str(directory)!r} holds a {meta['estimator']}, not a {cls.__name__}; "
            f"load it with {meta['estimator']}.from_pretrained."
        )
    return cls._from_saved(expand(directory), meta, params)


def saved_params(cls, meta, overrides):
    """Saved parameters valid for ``cls``, then ``overrides``; never ``trust_remote_code``."""
    saved = {k: from_json_value(v) for k, v in meta["params"].items()}
    # Running a directory's code is the caller's decision, never the file's.
    saved.pop("trust_remote_code", None)
    valid = cls().get_params(deep=False)
    unknown = [k for k in overrides if k not in valid]
    if unknown:
        raise ValueError(f"Unknown parameters for {cls.__name__}: {unknown}.")
    return {**{k: v for k, v in saved.items() if k in valid}, **overrides}
