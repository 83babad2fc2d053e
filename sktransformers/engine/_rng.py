"""Training draws from its own random stream; the caller's global generators stay as they were.

``fit`` seeds torch from ``random_state`` (head initialisation, dropout,
the data loader's base seed) inside :func:`torch.random.fork_rng`, so
``torch.rand`` after a fit gives what it would have given without the fit.
Shuffling and the validation split use NumPy ``Generator`` objects of
their own; NumPy's and Python's global generators are never seeded or
drawn from (except that ``random_state=None`` draws the seed from NumPy's
global generator, as scikit-learn estimators do).

The stream of an estimator continues across ``partial_fit`` calls: its
state is kept on the estimator (``_torch_rng``) between calls.
"""

from __future__ import annotations

import contextlib

import torch


def _device_module(device):
    """``(type, torch module)`` of an accelerator ``device`` string, or None for the CPU."""
    kind = torch.device(device).type
    if kind == "cpu":
        return None
    return kind, torch.get_device_module(kind)


class TrainingRng(contextlib.AbstractContextManager):
    """The forked torch generators of one ``fit``/``partial_fit`` call.

    On entry the CPU generator is forked; :meth:`seed` and :meth:`resume`
    fork the accelerator's generators too (only when training runs on
    one, so a CPU fit never initialises CUDA). On exit all are restored.
    """

    def __init__(self):
        self._stack = contextlib.ExitStack()
        self._device = None

    def __enter__(self):
        self._stack.enter_context(torch.random.fork_rng(devices=[]))
        return self

    def __exit__(self, *exc):
        return self._stack.__exit__(*exc)

    def _fork_device(self, device):
        found = _device_module(device)
        if found is None or self._device is not None:
            return self._device
        kind, module = found
        devices = list(range(module.device_count()))
        self._stack.enter_context(torch.random.fork_rng(devices=devices, device_type=kind))
        self._device = found
        return found

    def seed(self, seed, device):
        """Seed the CPU generator and those of ``device``'s kind (all forked)."""
        found = self._fork_device(device)
        torch.default_generator.manual_seed(seed)
        if found is not None:
            module = found[1]
            getattr(module, "manual_seed_all", module.manual_seed)(seed)

    def resume(self, estimator, device):
        """Continue ``estimator``'s stream of its previous call (or seed it afresh)."""
        state = estimator.__dict__.get("_torch_rng")
        if state is None:
            seed = estimator.__dict__.get("_seed")
            if seed is None:
                seed = estimator._derive_seed()
                estimator._seed = seed
            self.seed(seed, device)
            return
        found = self._fork_device(device)
        torch.random.set_rng_state(_tensor(state["cpu"]))
        if found is not None and state.get("device") is not None:
            kind, module = found
            if state["device"][0] == kind and len(state["device"][1]) == module.device_count():
                for i, device_state in enumerate(state["device"][1]):
                    module.set_rng_state(_tensor(device_state), i)

    def state(self):
        """The current (forked) states as bytes, to continue from in a later call.

        Bytes, not tensors: an estimator pickled on a GPU machine loads anywhere.
        """
        device = None
        if self._device is not None:
            kind, module = self._device
            device = (kind, [_bytes(module.get_rng_state(i)) for i in range(module.device_count())])
        return {"cpu": _bytes(torch.random.get_rng_state()), "device": device}


def _bytes(state):
    return state.cpu().numpy().tobytes()


def _tensor(data):
    return torch.frombuffer(bytearray(data), dtype=torch.uint8)
