"""The shared estimator core: parameters, validation, and the engine over tasks.

Every estimator of the package is a thin front end over
:class:`BaseTransformerEstimator`, which trains any list of task objects
(:mod:`sktransformers.tasks`) on one backbone. A front end says how its
input is checked and tokenized (texts, pairs, or words), how ``y`` becomes
tasks, and how the tasks' outputs become predictions; the engine does the
rest once: checking everything before any model loads, resolving and
loading the model, building the composable model and the skorch net,
splitting off validation rows, training, predicting in length-sorted
batches (averaging the windows of long texts), and saving.

A failed ``fit`` never corrupts a fitted estimator: every check (inputs,
targets, classes, class weights, ``max_length`` against the model's
config, device) runs before the previous model is released or any fitted
attribute is replaced.
"""

from __future__ import annotations

import gc
import os
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils.validation import check_is_fitted

from ..tasks import TOKEN
from ..utils import _logging
from ..utils._typing import (
    LongTexts,
    PathLike,
    Pooling,
    Targets,
    Texts,
)
from . import _coverage, _hub
from ._data import EncodedDataset, check_same_length, check_texts, encode
from ._parameters import EngineParameters, estimator_params
from ._runtime import check_device, resolve_runtime

if TYPE_CHECKING:
    from pathlib import Path

    from typing_extensions import Self

    from ..engine._transfer import FittedBackbone

# Families whose learned absolute position table bounds the sequence length;
# the value is how many positions the model reserves (RoBERTa-style models
# start counting after the padding index).
_ABSOLUTE_POSITIONS = {
    "bert": 0,
    "distilbert": 0,
    "electra": 0,
    "albert": 0,
    "roberta": 2,
    "xlm-roberta": 2,
    "camembert": 2,
    "mpnet": 2,
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


def _check_num_layers(num_layers, config):
    if num_layers is None:
        return
    n = getattr(config, "num_hidden_layers", None)
    if isinstance(n, int) and num_layers > n:
        raise ValueError(f"num_layers={num_layers} but the backbone has only {n} layers.")


def window_stride(estimator):
    """The overlap of consecutive windows: ``stride``, or ``max_length // 4`` when None.

    The default follows ``max_length`` (32 for the default 128), so any
    ``max_length`` works without setting ``stride``; an explicit ``stride``
    is used as given (and checked by :func:`_check_stride`).
    """
    stride = getattr(estimator, "stride", None)
    return estimator.max_length // 4 if stride is None else int(stride)


def _check_stride(stride, max_length):
    if stride is None:  # follows max_length (window_stride), always valid
        return
    if stride >= max_length // 2:
        raise ValueError(
            f"stride={stride} must be less than half of max_length={max_length}: windows "
            "overlap by stride tokens and must still move forward."
        )


def model_config(source, trust_remote_code=False):
    """The config of a resolved model source, without loading any weight."""
    if hasattr(source, "config") and not isinstance(source, (str, os.PathLike)):
        return source.config
    return _hub.load_config(source, trust_remote_code)


class BaseTransformerEstimator(EngineParameters, BaseEstimator):
    """The engine's machinery over its parameters (:class:`EngineParameters`).

    A front end that reads tokens fixes the whole-text settings below as
    class attributes; one that reads whole texts takes them as parameters
    (:class:`WholeTextParameters`).
    """

    long_texts: LongTexts = "truncate"
    pooling: Pooling = "mean"
    augment: Any = None

    # Fitted attributes an estimator sets (cleared before a refit builds a new model).
    _FITTED: tuple[str, ...] = (
        "net_",
        "tokenizer_",
        "_tasks",
        "device_",
        "is_pair_",
        "_runtime",
        "max_epochs_",
    )

    # ------------------------------------------------------------------
    # Hooks for front ends
    # ------------------------------------------------------------------
    def _build_tasks(self, y, inputs, *, classes=None):
        """Check ``y`` (given the checked ``inputs``) and return ``(tasks, extra)``.

        Must not change ``self``: it runs before the previous model is released.
        """
        raise NotImplementedError

    def _encode_targets(self, tasks, y, inputs):
        """Encoded targets, a dict by task key (see :mod:`._tasks`)."""
        return {task.key: task.encode(y) for task in tasks}

    def _set_fitted(self, tasks, extra):
        """Fitted attributes derived from the tasks (``classes_``, ...)."""

    def _fitted_extra(self):
        """Estimator-level fitted metadata to save beside the tasks."""
        return {}

    def _legacy_tasks(self, fitted):
        """``(tasks, extra)`` from the ``"fitted"`` entry of a format-1 directory."""
        raise ValueError(f"{type(self).__name__} has no format-1 directories.")

    def _after_training(self, X, tasks, encoded, valid_docs):
        """Choices made on the held-out texts (``valid_docs``, or None) once training ends."""

    def _fitted_tasks(self):
        """The fitted tasks: what export, the server, explanations and plots ask.

        Raises NotFittedError before ``fit``.
        """
        check_is_fitted(self, "net_")
        return list(self._tasks)

    def _task_weights(self, tasks):
        return None

    def _batch_sampler(self):
        """Factory of training/prediction batch samplers; None = length-grouped."""
        return None

    def _stratify_labels(self, tasks, encoded):
        """One label per text to stratify the validation split by, or None."""
        return None

    # ------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------
    def _check_params(self):
        """Validate parameters and resolve (not load) the model; no fitted state changes."""
        self._validate_params()
        if self.early_stopping and self.validation_fraction is None:
            raise ValueError(
                "early_stopping=True needs a held-out set: set validation_fraction "
                "(for example 0.1)."
            )
        if self.long_texts == "chunk":
            _check_stride(self.stride, self.max_length)
        check_device(self.device)
        return _hub.resolve_model(self.model)

    def _check_X(self, X, *, fitted=False):
        texts = check_texts(X)
        if fitted:
            if texts.is_pair != self.is_pair_:
                want = "sentence pairs (2 columns)" if self.is_pair_ else "single texts (1 column)"
                raise ValueError(f"This estimator was fitted on {want}; X does not match.")
            self._check_fitted_max_length()
        return texts

    def _check_fitted_max_length(self):
        """``max_length`` may have changed with ``set_params`` since the model was built."""
        _check_max_length(self.max_length, self.net_.module_.backbone.config)

    def _encode_inputs(self, inputs):
        """Token ids of the checked input (windows of long texts when chunking)."""
        chunk = self.long_texts == "chunk"
        return encode(
            self.tokenizer_, inputs, self.max_length, chunk=chunk, stride=window_stride(self)
        )

    # ------------------------------------------------------------------
    # Building the model and the net
    # ------------------------------------------------------------------
    def _build_module(self, backbone, tasks, *, add_lora=True):
        """Backbone (pruned) + pooling + heads, then LoRA (unless already there) and freezing."""
        from ._modules import TransformerModel
        from ._peft import apply_freeze, apply_lora, is_lora, keep_bottom_layers

        if self.num_layers is not None and not is_lora(backbone):
            keep_bottom_layers(backbone, self.num_layers)
        module = TransformerModel(
            backbone,
            {task.key: task.head_size for task in tasks},
            pooling=self.pooling,
            dropout=self.dropout,
            token_heads=[task.key for task in tasks if task.level == TOKEN],
        )
        if self.lora and add_lora:
            apply_lora(module, self.lora)
        if self.freeze is not None:
            apply_freeze(module, self.freeze)
        return module

    def _build_net(self, module, tasks):
        import torch
        from skorch.callbacks import EarlyStopping, GradientNormClipping

        from ._callbacks import WarmupLinearSchedule
        from ._distributed import resolve_net_class
        from ._net import TaskLoss, TaskScoring, TransformerNet

        runtime = resolve_runtime(self.device, self.precision)
        # Under torchrun (WORLD_SIZE > 1): DDP training, one device per process.
        net_class, device = resolve_net_class(TransformerNet, runtime.device)
        runtime = type(runtime)(device=device, amp=runtime.amp)
        self.device_ = device
        self._runtime = runtime
        callbacks = [("lr_schedule", WarmupLinearSchedule(self.warmup_ratio))]
        if self.max_grad_norm is not None:
            callbacks.append(("grad_clip", GradientNormClipping(self.max_grad_norm)))
        if self.validation_fraction is not None:
            callbacks.append(("valid_score", TaskScoring(tasks)))
        if self.early_stopping:
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(monitor="valid_loss", patience=self.patience, load_best=True),
                )
            )
        if self.checkpoint_dir is not None:
            from ._checkpoint import EpochCheckpoint

            callbacks.append(("checkpoint", EpochCheckpoint(self)))
        callbacks.extend(_logging.print_callbacks(self.verbose))
        user = self._user_callbacks()
        callbacks.extend(user)

        optimizer_kwargs = {
            "optimizer__weight_decay": self.weight_decay,
            # No decay on biases and LayerNorm weights, as in BERT's recipe.
            "optimizer__param_groups": [
                ("*bias", {"weight_decay": 0.0}),
                ("*LayerNorm*", {"weight_decay": 0.0}),
                ("*layer_norm*", {"weight_decay": 0.0}),
            ],
        }
        if runtime.fused_adamw():
            # One kernel for the whole update (on CPU about 5x faster than
            # the foreach loop for all-MiniLM-L6-v2); the Trainer's default too.
            optimizer_kwargs["optimizer__fused"] = True
        net = net_class(
            module,
            criterion=TaskLoss,
            criterion__tasks=tasks,
            criterion__weights=self._task_weights(tasks),
            optimizer=torch.optim.AdamW,
            lr=self.lr,
            batch_size=self.batch_size,
            predict_batch_size=runtime.predict_batch_size(self.batch_size, self.predict_batch_size),
            max_epochs=self.max_epochs_,
            train_split=None,
            callbacks=callbacks,
            device=device,
            pad_token_id=self._pad_id(),
            runtime=runtime,
            head_names=[task.key for task in tasks],
            seed=self._seed,
            batch_sampler=self._batch_sampler(),
            gradient_accumulation_steps=self.gradient_accumulation_steps,
            compile_model=self.compile,
            verbose=self.verbose,
            **_logging.net_print_params(),
            **optimizer_kwargs,
        )

        # The tracking callbacks log these next to the metrics.
        net.estimator_params_ = estimator_params(self)
        # Which callbacks came from ``callbacks=`` (partial_fit follows set_params).
        net.user_callbacks_given_ = list(self.callbacks or [])
        net.user_callback_names_ = [name for name, _ in user]
        # Only parameters that train go to the optimizer (freeze, LoRA).
        return net.initialize()

    def _user_callbacks(self):
        """``(name, callback)`` of the ``callbacks`` parameter, the callbacks as given.

        As in skorch, a callback instance is used as is (not copied): one
        holding a resource (a TensorBoard ``SummaryWriter``, a connection)
        works. ``clone`` (and so the searches) copies parameters itself.
        """
        return [
            cb if isinstance(cb, tuple) else (f"user_{i}", cb)
            for i, cb in enumerate(self.callbacks or [])
        ]

    def _sync_callbacks(self):
        """Callbacks changed with ``set_params`` since the net was built take effect.

        Only the user callbacks are replaced: the built-in ones (the
        learning-rate schedule's position, early stopping, ...) keep their
        state across ``partial_fit`` calls.
        """
        net = self.net_
        given = list(self.callbacks or [])
        before = getattr(net, "user_callbacks_given_", None)
        if before is None:  # a net pickled before this record existed: as built
            net.user_callbacks_given_ = given
            net.user_callback_names_ = [name for name, _ in self._user_callbacks()]
            return
        if len(before) == len(given) and all(a is b for a, b in zip(before, given)):
            return
        old_names = set(getattr(net, "user_callback_names_", ()))
        user = []
        for name, cb in self._user_callbacks():
            if isinstance(cb, type):  # skorch accepts a class: it makes the instance
                cb = cb()
            cb.initialize()
            user.append((name, cb))
        kept = [(n, cb) for n, cb in net.callbacks_ if n not in old_names]
        names = [n for n, _ in kept] + [n for n, _ in user]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(
                f"callbacks: the names {duplicated} are already used by the estimator's own "
                "callbacks; give your callbacks other names."
            )
        from skorch.callbacks import PrintLog

        last = [(n, cb) for n, cb in kept if isinstance(cb, PrintLog)]
        first = [(n, cb) for n, cb in kept if not isinstance(cb, PrintLog)]
        net.callbacks_ = first + user + last  # skorch keeps PrintLog last
        net.callbacks = [(n, cb) for n, cb in net.callbacks if n not in old_names] + [
            (n, cb) for n, cb in user
        ]
        net.user_callbacks_given_ = given
        net.user_callback_names_ = [n for n, _ in user]

    # ------------------------------------------------------------------
    # Training
    # ------------------------------------------------------------------
    def _release(self):
        """Free the previous model and forget fitted attributes (refits, searches)."""
        for name in (*BaseTransformerEstimator._FITTED, *self._FITTED):
            self.__dict__.pop(name, None)
        # Models of estimators a search has dropped can sit in reference
        # cycles (transformers' loading code keeps frames alive) until the
        # collector runs; collect them before building the next one.
        gc.collect()
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _split_docs(self, n_docs, stratify):
        if self.validation_fraction is None:
            return np.arange(n_docs), None
        from sklearn.model_selection import train_test_split

        idx = np.arange(n_docs)
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
        return train_idx, valid_idx

    def _dataset(self, enc, tasks, encoded):
        """One dataset of encoded texts (rows: their windows) and encoded targets."""
        y = {task.key: task.row_targets(encoded[task.key], enc) for task in tasks}
        docs = enc.docs()
        labelled = np.column_stack([task.labelled(encoded[task.key])[docs] for task in tasks])
        return EncodedDataset(enc, y, labelled)

    def _datasets(self, inputs, y, tasks, encoded, split):
        """Training and validation datasets (split by text, so windows stay together).

        With ``augment`` set, the training texts (only) go through its
        ``fit_resample`` before they are encoded; the validation texts are
        the ones the same split holds without it.
        """
        train_docs, valid_docs = split
        if self.augment is not None:
            train_docs = np.sort(train_docs)
            train_inputs, train_y = self._augmented(
                inputs.take(train_docs), _safe_indexing(y, train_docs)
            )
            train = self._dataset(
                self._encode_inputs(train_inputs),
                tasks,
                self._encode_targets(tasks, train_y, train_inputs),
            )
            if valid_docs is None:
                return train, None
            valid_docs = np.sort(valid_docs)  # text-level targets: arrays by text
            return train, self._dataset(
                self._encode_inputs(inputs.take(valid_docs)),
                tasks,
                {key: v[valid_docs] for key, v in encoded.items()},
            )
        enc = self._encode_inputs(inputs)
        dataset = self._dataset(enc, tasks, encoded)
        if valid_docs is None:
            return dataset, None
        in_train = np.isin(enc.docs(), train_docs)
        return dataset.subset(np.flatnonzero(in_train)), dataset.subset(np.flatnonzero(~in_train))

    def _augmented(self, inputs, y):
        """``augment.fit_resample`` on the training texts: ``(texts, targets)``, checked.

        A copy of ``augment`` runs (the parameter is never changed); when its
        ``random_state`` is None it is seeded from the estimator's, so
        ``random_state`` makes the edits reproducible.
        """
        import scipy.sparse

        from ._augment import augment_training_set, sampler_params

        seed = self._seed if sampler_params(self.augment).get("random_state", 0) is None else None
        if scipy.sparse.issparse(y):  # a multi-label indicator matrix
            y = y.toarray()
        texts, targets = augment_training_set(self.augment, inputs, y, random_state=seed)
        if texts.is_pair != inputs.is_pair:
            kinds = {True: "sentence pairs", False: "single texts"}
            raise ValueError(
                f"augment={self.augment!r} returned {kinds[texts.is_pair]} for "
                f"{kinds[inputs.is_pair]}; its fit_resample must return rows of the kind "
                "it was given."
            )
        check_same_length(texts, targets)
        return texts, targets

    def _fit(self, X, y, *, epochs, classes=None, first_call=True):
        from ._rng import TrainingRng

        # Training draws from its own seeded torch stream (forked): the
        # caller's global generators are as they were once fit returns.
        with TrainingRng() as rng:
            return self._fit_forked(
                rng, X, y, epochs=epochs, classes=classes, first_call=first_call
            )

    def _fit_forked(self, rng, X, y, *, epochs, classes=None, first_call=True):
        import torch

        if first_call:
            source = self._check_params()
        inputs = self._check_X(X, fitted=not first_call)
        if y is None:
            raise ValueError(f"{type(self).__name__} needs targets: y is None.")
        check_same_length(inputs, y)
        if first_call:
            # Every check first: a refit that fails leaves the fitted model as it was.
            tasks, extra = self._build_tasks(y, inputs, classes=classes)
            if self.augment is not None and any(task.level == TOKEN for task in tasks):
                raise ValueError(
                    "augment= resamples whole texts; it cannot keep word-level (token) "
                    "targets aligned with edited texts. Use augment=None for token tasks."
                )
            encoded = self._encode_targets(tasks, y, inputs)
            config = model_config(source, self.trust_remote_code)
            _check_max_length(self.max_length, config)
            _check_num_layers(self.num_layers, config)
            print_ = None
            resume = None
            if self.checkpoint_dir is not None:
                from ._checkpoint import fingerprint, resumable

                print_ = fingerprint(self, inputs, encoded)
                resume = resumable(self, print_)
            planned = self._planned_epochs(len(inputs))
            self._release()
            self.max_epochs_ = planned
            self._fingerprint = print_
            self._seed = self._derive_seed()
            rng.seed(self._seed, check_device(self.device))
            if resume is not None:
                from ._checkpoint import restore_training_state

                try:
                    self._build_fitted(source, inputs, tasks, extra, resume.model_dir)
                    epochs = restore_training_state(
                        self, resume, planned if epochs is None else epochs
                    )
                except torch.OutOfMemoryError:
                    raise
                except Exception as exc:  # a damaged checkpoint: reported, never a raw error
                    resume.unreadable(exc)
                    resume = None
                    self._release()
                    self.max_epochs_ = planned
                    rng.seed(self._seed, check_device(self.device))  # as a fresh fit would be
            if resume is None:
                self._build_fitted(source, inputs, tasks, extra, None)
            if epochs is None:  # fit (not resumed): the planned epochs
                epochs = planned
        else:
            if classes is not None:
                self._check_same_classes(classes)
            self._sync_callbacks()
            rng.resume(self, self.device_)
            tasks = self._tasks
            encoded = self._encode_targets(tasks, y, inputs)
            resume = None
        n_docs = len(next(iter(encoded.values())))
        split = self._split_docs(n_docs, self._stratify_labels(tasks, encoded))
        train, valid = self._datasets(inputs, y, tasks, encoded, split)
        from skorch.helper import predefined_split

        self.net_.train_split = None if valid is None else predefined_split(valid)
        from ._threads import thread_budget  # n_jobs > 1: no oversubscription

        if resume is not None:
            resume.restore_rng(self)  # where the interrupted run's generators were
        try:
            with thread_budget():
                if epochs > 0:
                    self.net_.partial_fit(train, None, epochs=epochs)
        finally:
            # Keep no data inside the fitted model (pickles stay small).
            self.net_.train_split = None
            self._torch_rng = rng.state()  # the next partial_fit continues this stream
        self._after_training(X, tasks, encoded, split[1])
        return self

    def _build_fitted(self, source, inputs, tasks, extra, resume):
        """Load the tokenizer and backbone (from ``resume``, a checkpoint's model, if given).

        Then build the module (heads from ``resume``) and the net.
        """
        with _hub.quiet_transformers(_logging.quiet_loading(self.verbose)):
            if resume is None:
                tokenizer, backbone = _hub.load_parts(source, self.trust_remote_code)
            else:
                tokenizer = _hub.load_tokenizer(resume, self.trust_remote_code)
                backbone = _hub.load_backbone_with_adapter(
                    resume, self.lora, self.trust_remote_code
                )
        self.tokenizer_ = tokenizer
        self.unk_share_ = _coverage.check_coverage(self, inputs)  # warns above 10 %
        self.is_pair_ = getattr(inputs, "is_pair", False)
        self._tasks = tasks
        self._set_fitted(tasks, extra)
        from ._peft import is_lora

        module = self._build_module(backbone, tasks, add_lora=not is_lora(backbone))
        if resume is not None:
            from safetensors.torch import load_file

            from ._persistence import HEADS_FILE

            module.heads.load_state_dict(load_file(os.path.join(resume, HEADS_FILE)))
        self.net_ = self._build_net(module, tasks)

    def _check_same_classes(self, classes):
        known = getattr(self, "classes_", None)
        if known is None or isinstance(known, dict):
            return
        given = np.unique(np.asarray(classes))
        if len(given) != len(known) or not np.array_equal(given, np.asarray(known)):
            raise ValueError(
                f"classes={given.tolist()} differs from the classes of the first partial_fit "
                f"call, {np.asarray(known).tolist()}; they cannot change between calls."
            )

    def _planned_epochs(self, n_texts):
        """Epochs of one ``fit``: ``max_epochs``, or the ``"auto"`` budget (see :mod:`._budget`).

        ``n_texts`` None: the training set is unknown (a loaded model of an
        older save), so ``"auto"`` plans its fewest epochs.
        """
        if self.max_epochs != "auto":
            return self.max_epochs
        from . import _budget

        if n_texts is None:
            return _budget.MIN_EPOCHS
        n_train = _budget.n_training_texts(n_texts, self.validation_fraction)
        epochs = _budget.auto_epochs(n_train, self.batch_size, self.gradient_accumulation_steps)
        if self.verbose:
            accumulation = self.gradient_accumulation_steps
            line = _budget.describe(epochs, n_train, self.batch_size, accumulation)
            print(line, flush=True)  # beside skorch's epoch table, on stdout
        return epochs

    def _derive_seed(self):
        """One int seed from ``random_state`` (head init, shuffling, the split)."""
        rng = check_random_state(self.random_state)
        return int(rng.randint(np.iinfo(np.int32).max))

    def _pad_id(self):
        pad = self.tokenizer_.pad_token_id
        return 0 if pad is None else pad

    def fit(self, X: Texts, y: Targets) -> Self:
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
        return self._fit(X, y, epochs=None)

    # ------------------------------------------------------------------
    # Prediction: the one inference path
    # ------------------------------------------------------------------
    def _task_outputs(self, X):
        """Raw outputs of every task for ``X``, in the caller's order.

        As each task combines the rows (windows) of an input
        (:meth:`Task.combine_rows`): for text-level tasks an (n_texts, size)
        array (the mean over the windows of a long text), for tagging a list
        of (n_words, size) arrays.
        """
        from ._net import predict_rows

        check_is_fitted(self, "net_")
        inputs = self._check_X(X, fitted=True)
        enc = self._encode_inputs(inputs)
        net = self.net_
        compiled = net._compiled(net.module_) if net.compile_model else None
        rows = predict_rows(
            net.module_,
            EncodedDataset(enc),
            runtime=self._runtime,
            batch_size=net.predict_batch_size,
            pad_token_id=self._pad_id(),
            head_names=[task.key for task in self._tasks],
            token_heads={task.key for task in self._tasks if task.level == TOKEN},
            compiled=compiled,
        )
        return {task.key: task.combine_rows(rows[task.key], enc, inputs) for task in self._tasks}

    def _forward(self, X):
        """Outputs of the only task (kept for front ends with one task)."""
        return self._task_outputs(X)[self._tasks[0].key]

    def backbone(self) -> FittedBackbone:
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
        # device_ and the runtime must then say where the model really is.
        net = self.__dict__.get("net_")
        if net is not None and "device_" in self.__dict__:
            device = str(net.device)
            if device != self.device_:
                runtime = resolve_runtime(device, self.precision)
                self._runtime = runtime
                net.runtime = runtime
            self.device_ = device

    # ------------------------------------------------------------------
    # Saving and loading
    # ------------------------------------------------------------------
    def save_pretrained(self, directory: PathLike) -> Path:
        """Write the fitted estimator as safetensors + JSON (no pickle), atomically.

        The directory is also a Hugging Face model directory: pass it as
        ``model=`` to any estimator to start from this fine-tuned backbone
        with a fresh head. Everything is written to a temporary sibling
        directory first and then moved into place, so a failure leaves a
        previous save in ``directory`` intact.

        Parameters
        ----------
        directory : str or path-like
            Created if missing; ``~`` is expanded.

        Returns
        -------
        directory : pathlib.Path
        """
        check_is_fitted(self, "net_")
        from ._persistence import save

        return save(self, directory)

    @classmethod
    def from_pretrained(cls, directory: PathLike, **params: Any) -> Self:
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
            with ``partial_fit`` (a fresh optimizer and learning-rate warmup:
            the optimizer's state is not saved in the directory; use
            ``checkpoint_dir`` to resume a training run exactly).
        """
        from ._persistence import load

        return load(directory, cls, **params)

    @classmethod
    def _from_saved(cls, directory, meta, params):
        from safetensors.torch import load_file

        from ..tasks import task_from_json
        from ._persistence import HEADS_FILE, saved_params

        est = cls(**saved_params(cls, meta, params))
        est.model = str(directory)
        est._check_params()
        if meta["format"] >= 2:
            tasks = [task_from_json(t) for t in meta["tasks"]]
            extra = meta.get("fitted") or {}
        else:
            tasks, extra = est._legacy_tasks(meta["fitted"])
        est._seed = est._derive_seed()
        est.max_epochs_ = extra.get("max_epochs") or est._planned_epochs(None)
        with _hub.quiet_transformers(_logging.quiet_loading(est.verbose)):
            config = _hub.load_config(str(directory), est.trust_remote_code)
            _check_max_length(est.max_length, config)
            est.tokenizer_ = _hub.load_tokenizer(str(directory), est.trust_remote_code)
            backbone = _hub.load_backbone_with_adapter(
                str(directory), est.lora, est.trust_remote_code
            )
        est.is_pair_ = bool(meta.get("is_pair", False))
        est._tasks = tasks
        est._set_fitted(tasks, extra)
        # The saved backbone is already pruned and carries its own LoRA adapter.
        num_layers, est.num_layers = est.num_layers, None
        module = est._build_module(backbone, tasks, add_lora=False)
        est.num_layers = num_layers
        module.heads.load_state_dict(load_file(str(directory / HEADS_FILE)))
        est.net_ = est._build_net(module, tasks)
        return est
