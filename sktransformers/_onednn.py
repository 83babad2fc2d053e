"""Faster float32 inference on CPU: linear layers with weights packed for oneDNN.

On CPU, ``nn.Linear`` calls MKL's sgemm with the weight in its plain layout.
oneDNN can instead take a weight packed once into its blocked layout; these
are the kernels ``torch.compile`` uses when it freezes a model for CPU
inference (``mkldnn::_reorder_linear_weight`` then
``mkldnn::_linear_pointwise``), without compiling anything. On the 2-core
AVX-512 machines this package is developed on, MiniLM's matrix products ran
at about 190 GFLOP/s packed against 100-160 plain, and SST-2 prediction got
15-20 % faster, with probabilities equal to within 2e-7.

:func:`packed_linears` packs every float32 ``nn.Linear`` of a module for the
duration of one inference pass (packing MiniLM takes about 15 ms) and puts
the plain forwards back afterwards, so training, pickling and saving never see
a packed weight. Set the environment variable ``SKTRANSFORMERS_ONEDNN=0`` to
turn it off.
"""

from __future__ import annotations

import contextlib
import os

import torch

# Below this many tokens in a pass, packing costs more than it saves (packing
# is ~15 ms for MiniLM and saves ~0.03 ms per token; both scale with the model).
MIN_TOKENS = 1024

_checked = {}


def available():
    """Whether packed oneDNN linear kernels work here (checked once per process)."""
    if os.environ.get("SKTRANSFORMERS_ONEDNN", "1") == "0":
        return False
    if "ok" not in _checked:
        _checked["ok"] = _self_check()
    return _checked["ok"]


def _self_check():
    ops = getattr(torch.ops, "mkldnn", None)
    if not torch.backends.mkldnn.is_available() or ops is None:
        return False
    try:
        with torch.inference_mode():
            gen = torch.Generator().manual_seed(0)
            x = torch.randn(3, 5, 16, generator=gen)
            weight = torch.randn(8, 16, generator=gen)
            bias = torch.randn(8, generator=gen)
            packed = ops._reorder_linear_weight(weight, None)
            got = ops._linear_pointwise(x, packed, bias, "none", [], "")
            want = torch.nn.functional.linear(x, weight, bias)
            return got.shape == want.shape and torch.allclose(got, want, atol=1e-4)
    except (AttributeError, RuntimeError, NotImplementedError):
        return False


def _packed_forward(linear, weight, bias):
    def forward(x):
        if torch.is_grad_enabled() or x.dtype != torch.float32 or x.device.type != "cpu":
            return torch.nn.functional.linear(x, linear.weight, linear.bias)
        return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")

    forward.sktransformers_packed = True
    return forward


def inference_pass(module, *, device, amp, n_tokens):
    """Context for one inference pass of ``module``: packed weights where they pay.

    Packs on CPU in float32 (``amp`` None) for passes of at least
    :data:`MIN_TOKENS` tokens; otherwise does nothing.
    """
    if amp is not None or torch.device(device).type != "cpu" or n_tokens < MIN_TOKENS:
        return contextlib.nullcontext()
    return packed_linears(module)


@contextlib.contextmanager
def packed_linears(module):
    """Run the float32 ``nn.Linear`` layers of ``module`` on packed oneDNN weights.

    Only for inference: a layer called with gradients enabled, or on another
    dtype or device, runs its plain forward. Does nothing where the kernels
    are unavailable.

    Examples
    --------
    >>> import torch
    >>> from sktransformers._onednn import packed_linears
    >>> layer = torch.nn.Linear(4, 2)
    >>> x = torch.ones(3, 4)
    >>> with torch.inference_mode(), packed_linears(layer):
    ...     packed = layer(x)
    >>> torch.allclose(packed, layer(x))
    True
    >>> "forward" in vars(layer)  # the plain forward is back
    False
    """
    patched = []
    if available():
        with torch.no_grad():
            for layer in module.modules():
                if (
                    type(layer) is not torch.nn.Linear
                    or layer.weight.dtype != torch.float32
                    or layer.weight.device.type != "cpu"
                    or "forward" in vars(layer)
                ):
                    continue
                weight = torch.ops.mkldnn._reorder_linear_weight(layer.weight.detach(), None)
                bias = None if layer.bias is None else layer.bias.detach()
                layer.forward = _packed_forward(layer, weight, bias)
                patched.append(layer)
    try:
        yield len(patched)
    finally:
        for layer in patched:
            if getattr(vars(layer).get("forward"), "sktransformers_packed", False):
                del layer.forward
