"""Prediction batches, shared by the engine and the torch-free ONNX runtime (NumPy only)."""

from __future__ import annotations

import numpy as np

#: Most padded tokens per prediction batch on CPUs. On 2 cores, 208 SQuAD
#: questions (windows of 157 tokens on average, up to 394) took 7.5 s with
#: all-MiniLM-L6-v2 in batches of 64 texts, 4.7-4.9 s in batches of 4 to 16;
#: with this cap 4.7 s (4096: 5.0 s, 8192: 6.1 s). Short texts keep large
#: batches: SST-2 dev (872 sentences) took 2.85-3.09 s with the cap and
#: 2.94-2.98 s without it (two passes each, same machine and day).
CPU_MAX_TOKENS = 2048


def eval_order(lengths):
    """Indices sorting texts by length (longest first), for prediction batches."""
    return np.argsort(-np.asarray(lengths), kind="stable")


def eval_batches(lengths, batch_size, max_tokens=None):
    """Prediction batches: texts sorted by length (longest first), cut into batches.

    A batch holds at most ``batch_size`` texts and, when ``max_tokens`` is
    set, at most ``max_tokens`` padded tokens (its longest text times its
    size; at least one text): long texts go in small batches, short ones in
    full batches.
    """
    order = eval_order(lengths)
    lengths = np.asarray(lengths)
    batches, start = [], 0
    while start < len(order):
        size = batch_size
        if max_tokens is not None:
            size = max(1, min(batch_size, int(max_tokens) // max(1, int(lengths[order[start]]))))
        batches.append(order[start : start + size])
        start += size
    return batches
