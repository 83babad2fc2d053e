"""Training output that reads well in a terminal, a notebook and a log file.

skorch prints an epoch table (``PrintLog``) and, at ``verbose=1``, a tqdm bar
per epoch (``ProgressBar``). Both assume a terminal: the table colours its
best values with ANSI escape codes, and the bar redraws one line with
carriage returns, then blanks it without ending it, so the next table row
lands on the end of that line. Written to a file (``python train.py >
log.txt 2>&1``, a batch scheduler, CI), that is ``\\x1b[36m0.6783\\x1b[0m``
in every row and rows glued to the remains of the bar.

The two callbacks here keep skorch's output in terminals and notebooks and
write plain lines everywhere else: no colour codes, and in place of the bar
one short line every ``log_every`` seconds (nothing for short epochs).
Whether the output is a terminal is checked when each epoch runs, not when
the estimator is built, so a pickled estimator behaves right wherever it is
loaded. ``NO_COLOR`` (https://no-color.org) turns colours off everywhere.
"""

from __future__ import annotations

import os
import re
import sys
import time

from skorch.callbacks import PrintLog as _SkorchPrintLog
from skorch.callbacks import ProgressBar as _SkorchProgressBar

__all__ = [
    "PrintLog",
    "ProgressBar",
    "is_terminal",
    "net_print_params",
    "print_callbacks",
    "quiet_loading",
]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def is_terminal(stream):
    """Whether ``stream`` is an interactive terminal (False for files, pipes, closed streams)."""
    isatty = getattr(stream, "isatty", None)
    if isatty is None:
        return False
    try:
        return bool(isatty())
    except (OSError, ValueError):  # closed or detached stream
        return False


def in_notebook():
    """Whether the code runs in a Jupyter kernel (which renders colours and widgets)."""
    try:
        shell = get_ipython()  # noqa: F821
    except NameError:
        return False
    return type(shell).__name__ == "ZMQInteractiveShell"


def _use_color(stream):
    if os.environ.get("NO_COLOR"):
        return False
    return in_notebook() or is_terminal(stream)


class PrintLog(_SkorchPrintLog):
    """skorch's epoch table, with colours only where they render.

    Same parameters as :class:`skorch.callbacks.PrintLog`. Best values are
    coloured when the table goes to a terminal or a notebook through
    ``print``; written to a file or a pipe, or through another ``sink``
    (a logger, say), the table is plain text.
    """

    def on_epoch_end(self, net, **kwargs):
        self.color_ = self.sink is print and _use_color(sys.stdout)
        super().on_epoch_end(net, **kwargs)

    def format_row(self, row, key, color):
        text = super().format_row(row, key, color)
        if getattr(self, "color_", True) or not isinstance(text, str):
            return text
        return _ANSI.sub("", text)


class ProgressBar(_SkorchProgressBar):
    """skorch's per-epoch progress bar in terminals and notebooks, plain lines elsewhere.

    In a terminal or a notebook this is :class:`skorch.callbacks.ProgressBar`.
    When standard error is a file or a pipe, the bar would fill the file
    with carriage-return redraws; instead, one line such as
    ``epoch 1: 120/625 batches, 38 s, train_loss 0.4123`` is written every
    ``log_every`` seconds, each ending its line, so the epoch table that
    follows starts on a line of its own.

    Parameters
    ----------
    log_every : float, default=30.0
        Seconds between two plain progress lines when the output is not a
        terminal.
    **kwargs
        Passed to :class:`skorch.callbacks.ProgressBar`.
    """

    def __init__(self, log_every=30.0, **kwargs):
        super().__init__(**kwargs)
        self.log_every = log_every

    def _plain(self):
        return not (self._use_notebook() or is_terminal(sys.stderr))

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        self.plain_ = self._plain()
        if not self.plain_:
            super().on_epoch_begin(
                net, dataset_train=dataset_train, dataset_valid=dataset_valid, **kwargs
            )
            return
        if self.batches_per_epoch == "auto":
            self.total_ = self._get_batches_per_epoch(net, dataset_train, dataset_valid)
        elif self.batches_per_epoch == "count":
            self.total_ = len(net.history[-2, "batches"]) if len(net.history) > 1 else None
        else:
            self.total_ = self.batches_per_epoch
        self.done_ = 0
        self.start_ = self.last_ = time.monotonic()

    def on_batch_end(self, net, **kwargs):
        if not getattr(self, "plain_", False):
            super().on_batch_end(net, **kwargs)
            return
        self.done_ += 1
        now = time.monotonic()
        if now - self.last_ < self.log_every:
            return
        self.last_ = now
        of = f"/{self.total_}" if self.total_ else ""
        parts = [f"epoch {len(net.history)}: {self.done_}{of} batches, {now - self.start_:.0f} s"]
        parts += [
            f"{key} {value:.4f}"
            for key, value in self._get_postfix_dict(net).items()
            if isinstance(value, float)
        ]
        print(", ".join(parts), file=sys.stderr, flush=True)

    def on_epoch_end(self, net, **kwargs):
        if not getattr(self, "plain_", False):
            super().on_epoch_end(net, **kwargs)

    def __getstate__(self):
        state = super().__getstate__()
        for key in ("plain_", "total_", "done_", "start_", "last_"):
            state.pop(key, None)
        return state


def print_callbacks(verbose):
    """The named callbacks to add to a net's ``callbacks`` at this ``verbose``.

    At ``verbose=0`` none; otherwise the progress bar, named ``"progress"``.
    The epoch table is skorch's default ``print_log`` callback, which skorch
    prints only at ``verbose > 0``; a second callback of that name is
    refused, so it is swapped through :func:`net_print_params` instead.

    Returns
    -------
    list of (str, Callback)
    """
    if not verbose:
        return []
    return [("progress", ProgressBar())]


def net_print_params():
    """Keyword arguments for a skorch net that swap in the plain-aware epoch table.

    ``NeuralNet(..., **net_print_params())`` replaces skorch's default
    ``print_log`` callback with :class:`PrintLog` (skorch only prints it at
    ``verbose > 0``).
    """
    return {"callbacks__print_log": PrintLog()}


def quiet_loading(verbose):
    """Whether to silence transformers' loading bars and reports at this ``verbose``.

    Always at ``verbose=0``; at ``verbose > 0`` too when standard error is
    neither a terminal nor a notebook, where the bars are carriage-return
    debris (for ``_hub.quiet_transformers(quiet_loading(self.verbose))``).
    """
    return not verbose or not (in_notebook() or is_terminal(sys.stderr))
