"""Checkpoints at every epoch end, and resuming a fit after the process died.

With ``checkpoint_dir`` set, every epoch end writes (atomically, see
:func:`~sktransformers.engine._persistence.write_atomically`):

* ``model/``: the estimator as :meth:`save_pretrained` writes it;
* ``training_state.safetensors``: the tensors of the training state (the
  optimizer's moments and steps, the torch random generators' states,
  early stopping's best weights);
* ``training_state.json``: the rest of it (the optimizer's parameter
  groups, the learning-rate schedule's position, the fp16 gradient scaler,
  the history, early stopping's counters, a fingerprint of the parameters
  and the training data) with references to those tensors.

Nothing is pickled, and nothing is unpickled: a ``training_state.pt``
left by an older sktransformers (a pickle) is never loaded; the fit starts
afresh with a warning. A state that cannot be read (truncated, not JSON,
not safetensors, of the wrong shape) is reported with a warning naming the
file, and the fit starts afresh and overwrites the checkpoint.

A later ``fit`` with the same parameters and data on the same
``checkpoint_dir`` resumes an unfinished run from its last completed epoch
and ends with the weights and history the uninterrupted run would have had.
A finished run (or one of other parameters or data) is not resumed: the new
fit starts afresh and overwrites it (a mismatch is reported with a warning).
"""

from __future__ import annotations

import hashlib
import json
import warnings
import weakref

import numpy as np
import torch
from skorch.callbacks import Callback

from ._persistence import expand, save, write_atomically

STATE_TENSORS = "training_state.safetensors"
STATE_JSON = "training_state.json"
LEGACY_STATE_FILE = "training_state.pt"  # a pickle: never loaded
MODEL_DIR = "model"
STATE_FORMAT = 1
_MAX_JSON_BYTES = 256 * 2**20
_NOT_FINGERPRINTED = ("checkpoint_dir", "callbacks", "verbose", "predict_batch_size")


def fingerprint(estimator, inputs, encoded):
    """Hash of the parameters that shape training and of the training data."""
    from ..utils._json_values import to_json_value

    h = hashlib.sha256()
    params = {
        k: repr(to_json_value(v))
        for k, v in estimator.get_params(deep=False).items()
        if k not in _NOT_FINGERPRINTED
    }
    h.update(json.dumps(params, sort_keys=True).encode())
    for column in _input_columns(inputs):
        for text in column:
            h.update(b"\x00" if text is None else text.encode("utf-8", "surrogatepass"))
            h.update(b"\x1f")
    for key in sorted(encoded):
        value = encoded[key]
        if isinstance(value, np.ndarray):
            h.update(np.ascontiguousarray(value).tobytes())
        else:
            for row in value:
                h.update(np.ascontiguousarray(row).tobytes())
                h.update(b"\x1f")
    return h.hexdigest()


def _input_columns(inputs):
    if hasattr(inputs, "words"):
        return [[" ".join(w) for w in inputs.words]]
    return [inputs.first] + ([inputs.second] if inputs.second is not None else [])


# ----------------------------------------------------------------------
# The state as JSON + safetensors
# ----------------------------------------------------------------------
class _Unencodable(TypeError):
    pass


def _encode(value, tensors, key):
    """JSON form of ``value``; its tensors go to ``tensors`` under names from ``key``."""
    if isinstance(value, torch.Tensor):
        # A copy of its own: safetensors refuses tensors that share memory.
        tensors[key] = value.detach().to("cpu", copy=True).contiguous()
        return {"__tensor__": key}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise _Unencodable(f"a NumPy array of dtype {value.dtype}")
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_encode(v, tensors, f"{key}/{i}") for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, tensors, f"{key}/{i}") for i, v in enumerate(value)]}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: _encode(v, tensors, f"{key}/{k}") for k, v in value.items()}
        items = []
        for k, v in value.items():
            if not isinstance(k, (bool, int, float, str)) and k is not None:
                raise _Unencodable(f"a dict key of type {type(k).__name__}")
            items.append([k, _encode(v, tensors, f"{key}/{k}")])
        return {"__dict_items__": items}
    raise _Unencodable(f"a {type(value).__name__}")


def _decode(value, tensors):
    """The inverse of :func:`_encode`; ``KeyError``/``TypeError``/``ValueError`` if malformed."""
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        return tensors[value["__tensor__"]]
    if "__ndarray__" in value:
        dtype = np.dtype(value["dtype"])
        if dtype.kind not in "biuf":
            raise TypeError(f"array dtype {dtype}")
        return np.asarray(value["__ndarray__"], dtype=dtype)
    if "__tuple__" in value:
        return tuple(_decode(v, tensors) for v in value["__tuple__"])
    if "__dict_items__" in value:
        return {_hashable(k): _decode(v, tensors) for k, v in value["__dict_items__"]}
    return {k: _decode(v, tensors) for k, v in value.items()}


def _hashable(key):
    if isinstance(key, (list, dict)):
        raise TypeError("a dict key that is a list or an object")
    return key


def _encode_lenient(mapping, tensors, key, what):
    """Encode a dict's entries, dropping (with a warning) those JSON cannot hold."""
    out, dropped = {}, []
    for name, value in mapping.items():
        try:
            out[name] = _encode(value, tensors, f"{key}/{name}")
        except _Unencodable:
            dropped.append(name)
    if dropped:
        warnings.warn(
            f"The checkpoint leaves out {what} {sorted(set(dropped))}: their values are "
            "Python objects, and checkpoints hold tensors and JSON only.",
            UserWarning,
            stacklevel=5,
        )
    return out


class CorruptCheckpoint(ValueError):
    """A training state that cannot be read; the message says why."""


def _read_json(path):
    size = path.stat().st_size
    if size > _MAX_JSON_BYTES:
        raise CorruptCheckpoint(f"{size} bytes, more than a training state can hold")
    try:
        state = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptCheckpoint(f"not valid JSON: {exc}") from None
    if not isinstance(state, dict):
        raise CorruptCheckpoint("not a JSON object")
    if state.get("format") != STATE_FORMAT:
        raise CorruptCheckpoint(f"unknown training state format {state.get('format')!r}")
    return state


def _read_tensors(path):
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception as exc:  # the library's own error type, OSError, ...
        raise CorruptCheckpoint(f"not a safetensors file: {exc}") from None


def _check_state(state):
    """Types of a decoded state; :class:`CorruptCheckpoint` saying what is wrong."""
    expected = {
        "fingerprint": (str, type(None)),
        "complete": bool,
        "optimizer": dict,
        "history": list,
        "rng": dict,
        "callbacks": dict,
        "schedule": (dict, type(None)),
        "scaler": (dict, type(None)),
    }
    for key, kind in expected.items():
        if not isinstance(state.get(key), kind):
            raise CorruptCheckpoint(f"{key!r} is missing or of the wrong type")
    optimizer = state["optimizer"]
    if not (
        isinstance(optimizer.get("state"), dict) and isinstance(optimizer.get("param_groups"), list)
    ):
        raise CorruptCheckpoint("the optimizer's state is malformed")
    if not all(isinstance(row, dict) for row in state["history"]):
        raise CorruptCheckpoint("the history is malformed")
    if not all(isinstance(v, dict) for v in state["callbacks"].values()):
        raise CorruptCheckpoint("the callbacks' state is malformed")
    cpu = state["rng"].get("torch")
    reference = torch.random.get_rng_state()
    if not (
        isinstance(cpu, torch.Tensor)
        and cpu.dtype == reference.dtype
        and cpu.shape == reference.shape
    ):
        raise CorruptCheckpoint("the random generator's state is malformed")
    device = state["rng"].get("device")
    if device is not None and not (
        isinstance(device, list)
        and len(device) == 2
        and isinstance(device[0], str)
        and isinstance(device[1], list)
        and all(isinstance(t, torch.Tensor) and t.dtype == torch.uint8 for t in device[1])
    ):
        raise CorruptCheckpoint("the accelerator's random generator state is malformed")


def read_state(directory, *, tensors=True):
    """The decoded training state in ``directory``; :class:`CorruptCheckpoint` if unreadable.

    With ``tensors=False`` only the JSON is read (tensor references stay
    references): enough for the flags and the fingerprint.
    """
    state = _read_json(directory / STATE_JSON)
    if not tensors:
        return state
    loaded = _read_tensors(directory / STATE_TENSORS)
    try:
        state = _decode(state, loaded)
    except (KeyError, TypeError, ValueError) as exc:
        raise CorruptCheckpoint(f"malformed ({type(exc).__name__}: {exc})") from None
    _check_state(state)
    return state


# ----------------------------------------------------------------------
# Resuming
# ----------------------------------------------------------------------
def _afresh(directory, reason):
    warnings.warn(
        f"checkpoint_dir={str(directory)!r}: {reason}; starting afresh; the checkpoint will "
        "be overwritten.",
        UserWarning,
        stacklevel=5,
    )


class Resume:
    """An unfinished run found in ``checkpoint_dir``: its model directory and training state."""

    def __init__(self, directory, state):
        self.directory = directory
        self.state = state

    @property
    def model_dir(self):
        return str(self.directory / MODEL_DIR)

    def unreadable(self, exc):
        """Warn that the checkpoint's model could not be used (the fit starts afresh)."""
        _afresh(self.directory, f"the checkpoint cannot be resumed ({type(exc).__name__}: {exc})")

    def restore_rng(self, estimator):
        """Put the torch generators where the interrupted run left them (in the fit's fork)."""
        rng = self.state["rng"]
        torch.random.set_rng_state(rng["torch"])
        device = rng.get("device")
        if device is None:
            return
        kind, states = device
        if torch.device(estimator.device_).type != kind:
            return
        module = torch.get_device_module(kind)
        if len(states) == module.device_count():
            for i, state in enumerate(states):
                module.set_rng_state(state, i)


def resumable(estimator, expected):
    """A :class:`Resume` if ``checkpoint_dir`` holds an unfinished run of this fit, else None.

    ``expected`` is the :func:`fingerprint` of the fit being started. An
    old pickled state or an unreadable one is reported with a warning,
    never loaded; the fit then starts afresh.
    """
    directory = expand(estimator.checkpoint_dir)
    if (directory / LEGACY_STATE_FILE).is_file():
        _afresh(
            directory,
            f"{LEGACY_STATE_FILE} (written by an older sktransformers) is a "
            "pickle and is ignored: loading it could run code",
        )
        return None
    path = directory / STATE_JSON
    if not path.is_file():
        return None
    try:
        flags = read_state(directory, tensors=False)
        if flags.get("complete") is True:
            return None
        if flags.get("fingerprint") != expected:
            warnings.warn(
                f"checkpoint_dir={str(directory)!r} holds an unfinished run with other "
                "parameters or other training data; starting afresh (it will be overwritten).",
                UserWarning,
                stacklevel=4,
            )
            return None
        state = read_state(directory)
    except (CorruptCheckpoint, OSError) as exc:
        _afresh(directory, f"the training state in {str(path)!r} cannot be read ({exc})")
        return None
    return Resume(directory, state)


def _schedule_of(net):
    return dict(net.callbacks_).get("lr_schedule")


def restore_training_state(estimator, resume, epochs):
    """Load the optimizer, schedule, scaler and history; return the epochs left.

    The random generators are restored later, by :meth:`Resume.restore_rng`
    right before training continues.
    """
    from skorch.history import History

    state = resume.state
    net = estimator.net_
    net.optimizer_.load_state_dict(state["optimizer"])
    schedule = _schedule_of(net)
    if schedule is not None and state.get("schedule"):
        for key in ("step_", "total_steps_", "base_lrs_"):
            if key in state["schedule"]:
                setattr(schedule, key, state["schedule"][key])
    if state.get("scaler"):
        net.grad_scaler_.load_state_dict(state["scaler"])
    net.history_ = History(state["history"])
    for name, cb_state in state["callbacks"].items():
        callback = dict(net.callbacks_).get(name)
        if callback is not None:
            # Fitted attributes only (names ending in "_"): never parameters or methods.
            callback.__dict__.update({k: v for k, v in cb_state.items() if k.endswith("_")})
    return max(0, epochs - len(net.history_))


# ----------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------
def _rng_state(net):
    state = {"torch": torch.random.get_rng_state(), "device": None}
    kind = torch.device(net.device).type
    if kind != "cpu":
        module = torch.get_device_module(kind)
        state["device"] = [kind, [module.get_rng_state(i) for i in range(module.device_count())]]
    return state


def _write_state_json(path, state):
    """``state`` as JSON (``NaN``/``Infinity`` kept, as Python's json writes them)."""
    path.write_text(json.dumps(state, indent=1, allow_nan=True), encoding="utf-8")


class EpochCheckpoint(Callback):
    """Write the estimator and its training state to ``checkpoint_dir`` after each epoch."""

    def __init__(self, estimator):
        self.estimator = weakref.ref(estimator)

    def _write(self, net, complete):
        estimator = self.estimator()
        if estimator is None:
            return
        from ._distributed import is_main_process

        if not is_main_process():
            return
        from safetensors.torch import save_file

        schedule = _schedule_of(net)
        early = dict(net.callbacks_).get("early_stopping")
        tensors = {}
        state = {
            "format": STATE_FORMAT,
            "optimizer": _encode(net.optimizer_.state_dict(), tensors, "optimizer"),
            "schedule": None
            if schedule is None
            else _encode(
                {
                    k: getattr(schedule, k)
                    for k in ("step_", "total_steps_", "base_lrs_")
                    if hasattr(schedule, k)
                },
                tensors,
                "schedule",
            ),
            "scaler": (
                _encode(net.grad_scaler_.state_dict(), tensors, "scaler")
                if net.grad_scaler_.is_enabled()
                else None
            ),
            "rng": _encode(_rng_state(net), tensors, "rng"),
            "history": [
                _encode_lenient(dict(row), tensors, f"history/{i}", "history entries")
                for i, row in enumerate(net.history)
            ],
            "callbacks": {}
            if early is None
            else {
                "early_stopping": _encode_lenient(
                    {k: v for k, v in early.__dict__.items() if k.endswith("_")},
                    tensors,
                    "callbacks/early_stopping",
                    "early stopping's attributes",
                )
            },
            "max_epochs": net.max_epochs,
            "fingerprint": estimator.__dict__.get("_fingerprint"),
            "complete": complete,
        }

        def write(tmp):
            save(estimator, tmp / MODEL_DIR)
            save_file(tensors, str(tmp / STATE_TENSORS))
            _write_state_json(tmp / STATE_JSON, state)

        directory = write_atomically(estimator.checkpoint_dir, write, marker=STATE_JSON)
        # A pickled state of an older version would be ignored with a warning each time.
        (directory / LEGACY_STATE_FILE).unlink(missing_ok=True)

    def on_epoch_end(self, net, **kwargs):
        self._write(net, complete=False)

    def on_train_end(self, net, **kwargs):
        estimator = self.estimator()
        if estimator is None or not len(net.history):
            return
        path = expand(estimator.checkpoint_dir) / STATE_JSON
        if not path.is_file():
            return
        done = len(net.history) >= net.max_epochs or _stopped_early(net)
        if done:
            try:
                state = _read_json(path)
            except (CorruptCheckpoint, OSError):
                return  # the next fit reports it and starts afresh
            state["complete"] = True
            tmp = path.with_name(STATE_JSON + ".tmp")
            _write_state_json(tmp, state)
            tmp.replace(path)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["estimator"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if self.estimator is None:
            self.estimator = lambda: None


def _stopped_early(net):
    early = dict(net.callbacks_).get("early_stopping")
    return early is not None and getattr(early, "misses_", 0) >= getattr(early, "patience", 1)
