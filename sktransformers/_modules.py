"""Torch modules: a transformer backbone, a pooling step and one or more heads."""

from __future__ import annotations

from torch import nn


def pool(hidden, attention_mask, pooling):
    """Fixed-size text vectors from token states: masked mean or the first token."""
    if pooling == "cls":
        return hidden[:, 0]
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class TransformerModel(nn.Module):
    """Backbone + pooling + a head per task.

    Parameters
    ----------
    backbone : transformers.PreTrainedModel
        An encoder (``AutoModel``) returning ``last_hidden_state``.
    head_sizes : dict of str to int
        Output size of each head, by task name.
    pooling : {"mean", "cls"}
        How token states become one vector per text.
    dropout : float or None
        Dropout before the heads; None takes the backbone's hidden dropout.

    ``forward`` returns the logits of the only head when there is one, and
    a dict ``{task: logits}`` otherwise (or of the head named by ``task``).
    """

    def __init__(self, backbone, head_sizes, pooling="mean", dropout=None):
        super().__init__()
        self.backbone = backbone
        self.pooling = pooling
        hidden = backbone.config.hidden_size
        if dropout is None:
            dropout = getattr(backbone.config, "hidden_dropout_prob", 0.1)
        self.dropout = nn.Dropout(dropout)
        self.heads = nn.ModuleDict(
            {name: nn.Linear(hidden, size) for name, size in head_sizes.items()}
        )
        for head in self.heads.values():
            nn.init.normal_(head.weight, std=0.02)
            nn.init.zeros_(head.bias)

    def embed(self, input_ids, attention_mask, token_type_ids=None):
        kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            kwargs["token_type_ids"] = token_type_ids
        hidden = self.backbone(**kwargs).last_hidden_state
        return pool(hidden, attention_mask, self.pooling)

    def forward(self, input_ids, attention_mask, token_type_ids=None, task=None):
        features = self.dropout(self.embed(input_ids, attention_mask, token_type_ids))
        if task is not None:
            return self.heads[task](features)
        if len(self.heads) == 1:
            return next(iter(self.heads.values()))(features)
        return {name: head(features) for name, head in self.heads.items()}
