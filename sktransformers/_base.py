"""The shared estimator core: parameters, validation, fit / partial_fit / predict.

Every estimator of the package is a thin subclass of
:class:`BaseTransformerEstimator`. Subclasses say how targets are checked
and encoded (``_prepare_targets``), which loss and validation score to use,
and which fitted metadata to save; everything else (resolving the model,
tokenizing, building the skorch net, training, predicting in length-sorted
batches, saving and loading) lives here once.
"""

from __future__ import annotations

import copy
import gc
import os
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _hub
from ._data import EncodedDataset, check_same_length, check_texts, encode, in_caller_order


def _resolve_device(device):
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _resolve_amp(precision, device):
    import torch

    if precision == "fp32":
        return None
    if precision == "bf16":
        return "bf16"
    # "auto": bf16 autocast where the GPU has bf16 units, fp32 elsewhere.
    if str(device).startswith("cuda") and torch.cuda.is_bf16_supported():
        return "bf16"
    return None


# Families whose learned absolute position table bounds the sequence length;
# the value is how many positions the model reserves (RoBERTa-style models
# start counting after the padding index).
_ABSOLUTE_POSITIONS = {
    "bert": 0, "distilbert": 0, "electra": 0, "albert": 0,
    "roberta": 2, "xlm-roberta": 2, "camembert": 2, "mpnet": 2,
}


def _check_max_length(max_length, config):
    """Fail with a clear error (not an index error inside torch) past the position table."""
    reserved = _ABSOLUTE_POSITIONS.get(getattr(config, "model_type", None))
    n_positions = getattr(config, "max_position_embeddings", None)
    if reserved is None or not isinstance(n_positions, int):
        return
    limit = n_positions - reserved
    if max_length > limit:
        raise ValueError(
            f"max_length={max_length} is longer than this model supports: its "
            f"position table holds {limit} tokens. Set max_length to at most {limit}."
        )


def _fused_adamw(device):
    """Whether torch has a fused AdamW kernel for ``device`` (CPU: torch >= 2.4)."""
    import torch

    kind = _device_type(device)
    if kind == "cuda":
        return True
    if kind == "cpu":
        major, minor = (int(v) for v in torch.__version__.split(".")[:2])
        return (major, minor) >= (2, 4)
    return False


def _default_predict_batch_size(batch_size, device):
    # GPUs like large batches; on CPUs length-sorted batches of 32-64 texts
    # keep activations in cache (all-MiniLM-L6-v2 on SST-2 dev, 2 cores:
    # 3.9-4.1 s at 32-64, 5.2 s at 128, 11 s at 872).
    if _device_type(device) == "cpu":
        return 64
    return 4 * batch_size


def _device_type(device):
    import torch

    return torch.device(device).type


class BaseTransformerEstimator(BaseEstimator):
    """Shared parameters and machinery; see the concrete estimators' docs."""

    _parameter_constraints: dict = {
        "model": [str, os.PathLike, HasMethods(["load_backbone", "load_tokenizer"])],
        "max_length": [Interval(Integral, 2, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "predict_batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "warmup_ratio": [Interval(Real, 0, 1, closed="left")],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "early_stopping": ["boolean"],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "pooling": [StrOptions({"mean", "cls"})],
        "dropout": [Interval(Real, 0, 1, closed="left"), None],
        "freeze": [
            StrOptions({"embeddings", "backbone"}),
            Interval(Integral, 0, None, closed="left"),
            None,
        ],
        "lora": ["boolean", dict, None],
        "device": [str],
        "precision": [StrOptions({"auto", "fp32", "bf16"})],
        "gradient_accumulation_steps": [Interval(Integral, 1, None, closed="left")],
        "compile": ["boolean"],
        "trust_remote_code": ["boolean"],
        "callbacks": [list, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        model=_hub.DEFAULT_MODEL,
        *,
        max_length=128,
        batch_size=32,
        predict_batch_size=None,
        max_epochs=3,
        lr=5e-5,
        weight_decay=0.01,
        warmup_ratio=0.06,
        max_grad_norm=1.0,
        validation_fraction=None,
        early_stopping=False,
        patience=2,
        pooling="mean",
        dropout=None,
        freeze=None,
        lora=None,
        device="auto",
        precision="auto",
        gradient_accumulation_steps=1,
        compile=False,
        trust_remote_code=False,
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.model = model
        self.max_length = max_length
        self.batch_size = batch_size
        self.predict_batch_size = predict_batch_size
        self.max_epochs = max_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.max_grad_norm = max_grad_norm
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.patience = patience
        self.pooling = pooling
        self.dropout = dropout
        self.freeze = freeze
        self.lora = lora
        self.device = device
        self.precision = precision
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.compile = compile
        self.trust_remote_code = trust_remote_code
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------
    # Hooks for subclasses
    # ------------------------------------------------------------------
    def _prepare_targets(self, y, *, classes=None):
        """Check ``y`` and set target metadata; return the encoded targets."""
        raise NotImplementedError

    def _criterion(self):
        """(criterion class or instance, dict of criterion__ kwargs)."""
        raise NotImplementedError

    def _valid_score(self, net, X, y):
        raise NotImplementedError

    def _fitted_metadata(self):
        return {}

    def _restore_metadata(self, meta):
        pass

    def _head_sizes(self):
        raise NotImplementedError

    def _y_dtype(self):
        raise NotImplementedError

    def _batch_sampler(self):
        """Factory of training/prediction batch samplers; None = length-grouped."""
        return None

    # ------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------
    def _check_params(self):
        self._validate_params()
        if self.early_stopping and self.validation_fraction is None:
            raise ValueError(
                "early_stopping=True needs a held-out set: set validation_fraction "
                "(for example 0.1)."
            )
        if self.device != "auto":
            import torch

            try:
                device = torch.device(self.device)
            except RuntimeError:
                raise ValueError(
                    f"device={self.device!r} is not a torch device; use 'auto', 'cpu' or 'cuda'."
                ) from None
            if device.type == "cuda" and not torch.cuda.is_available():
                raise ValueError(f"device={self.device!r} but CUDA is not available here.")
        return _hub.resolve_model(self.model)

    def _check_X(self, X, *, fitted=False):
        texts = check_texts(X)
        if fitted and texts.is_pair != self.is_pair_:
            want = "sentence pairs (2 columns)" if self.is_pair_ else "single texts (1 column)"
            raise ValueError(f"This estimator was fitted on {want}; X does not match.")
        return texts

    # ------------------------------------------------------------------
    # Building the net
    # ------------------------------------------------------------------
    def _build_module(self, backbone, *, add_lora=True):
        """Backbone + heads, then LoRA (unless the backbone already carries it) and freezing."""
        from ._modules import TransformerModel
        from ._peft import apply_freeze, apply_lora

        module = TransformerModel(
            backbone, self._head_sizes(), pooling=self.pooling, dropout=self.dropout
        )
        if self.lora and add_lora:
            apply_lora(module, self.lora)
        if self.freeze is not None:
            apply_freeze(module, self.freeze)
        return module

    def _build_net(self, module, pad_token_id):
        import torch
        from skorch.callbacks import (
            EarlyStopping,
            EpochScoring,
            GradientNormClipping,
            ProgressBar,
        )

        from ._callbacks import WarmupLinearSchedule
        from ._net import TransformerNet

        self.device_ = _resolve_device(self.device)
        # Under torchrun (WORLD_SIZE > 1): DDP training, one device per process.
        from ._distributed import resolve_net_class

        net_class, self.device_ = resolve_net_class(TransformerNet, self.device_)
        amp = _resolve_amp(self.precision, self.device_)
        callbacks = [("lr_schedule", WarmupLinearSchedule(self.warmup_ratio))]
        if self.max_grad_norm is not None:
            callbacks.append(("grad_clip", GradientNormClipping(self.max_grad_norm)))
        if self.validation_fraction is not None:
            callbacks.append(
                (
                    "valid_score",
                    EpochScoring(
                        self._valid_score, lower_is_better=False, name="valid_score",
                        use_caching=True,
                    ),
                )
            )
        if self.early_stopping:
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(monitor="valid_loss", patience=self.patience, load_best=True),
                )
            )
        if self.verbose:
            callbacks.append(("progress", ProgressBar()))
        for i, cb in enumerate(self.callbacks or []):
            callbacks.append(cb if isinstance(cb, tuple) else (f"user_{i}", copy.deepcopy(cb)))

        criterion, criterion_kwargs = self._criterion()
        optimizer_kwargs = {
            "optimizer__weight_decay": self.weight_decay,
            # No decay on biases and LayerNorm weights, as in BERT's recipe.
            "optimizer__param_groups": [
                ("*bias", {"weight_decay": 0.0}),
                ("*LayerNorm*", {"weight_decay": 0.0}),
                ("*layer_norm*", {"weight_decay": 0.0}),
            ],
        }
        if _fused_adamw(self.device_):
            # One kernel for the whole update (on CPU about 5x faster than
            # the foreach loop for all-MiniLM-L6-v2); the Trainer's default too.
            optimizer_kwargs["optimizer__fused"] = True
        net = net_class(
            module,
            criterion=criterion,
            optimizer=torch.optim.AdamW,
            lr=self.lr,
            batch_size=self.batch_size,
            predict_batch_size=self.predict_batch_size or _default_predict_batch_size(
                self.batch_size, self.device_
            ),
            max_epochs=self.max_epochs,
            train_split=None,
            callbacks=callbacks,
            device=self.device_,
            pad_token_id=pad_token_id,
            amp=amp,
            y_dtype=self._y_dtype(),
            seed=self._seed,
            batch_sampler=self._batch_sampler(),
            gradient_accumulation_steps=self.gradient_accumulation_steps,
            compile=self.compile,
            verbose=self.verbose,
            **criterion_kwargs,
            **optimizer_kwargs,
        )
        # Only parameters that train go to the optimizer (freeze, LoRA).
        return net.initialize()

    # ------------------------------------------------------------------
    # Training
    # ------------------------------------------------------------------
    def _release(self):
        """Free the previous model before building a new one (refits, searches)."""
        if "net_" in self.__dict__:
            del self.net_
        # Models of estimators a search has dropped can sit in reference
        # cycles (transformers' loading code keeps frames alive) until the
        # collector runs; collect them before building the next one.
        gc.collect()
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _split(self, dataset, y_for_stratify):
        if self.validation_fraction is None:
            return dataset, None
        from sklearn.model_selection import train_test_split

        idx = np.arange(len(dataset))
        stratify = y_for_stratify
        if stratify is not None:
            _, counts = np.unique(stratify, return_counts=True)
            n_valid = int(np.ceil(self.validation_fraction * len(idx)))
            if counts.min() < 2 or n_valid < len(counts):
                stratify = None
        train_idx, valid_idx = train_test_split(
            idx, test_size=self.validation_fraction, random_state=self._seed, stratify=stratify
        )
        if len(train_idx) == 0 or len(valid_idx) == 0:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves an empty training or "
                f"validation set with {len(idx)} samples."
            )
        return dataset.subset(train_idx), dataset.subset(valid_idx)

    def _stratify_labels(self, y_encoded):
        return None

    def _fit(self, X, y, *, epochs, classes=None, first_call=True):
        import torch

        if first_call:
            source = self._check_params()
        texts = self._check_X(X, fitted=not first_call)
        if y is None:
            raise ValueError(f"{type(self).__name__} needs targets: y is None.")
        check_same_length(texts, y)
        if first_call:
            y_encoded = self._prepare_targets(y, classes=classes)
            self._release()
            self._seed = self._derive_seed()
            torch.manual_seed(self._seed)
            with _hub.quiet_transformers(not self.verbose):
                tokenizer, backbone = _hub.load_parts(
                    source,
                    self.trust_remote_code,
                    check_config=lambda config: _check_max_length(self.max_length, config),
                )
            self.tokenizer_ = tokenizer
            self.is_pair_ = texts.is_pair
            module = self._build_module(backbone)
            self.net_ = self._build_net(module, self._pad_id())
        else:
            y_encoded = self._encode_targets(y)
        dataset = EncodedDataset(encode(self.tokenizer_, texts, self.max_length), y_encoded)
        train, valid = self._split(dataset, self._stratify_labels(y_encoded))
        from skorch.helper import predefined_split

        self.net_.train_split = None if valid is None else predefined_split(valid)
        from ._threads import thread_budget  # n_jobs > 1: no oversubscription

        try:
            with thread_budget():
                self.net_.partial_fit(train, None, epochs=epochs)
        finally:
            # Keep no data inside the fitted model (pickles stay small).
            self.net_.train_split = None
        return self

    def _derive_seed(self):
        """One int seed from ``random_state`` (head init, shuffling, the split)."""
        return int(np.random.RandomState(self.random_state).randint(np.iinfo(np.int32).max))

    def _pad_id(self):
        pad = self.tokenizer_.pad_token_id
        return 0 if pad is None else pad

    def fit(self, X, y):
        """Fine-tune the model on texts ``X`` and targets ``y``.

        Parameters
        ----------
        X : list of str, array-like of str, or text pairs
            Single texts (a list, array, Series or one-column DataFrame) or
            sentence pairs (a two-column DataFrame, an (n, 2) array or a list
            of 2-tuples).
        y : array-like
            Targets, one per text.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, epochs=self.max_epochs)

    # ------------------------------------------------------------------
    # Prediction
    # ------------------------------------------------------------------
    def _forward(self, X):
        """Raw outputs of the model for ``X``, in the caller's order."""
        check_is_fitted(self, "net_")
        texts = self._check_X(X, fitted=True)
        dataset = EncodedDataset(encode(self.tokenizer_, texts, self.max_length))
        from ._threads import thread_budget

        with thread_budget():
            return in_caller_order(self.net_.predict_proba(dataset), dataset.lengths)

    def backbone(self):
        """The fine-tuned backbone, to start a new estimator from: ``model=est.backbone()``.

        Returns a :class:`~sktransformers.FittedBackbone` (a CPU copy of the
        backbone's weights, LoRA adapters merged, and the tokenizer). It is
        not an estimator, so ``clone`` and ``GridSearchCV`` keep it as is and
        every fit starts from these weights.
        """
        check_is_fitted(self, "net_")
        from ._transfer import FittedBackbone

        return FittedBackbone.from_estimator(self)

    @property
    def history_(self):
        """Per-epoch training record (skorch ``History``): losses, scores, times."""
        check_is_fitted(self, "net_")
        return self.net_.history

    # ------------------------------------------------------------------
    # scikit-learn plumbing
    # ------------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.non_deterministic = False
        return tags

    def __setstate__(self, state):
        super().__setstate__(state)
        # skorch maps a net pickled on a GPU to the CPU when CUDA is missing;
        # device_ must then say where the model really is.
        net = self.__dict__.get("net_")
        if net is not None and "device_" in self.__dict__:
            self.device_ = str(net.device)

    # ------------------------------------------------------------------
    # Saving and loading
    # ------------------------------------------------------------------
    _JSON_PARAMS_SKIPPED = ("model", "callbacks")

    def save_pretrained(self, directory):
        """Write the fitted estimator as safetensors + JSON (no pickle).

        The directory is also a Hugging Face model directory: pass it as
        ``model=`` to any estimator to start from this fine-tuned backbone
        with a fresh head.

        Parameters
        ----------
        directory : str or path-like
            Created if missing.

        Returns
        -------
        directory : pathlib.Path
        """
        check_is_fitted(self, "net_")
        from ._distributed import is_main_process

        if not is_main_process():  # data-parallel training: rank 0 writes
            return Path(directory)
        from safetensors.torch import save_file

        from ._peft import save_backbone

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        module = self.net_.module_
        with _hub.quiet_transformers(not self.verbose):
            save_backbone(module.backbone, directory)
        self.tokenizer_.save_pretrained(directory)
        heads = {k: v.detach().cpu().contiguous() for k, v in module.heads.state_dict().items()}
        save_file(heads, str(directory / _hub.HEADS_FILE))
        params = {
            k: _hub.to_json_value(v)
            for k, v in self.get_params(deep=False).items()
            if k not in self._JSON_PARAMS_SKIPPED
        }
        from . import __version__

        _hub.write_estimator_file(
            directory,
            {
                "format": 1,
                "estimator": type(self).__name__,
                "sktransformers_version": __version__,
                "params": params,
                "is_pair": self.is_pair_,
                "fitted": self._fitted_metadata(),
            },
        )
        return directory

    @classmethod
    def from_pretrained(cls, directory, **params):
        """Load an estimator written by :meth:`save_pretrained`.

        Only safetensors and JSON are read; no code runs unless
        ``trust_remote_code=True`` is passed.

        Parameters
        ----------
        directory : str or path-like
            A directory written by ``save_pretrained``.
        **params
            Parameters to override (for example ``device="cpu"``).

        Returns
        -------
        estimator : fitted estimator, ready to predict or to continue training
            with ``partial_fit``.
        """
        from safetensors.torch import load_file

        from ._peft import load_backbone

        directory = str(directory)
        meta = _hub.read_estimator_file(directory)
        if meta["estimator"] != cls.__name__:
            raise ValueError(
                f"{directory!r} holds a {meta['estimator']}, not a {cls.__name__}; "
                f"load it with {meta['estimator']}.from_pretrained."
            )
        saved = {k: _hub.from_json_value(v) for k, v in meta["params"].items()}
        # Running a directory's code is the caller's decision, never the file's.
        saved.pop("trust_remote_code", None)
        valid = cls().get_params(deep=False)
        est = cls(**{k: v for k, v in saved.items() if k in valid})
        est.set_params(**params)
        est.model = directory
        est._check_params()
        est._restore_metadata(meta["fitted"])
        est.is_pair_ = meta["is_pair"]
        est._seed = est._derive_seed()
        with _hub.quiet_transformers(not est.verbose):
            _hub.load_config(directory, est.trust_remote_code)
            est.tokenizer_ = _hub.load_tokenizer(directory, est.trust_remote_code)
            backbone = load_backbone(directory, est.lora, est.trust_remote_code)
        # load_backbone has already put the saved LoRA adapter on the backbone.
        module = est._build_module(backbone, add_lora=False)
        module.heads.load_state_dict(load_file(str(Path(directory) / _hub.HEADS_FILE)))
        est.net_ = est._build_net(module, est._pad_id())
        return est
