"""Parameter-efficient fine-tuning: freezing parts of the backbone, and LoRA via peft."""

from __future__ import annotations

from torch import nn

from . import _hub


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
    """Stop gradients for the embeddings, the first ``k`` layers, or the whole backbone."""
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
        for param in target.parameters():
            param.requires_grad_(False)
    return module


def apply_lora(module, lora):
    raise NotImplementedError("LoRA support is being added (issue 3).")


def save_backbone(backbone, directory):
    backbone.save_pretrained(directory)


def load_backbone(directory, lora, trust_remote_code):
    return _hub.load_backbone(directory, trust_remote_code)
