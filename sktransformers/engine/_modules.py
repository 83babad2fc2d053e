"""Torch modules: a transformer backbone, then an optional pooling step, then heads.

:class:`TransformerModel` composes the three. Heads are of two levels: a
text-level head reads the pooled vector of each text (classification,
regression, multi-label); a token-level head reads every token's state
(tagging). The backbone runs once per batch whatever the heads; the pooled
vector is computed only when some head (or the embedder) needs it.
"""

from __future__ import annotations

from torch import nn

POOLINGS = ("mean", "cls")


def pool(hidden, attention_mask, pooling):
    """Fixed-size text vectors from token states: masked mean or the first token."""
    if pooling == "cls":
        return hidden[:, 0]
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class Pooling(nn.Module):
    """Token states to one vector per text (``"mean"`` or ``"cls"``)."""

    def __init__(self, mode="mean"):
        super().__init__()
        if mode not in POOLINGS:
            raise ValueError(f"pooling={mode!r}; expected one of {POOLINGS}.")
        self.mode = mode

    def forward(self, hidden, attention_mask):
        return pool(hidden, attention_mask, self.mode)

    def extra_repr(self):
        return f"mode={self.mode!r}"


class TransformerModel(nn.Module):
    """Backbone, then pooling, then one head per task.

    Parameters
    ----------
    backbone : transformers.PreTrainedModel
        An encoder (``AutoModel``) returning ``last_hidden_state``.
    head_sizes : dict of str to int
        Output size of each head, by task name.
    pooling : {"mean", "cls"}
        How token states become one vector per text (for text-level heads).
    dropout : float or None
        Dropout before the heads; None takes the backbone's hidden dropout.
    token_heads : iterable of str, default=()
        Names of the heads that read every token (tagging) rather than the
        pooled vector.

    ``forward`` returns the logits of the only head when there is one (shape
    ``(batch, size)``, or ``(batch, tokens, size)`` for a token head), a dict
    ``{task: logits}`` when there are several, and the pooled embeddings
    when there is none (the embedder).
    """

    def __init__(self, backbone, head_sizes, pooling="mean", dropout=None, token_heads=()):
        super().__init__()
        self.backbone = backbone
        self.pooler = Pooling(pooling)
        hidden = backbone.config.hidden_size
        if dropout is None:
            dropout = getattr(backbone.config, "hidden_dropout_prob", 0.1)
        self.dropout = nn.Dropout(dropout)
        self.token_heads = frozenset(token_heads)
        self.heads = nn.ModuleDict(
            {name: nn.Linear(hidden, size) for name, size in head_sizes.items()}
        )
        for head in self.heads.values():
            nn.init.normal_(head.weight, std=0.02)
            nn.init.zeros_(head.bias)

    @property
    def pooling(self):
        return self.pooler.mode

    def hidden_states(self, input_ids, attention_mask, token_type_ids=None):
        kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            kwargs["token_type_ids"] = token_type_ids
        return self.backbone(**kwargs).last_hidden_state

    def embed(self, input_ids, attention_mask, token_type_ids=None):
        """Pooled text vectors (no dropout, no head)."""
        return self.pooler(
            self.hidden_states(input_ids, attention_mask, token_type_ids), attention_mask
        )

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        hidden = self.hidden_states(input_ids, attention_mask, token_type_ids)
        if not len(self.heads):
            return self.pooler(hidden, attention_mask)
        pooled = None
        if any(name not in self.token_heads for name in self.heads):
            pooled = self.dropout(self.pooler(hidden, attention_mask))
        tokens = self.dropout(hidden) if self.token_heads else None
        out = {
            name: head(tokens if name in self.token_heads else pooled)
            for name, head in self.heads.items()
        }
        if len(out) == 1:
            return next(iter(out.values()))
        return out

    def __setstate__(self, state):
        super().__setstate__(state)
        # Models pickled before pooling became a module.
        if "pooler" not in self._modules:
            self.pooler = Pooling(self.__dict__.pop("pooling", "mean"))
            self.token_heads = frozenset()


def outputs_by_head(out, names):
    """The model's output as a dict by head name, whatever the number of heads."""
    if isinstance(out, dict):
        return out
    return {names[0]: out}
