"""The skorch net every estimator builds in ``fit``.

:class:`TransformerNet` is a plain :class:`skorch.NeuralNet` with the data
path of :mod:`sktransformers._data` (length-grouped, dynamically padded
batches), autocast for mixed precision, and a training epoch that keeps
batch losses on the device until the epoch ends (one host synchronisation
per epoch instead of one per batch).
"""

from __future__ import annotations

import contextlib

import torch
from skorch import NeuralNet

from ._data import LengthGroupedBatchSampler, PadCollator

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


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
    """

    def __init__(self, module, *args, pad_token_id=0, amp=None, y_dtype=None, seed=0,
                 predict_batch_size=128, batch_sampler=None, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.pad_token_id = pad_token_id
        self.amp = amp
        self.y_dtype = y_dtype
        self.seed = seed
        self.predict_batch_size = predict_batch_size
        self.batch_sampler = batch_sampler

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
        return torch.autocast(device_type=device_type, dtype=_DTYPES[self.amp])

    def infer(self, x, **fit_params):
        non_blocking = str(self.device).startswith("cuda")
        x = {k: v.to(self.device, non_blocking=non_blocking) for k, v in x.items()}
        with self.autocast():
            out = self.module_(**x, **fit_params)
        return self._to_float(out)

    @staticmethod
    def _to_float(out):
        if isinstance(out, dict):
            return {k: v.float() for k, v in out.items()}
        return out.float()

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = y_true.to(self.device, non_blocking=str(self.device).startswith("cuda"))
        return self.criterion_(y_pred, y_true)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        losses = []
        batch_count = 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            # Losses stay on the device; reading them costs one sync per epoch.
            losses.append(step["loss"].detach())
            size = len(batch[0]["input_ids"])
            self.history.record_batch(prefix + "_batch_size", size)
            self.notify("on_batch_end", batch=batch, training=training, **step)
            batch_count += 1
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
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if self.__dict__.get("module") is None and "module_" in self.__dict__:
            self.module = self.module_
