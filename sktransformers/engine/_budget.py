"""The training budget: how many epochs ``max_epochs="auto"`` trains.

One rule for every estimator and task kind. A fixed number of epochs gives
small data a handful of optimizer steps (100 texts at batch 32 and 3 epochs:
12 steps, too few to move a pretrained model far), and large data many. With
``max_epochs="auto"``, the number of epochs is the smallest that gives at
least :data:`MIN_STEPS` optimizer steps, never fewer than
:data:`MIN_EPOCHS` (the Hugging Face Trainer's 3, so large data trains as
with the fixed default) and never more than :data:`MAX_EPOCHS`.

The constants were chosen on SST-2 subsets and checked on other GLUE tasks
(``benchmarks/bench_defaults.py``; the measurements are in the docs'
performance page).
"""

from __future__ import annotations

import math

#: Optimizer steps ``max_epochs="auto"`` aims for at least.
MIN_STEPS = 250
#: Fewest epochs ``max_epochs="auto"`` trains (large data: as the Trainer).
MIN_EPOCHS = 3
#: Most epochs ``max_epochs="auto"`` trains (tiny data: bounded time).
MAX_EPOCHS = 20


def steps_per_epoch(n_texts: int, batch_size: int, accumulation: int = 1) -> int:
    """Optimizer steps in one epoch over ``n_texts`` training texts."""
    batches = math.ceil(n_texts / batch_size)
    return max(1, math.ceil(batches / accumulation))


def auto_epochs(n_texts: int, batch_size: int, accumulation: int = 1) -> int:
    """Epochs ``max_epochs="auto"`` trains on ``n_texts`` training texts.

    Examples
    --------
    >>> auto_epochs(100, 32), auto_epochs(1000, 32), auto_epochs(67349, 32)
    (20, 8, 3)
    """
    needed = math.ceil(MIN_STEPS / steps_per_epoch(n_texts, batch_size, accumulation))
    return min(MAX_EPOCHS, max(MIN_EPOCHS, needed))


def n_training_texts(n_texts: int, validation_fraction: float | None) -> int:
    """Texts left for training once ``validation_fraction`` is held out.

    As :func:`sklearn.model_selection.train_test_split` counts: the
    validation set holds ``ceil(fraction * n)`` texts.
    """
    if validation_fraction is None:
        return n_texts
    return max(1, n_texts - math.ceil(validation_fraction * n_texts))


def describe(epochs: int, n_texts: int, batch_size: int, accumulation: int = 1) -> str:
    """One line for ``fit``'s verbose output."""
    steps = steps_per_epoch(n_texts, batch_size, accumulation)
    return (
        f'max_epochs="auto": {epochs} epochs of {steps} optimizer steps '
        f"({n_texts} training texts; at least {MIN_STEPS} steps, "
        f"{MIN_EPOCHS} to {MAX_EPOCHS} epochs)"
    )
