"""Handing a fitted estimator's backbone to a new estimator, in memory.

``model=fitted.backbone()`` starts a new estimator (new head) from the
fine-tuned backbone of any fitted sktransformers estimator, without going
through a directory. The object is deliberately *not* an estimator:
scikit-learn's ``clone`` replaces an estimator-valued parameter by an
unfitted clone, which would silently drop the fine-tuned weights, whereas a
:class:`FittedBackbone` is kept as is by ``clone`` and ``GridSearchCV``, so
every fit (every fold, every candidate) starts from the same weights.
"""

from __future__ import annotations

import copy


class FittedBackbone:
    """A fine-tuned backbone (config, CPU weights, tokenizer) usable as ``model=``.

    Usually obtained with ``estimator.backbone()``. Any estimator of the
    package, and :class:`~sktransformers.TransformerEmbedder`, accepts it as
    ``model``: each ``fit`` builds a fresh backbone from these weights (LoRA
    adapters, if the source used them, are merged in).

    The object is immutable: ``load_backbone`` copies the weights into a
    new model and ``load_tokenizer`` returns a copy, so ``copy.deepcopy``
    (and hence ``clone``) returns the object itself rather than duplicating
    the weights.

    Parameters
    ----------
    config : transformers.PretrainedConfig
        The backbone's configuration.
    state_dict : dict of str to torch.Tensor
        The backbone's weights (kept on the CPU).
    tokenizer : transformers.PreTrainedTokenizerBase
        The tokenizer that goes with them.
    source : str, default=""
        A short description of where the weights come from, for ``repr``.
    trust_remote_code : bool, default=False
        Passed to ``AutoModel.from_config``.

    Examples
    --------
    >>> from sktransformers import TransformerClassifier
    >>> X = ["a wonderful film", "dull and far too long", "loved it", "a waste of time"]
    >>> first = TransformerClassifier(max_epochs=1, random_state=0).fit(X, [1, 0, 1, 0])
    >>> second = TransformerClassifier(model=first.backbone(), max_epochs=1, random_state=0)
    >>> second.fit(X, ["b", "a", "b", "a"]).predict(["what a great movie"]).shape
    (1,)
    """

    def __init__(self, config, state_dict, tokenizer, *, source="", trust_remote_code=False):
        self.config = config
        self.state_dict = state_dict
        self.tokenizer = tokenizer
        self.source = source
        self.trust_remote_code = trust_remote_code

    @classmethod
    def from_module(cls, backbone, tokenizer, *, source="", trust_remote_code=False):
        """Snapshot a backbone module (merging LoRA adapters) and its tokenizer."""
        from ._peft import is_lora, merged_backbone

        plain = merged_backbone(backbone) if is_lora(backbone) else backbone
        state = {k: v.detach().to("cpu", copy=True) for k, v in plain.state_dict().items()}
        return cls(
            copy.deepcopy(plain.config),
            state,
            copy.deepcopy(tokenizer),
            source=source,
            trust_remote_code=trust_remote_code,
        )

    @classmethod
    def from_estimator(cls, estimator):
        """Snapshot the backbone of a fitted sktransformers estimator."""
        module = estimator.net_.module_
        return cls.from_module(
            module.backbone,
            estimator.tokenizer_,
            source=f"fitted {type(estimator).__name__}",
            trust_remote_code=getattr(estimator, "trust_remote_code", False),
        )

    def load_backbone(self):
        """A new float32 backbone holding these weights."""
        import torch
        from transformers import AutoModel

        model = AutoModel.from_config(self.config, trust_remote_code=self.trust_remote_code)
        model.load_state_dict(self.state_dict)
        return model.to(torch.float32)

    def load_tokenizer(self):
        """A copy of the tokenizer."""
        return copy.deepcopy(self.tokenizer)

    def __deepcopy__(self, memo):
        return self

    def __repr__(self):
        kind = type(self.config).__name__.replace("Config", "")
        n = sum(int(v.numel()) for v in self.state_dict.values())
        where = f", {self.source}" if self.source else ""
        return f"FittedBackbone({kind}, {n:,} weights{where})"
