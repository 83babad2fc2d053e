"""Parameter-efficient fine-tuning: freezing parts of the backbone, and LoRA via peft.

Saved directories and LoRA
--------------------------
A LoRA estimator's :meth:`save_pretrained` directory holds the backbone's
*pretrained* (unmerged) weights at its root, as a normal Hugging Face model
directory, and the trained adapter in the ``sktransformers_lora/``
subfolder (``adapter_config.json`` + ``adapter_model.safetensors``, peft's
own format). Keeping the two apart makes ``from_pretrained`` exact (the
predictions after reloading are those before saving) and lets training go
on with the same adapter.

When such a directory is passed as ``model=`` to a new estimator (or to
:class:`~sktransformers.TransformerEmbedder`), the adapter is merged into
the weights: the new estimator starts from the fine-tuned backbone, and
trains it fully, or through a fresh adapter if it sets ``lora`` itself.
Outside sktransformers, ``AutoModel.from_pretrained(directory)`` reads the
pretrained weights only; ``peft.PeftModel.from_pretrained(model,
directory + "/sktransformers_lora")`` adds the adapter.
"""

from __future__ import annotations

import os
from pathlib import Path

from torch import nn

from ..utils._extras import install_hint

LORA_DIR = "sktransformers_lora"
LORA_DEFAULTS = {"r": 8, "lora_alpha": 16, "lora_dropout": 0.1}


def layers_of(backbone):
    """The backbone's list of transformer blocks (public name of :func:`_layers`)."""
    return _layers(backbone)


def keep_bottom_layers(backbone, num_layers):
    """Layer pruning: keep only the bottom ``num_layers`` blocks (before fine-tuning).

    Dropping the top layers of a 6- or 12-layer encoder costs little
    accuracy and makes every forward pass proportionally cheaper. The
    config's ``num_hidden_layers`` is updated, so a saved model reloads
    with the kept layers only.
    """
    layers = _layers(backbone)
    if num_layers > len(layers):
        raise ValueError(f"num_layers={num_layers} but the backbone has only {len(layers)} layers.")
    if num_layers < len(layers):
        del layers[num_layers:]
        backbone.config.num_hidden_layers = num_layers
    return backbone


def _embeddings(backbone):
    emb = getattr(backbone, "embeddings", None)
    return emb if isinstance(emb, nn.Module) else backbone.get_input_embeddings()


def _layers(backbone):
    """The backbone's list of transformer blocks (the ModuleList of num_hidden_layers)."""
    n = getattr(backbone.config, "num_hidden_layers", None)
    for child in backbone.modules():
        if isinstance(child, nn.ModuleList) and len(child) == n:
            return child
    raise ValueError(
        f"freeze=int needs a backbone whose layers can be found; {type(backbone).__name__} "
        "has no ModuleList of num_hidden_layers blocks. Use freeze='embeddings' or 'backbone'."
    )


def apply_freeze(module, freeze):
    """Stop gradients for the embeddings, the first ``k`` layers, or the whole backbone.

    LoRA adapter weights are never frozen: with ``lora``, ``freeze`` applies
    to the pretrained weights (which peft already freezes), so
    ``freeze="backbone"`` plus ``lora`` trains the adapters and the heads.
    """
    backbone = module.backbone
    if freeze == "backbone":
        targets = [backbone]
    elif freeze == "embeddings":
        targets = [_embeddings(backbone)]
    else:
        layers = _layers(backbone)
        if freeze > len(layers):
            raise ValueError(f"freeze={freeze} but the backbone has only {len(layers)} layers.")
        targets = [_embeddings(backbone), *list(layers)[:freeze]]
    for target in targets:
        for name, param in target.named_parameters():
            if "lora_" not in name:
                param.requires_grad_(False)
    return module


def import_peft():
    try:
        import peft
    except ImportError:
        raise ImportError(f"lora needs the peft library: {install_hint('peft')}.") from None
    return peft


def is_lora(backbone):
    """Whether ``backbone`` is wrapped by peft (carries a LoRA adapter)."""
    return hasattr(backbone, "peft_config") and hasattr(backbone, "get_base_model")


def lora_config(lora):
    """A ``peft.LoraConfig`` from ``lora=True`` or a dict of its arguments."""
    peft = import_peft()
    kwargs = dict(LORA_DEFAULTS)
    if isinstance(lora, dict):
        kwargs.update(lora)
    try:
        return peft.LoraConfig(**kwargs)
    except TypeError as exc:
        raise ValueError(f"lora={lora!r} is not a valid peft.LoraConfig: {exc}") from None


def wrap_lora(backbone, lora):
    """Wrap ``backbone`` in a fresh LoRA adapter; only the adapter trains."""
    peft = import_peft()
    config = lora_config(lora)
    try:
        return peft.get_peft_model(backbone, config)
    except ValueError as exc:
        raise ValueError(
            f"Could not add LoRA to {type(backbone).__name__}: {exc} Pass the names of its "
            "attention projections, e.g. lora={'target_modules': ['query', 'value']}."
        ) from None


def apply_lora(module, lora):
    """Replace ``module.backbone`` by a LoRA-wrapped one (peft); heads stay trainable.

    Parameters
    ----------
    module : TransformerModel
    lora : True or dict
        True uses r=8, lora_alpha=16, lora_dropout=0.1 on the attention
        projections peft knows for the architecture; a dict overrides these
        and is passed to ``peft.LoraConfig`` (e.g. ``{"r": 4,
        "target_modules": ["query", "key", "value"]}``).
    """
    if not is_lora(module.backbone):
        module.backbone = wrap_lora(module.backbone, lora)
    return module


def merged_backbone(backbone):
    """A plain copy of ``backbone`` with any LoRA adapter merged into its weights."""
    import copy

    copied = copy.deepcopy(backbone)
    if is_lora(copied):
        copied = copied.merge_and_unload()
    return copied


def _base_state_dict(peft_model):
    """The pretrained weights under a LoRA wrapper, with their original names."""
    state = {}
    for key, value in peft_model.get_base_model().state_dict().items():
        if "lora_" in key:
            continue
        state[key.replace(".base_layer.", ".")] = value
    return state


def save_backbone(backbone, directory):
    """Save the backbone as a Hugging Face directory (+ the LoRA adapter, if any)."""
    if not is_lora(backbone):
        backbone.save_pretrained(directory)
        return
    base = backbone.get_base_model()
    base.save_pretrained(directory, state_dict=_base_state_dict(backbone))
    backbone.save_pretrained(os.path.join(directory, LORA_DIR))


def adapter_dir(source):
    if not isinstance(source, (str, os.PathLike)):
        return None
    path = Path(source) / LORA_DIR
    return path if (path / "adapter_config.json").is_file() else None
