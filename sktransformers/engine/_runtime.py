"""Where and how a model runs: device, precision, gradient scaler, batch sizes.

One place decides these for training and inference alike, so the
estimators, the embedder and the net never disagree.

Precision
---------
``precision="auto"`` uses bf16 autocast on CUDA GPUs with bf16 units
(Ampere and newer), fp16 autocast with a gradient scaler on older CUDA GPUs
(T4, V100), and float32 elsewhere (CPUs). Weights always stay float32;
autocast runs the matrix products in the lower precision. ``"fp16"`` and
``"bf16"`` force a mode; ``"fp32"`` turns autocast off. The fp16 path (and
its scaler) runs on CPUs too, which is how it is tested; the GPU paths have
not been measured yet.
"""

from __future__ import annotations

from dataclasses import dataclass

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


@dataclass(frozen=True)
class Runtime:
    """The resolved device and precision of an estimator.

    Attributes
    ----------
    device : str
        A torch device string (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...).
    amp : {"bf16", "fp16", None}
        Autocast dtype of forward passes; None runs in float32.
    """

    device: str
    amp: str | None

    @property
    def device_type(self):
        import torch

        return torch.device(self.device).type

    @property
    def scaler_enabled(self):
        """fp16 gradients underflow without loss scaling; bf16 and fp32 need none."""
        return self.amp == "fp16"

    @property
    def non_blocking(self):
        return self.device_type == "cuda"

    def autocast(self):
        """Autocast context for a forward pass (a no-op in float32)."""
        import contextlib

        import torch

        if self.amp is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=amp_dtype(self.amp))

    def grad_scaler(self):
        import torch

        return torch.amp.GradScaler(self.device_type, enabled=self.scaler_enabled)

    def predict_batch_size(self, batch_size, predict_batch_size=None):
        """Batch size of validation and prediction passes.

        GPUs like large batches; on CPUs length-sorted batches of 32-64
        texts keep activations in cache (all-MiniLM-L6-v2 on SST-2 dev, 2
        cores: 3.9-4.1 s at 32-64, 5.2 s at 128, 11 s at 872).
        """
        if predict_batch_size is not None:
            return int(predict_batch_size)
        return 64 if self.device_type == "cpu" else 4 * int(batch_size)

    def predict_max_tokens(self):
        """Most padded tokens in a prediction batch (None: ``predict_batch_size`` alone).

        On CPUs a batch of long texts as large as one of short texts runs
        out of cache (:data:`sktransformers.utils._batches.CPU_MAX_TOKENS`);
        GPUs keep their large batches.
        """
        from ..utils._batches import CPU_MAX_TOKENS

        return CPU_MAX_TOKENS if self.device_type == "cpu" else None

    def fused_adamw(self):
        """Whether torch has a fused AdamW kernel here (CPU: torch >= 2.4)."""
        import torch

        if self.device_type == "cuda":
            return True
        if self.device_type == "cpu":
            major, minor = (int(v) for v in torch.__version__.split(".")[:2])
            return (major, minor) >= (2, 4)
        return False


def amp_dtype(amp):
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16}[amp]


def check_device(device):
    """Validate a ``device`` parameter before any model loads; return the resolved string."""
    import torch

    if not isinstance(device, str):
        raise TypeError(f"device must be a string such as 'auto', 'cpu' or 'cuda', got {device!r}.")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu' or 'cuda'."
        ) from None
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} but CUDA is not available here.")
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} but this machine has {torch.cuda.device_count()} CUDA "
                "device(s)."
            )
    elif parsed.type == "mps":
        backend = getattr(torch.backends, "mps", None)
        if backend is None or not backend.is_available():
            raise ValueError(f"device={device!r} but Apple's MPS backend is not available here.")
    elif parsed.type != "cpu":
        raise ValueError(
            f"device={device!r}: models can be trained and run on 'cpu', 'cuda' or 'mps' "
            f"devices, not on {parsed.type!r}."
        )
    return device


def resolve_runtime(device, precision):
    """A :class:`Runtime` from the ``device`` and ``precision`` parameters."""
    import torch

    device = check_device(device)
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r}; expected one of {PRECISIONS}.")
    if precision == "fp32":
        amp = None
    elif precision in ("bf16", "fp16"):
        amp = precision
    elif torch.device(device).type == "cuda":
        # Ampere and newer have bf16 units; older GPUs (T4, V100) get fp16 with a scaler.
        amp = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    else:
        amp = None
    return Runtime(device=device, amp=amp)
