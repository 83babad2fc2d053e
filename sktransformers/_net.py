"""The skorch net every estimator builds in ``fit``.

:class:`TransformerNet` is a plain :class:`skorch.NeuralNet` with the data
path of :mod:`sktransformers._data` (length-grouped, dynamically padded
batches), autocast for mixed precision, a training epoch that keeps
batch losses on the device until the epoch ends (one host synchronisation
per epoch instead of one per batch), gradient accumulation, optional
``torch.compile`` and prediction under ``torch.inference_mode`` with linear
weights prepared once per pass (cast for autocast, packed for oneDNN on CPU:
:mod:`sktransformers._inference_linears`).
"""

from __future__ import annotations

import contextlib

import torch
from skorch import NeuralNet
from skorch.dataset import unpack_data
from skorch.utils import TeeGenerator

from ._data import LengthGroupedBatchSampler, PadCollator
from ._inference_linears import AUTOCAST_DTYPES, inference_pass


def _length_grouped(dataset, batch_size, *, shuffle, seed):
    return LengthGroupedBatchSampler(dataset.lengths, batch_size, shuffle=shuffle, seed=seed)


class TransformerNet(NeuralNet):
    """skorch net over :class:`~sktransformers._data.EncodedDataset` batches.

    Parameters (beyond skorch's)
    ----------------------------
    pad_token_id : int
        Padding id of the tokenizer.
    amp : {"bf16", None}
        Autocast dtype for forward passes; None runs in float32.
    y_dtype : torch.dtype or None
        dtype of target batches (long for classes, float for regression).
    seed : int
        Seed of the batch shuffling.
    predict_batch_size : int
        Batch size of validation and prediction.
    batch_sampler : callable or None
        ``batch_sampler(dataset, batch_size, shuffle=..., seed=...)`` returning
        a batch sampler; None uses :class:`LengthGroupedBatchSampler`. The
        multi-task estimator draws each batch from one task this way.
    gradient_accumulation_steps : int
        Batches whose gradients are summed (each loss divided by the number
        of batches in its group) before one optimizer step. Gradient
        callbacks (``on_grad_computed``, e.g. clipping) see the summed
        gradients, once per optimizer step; ``on_batch_end`` receives
        ``optimizer_stepped``.
    compile : bool
        Run forward passes through ``torch.compile(module_)``; ``module_``
        itself stays the plain module (state dicts, pickles, saving).
    """

    def __init__(self, module, *args, pad_token_id=0, amp=None, y_dtype=None, seed=0,
                 predict_batch_size=128, batch_sampler=None, gradient_accumulation_steps=1,
                 compile=False, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.pad_token_id = pad_token_id
        self.amp = amp
        self.y_dtype = y_dtype
        self.seed = seed
        self.predict_batch_size = predict_batch_size
        self.batch_sampler = batch_sampler
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.compile = compile

    def get_iterator(self, dataset, training=False):
        batch_size = self.batch_size if training else self.predict_batch_size
        make_sampler = self.batch_sampler or _length_grouped
        sampler = make_sampler(dataset, batch_size, shuffle=training, seed=self.seed)
        if training:
            # A new epoch counter per fit keeps shuffles reproducible; skorch
            # calls get_iterator once per fit_loop.
            sampler.epoch = len(self.history)
        return torch.utils.data.DataLoader(
            dataset,
            batch_sampler=sampler,
            collate_fn=PadCollator(dataset, self.pad_token_id, self.y_dtype),
            pin_memory=str(self.device).startswith("cuda"),
        )

    def autocast(self):
        if self.amp is None:
            return contextlib.nullcontext()
        device_type = torch.device(self.device).type
        return torch.autocast(device_type=device_type, dtype=AUTOCAST_DTYPES[self.amp])

    def infer(self, x, **fit_params):
        non_blocking = str(self.device).startswith("cuda")
        x = {k: v.to(self.device, non_blocking=non_blocking) for k, v in x.items()}
        module = self._compiled(self.module_) if self.compile else self.module_
        with self.autocast():
            out = module(**x, **fit_params)
        return self._to_float(out)

    def _compiled(self, module):
        # Cached per module object: initialize() or a DDP wrapper (see
        # _distributed) means a different module to compile.
        cache = self.__dict__.setdefault("_compiled_cache", {})
        hit = cache.get(id(module))
        if hit is None or hit[0] is not module:
            hit = (module, torch.compile(module, dynamic=True))
            cache[id(module)] = hit
        return hit[1]

    @staticmethod
    def _to_float(out):
        if isinstance(out, dict):
            return {k: v.float() for k, v in out.items()}
        return out.float()

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = y_true.to(self.device, non_blocking=str(self.device).startswith("cuda"))
        return self.criterion_(y_pred, y_true)

    def _set_training(self, training=True):
        # skorch calls this every batch; Module.train() walks and re-sets
        # every submodule (about 1 ms per step for a 6-layer BERT), so skip it
        # when this net already set that mode on that very module. The
        # top-level flag alone is not enough: from_pretrained leaves the
        # backbone in eval mode inside a wrapper that is in train mode.
        done = self.__dict__.setdefault("_modes_set", {})
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if not isinstance(module, torch.nn.Module):
                continue
            last = done.get(name)
            if last is not None and last[0] is module and last[1] == training == module.training:
                continue
            module.train(training)
            done[name] = (module, training)

    def inference_kernels(self, dataset, training=False):
        """Context for one pass over ``dataset``: linear weights prepared once if inference."""
        lengths = getattr(dataset, "lengths", None)
        if training or self.compile or lengths is None:
            return contextlib.nullcontext()
        return inference_pass(self.module_, device=self.device, amp=self.amp, lengths=lengths)

    def forward_iter(self, X, training=False, device="cpu"):
        with self.inference_kernels(X, training):
            yield from super().forward_iter(X, training=training, device=device)

    def evaluation_step(self, batch, training=False):
        # inference_mode skips autograd's version counters and views
        # bookkeeping that no_grad (skorch's default) still pays for.
        if training:
            return super().evaluation_step(batch, training=training)
        self.check_is_fitted()
        Xi, _ = unpack_data(batch)
        self._set_training(False)
        with torch.inference_mode():
            return self.infer(Xi)

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        # Accumulated batches each add their share of the group's mean loss.
        scale = self.__dict__.get("_accumulation", (True, True, 1))[2]
        (loss / scale if scale > 1 else loss).backward()
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        if self.gradient_accumulation_steps == 1:
            step = super().train_step(batch, **fit_params)
            step["optimizer_stepped"] = True
            return step
        first, last, _ = self.__dict__.get("_accumulation", (True, True, 1))
        if first:
            self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        if last:
            self._step_accumulated(batch)
        step["optimizer_stepped"] = last
        return step

    def _step_accumulated(self, batch):
        """Clip (via on_grad_computed callbacks) and apply the summed gradients."""
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )
        self._step_optimizer(None)

    def _accumulation_positions(self, iterator):
        """(first, last, group size) of each training batch in its accumulation group."""
        k = self.gradient_accumulation_steps
        try:
            n = len(iterator)
        except TypeError:  # a sampler without a length: groups of k, last one may stop early
            n = None
        i = 0
        while True:
            start = i - i % k
            size = k if n is None else min(k, n - start)
            yield i == start, (i - start == size - 1), size
            i += 1

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        losses = []
        batch_count = 0
        positions = (
            self._accumulation_positions(iterator)
            if training and self.gradient_accumulation_steps > 1
            else None
        )
        try:
            with self.inference_kernels(getattr(iterator, "dataset", None), training):
                for batch in iterator:
                    self.notify("on_batch_begin", batch=batch, training=training)
                    if positions is not None:
                        self.__dict__["_accumulation"] = next(positions)
                    step = step_fn(batch, **fit_params)
                    # Losses stay on the device; reading them costs one sync per epoch.
                    losses.append(step["loss"].detach())
                    size = len(batch[0]["input_ids"])
                    self.history.record_batch(prefix + "_batch_size", size)
                    self.notify("on_batch_end", batch=batch, training=training, **step)
                    batch_count += 1
        finally:
            self.__dict__.pop("_accumulation", None)
        if positions is not None:
            if batch_count and not step.get("optimizer_stepped", True):
                # The sampler had no length: apply what the last group summed.
                self._step_accumulated(batch)
        if losses:
            values = torch.stack(losses).float().cpu().tolist()
            for row, value in zip(self.history[-1]["batches"][-batch_count:], values):
                row[prefix + "_loss"] = value
        self.history.record(prefix + "_batch_count", batch_count)

    def __getstate__(self):
        # ``module`` is the very instance held as ``module_``; skorch stores
        # ``module_`` device-independently, so drop the duplicate reference
        # (it would pickle the weights twice, and CUDA tensors would not
        # unpickle on a CPU-only machine).
        state = super().__getstate__()
        if isinstance(state.get("module"), torch.nn.Module):
            state["module"] = None
        state.pop("_compiled_cache", None)  # compiled graphs do not pickle
        state.pop("_modes_set", None)
        state.pop("_accumulation", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if self.__dict__.get("module") is None and "module_" in self.__dict__:
            self.module = self.module_
