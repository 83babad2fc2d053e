"""Checkpoints at every epoch end, and resuming a fit after the process died.

With ``checkpoint_dir`` set, every epoch end writes (atomically, see
:func:`~sktransformers._persistence.write_atomically`):

* ``model/``: the estimator as :meth:`save_pretrained` writes it;
* ``training_state.pt``: the optimizer's state, the learning-rate
  schedule, the fp16 gradient scaler, the random number generators (torch,
  CUDA, numpy, Python), the history, and a fingerprint of the parameters and
  the training data.

A later ``fit`` with the same parameters and data on the same
``checkpoint_dir`` resumes an unfinished run from its last completed epoch
and ends with the weights and history the uninterrupted run would have had.
A finished run (or one of other parameters or data) is not resumed: the new
fit starts afresh and overwrites it (a mismatch is reported with a warning).
"""

from __future__ import annotations

import hashlib
import json
import random
import warnings
import weakref

import numpy as np
import torch
from skorch.callbacks import Callback

from ._persistence import expand, save, write_atomically

STATE_FILE = "training_state.pt"
MODEL_DIR = "model"
_NOT_FINGERPRINTED = ("checkpoint_dir", "callbacks", "verbose", "predict_batch_size")


def fingerprint(estimator, inputs, encoded):
    """Hash of the parameters that shape training and of the training data."""
    from ._persistence import to_json_value

    h = hashlib.sha256()
    params = {
        k: repr(to_json_value(v)) for k, v in estimator.get_params(deep=False).items()
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


def resumable(estimator, expected):
    """``checkpoint_dir/model`` if it holds an unfinished run of this fit, else None.

    ``expected`` is the :func:`fingerprint` of the fit being started.
    """
    directory = expand(estimator.checkpoint_dir)
    path = directory / STATE_FILE
    if not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=False)
    if state.get("complete"):
        return None
    if state.get("fingerprint") != expected:
        warnings.warn(
            f"checkpoint_dir={str(directory)!r} holds an unfinished run with other parameters "
            "or other training data; starting afresh (it will be overwritten).",
            UserWarning,
            stacklevel=4,
        )
        return None
    return str(directory / MODEL_DIR)


def _rng_state():
    state = {
        "torch": torch.random.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state):
    torch.random.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _schedule_of(net):
    return dict(net.callbacks_).get("lr_schedule")


def restore_training_state(estimator, model_dir, epochs):
    """Load the optimizer, schedule, scaler, RNGs and history; return the epochs left."""
    from skorch.history import History

    net = estimator.net_
    state = torch.load(expand(model_dir).parent / STATE_FILE, map_location="cpu",
                       weights_only=False)
    net.optimizer_.load_state_dict(state["optimizer"])
    schedule = _schedule_of(net)
    if schedule is not None and state.get("schedule"):
        for key, value in state["schedule"].items():
            setattr(schedule, key, value)
    if state.get("scaler"):
        net.grad_scaler_.load_state_dict(state["scaler"])
    net.history_ = History(state["history"])
    for name, cb_state in state.get("callbacks", {}).items():
        callback = dict(net.callbacks_).get(name)
        if callback is not None:
            callback.__dict__.update(cb_state)
    _set_rng_state(state["rng"])
    return max(0, epochs - len(net.history_))


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
        schedule = _schedule_of(net)
        early = dict(net.callbacks_).get("early_stopping")
        state = {
            "optimizer": net.optimizer_.state_dict(),
            "schedule": None if schedule is None else {
                k: getattr(schedule, k) for k in ("step_", "total_steps_", "base_lrs_")
                if hasattr(schedule, k)
            },
            "scaler": net.grad_scaler_.state_dict() if net.grad_scaler_.is_enabled() else None,
            "rng": _rng_state(),
            "history": [dict(row) for row in net.history],
            "callbacks": {} if early is None else {"early_stopping": {
                k: v for k, v in early.__dict__.items() if k.endswith("_")
            }},
            "max_epochs": estimator.max_epochs,
            "fingerprint": estimator.__dict__.get("_fingerprint"),
            "complete": complete,
        }

        def write(tmp):
            save(estimator, tmp / MODEL_DIR)
            torch.save(state, tmp / STATE_FILE)

        write_atomically(estimator.checkpoint_dir, write)

    def on_epoch_end(self, net, **kwargs):
        self._write(net, complete=False)

    def on_train_end(self, net, **kwargs):
        estimator = self.estimator()
        if estimator is None or not len(net.history):
            return
        path = expand(estimator.checkpoint_dir) / STATE_FILE
        if not path.is_file():
            return
        done = len(net.history) >= estimator.max_epochs or _stopped_early(net)
        if done:
            state = torch.load(path, map_location="cpu", weights_only=False)
            state["complete"] = True
            tmp = path.with_name(STATE_FILE + ".tmp")
            torch.save(state, tmp)
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
