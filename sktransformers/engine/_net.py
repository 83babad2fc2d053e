"""The skorch net every estimator builds in ``fit``, and the one inference path.

:class:`TransformerNet` is a :class:`skorch.NeuralNet` that overrides only
skorch's public hooks (``get_iterator``, ``infer``, ``get_loss``,
``train_step``, ``train_step_single``, ``evaluation_step``,
``run_single_epoch``, ``fit_loop``, ``partial_fit``, ``notify``,
``on_epoch_begin``) to add what follows. ``fit_loop``, ``partial_fit``,
``notify`` and ``on_epoch_begin`` call skorch's body through ``super()``;
the four step methods replace skorch's bodies, each saying why in its first
line, and ``tests/test_skorch_contract.py`` pins what they rely on:

* the data path of :mod:`sktransformers.engine._data` (length-grouped, dynamically
  padded batches; targets as a dict by task);
* autocast for mixed precision and a gradient scaler for fp16
  (:mod:`sktransformers.engine._runtime`);
* gradient accumulation;
* batch losses kept on the device until the epoch ends (one host
  synchronisation per epoch instead of one per batch);
* optional ``torch.compile`` of the forward pass (``module_`` itself stays
  the plain module);
* interrupts: a real Ctrl+C (``KeyboardInterrupt``) restores the weights of
  the last completed epoch (or, with early stopping, the best one) and is
  raised again, while callbacks that stop training the skorch way (raising
  ``KeyboardInterrupt`` from ``on_epoch_end``, as ``EarlyStopping`` does)
  still just stop it.

:func:`predict_rows` is the inference path of every estimator and of the
embedder: length-sorted batches under ``torch.inference_mode`` with linear
weights prepared once per pass (:mod:`sktransformers.engine._inference_linears`).
"""

from __future__ import annotations

import signal
import threading

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.dataset import unpack_data
from skorch.utils import TeeGenerator

from ..tasks import TOKEN
from ._data import LengthGroupedBatchSampler, PadCollator, eval_order
from ._inference_linears import inference_pass
from ._modules import outputs_by_head


def _length_grouped(dataset, batch_size, *, shuffle, seed):
    return LengthGroupedBatchSampler(dataset.lengths, batch_size, shuffle=shuffle, seed=seed)


class TaskLoss(torch.nn.Module):
    """Weighted sum over tasks of each task's mean loss on its labelled entries.

    For one task this is that task's own loss (e.g. cross-entropy, with
    torch's weighted mean under class weights). No boolean indexing, so no
    host synchronisation per batch.
    """

    def __init__(self, tasks, weights=None):
        super().__init__()
        self.tasks = list(tasks)
        self.weights = [1.0] * len(self.tasks) if weights is None else [float(w) for w in weights]

    def forward(self, y_pred, y_true):
        y_pred = outputs_by_head(y_pred, [t.key for t in self.tasks])
        total = 0.0
        for task, weight in zip(self.tasks, self.weights):
            losses, count = task.loss(y_pred[task.key], y_true[task.key])
            total = total + weight * losses / count.clamp(min=1e-12)
        return total


class TaskScoring(Callback):
    """Record ``valid_score`` (and ``valid_score_<task>`` with several tasks) each epoch.

    The outputs of the validation pass are collected as it runs (no second
    pass) and scored by each task: accuracy, R², subset accuracy or entity F1.
    """

    def __init__(self, tasks):
        self.tasks = tasks

    def on_epoch_begin(self, net, **kwargs):
        self.outputs_ = {t.key: [] for t in self.tasks}
        self.targets_ = {t.key: [] for t in self.tasks}

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if training or y_pred is None:
            return
        inputs, y = unpack_data(batch)
        lengths = inputs["attention_mask"].sum(1).tolist()
        y_pred = outputs_by_head(y_pred, [t.key for t in self.tasks])
        for task in self.tasks:
            out = y_pred[task.key].detach().float().cpu().numpy()
            target = y[task.key].cpu().numpy()
            if task.level == TOKEN:  # per-row outputs, cut to each row's length
                self.outputs_[task.key].extend(o[:n] for o, n in zip(out, lengths))
                if task.targets_per_token:
                    self.targets_[task.key].extend(t[:n] for t, n in zip(target, lengths))
                else:  # e.g. an answer's start and end token
                    self.targets_[task.key].extend(target)
            else:
                self.outputs_[task.key].append(out)
                self.targets_[task.key].append(target)

    def on_epoch_end(self, net, **kwargs):
        if not any(self.outputs_.values()):
            return
        scores = []
        for task in self.tasks:
            out, target = self.outputs_[task.key], self.targets_[task.key]
            if task.level != TOKEN:
                out, target = np.concatenate(out), np.concatenate(target)
            score = task.validation_score(out, target)
            if score is None:
                continue
            if len(self.tasks) > 1:
                net.history.record(f"valid_score_{task.name}", float(score))
            scores.append(score)
        net.history.record("valid_score", float(np.mean(scores)) if scores else float("nan"))
        self.outputs_, self.targets_ = {}, {}


class TransformerNet(NeuralNet):
    """skorch net over :class:`~sktransformers.engine._data.EncodedDataset` batches.

    Parameters (beyond skorch's)
    ----------------------------
    pad_token_id : int
        Padding id of the tokenizer.
    runtime : Runtime
        Device and precision (:mod:`sktransformers.engine._runtime`).
    head_names : list of str
        Names of the model's heads, in task order.
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
        callbacks (``on_grad_computed``, e.g. clipping) see the summed,
        unscaled gradients once per optimizer step; ``on_batch_end``
        receives ``optimizer_stepped``.
    compile_model : bool
        Run training and validation forward passes through
        ``torch.compile(module_)``; ``module_`` itself stays the plain module
        (state dicts, pickles, saving). skorch's own ``compile`` stays off,
        so the module is compiled once.
    """

    def __init__(
        self,
        module,
        *args,
        pad_token_id=0,
        runtime=None,
        head_names=("default",),
        seed=0,
        predict_batch_size=128,
        batch_sampler=None,
        gradient_accumulation_steps=1,
        compile_model=False,
        **kwargs,
    ):
        super().__init__(module, *args, **kwargs)
        self.pad_token_id = pad_token_id
        self.runtime = runtime
        self.head_names = list(head_names)
        self.seed = seed
        self.predict_batch_size = predict_batch_size
        self.batch_sampler = batch_sampler
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.compile_model = compile_model

    # ------------------------------------------------------------------
    # Data
    # ------------------------------------------------------------------
    def get_iterator(self, dataset, training=False):
        batch_size = self.batch_size if training else self.predict_batch_size
        make_sampler = self.batch_sampler or _length_grouped
        sampler = make_sampler(dataset, batch_size, shuffle=training, seed=self.seed)
        if training:
            # The epoch number seeds the shuffle: reproducible, and a resumed
            # fit draws the batches the uninterrupted one would have drawn.
            sampler.epoch = len(self.history)
        return torch.utils.data.DataLoader(
            dataset,
            batch_sampler=sampler,
            collate_fn=PadCollator(dataset, self.pad_token_id),
            pin_memory=self.runtime is not None and self.runtime.non_blocking,
        )

    # ------------------------------------------------------------------
    # Forward and loss
    # ------------------------------------------------------------------
    def _move(self, tensors):
        non_blocking = self.runtime is not None and self.runtime.non_blocking
        return {k: v.to(self.device, non_blocking=non_blocking) for k, v in tensors.items()}

    def infer(self, x, **fit_params):
        module = self._compiled(self.module_) if self.compile_model else self.module_
        with self.runtime.autocast():
            out = module(**self._move(x), **fit_params)
        return {k: v.float() for k, v in outputs_by_head(out, self.head_names).items()}

    def _compiled(self, module):
        # Cached per module object: initialize() or a DDP wrapper (see
        # _distributed) means a different module to compile.
        cache = self.__dict__.setdefault("_compiled_cache", {})
        hit = cache.get(id(module))
        if hit is None or hit[0] is not module:
            hit = (module, torch.compile(module, dynamic=True))
            cache[id(module)] = hit
        return hit[1]

    def get_loss(self, y_pred, y_true, X=None, training=False):
        return self.criterion_(y_pred, self._move(y_true))

    def _set_mode(self, training):
        # Module.train() walks every submodule (about 1 ms per step for a
        # 6-layer BERT): only switch when the mode really changes.
        module = self.module_
        if module.training != training or any(m.training != training for m in module.modules()):
            module.train(training)

    # ------------------------------------------------------------------
    # Training steps
    # ------------------------------------------------------------------
    @property
    def grad_scaler_(self):
        scaler = self.__dict__.get("_grad_scaler")
        if scaler is None:
            scaler = self.runtime.grad_scaler()
            self.__dict__["_grad_scaler"] = scaler
        return scaler

    def train_step_single(self, batch, **fit_params):
        # Replaced: skorch calls loss.backward(); fp16 needs the scaler's, accumulation a share.
        self._set_mode(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        # Accumulated batches each add their share of the group's mean loss.
        scale = self.__dict__.get("_accumulation", (True, True, 1))[2]
        self.grad_scaler_.scale(loss / scale if scale > 1 else loss).backward()
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        # Replaced: skorch zeroes and steps every batch; accumulation does it once a group.
        first, last, _ = self.__dict__.get("_accumulation", (True, True, 1))
        if first:
            self.optimizer_.zero_grad(set_to_none=True)
        step = self.train_step_single(batch, **fit_params)
        if last:
            self._apply_gradients(batch)
        step["optimizer_stepped"] = last
        return step

    def _apply_gradients(self, batch):
        """Unscale (fp16), clip (via on_grad_computed callbacks) and apply the gradients."""
        scaler = self.grad_scaler_
        scaler.unscale_(self.optimizer_)
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )
        scaler.step(self.optimizer_)  # skips the step on inf/NaN gradients (fp16)
        scaler.update()

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

    def evaluation_step(self, batch, training=False):
        # Replaced: inference_mode skips autograd's version counters and views
        # bookkeeping that no_grad (skorch's default) still pays for.
        self.check_is_fitted()
        Xi, _ = unpack_data(batch)
        self._set_mode(training)
        with torch.inference_mode(not training), torch.set_grad_enabled(training):
            return self.infer(Xi)

    def inference_kernels(self, dataset, training=False):
        """Context for one pass over ``dataset``: linear weights prepared once if inference."""
        import contextlib

        lengths = getattr(dataset, "lengths", None)
        if training or self.compile_model or lengths is None:
            return contextlib.nullcontext()
        return inference_pass(
            self.module_, device=self.device, amp=self.runtime.amp, lengths=lengths
        )

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        # Replaced: skorch reads each batch loss (a host sync a batch); here once an epoch.
        if iterator is None:
            return
        losses = []
        batch_count = 0
        positions = (
            self._accumulation_positions(iterator)
            if training and self.gradient_accumulation_steps > 1
            else None
        )
        step = {}
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
        if positions is not None and batch_count and not step.get("optimizer_stepped", True):
            # The sampler had no length: apply what the last group summed.
            self._apply_gradients(batch)
        if losses:
            values = torch.stack(losses).float().cpu().tolist()
            for row, value in zip(self.history[-1]["batches"][-batch_count:], values):
                row[prefix + "_loss"] = value
        self.history.record(prefix + "_batch_count", batch_count)

    # ------------------------------------------------------------------
    # Stopping and interrupts
    # ------------------------------------------------------------------
    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(
            net, dataset_train=dataset_train, dataset_valid=dataset_valid, **kwargs
        )
        # The weights of the last completed epoch, restored if the user interrupts.
        self.__dict__["_epoch_start_state"] = {
            k: v.detach().to("cpu", copy=True) for k, v in self.module_.state_dict().items()
        }

    def notify(self, method_name, **cb_kwargs):
        try:
            super().notify(method_name, **cb_kwargs)
        except KeyboardInterrupt:
            # skorch's way for a callback to stop training (EarlyStopping,
            # pruning) is a KeyboardInterrupt from on_epoch_end; a real Ctrl+C
            # sets _user_interrupt first (see _catch_sigint).
            if method_name == "on_epoch_end" and not self.__dict__.get("_user_interrupt"):
                self.__dict__["_stop_requested"] = True
            raise

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        # skorch's partial_fit swallows every KeyboardInterrupt; an interrupt
        # that is not a callback's stop request is marked here, and the last
        # completed epoch restored before skorch runs on_train_end.
        try:
            return super().fit_loop(X, y, epochs, **fit_params)
        except KeyboardInterrupt:
            if not self.__dict__.get("_stop_requested"):
                self.__dict__["_interrupted"] = True
                self._restore_last_epoch()
            raise

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """skorch's ``partial_fit``, except that a user's interrupt is raised again.

        On ``KeyboardInterrupt`` (Ctrl+C) during an epoch, the weights of the
        last completed epoch are restored and the unfinished epoch is dropped
        from the history; the ``on_train_end`` callbacks run (early stopping
        with ``load_best`` then restores the best epoch); then the interrupt
        propagates, so that cross-validation, searches and scripts stop.
        A callback's stop request (a ``KeyboardInterrupt`` from
        ``on_epoch_end``, as ``EarlyStopping`` raises) just stops training.
        """
        flags = ("_user_interrupt", "_stop_requested", "_interrupted", "_epoch_start_state")
        self.__dict__.update(_user_interrupt=False, _stop_requested=False, _interrupted=False)
        try:
            with _catch_sigint(self):
                super().partial_fit(X, y, classes, **fit_params)
            if self.__dict__.get("_interrupted"):
                raise KeyboardInterrupt
        finally:
            for key in flags:
                self.__dict__.pop(key, None)
        return self

    def _restore_last_epoch(self):
        state = self.__dict__.get("_epoch_start_state")
        if state is not None:
            self.module_.load_state_dict(state)
        if len(self.history) and "train_loss" not in self.history[-1]:
            del self.history[-1]

    def __getstate__(self):
        # ``module`` is the very instance held as ``module_``; skorch stores
        # ``module_`` device-independently, so drop the duplicate reference
        # (it would pickle the weights twice, and CUDA tensors would not
        # unpickle on a CPU-only machine).
        state = super().__getstate__()
        if isinstance(state.get("module"), torch.nn.Module):
            state["module"] = None
        for key in (
            "_compiled_cache",
            "_accumulation",
            "_epoch_start_state",
            "_user_interrupt",
            "_stop_requested",
            "_interrupted",
            "_grad_scaler",
        ):
            state.pop(key, None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if self.__dict__.get("module") is None and "module_" in self.__dict__:
            self.module = self.module_


class _catch_sigint:
    """Mark a real SIGINT (Ctrl+C) on the net, then raise KeyboardInterrupt as usual."""

    def __init__(self, net):
        self.net = net
        self.previous = None

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            return self
        previous = signal.getsignal(signal.SIGINT)
        if previous is not signal.default_int_handler:
            return self  # someone else handles SIGINT; leave it to them

        def handler(signum, frame):
            self.net.__dict__["_user_interrupt"] = True
            raise KeyboardInterrupt

        self.previous = previous
        signal.signal(signal.SIGINT, handler)
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False


def predict_rows(
    module,
    dataset,
    *,
    runtime,
    batch_size,
    pad_token_id,
    head_names=None,
    token_heads=(),
    compiled=None,
):
    """Outputs of ``module`` for every row of ``dataset``, in the dataset's order.

    The one inference path of the package (estimators and embedder): rows
    sorted by length (longest first) in batches padded to their own longest
    row, ``torch.inference_mode``, autocast, linear weights prepared once for
    the pass. Returns ``{head: array}`` with an (n_rows, size) array for a
    text-level head and a list of (length, size) arrays for a token-level
    head; with ``head_names=None`` the module's single output (embeddings).
    """
    from ._threads import thread_budget

    sampler = LengthGroupedBatchSampler(
        dataset.lengths, batch_size, shuffle=False, max_tokens=runtime.predict_max_tokens()
    )
    collate = PadCollator(dataset, pad_token_id)
    names = head_names or ["output"]
    parts = {name: [] for name in names}
    module.eval()  # training steps switch back (TransformerNet._set_mode)
    run = compiled if compiled is not None else module
    prepared = (
        inference_pass(module, device=runtime.device, amp=runtime.amp, lengths=dataset.lengths)
        if compiled is None
        else _null()
    )
    with thread_budget(), torch.inference_mode(), prepared:
        for indices in sampler:
            inputs, _ = collate(indices)
            inputs = {
                k: v.to(runtime.device, non_blocking=runtime.non_blocking)
                for k, v in inputs.items()
            }
            with runtime.autocast():
                out = run(**inputs)
            out = outputs_by_head(out, names)
            lengths = inputs["attention_mask"].sum(1).tolist()
            for name in names:
                values = out[name].float().cpu().numpy()
                if name in token_heads:
                    parts[name].extend(v[:n] for v, n in zip(values, lengths))
                else:
                    parts[name].append(values)
    order = eval_order(dataset.lengths)
    result = {}
    for name in names:
        if name in token_heads:
            rows = [None] * len(order)
            for position, i in enumerate(order):
                rows[i] = parts[name][position]
        else:
            rows = np.empty_like(np.concatenate(parts[name]))
            rows[order] = np.concatenate(parts[name])
        result[name] = rows
    return result if head_names is not None else result["output"]


def _null():
    import contextlib

    return contextlib.nullcontext()
