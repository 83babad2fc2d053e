"""TransformerEmbedder: texts to fixed-size vectors, as a scikit-learn transformer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..deploy._export import ExportMixin
from ..engine import _hub
from ..engine._data import EncodedDataset, check_texts, encode, mean_by_doc
from ..engine._parameters import engine_parameter, estimator_parameters, parameter
from ..engine._persistence import register_estimator
from ..engine._runtime import resolve_runtime
from ..utils._typing import LongTexts, ModelSource, PathLike, Pooling, Precision, Targets, Texts

if TYPE_CHECKING:
    from pathlib import Path

    from typing_extensions import Self


@register_estimator
@estimator_parameters
class TransformerEmbedder(
    ExportMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
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
    normalize : bool, default=False
        Scale each embedding to unit L2 norm (dot products are then cosine
        similarities).
    long_texts : {"truncate", "chunk"}, default="truncate"
        With "chunk", a text longer than ``max_length`` tokens is split into
        windows overlapping by ``stride`` tokens and its embedding is the
        mean of the windows' embeddings (normalised after averaging).
    batch_size : int, default=64
        Texts per forward pass.
    precision : {"auto", "fp32", "bf16", "fp16"}, default="auto"
        "auto" uses bf16 autocast on GPUs with bf16 units, fp16 on older
        GPUs, float32 on CPUs.

    Attributes
    ----------
    module_ : torch.nn.Module
        The backbone and pooling step, in evaluation mode.
    backbone_ : torch.nn.Module
        The encoder (``module_.backbone``).
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

    # The engine's parameters it takes are declared (constraints, description)
    # once, in engine/_parameters.py; ``normalize`` is its own.
    model: ModelSource = engine_parameter("model", default=_hub.DEFAULT_MODEL, kw_only=False)
    pooling: Pooling = engine_parameter("pooling", default="mean")
    normalize: bool = parameter(default=False, constraints=["boolean"])
    max_length: int = engine_parameter("max_length", default=128)
    long_texts: LongTexts = engine_parameter("long_texts", default="truncate")
    stride: int | None = engine_parameter("stride", default=None)
    batch_size: int = engine_parameter("batch_size", default=64)
    device: str = engine_parameter("device", default="auto")
    precision: Precision = engine_parameter("precision", default="auto")
    trust_remote_code: bool = engine_parameter("trust_remote_code", default=False)

    def fit(self, X: Texts | None = None, y: Targets | None = None) -> Self:
        """Load the tokenizer and the backbone; nothing is learned from ``X``.

        Parameters
        ----------
        X : texts or text pairs, or None
            Checked as ``transform`` checks it (when given), so bad input
            fails here rather than later in a pipeline; otherwise unused.
        y : ignored

        Returns
        -------
        self : object
        """
        from ..engine._base import _check_max_length, _check_stride, model_config
        from ..engine._modules import TransformerModel

        self._validate_params()
        if X is not None:
            check_texts(X, allow_mixed=True)
        if self.long_texts == "chunk":
            _check_stride(self.stride, self.max_length)
        runtime = resolve_runtime(self.device, self.precision)
        source = _hub.resolve_model(self.model)
        _check_max_length(self.max_length, model_config(source, self.trust_remote_code))
        with _hub.quiet_transformers():
            tokenizer, backbone = _hub.load_parts(source, self.trust_remote_code)
        self._runtime = runtime
        self.device_ = runtime.device
        self.tokenizer_ = tokenizer
        # The composable model with no head: forward returns pooled embeddings.
        self.module_ = TransformerModel(backbone, {}, pooling=self.pooling).to(runtime.device)
        self.module_.eval()
        self.n_features_out_ = int(backbone.config.hidden_size)
        return self

    @property
    def backbone_(self):
        """The encoder, in evaluation mode."""
        check_is_fitted(self, "module_")
        return self.module_.backbone

    def _fitted_tasks(self):
        """The embedding task (see :mod:`._tasks`): what export and the server ask.

        Raises NotFittedError before ``fit``.
        """
        from ..tasks import EmbeddingTask

        check_is_fitted(self, "module_")
        return [EmbeddingTask(self.pooling, self.normalize, self.n_features_out_)]

    @property
    def _n_features_out(self):
        return self.n_features_out_

    def transform(self, X: Texts) -> np.ndarray:
        """Embed texts or text pairs.

        Parameters
        ----------
        X : list of str, array-like of str, or text pairs

        Returns
        -------
        embeddings : ndarray of shape (n_samples, ``n_features_out_``), float32
        """
        from ..engine._base import _check_max_length, window_stride
        from ..engine._net import predict_rows

        check_is_fitted(self, "module_")
        texts = check_texts(X, allow_mixed=True)
        _check_max_length(self.max_length, self.module_.backbone.config)
        pad = self.tokenizer_.pad_token_id
        enc = encode(
            self.tokenizer_,
            texts,
            self.max_length,
            chunk=self.long_texts == "chunk",
            stride=window_stride(self),
        )
        rows = predict_rows(
            self.module_,
            EncodedDataset(enc),
            runtime=self._runtime,
            batch_size=self.batch_size,
            pad_token_id=0 if pad is None else pad,
        )
        vectors = mean_by_doc(rows, enc.doc, len(texts))
        if self.normalize:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.maximum(norms, 1e-12)
        return np.asarray(vectors, dtype=np.float32)

    def save_pretrained(self, directory: PathLike) -> Path:
        """Write the backbone, the tokenizer and the parameters (safetensors + JSON).

        Written atomically (a temporary sibling directory moved into place).
        The directory is also a Hugging Face model directory, so it works as
        ``model=`` for any estimator; ``from_pretrained`` (or
        ``sktransformers.engine._persistence.load``) reads it back fitted.

        Parameters
        ----------
        directory : str or path-like
            Created if missing; ``~`` is expanded.

        Returns
        -------
        directory : pathlib.Path
        """
        from ..engine._persistence import save_embedder

        check_is_fitted(self, "module_")
        return save_embedder(self, directory)

    @classmethod
    def from_pretrained(cls, directory: PathLike, **params: Any) -> Self:
        """Load an embedder written by :meth:`save_pretrained`, fitted.

        Only safetensors and JSON are read; no code runs unless
        ``trust_remote_code=True`` is passed.

        Parameters
        ----------
        directory : str or path-like
        **params
            Parameters to override (for example ``device="cpu"``).

        Returns
        -------
        embedder : fitted TransformerEmbedder
        """
        from ..engine._persistence import load

        return load(directory, cls, **params)

    @classmethod
    def _from_saved(cls, directory, meta, params):
        from ..engine._persistence import saved_params

        est = cls(**saved_params(cls, meta, params))
        est.model = str(directory)
        return est.fit()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags
