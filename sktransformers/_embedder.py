"""TransformerEmbedder: texts to fixed-size vectors, as a scikit-learn transformer."""

from __future__ import annotations

import os
from numbers import Integral

from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _hub
from ._data import check_texts, encode, in_caller_order


class TransformerEmbedder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Turn texts (or text pairs) into fixed-size embeddings with a transformer.

    Nothing is learned: ``fit`` loads the tokenizer and the backbone, and
    ``transform`` runs the backbone without gradients over batches of texts
    of similar length, each padded only to its longest text, and pools the
    token states into one vector per text. Use it in front of any
    scikit-learn model, e.g. ``make_pipeline(TransformerEmbedder(),
    LogisticRegression())``.

    Parameters
    ----------
    model : str, path-like or FittedBackbone, default="sentence-transformers/all-MiniLM-L6-v2"
        A Hugging Face model id or directory, a directory written by an
        estimator's ``save_pretrained`` (its fine-tuned backbone, LoRA
        adapters merged), or ``estimator.backbone()``.
    pooling : {"mean", "cls"}, default="mean"
        Masked mean of the token states, or the first token's state.
    normalize : bool, default=False
        Scale each embedding to unit L2 norm (dot products are then cosine
        similarities).
    max_length : int, default=128
        Texts (or pairs) are truncated to this many tokens.
    batch_size : int, default=64
        Texts per forward pass.
    device : str, default="auto"
        "auto" uses CUDA when present, else the CPU; or any torch device.
    precision : {"auto", "fp32", "bf16"}, default="auto"
        "auto" uses bf16 autocast on GPUs that support it, float32 elsewhere.
    trust_remote_code : bool, default=False
        Passed to transformers.

    Attributes
    ----------
    backbone_ : torch.nn.Module
        The encoder, in evaluation mode.
    tokenizer_ : transformers.PreTrainedTokenizerBase
        The tokenizer.
    device_ : str
        The device used.
    n_features_out_ : int
        Size of the embeddings (the backbone's hidden size).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sktransformers import TransformerEmbedder
    >>> X = ["a wonderful film", "dull and far too long", "loved it", "a waste of time"]
    >>> TransformerEmbedder().fit_transform(X).shape
    (4, 384)
    >>> pipe = make_pipeline(TransformerEmbedder(), LogisticRegression()).fit(X, [1, 0, 1, 0])
    >>> pipe.predict(["what a great movie"]).shape
    (1,)
    """

    _parameter_constraints: dict = {
        "model": [str, os.PathLike, HasMethods(["load_backbone", "load_tokenizer"])],
        "pooling": [StrOptions({"mean", "cls"})],
        "normalize": ["boolean"],
        "max_length": [Interval(Integral, 2, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "precision": [StrOptions({"auto", "fp32", "bf16"})],
        "trust_remote_code": ["boolean"],
    }

    def __init__(
        self,
        model=_hub.DEFAULT_MODEL,
        *,
        pooling="mean",
        normalize=False,
        max_length=128,
        batch_size=64,
        device="auto",
        precision="auto",
        trust_remote_code=False,
    ):
        self.model = model
        self.pooling = pooling
        self.normalize = normalize
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = device
        self.precision = precision
        self.trust_remote_code = trust_remote_code

    def fit(self, X=None, y=None):
        """Load the tokenizer and the backbone; nothing is learned from ``X``.

        Parameters
        ----------
        X : ignored
        y : ignored

        Returns
        -------
        self : object
        """
        from ._base import _resolve_amp, _resolve_device

        self._validate_params()
        source = _hub.resolve_model(self.model)
        tokenizer, backbone = _hub.load_parts(source, self.trust_remote_code)
        self.device_ = _resolve_device(self.device)
        self._amp = _resolve_amp(self.precision, self.device_)
        self.tokenizer_ = tokenizer
        self.backbone_ = backbone.to(self.device_).eval()
        self.n_features_out_ = int(backbone.config.hidden_size)
        return self

    @property
    def _n_features_out(self):
        return self.n_features_out_

    def transform(self, X):
        """Embed texts or text pairs.

        Parameters
        ----------
        X : list of str, array-like of str, or text pairs

        Returns
        -------
        embeddings : ndarray of shape (n_samples, ``n_features_out_``), float32
        """
        import torch

        from ._data import EncodedDataset, LengthGroupedBatchSampler, PadCollator
        from ._inference_linears import AUTOCAST_DTYPES, inference_pass
        from ._modules import pool

        check_is_fitted(self, "backbone_")
        texts = check_texts(X, allow_mixed=True)
        dataset = EncodedDataset(encode(self.tokenizer_, texts, self.max_length))
        sampler = LengthGroupedBatchSampler(dataset.lengths, self.batch_size, shuffle=False)
        pad = self.tokenizer_.pad_token_id
        collate = PadCollator(dataset, 0 if pad is None else pad)
        device_type = torch.device(self.device_).type
        outputs = []
        packed = inference_pass(
            self.backbone_, device=self.device_, amp=self._amp, lengths=dataset.lengths
        )
        with torch.inference_mode(), packed:
            for indices in sampler:
                inputs, _ = collate(indices)
                inputs = {k: v.to(self.device_) for k, v in inputs.items()}
                with torch.autocast(
                    device_type, dtype=AUTOCAST_DTYPES.get(self._amp), enabled=self._amp is not None
                ):
                    hidden = self.backbone_(**inputs).last_hidden_state
                vectors = pool(hidden.float(), inputs["attention_mask"], self.pooling)
                if self.normalize:
                    vectors = torch.nn.functional.normalize(vectors, dim=1)
                outputs.append(vectors.cpu())
        return in_caller_order(torch.cat(outputs).numpy(), dataset.lengths)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags
