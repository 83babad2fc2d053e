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
previous model in ``directory`` intact and loadable. The temporary
directory is a sibling of ``directory`` when the parent is writable, else
(a read-only parent, as with a container's volume mounted at
``directory``) it goes inside ``directory`` and the files are moved in one
by one. Temporaries that a killed save left (``.NAME.tmp-*``,
``.NAME.old-*``, marked as ours) are removed by the next save of the same
path. Files get the permissions the umask allows (a directory shared
between users or containers stays readable).

Parameters that hold paths or objects (``checkpoint_dir``, ``callbacks``,
``augment``, ``model``, a few-shot ``head``) are not saved, and are not
restored from an older file that has them: a loaded estimator has their
defaults (``model`` is the directory itself).

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

import glob
import json
import math
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from ..utils._json_values import from_json_value, to_json_value

FORMAT = 2
ESTIMATOR_FILE = "sktransformers.json"
HEADS_FILE = "sktransformers_heads.safetensors"
# Parameters that hold objects or paths, not values: never written to the
# JSON, and never restored from one (an older file may hold them): the model
# is the directory itself, a few-shot head is saved as coefficients, and a
# saved file must not choose where training writes or what code it calls.
_PARAMS_SKIPPED = ("model", "callbacks", "augment", "head", "checkpoint_dir")


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
    from ..utils import _schema

    path = directory / ESTIMATOR_FILE
    if not os.path.lexists(path):
        raise ValueError(
            f"{str(directory)!r} has no {ESTIMATOR_FILE}: it was not written by "
            "save_pretrained. To start a new estimator from its backbone, pass it as model=."
        )
    # Bounded, a regular file inside the folder; corrupt JSON names the file.
    meta = _schema.read_json(directory, ESTIMATOR_FILE)
    version = meta.get("format")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(f"{path} is corrupt: 'format' should be an integer, got {version!r}.")
    if version > FORMAT:
        from .._version import __version__

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
    _schema.check_estimator_meta(path, meta, **_what_it_holds(meta["estimator"]))
    return meta


def _what_it_holds(name):
    """What the saved file of estimator class ``name`` may hold, from that class."""
    from ..tasks import TASK_KINDS

    cls = ESTIMATORS.get(name)
    return {
        "task_kinds": {k: c for k, c in TASK_KINDS.items() if hasattr(c, "check_json")},
        "estimator_kinds": getattr(cls, "_task_kinds", None),
        "several_tasks": bool(getattr(cls, "_several_tasks", False)),
        "check_fitted": getattr(cls, "_check_saved_fitted", None),
    }


# ----------------------------------------------------------------------
# Atomic directory writes
# ----------------------------------------------------------------------
# Written first into every temporary directory of ours (and locked while the
# save runs): a later save removes stale temporaries only when they carry it.
TMP_MARKER = ".sktransformers-tmp"


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


def _is_ours(directory, marker=ESTIMATOR_FILE):
    """Whether ``directory`` is a save (or a temporary) of ours, or empty."""
    return (
        (directory / marker).is_file()
        or (directory / TMP_MARKER).is_file()
        or not any(directory.iterdir())
    )


def _writable(directory):
    """Whether new entries can be made in ``directory`` (read-only mounts cannot)."""
    return os.access(directory, os.W_OK | os.X_OK)


def _swappable(directory):
    """Whether ``directory`` can be replaced as a whole (renamed away and back).

    Not when its parent is read-only (a container's volume mounted at
    ``directory``) or when it is a mount point itself.
    """
    if not _writable(directory.parent):
        return False
    return not (directory.is_dir() and os.path.ismount(directory))


def _lock(path):
    """An open, exclusively locked ``path`` (created), or None where locks are unsupported."""
    handle = open(path, "a+b")  # noqa: SIM115 - held open while the save runs
    try:
        import fcntl

        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (ImportError, OSError):
        pass
    return handle


def _in_use(marker):
    """Whether another process holds the lock on a temporary's ``marker``."""
    try:
        import fcntl
    except ImportError:
        return False
    try:
        with open(marker, "rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def _remove_stale(directory, marker):
    """Remove ``.NAME.tmp-*`` / ``.NAME.old-*`` left by killed saves of ``directory``.

    Only directories of ours (see :func:`_is_ours`) not locked by a save
    still running; anything else with such a name is left alone.
    """
    places = [directory.parent, directory] if directory.is_dir() else [directory.parent]
    for place in places:
        try:
            candidates = [
                *place.glob(f".{glob.escape(directory.name)}.tmp-*"),
                *place.glob(f".{glob.escape(directory.name)}.old-*"),
            ]
        except OSError:
            continue
        for path in candidates:
            try:
                if path.is_symlink() or not path.is_dir() or not _is_ours(path, marker):
                    continue
            except OSError:
                continue
            if _in_use(path / TMP_MARKER):
                continue
            shutil.rmtree(path, ignore_errors=True)


def _move_in(tmp, directory, marker, replace_all):
    """Move ``tmp``'s entries into ``directory`` one by one, ``marker`` last.

    With ``replace_all`` (``directory`` holds a save of ours), entries of the
    previous save that the new one lacks are removed afterwards.
    """
    items = sorted(
        (p for p in tmp.iterdir() if p.name != TMP_MARKER), key=lambda p: p.name == marker
    )
    for item in items:
        target = directory / item.name
        if target.is_dir() and not target.is_symlink():  # os.replace cannot overwrite one
            shutil.rmtree(target)
        os.replace(item, target)
    if replace_all:
        keep = {item.name for item in items}
        for path in directory.iterdir():
            if path.name in keep or path.name.startswith(f".{directory.name}.tmp-"):
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _make_tmp(directory):
    """A fresh temporary directory for a save of ``directory``, and whether it is inside it."""
    prefix = f".{directory.name}.tmp-"
    if _swappable(directory):
        try:
            return Path(tempfile.mkdtemp(prefix=prefix, dir=directory.parent)), False
        except PermissionError:  # os.access can be wrong (ACLs, network filesystems)
            pass
    directory.mkdir(exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=directory)), True


def write_atomically(directory, write, marker=ESTIMATOR_FILE):
    """Run ``write(tmp)`` on a fresh temporary directory, then move it to ``directory``.

    The temporary directory is a sibling of ``directory`` when its parent
    is writable: the previous save is replaced in one rename once
    everything is written. When the parent is read-only (a volume mounted
    at ``directory``) or ``directory`` is a mount point, the temporary goes
    inside ``directory`` and the new files are moved in one by one once
    all are written (``marker`` last). When ``directory`` holds other files
    (not a save of ours: no ``marker`` file), the new files are moved in
    and the others are left alone. Stale temporaries that killed saves of
    the same path left behind are removed first.
    """
    directory = expand(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    if directory.exists() and not directory.is_dir():
        raise FileExistsError(f"{str(directory)!r} exists and is not a directory.")
    _remove_stale(directory, marker)
    tmp, inside = _make_tmp(directory)
    renamed = False
    lock = None
    try:
        lock = _lock(tmp / TMP_MARKER)
        write(tmp)
        _open_permissions(tmp)
        ours = directory.is_dir() and _is_ours(directory, marker)
        if inside or (directory.exists() and not ours):
            _move_in(tmp, directory, marker, replace_all=ours)
        elif not directory.exists():
            os.replace(tmp, directory)
            renamed = True
        else:
            old = directory.parent / f".{directory.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(directory, old)
            os.replace(tmp, directory)
            renamed = True
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if lock is not None:
            lock.close()
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    if renamed:
        (directory / TMP_MARKER).unlink(missing_ok=True)
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
    from .._version import __version__

    return {
        "format": FORMAT,
        "estimator": type(estimator).__name__,
        "sktransformers_version": __version__,
        "params": _params_json(estimator),
        **extra,
    }


def save(estimator, directory):
    """Write a fitted estimator of the engine (see the module docstring)."""
    from ..utils import _logging
    from ._distributed import is_main_process

    directory = expand(directory)
    if not is_main_process():  # data-parallel training: rank 0 writes
        return directory
    payload = _payload(
        estimator,
        is_pair=bool(getattr(estimator, "is_pair_", False)),
        tasks=[task.to_json() for task in estimator._tasks],
        # The epochs fit planned (max_epochs="auto" resolved): partial_fit's schedule.
        fitted={**estimator._fitted_extra(), "max_epochs": int(estimator.net_.max_epochs)},
    )
    module = estimator.net_.module_
    return _write_model(
        directory,
        payload,
        module.backbone,
        estimator.tokenizer_,
        heads=module.heads,
        quiet=_logging.quiet_loading(estimator.verbose),
    )


def save_embedder(embedder, directory):
    """Write a fitted :class:`~sktransformers.TransformerEmbedder`, atomically.

    The same layout as :func:`save` without heads: the backbone (a Hugging
    Face model directory, so it also works as ``model=``), the tokenizer,
    and ``sktransformers.json`` with the parameters and an empty task list.
    """
    return _write_model(
        directory, _payload(embedder, tasks=[]), embedder.module_.backbone, embedder.tokenizer_
    )


#: The estimator classes a saved directory may name, by class name
#: (:func:`register_estimator`; the estimators register themselves).
ESTIMATORS: dict[str, type] = {}


def register_estimator(cls):
    """Let saved directories name ``cls`` (a class decorator)."""
    ESTIMATORS[cls.__name__] = cls
    return cls


def estimator_class(name):
    """The estimator class saved under ``name``."""
    cls = ESTIMATORS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"{ESTIMATOR_FILE}: 'estimator' names an unknown estimator {name!r:.80}.")
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
    directory = expand(directory)
    check_saved_directory(directory, meta)
    return cls._from_saved(directory, meta, params)


FEWSHOT_HEAD_FILE = "sktransformers_head.safetensors"


def check_saved_directory(directory, meta):
    """Check every file of a saved directory before anything is built from it.

    The backbone's files (``config.json`` sizes, the tokenizer, the weights'
    headers; see :func:`sktransformers.engine._hub.check_model_directory`), then
    the heads file against the tasks of ``meta``: a tampered file fails here
    with a :class:`ValueError` naming it, before any allocation.
    """
    from ..utils import _schema
    from . import _hub

    config = _hub.check_model_directory(directory, inside=True)
    hidden = config.get("hidden_size")
    heads = _schema.check_estimator_meta(
        directory / ESTIMATOR_FILE, meta, **_what_it_holds(meta["estimator"])
    )
    if meta["estimator"] == "FewShotClassifier":
        _check_fewshot_head(directory, meta, hidden)
    elif heads:
        shapes = _schema.check_safetensors(directory, HEADS_FILE)
        _schema.check_heads(directory / HEADS_FILE, shapes, heads, hidden)


def _check_fewshot_head(directory, meta, hidden):
    from ..utils import _schema

    path = directory / FEWSHOT_HEAD_FILE
    shapes = _schema.check_safetensors(directory, FEWSHOT_HEAD_FILE)
    if set(shapes) != {"coef", "intercept"}:
        _schema.fail(
            path, f"should hold the tensors 'coef' and 'intercept', holds {sorted(shapes)[:5]}."
        )
    (coef_dtype, coef), (_, intercept) = shapes["coef"], shapes["intercept"]
    n_classes = len(meta["fitted"]["classes"])
    rows = 1 if n_classes == 2 else n_classes
    # A binary head's coef_ is (1, hidden), or (hidden,) for some estimators
    # (RidgeClassifier in scikit-learn >= 1.9).
    flat_binary = len(coef) == 1 and n_classes == 2
    coef_rows, coef_cols = (1, coef[0]) if flat_binary else (tuple(coef) + (None, None))[:2]
    if (
        coef_dtype not in ("F32", "F64")
        or not (len(coef) == 2 or flat_binary)
        or coef_rows not in (1, n_classes)
        or (hidden is not None and coef_cols != hidden)
    ):
        _schema.fail(
            path,
            f"'coef' has shape {list(coef)}; expected [{rows}, {hidden}] for {n_classes} classes.",
        )
    size = math.prod(intercept)
    if len(intercept) > 1 or size not in (1, coef_rows):
        _schema.fail(path, f"'intercept' has shape {list(intercept)}; expected [{coef_rows}].")
    shape = meta["fitted"].get("intercept_shape", [-1])
    if -1 not in shape and math.prod(shape) != size:
        _schema.fail(
            directory / ESTIMATOR_FILE,
            f"'fitted.intercept_shape' {shape} does not fit the {size} intercept value(s).",
        )


def saved_params(cls, meta, overrides):
    """Saved parameters valid for ``cls``, then ``overrides``; never ``trust_remote_code``."""
    saved = {}
    for name, value in meta["params"].items():
        try:
            saved[name] = from_json_value(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"{ESTIMATOR_FILE}: 'params.{name}' is corrupt ({value!r:.80})."
            ) from None
    # Running a directory's code is the caller's decision, never the file's.
    saved.pop("trust_remote_code", None)
    for name in _PARAMS_SKIPPED:  # paths and objects: never from a file (older ones hold some)
        saved.pop(name, None)
    valid = cls().get_params(deep=False)
    unknown = [k for k in overrides if k not in valid]
    if unknown:
        raise ValueError(f"Unknown parameters for {cls.__name__}: {unknown}.")
    return {**{k: v for k, v in saved.items() if k in valid}, **overrides}
