"""skorch callbacks used by every estimator."""

from __future__ import annotations

import math

from skorch.callbacks import Callback


class WarmupLinearSchedule(Callback):
    """Linear warmup then linear decay to zero, stepped every batch.

    The schedule spans ``net.max_epochs`` epochs of the training set given
    to ``fit``. Each ``partial_fit`` call is one more epoch of the same
    schedule; calls past ``max_epochs`` stretch it by one epoch each, so the
    learning rate never sticks at zero.

    Parameters
    ----------
    warmup_ratio : float
        Share of all steps spent warming up from 0 to the base rate.
    """

    def __init__(self, warmup_ratio=0.0):
        self.warmup_ratio = warmup_ratio

    def initialize(self):
        self.step_ = 0
        self.total_steps_ = 1
        self.base_lrs_ = None
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if self.base_lrs_ is None:
            self.base_lrs_ = [group["lr"] for group in net.optimizer_.param_groups]
        batches = math.ceil(len(X) / net.batch_size)
        # With gradient accumulation the schedule counts optimizer steps.
        accumulation = getattr(net, "gradient_accumulation_steps", 1)
        self.batches_per_epoch_ = max(1, math.ceil(batches / accumulation))

    def on_epoch_begin(self, net, **kwargs):
        epochs_done = len(net.history) - 1
        epochs = max(net.max_epochs, epochs_done + 1)
        self.total_steps_ = epochs * self.batches_per_epoch_
        self._apply(net)

    def on_batch_end(self, net, training=False, optimizer_stepped=True, **kwargs):
        if training and optimizer_stepped:
            self.step_ += 1
            self._apply(net)

    def factor(self):
        warmup = int(self.warmup_ratio * self.total_steps_)
        if self.step_ < warmup:
            return (self.step_ + 1) / (warmup + 1)
        remaining = self.total_steps_ - self.step_
        return max(0.0, remaining / max(1, self.total_steps_ - warmup))

    def _apply(self, net):
        factor = self.factor()
        for group, base in zip(net.optimizer_.param_groups, self.base_lrs_):
            group["lr"] = base * factor
