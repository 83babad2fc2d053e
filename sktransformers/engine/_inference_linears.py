"""Linear layers prepared once per inference pass: weights cast and packed.

In an inference pass (prediction, a validation pass, embedding) the weights do
not change, yet every batch pays for preparing them again:

* under autocast (``precision="bf16"``), every ``nn.Linear`` casts its
  float32 weight to bf16 in every batch: one extra kernel and a read of the
  float32 weight per layer and batch;
* on CPU, ``nn.Linear`` hands MKL's sgemm the weight in its plain layout.
  oneDNN can take a weight packed once into its blocked layout; these are the
  kernels ``torch.compile`` uses when it freezes a model for CPU inference
  (``mkldnn::_reorder_linear_weight`` then ``mkldnn::_linear_pointwise``),
  here without compiling anything.

:func:`prepared_linears` does both once per pass for every float32
``nn.Linear`` of a module and puts the plain forwards back afterwards, so
training, pickling and saving never see a prepared weight. The cast gives the
results autocast gives (the same bf16 weights and kernels). On the 2-core
AVX-512 CPU this package is developed on, MiniLM's float32 matrix products ran
at about 190 GFLOP/s packed against 100-160 plain, SST-2 prediction got 15-25 %
faster, and probabilities stayed within 2e-7 of the plain path. On a 2-core
AMD EPYC with AVX2 and no AVX-512, plain passes were faster on 384-token
question-answering windows in 9 of 12 alternating pairs (medians 7.60 s plain,
8.26 s packed) and SST-2 was no different, so passes pack by default only
where the CPU has AVX-512 (:func:`packs_by_default`).
Set the environment variable ``SKTRANSFORMERS_ONEDNN=1`` to pack on any CPU
whose oneDNN passes the self-check, ``SKTRANSFORMERS_ONEDNN=0`` never to pack
(the cast stays).
"""

from __future__ import annotations

import contextlib
import os

import numpy as np
import torch

# Below this many tokens in a pass, preparing costs more than it saves
# (packing MiniLM takes ~15 ms and saves ~0.03 ms per token on the CPU; both
# scale with the model).
MIN_TOKENS = 1024

# Autocast dtypes by ``precision`` name (``amp`` of the nets).
AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}

_checked: dict = {}


def packs_by_default() -> bool:
    """Whether CPU passes pack when ``SKTRANSFORMERS_ONEDNN`` is unset: AVX-512 CPUs only."""
    return torch.backends.cpu.get_cpu_capability().startswith("AVX512")


def should_pack(dtype=torch.float32):
    """Whether a CPU inference pass in ``dtype`` packs its linears here.

    ``SKTRANSFORMERS_ONEDNN``: ``"0"`` never, any other value wherever the
    kernels work (:func:`can_pack`), unset as :func:`packs_by_default` says.
    """
    setting = os.environ.get("SKTRANSFORMERS_ONEDNN")
    if setting == "0" or (setting is None and not packs_by_default()):
        return False
    return can_pack(dtype)


def can_pack(dtype=torch.float32):
    """Whether packed oneDNN linear kernels work here for ``dtype`` (checked once per process)."""
    if dtype not in _checked:
        _checked[dtype] = _self_check(dtype)
    return _checked[dtype]


def _self_check(dtype):
    ops = getattr(torch.ops, "mkldnn", None)
    if not torch.backends.mkldnn.is_available() or ops is None:
        return False
    try:
        with torch.inference_mode():
            gen = torch.Generator().manual_seed(0)
            x = torch.randn(3, 5, 16, generator=gen).to(dtype)
            weight = torch.randn(8, 16, generator=gen).to(dtype)
            bias = torch.randn(8, generator=gen).to(dtype)
            packed = ops._reorder_linear_weight(weight, None)
            got = ops._linear_pointwise(x, packed, bias, "none", [], "")
            want = torch.nn.functional.linear(x.float(), weight.float(), bias.float())
            tol = 1e-4 if dtype == torch.float32 else 0.1
            return got.shape == want.shape and torch.allclose(got.float(), want, atol=tol)
    except (AttributeError, RuntimeError, NotImplementedError):
        return False


def inference_pass(module, *, device, amp, lengths):
    """Context for one inference pass of ``module`` over texts of ``lengths`` tokens.

    Prepares the linear layers (:func:`prepared_linears`) in the autocast
    dtype ``amp`` (``"bf16"``, ``"fp16"`` or None for float32) when the pass
    has at least :data:`MIN_TOKENS` tokens and there is something to do:
    a cast (``amp`` set) or packing (CPU). Otherwise does nothing.
    """
    dtype = AUTOCAST_DTYPES[amp] if amp is not None else torch.float32
    pack = torch.device(device).type == "cpu" and should_pack(dtype)
    n_tokens = int(np.sum(lengths))
    if n_tokens < MIN_TOKENS or (dtype == torch.float32 and not pack):
        return contextlib.nullcontext()
    return prepared_linears(module, dtype=dtype, pack=pack)


def _prepared_forward(linear, weight, bias, dtype, packed):
    device = linear.weight.device

    def forward(x):
        if torch.is_grad_enabled() or not x.is_floating_point() or x.device != device:
            return torch.nn.functional.linear(x, linear.weight, linear.bias)
        x = x.to(dtype)
        if packed:
            return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")
        return torch.nn.functional.linear(x, weight, bias)

    forward.sktransformers_prepared = True
    return forward


@contextlib.contextmanager
def prepared_linears(module, dtype=torch.float32, pack=True):
    """Run the float32 ``nn.Linear`` layers of ``module`` on weights prepared once.

    Each layer's weight is cast to ``dtype`` and, with ``pack`` (CPU only),
    packed for oneDNN. Only for inference: a layer called with gradients
    enabled, or with an input on another device, runs its plain forward.
    Yields the number of layers prepared.

    Examples
    --------
    >>> import torch
    >>> from sktransformers.engine._inference_linears import can_pack, prepared_linears
    >>> layer = torch.nn.Linear(4, 2)
    >>> x = torch.ones(3, 4)
    >>> with torch.inference_mode(), prepared_linears(layer, pack=can_pack()):
    ...     prepared = layer(x)
    >>> torch.allclose(prepared, layer(x))
    True
    >>> "forward" in vars(layer)  # the plain forward is back
    False
    """
    patched = []
    with torch.no_grad():
        for layer in module.modules():
            if (
                type(layer) is not torch.nn.Linear
                or layer.weight.dtype != torch.float32
                or "forward" in vars(layer)
            ):
                continue
            packed = pack and layer.weight.device.type == "cpu"
            weight = layer.weight.detach().to(dtype)
            if packed:
                weight = torch.ops.mkldnn._reorder_linear_weight(weight, None)
            bias = None if layer.bias is None else layer.bias.detach().to(dtype)
            layer.forward = _prepared_forward(layer, weight, bias, dtype, packed)
            patched.append(layer)
    try:
        yield len(patched)
    finally:
        for layer in patched:
            if getattr(vars(layer).get("forward"), "sktransformers_prepared", False):
                del layer.forward
