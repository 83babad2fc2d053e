"""FewShotClassifier: SetFit-style contrastive fine-tuning, then a scikit-learn head.

The recipe of SetFit (Tunstall et al., 2022, "Efficient Few-Shot Learning
Without Prompts"): from a handful of labelled texts, make pairs (same label:
similar, different labels: dissimilar), fine-tune a sentence encoder as a
siamese network so that cosine similarity follows those pair labels, then
embed the labelled texts with the tuned encoder and fit a plain classifier
(logistic regression) on the embeddings.

Why a separate estimator rather than a ``strategy=`` of
:class:`~sktransformers.TransformerClassifier`: the two share almost no
parameters (pairs, pair loss and a scikit-learn ``head`` here; epochs,
warmup, class weights, a softmax head, LoRA and freezing there), the fitted
objects differ (a bare encoder plus any scikit-learn classifier, versus one
torch model with a linear head), and so do the saved files. One estimator
with a switch would carry a dozen parameters that mean nothing in half of
its modes.

The training loop is a :class:`skorch.NeuralNet` over a dataset of pair
indices: each batch forwards the distinct texts of its pairs once (padded
to the batch's longest text) and compares the two sides' pooled vectors.
"""

from __future__ import annotations

import copy
import json
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ..engine import _hub
from ..engine._data import EncodedDataset, PadCollator, check_texts, encode
from ..engine._modules import TransformerModel
from ..engine._net import predict_rows
from ..engine._parameters import engine_parameter, estimator_parameters, parameter
from ..engine._persistence import register_estimator
from ..engine._rng import TrainingRng
from ..engine._runtime import check_device, resolve_runtime
from ..tasks import check_labels
from ..utils._json_values import from_json_value, to_json_value
from ..utils._typing import ModelSource, PathLike, Pooling, RandomState, Targets, Texts

if TYPE_CHECKING:
    from pathlib import Path

    from typing_extensions import Self

    from ..engine._transfer import FittedBackbone

HEAD_FILE = "sktransformers_head.safetensors"

# Heads saved as coefficients (no pickle): fitted state is coef_, intercept_
# and classes_, and predict / predict_proba / decision_function need nothing
# else. Rebuilt on load from this list only, never from a name in the file.
_LINEAR_HEADS = (
    "LogisticRegression",
    "LogisticRegressionCV",
    "LinearSVC",
    "RidgeClassifier",
    "RidgeClassifierCV",
    "SGDClassifier",
    "Perceptron",
)


def _linear_head_class(name):
    from sklearn import linear_model, svm

    if name not in _LINEAR_HEADS:
        raise ValueError(f"Unknown saved head {name!r}; expected one of {list(_LINEAR_HEADS)}.")
    return getattr(linear_model, name, None) or getattr(svm, name)


class SiameseEncoder(torch.nn.Module):
    """Encode the distinct texts of a batch once; cosine similarity of each pair.

    ``left`` and ``right`` index the rows of ``input_ids`` that form each pair.
    """

    def __init__(self, backbone, pooling):
        super().__init__()
        # The engine's model with no head: the backbone's pooled vectors.
        self.encoder = TransformerModel(backbone, {}, pooling=pooling)

    def forward(self, input_ids, attention_mask, left, right, token_type_ids=None):
        vectors = self.encoder(input_ids, attention_mask, token_type_ids)
        return torch.nn.functional.cosine_similarity(vectors[left], vectors[right])


class CosineSimilarityLoss(torch.nn.Module):
    """Mean squared error between cosine similarity and the 0/1 pair label (SetFit's loss)."""

    def forward(self, similarity, target):
        return torch.nn.functional.mse_loss(similarity, target)


class ContrastiveLoss(torch.nn.Module):
    """Hadsell et al.: pull similar pairs together, push dissimilar ones past ``margin``.

    The distance is the cosine distance, as in sentence-transformers' ContrastiveLoss.
    """

    def __init__(self, margin=0.5):
        super().__init__()
        self.margin = margin

    def forward(self, similarity, target):
        distance = 1.0 - similarity
        push = torch.relu(self.margin - distance)
        return 0.5 * (target * distance.pow(2) + (1 - target) * push.pow(2)).mean()


class _PairDataset(torch.utils.data.Dataset):
    """Pairs of row indices into one set of tokenized texts, with a 0/1 similarity label."""

    def __init__(self, encoded, left, right, label):
        self.encoded = encoded
        self.left = np.asarray(left, dtype=np.int64)
        self.right = np.asarray(right, dtype=np.int64)
        self.label = np.asarray(label, dtype=np.float32)

    def __len__(self):
        return len(self.left)

    def __getitem__(self, i):
        return i


class _PairCollator:
    """Pad the distinct texts of a batch of pairs once; ``left``/``right`` index into them."""

    def __init__(self, dataset, pad_token_id):
        self.dataset = dataset
        self.pad_token_id = int(pad_token_id)
        # The engine's collator pads the texts (each batch to its longest).
        self.texts = PadCollator(EncodedDataset(dataset.encoded), pad_token_id)

    def __call__(self, indices):

        ds = self.dataset
        indices = np.asarray(indices)
        rows = np.concatenate([ds.left[indices], ds.right[indices]])
        unique, inverse = np.unique(rows, return_inverse=True)
        inputs, _ = self.texts(unique)
        n = len(indices)
        inputs["left"] = torch.from_numpy(inverse[:n].astype(np.int64))
        inputs["right"] = torch.from_numpy(inverse[n:].astype(np.int64))
        return inputs, torch.from_numpy(ds.label[indices])


def generate_pairs(y_codes, num_iterations, rng):
    """SetFit's pair generation: per iteration and text, one positive and one negative pair.

    For every text and each of ``num_iterations`` rounds, pair it with a
    random *other* text of its class (label 1) and a random text of another
    class (label 0): ``2 * num_iterations * n`` pairs, half positive, every
    text equally often on the left.

    Returns ``(left, right, label)`` arrays.
    """
    y_codes = np.asarray(y_codes)
    n = len(y_codes)
    by_class = {c: np.flatnonzero(y_codes == c) for c in np.unique(y_codes)}
    others = {c: np.flatnonzero(y_codes != c) for c in by_class}
    left, right, label = [], [], []
    for _ in range(num_iterations):
        for i in range(n):
            c = y_codes[i]
            same = by_class[c]
            j = same[rng.integers(len(same) - 1)]
            if j == i:  # draw among the class without i itself
                j = same[-1]
            left += [i, i]
            right += [j, others[c][rng.integers(len(others[c]))]]
            label += [1.0, 0.0]
    return np.array(left), np.array(right), np.array(label, dtype=np.float32)


def _check_labels(y, n_texts):
    """The classification task's label check, then what pairs need (2 texts per class)."""
    y, _ = check_labels(y)
    if len(y) != n_texts:
        raise ValueError(f"X and y have different lengths: {n_texts} texts but {len(y)} targets.")
    check_classification_targets(y)
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise ValueError(
            f"FewShotClassifier needs at least 2 classes, but y has only {len(classes)}: "
            f"{classes.tolist()}."
        )
    if counts.min() < 2:
        few = [c for c, k in zip(classes.tolist(), counts) if k < 2]
        raise ValueError(
            f"FewShotClassifier needs at least 2 examples of every class to make similar "
            f"pairs, but class {few[0]!r} has only 1"
            + (f" (and so do {few[1:]})" if len(few) > 1 else "")
            + ". Add examples of it or drop it."
        )
    return y, np.searchsorted(classes, y)


def _head_has(attr):
    def check(self):
        head = self.head_ if "head_" in self.__dict__ else (self.head or _default_head())
        return hasattr(head, attr)

    return check


def _default_head():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression()


@register_estimator
@estimator_parameters
class FewShotClassifier(ClassifierMixin, BaseEstimator):
    """Few-shot text classification the SetFit way: contrastive tuning, then a head.

    ``fit`` makes pairs from the labelled texts (same label: similar,
    different labels: dissimilar; SetFit's scheme, half of each), fine-tunes
    the encoder as a siamese network on them (a :class:`skorch.NeuralNet`,
    AdamW with linear warmup and decay), embeds the texts with the tuned
    encoder and fits ``head`` (logistic regression by default) on the
    embeddings. ``predict_proba`` embeds and asks the head. With 8 labelled
    texts per class this beats plain fine-tuning by a wide margin, because
    the default model was itself trained contrastively.

    Parameters
    ----------
    model : str, path-like or FittedBackbone, default="sentence-transformers/all-MiniLM-L6-v2"
        A Hugging Face model id or directory (a sentence encoder works best),
        a directory written by ``save_pretrained`` or ``estimator.backbone()``.
    head : scikit-learn classifier or None, default=None
        Fitted on the embeddings (cloned; the parameter itself is never
        fitted). None means ``LogisticRegression()``, as in SetFit. Linear
        heads (logistic regression, linear SVM, ridge, SGD, perceptron) are
        saved by :meth:`save_pretrained` as coefficients; any other
        classifier works but needs pickle/joblib to be saved.
    num_iterations : int, default=20
        Rounds of pair generation (SetFit's ``num_iterations``): each round
        pairs every text with one random text of its class and one of another
        class, so training sees ``2 * num_iterations * n_samples`` pairs. 0
        skips contrastive training (the frozen encoder + head).
    max_pairs : int or None, default=None
        Cap on the number of pairs (a random subset is kept), for larger
        training sets; None keeps them all.
    contrastive_epochs : int, default=1
        Passes over the pairs.
    loss : {"cosine", "contrastive"}, default="cosine"
        "cosine": mean squared error between the pair's cosine similarity and
        its 0/1 label (SetFit's ``CosineSimilarityLoss``). "contrastive":
        the contrastive loss on cosine distance with ``margin``.
    margin : float, default=0.5
        Margin of the "contrastive" loss (unused by "cosine").
    lr : float, default=2e-05
        Peak learning rate of AdamW for the encoder.
    batch_size : int, default=16
        Pairs per training step.
    max_length : int, default=128
        Texts are truncated to this many tokens.
    normalize : bool, default=True
        Scale embeddings to unit length before the head (the geometry the
        cosine loss trains; sentence-transformers' all-MiniLM-L6-v2 ends with
        the same normalisation).
    predict_batch_size : int, default=64
        Texts per forward pass when embedding.
    random_state : int, RandomState or None, default=None
        Seeds the pairs, the shuffling and the head (when it has a
        ``random_state`` left at None).
    verbose : int, default=0
        0 is silent; 1 prints skorch's per-epoch table.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (the head's).
    head_ : classifier
        The fitted head.
    backbone_ : torch.nn.Module
        The tuned encoder, in evaluation mode.
    tokenizer_ : transformers.PreTrainedTokenizerBase
        The tokenizer.
    history_ : skorch.History or None
        Per-epoch training loss of the contrastive stage (None when
        ``num_iterations=0``).
    n_pairs_ : int
        Pairs trained on per epoch.
    device_ : str
        The device used.
    is_pair_ : bool
        Whether ``X`` held sentence pairs. Pairs are encoded jointly (as one
        input of the encoder, like TransformerClassifier does), and the
        contrastive stage compares such joint inputs; SetFit's recipe is
        meant for single texts.

    See Also
    --------
    TransformerClassifier : plain fine-tuning, better from a few hundred labels.
    TextSelfTrainingClassifier : add unlabelled texts.

    Examples
    --------
    >>> from sktransformers import FewShotClassifier
    >>> X = ["a wonderful film", "loved it", "great acting",
    ...      "dull and far too long", "a waste of time", "boring plot"]
    >>> y = ["pos", "pos", "pos", "neg", "neg", "neg"]
    >>> clf = FewShotClassifier(num_iterations=2, random_state=0).fit(X, y)
    >>> clf.predict(["what a great movie"]).shape
    (1,)
    >>> clf.predict_proba(["what a great movie"]).shape
    (1, 2)
    """

    # Its own parameters, and the engine's it takes (their constraints and
    # descriptions declared once, in engine/_parameters.py).
    model: ModelSource = engine_parameter("model", default=_hub.DEFAULT_MODEL, kw_only=False)
    head: Any = parameter(default=None, constraints=[HasMethods(["fit", "predict"]), None])
    num_iterations: int = parameter(
        default=20, constraints=[Interval(Integral, 0, None, closed="left")]
    )
    max_pairs: int | None = parameter(
        default=None, constraints=[Interval(Integral, 1, None, closed="left"), None]
    )
    contrastive_epochs: int = parameter(
        default=1, constraints=[Interval(Integral, 1, None, closed="left")]
    )
    loss: Literal["cosine", "contrastive"] = parameter(
        default="cosine", constraints=[StrOptions({"cosine", "contrastive"})]
    )
    margin: float = parameter(default=0.5, constraints=[Interval(Real, 0, 2, closed="neither")])
    lr: float = engine_parameter("lr", default=2e-5)
    weight_decay: float = engine_parameter("weight_decay", default=0.01)
    warmup_ratio: float = engine_parameter("warmup_ratio", default=0.1)
    batch_size: int = engine_parameter("batch_size", default=16)
    max_length: int = engine_parameter("max_length", default=128)
    pooling: Pooling = engine_parameter("pooling", default="mean")
    normalize: bool = parameter(default=True, constraints=["boolean"])
    predict_batch_size: int = engine_parameter(
        "predict_batch_size",
        default=64,
        constraints=[Interval(Integral, 1, None, closed="left")],
        doc_type="int",
    )
    device: str = engine_parameter("device", default="auto")
    trust_remote_code: bool = engine_parameter("trust_remote_code", default=False)
    random_state: RandomState = engine_parameter("random_state", default=None)
    verbose: int = engine_parameter("verbose", default=0)

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    def _check_params(self):
        self._validate_params()
        check_device(self.device)

    def _check_X(self, X, *, fitted=False):
        texts = check_texts(X)
        if fitted and texts.is_pair != self.is_pair_:
            want = "sentence pairs (2 columns)" if self.is_pair_ else "single texts (1 column)"
            raise ValueError(f"This estimator was fitted on {want}; X does not match.")
        return texts

    def fit(self, X: Texts, y: Targets) -> Self:
        """Tune the encoder on pairs made from ``X, y``, then fit the head on embeddings.

        Parameters
        ----------
        X : list of str, array-like of str, or text pairs
            The labelled texts.
        y : array-like of shape (n_samples,)
            Labels (any type), at least 2 classes with at least 2 texts each.

        Returns
        -------
        self : object
        """
        self._check_params()
        texts = self._check_X(X)
        y, codes = _check_labels(y, len(texts))
        source = _hub.resolve_model(self.model)
        # check_random_state: an int, None or a RandomState, as scikit-learn takes it.
        rng = np.random.default_rng(check_random_state(self.random_state).randint(2**31 - 1))
        seed = int(rng.integers(2**31 - 1))
        self._release()
        # As the engine: training draws from its own seeded torch stream; the
        # caller's global generators are as they were once fit returns.
        with TrainingRng() as torch_rng:
            torch_rng.seed(seed, check_device(self.device))
            return self._fit_seeded(source, texts, y, codes, rng, seed)

    def _fit_seeded(self, source, texts, y, codes, rng, seed):
        with _hub.quiet_transformers(not self.verbose):
            tokenizer, backbone = _hub.load_parts(source, self.trust_remote_code)
        self.tokenizer_ = tokenizer
        self.is_pair_ = texts.is_pair
        self.device_ = check_device(self.device)
        self.backbone_ = backbone.to(self.device_)
        encoded = encode(tokenizer, texts, self.max_length)
        self.history_ = None
        self.n_pairs_ = 0
        if self.num_iterations > 0:
            left, right, label = generate_pairs(codes, self.num_iterations, rng)
            if self.max_pairs is not None and len(left) > self.max_pairs:
                keep = rng.choice(len(left), self.max_pairs, replace=False)
                left, right, label = left[keep], right[keep], label[keep]
            self.n_pairs_ = len(left)
            self.history_ = self._train_pairs(encoded, left, right, label, seed)
        self.backbone_.eval()
        self._fit_head(self._embed_encoded(encoded), y, seed)
        return self

    def _release(self):
        for name in ("backbone_", "head_"):
            self.__dict__.pop(name, None)
        import gc

        gc.collect()

    def _pad_id(self):
        pad = self.tokenizer_.pad_token_id
        return 0 if pad is None else pad

    def _train_pairs(self, encoded, left, right, label, seed):
        """Contrastive stage: a skorch net over pair indices; returns its history."""
        from skorch import NeuralNet
        from skorch.callbacks import GradientNormClipping, ProgressBar

        from ..engine._callbacks import WarmupLinearSchedule
        from ..engine._threads import thread_budget

        dataset = _PairDataset(encoded, left, right, label)
        callbacks = [
            # The engine's schedule: linear warmup, then linear decay to zero.
            ("lr_schedule", WarmupLinearSchedule(self.warmup_ratio)),
            ("grad_clip", GradientNormClipping(1.0)),
        ]
        if self.verbose:
            callbacks.append(("progress", ProgressBar()))
        optimizer_kwargs = {"optimizer__weight_decay": self.weight_decay}
        if self._runtime().fused_adamw():  # the engine's rule
            optimizer_kwargs["optimizer__fused"] = True
        generator = torch.Generator().manual_seed(seed)
        net = NeuralNet(
            SiameseEncoder(self.backbone_, self.pooling),
            criterion=(
                CosineSimilarityLoss() if self.loss == "cosine" else ContrastiveLoss(self.margin)
            ),
            optimizer=torch.optim.AdamW,
            lr=self.lr,
            batch_size=self.batch_size,
            max_epochs=self.contrastive_epochs,
            train_split=None,
            iterator_train__shuffle=True,
            iterator_train__generator=generator,
            iterator_train__collate_fn=_PairCollator(dataset, self._pad_id()),
            callbacks=callbacks,
            device=self.device_,
            verbose=self.verbose,
            **optimizer_kwargs,
        )
        with thread_budget():
            net.fit(dataset, None)
        history = net.history
        # The net holds optimizer state (twice the weights); keep the encoder only.
        del net
        return history

    def refit_head(
        self, embeddings: np.ndarray, y: Targets, *, random_state: int | None = None
    ) -> Self:
        """Refit only the head on embeddings from :meth:`transform`; the tuned encoder stays.

        What self-training does each round (new labels, the same encoder):
        cheaper than ``fit``, which tunes the encoder again.

        Parameters
        ----------
        embeddings : ndarray of shape (n_samples, n_features)
            Rows of ``transform(X)``.
        y : array-like of shape (n_samples,)
            Their labels.
        random_state : int or None, default=None
            Seed of the head when it has a ``random_state`` left at None.

        Returns
        -------
        self : object
        """
        check_is_fitted(self, "backbone_")
        embeddings = np.asarray(embeddings)
        y = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
        if embeddings.ndim != 2 or len(embeddings) != len(y):
            raise ValueError(
                f"embeddings must be 2-D with one row per label: {embeddings.shape} for "
                f"{len(y)} labels."
            )
        check_classification_targets(y)
        return self._fit_head(embeddings, y, random_state)

    def _fit_head(self, embeddings, y, seed):
        head = clone(self.head) if self.head is not None else _default_head()
        params = head.get_params(deep=False)
        if "random_state" in params and params["random_state"] is None:
            head.set_params(random_state=seed)
        self.head_ = head.fit(embeddings, y)
        self.classes_ = self.head_.classes_
        return self

    # ------------------------------------------------------------------
    # Embedding and prediction
    # ------------------------------------------------------------------
    def _runtime(self):
        return resolve_runtime(self.device_, "fp32")

    def _embed_encoded(self, encoded):
        """Pooled vectors of encoded texts, on the engine's one inference path."""
        rows = predict_rows(
            TransformerModel(self.backbone_, {}, pooling=self.pooling),
            EncodedDataset(encoded),
            runtime=self._runtime(),
            batch_size=self.predict_batch_size,
            pad_token_id=self._pad_id(),
        )
        if self.normalize:
            rows = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
        return np.asarray(rows, dtype=np.float32)

    def transform(self, X: Texts) -> np.ndarray:
        """Embeddings of ``X`` from the tuned encoder (what the head sees).

        Parameters
        ----------
        X : texts or text pairs

        Returns
        -------
        embeddings : ndarray of shape (n_samples, hidden_size), float32
        """
        check_is_fitted(self, "head_")
        texts = self._check_X(X, fitted=True)
        return self._embed_encoded(encode(self.tokenizer_, texts, self.max_length))

    def predict(self, X: Texts) -> np.ndarray:
        """Predicted class labels.

        Parameters
        ----------
        X : texts or text pairs

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        embeddings = self.transform(X)  # NotFittedError before fit
        return self.head_.predict(embeddings)

    @available_if(_head_has("predict_proba"))
    def predict_proba(self, X: Texts) -> np.ndarray:
        """Class probabilities from the head, columns ordered as ``classes_``.

        Available when the head has ``predict_proba``.

        Parameters
        ----------
        X : texts or text pairs

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return self.head_.predict_proba(self.transform(X))

    @available_if(_head_has("predict_log_proba"))
    def predict_log_proba(self, X: Texts) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`."""
        return self.head_.predict_log_proba(self.transform(X))

    @available_if(_head_has("decision_function"))
    def decision_function(self, X: Texts) -> np.ndarray:
        """The head's decision function on the embeddings of ``X``."""
        return self.head_.decision_function(self.transform(X))

    def backbone(self) -> FittedBackbone:
        """The tuned encoder, to start another estimator from: ``model=est.backbone()``."""
        check_is_fitted(self, "backbone_")
        from ..engine._transfer import FittedBackbone

        return FittedBackbone.from_module(
            self.backbone_,
            self.tokenizer_,
            source="fitted FewShotClassifier",
            trust_remote_code=self.trust_remote_code,
        )

    # ------------------------------------------------------------------
    # scikit-learn plumbing
    # ------------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags

    def __getstate__(self):
        state = super().__getstate__()
        backbone = state.get("backbone_")
        if backbone is not None and next(backbone.parameters()).device.type != "cpu":
            # A GPU-fitted model must unpickle on a CPU-only machine.
            state["backbone_"] = copy.deepcopy(backbone).to("cpu")
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "backbone_" in self.__dict__:
            if str(self.device_).startswith("cuda") and torch.cuda.is_available():
                self.backbone_.to(self.device_)
            else:
                self.device_ = "cpu"

    # ------------------------------------------------------------------
    # Saving and loading (safetensors + JSON, no pickle)
    # ------------------------------------------------------------------
    def save_pretrained(self, directory: PathLike) -> Path:
        """Write the encoder, the tokenizer and a linear head as safetensors + JSON.

        The directory is a Hugging Face model directory too: ``model=directory``
        starts any estimator of the package from the tuned encoder. As for
        the other estimators, everything is written to a temporary sibling
        directory first and then moved into place, so a failure leaves a
        previous save in ``directory`` intact.

        Parameters
        ----------
        directory : str or path-like
            Created if missing; ``~`` is expanded.

        Returns
        -------
        directory : pathlib.Path

        Raises
        ------
        TypeError
            When the head is not a linear model: save the estimator with
            pickle or joblib instead.
        """
        check_is_fitted(self, "head_")
        head_name = type(self.head_).__name__
        if head_name not in _LINEAR_HEADS or not hasattr(self.head_, "coef_"):
            raise TypeError(
                f"save_pretrained stores the head as coefficients (no pickle), which needs a "
                f"linear head ({', '.join(_LINEAR_HEADS)}); this head is a {head_name}. Save "
                "the whole estimator with joblib.dump(estimator, path) or pickle instead."
            )
        from safetensors.numpy import save_file

        from ..engine._persistence import _payload, _write_model

        classes = self.classes_
        # The few-shot layout is format 1: a "fitted" entry for the head, no tasks.
        payload = _payload(
            self,
            format=1,
            is_pair=bool(self.is_pair_),
            fitted={
                "head": head_name,
                "head_params": {
                    k: to_json_value(v) for k, v in self.head_.get_params(deep=False).items()
                },
                "intercept_shape": list(np.shape(self.head_.intercept_)),
                "classes": to_json_value(classes),
                "classes_dtype": classes.dtype.str if classes.dtype != object else "object",
            },
        )
        _check_json(payload)
        arrays = {
            "coef": np.ascontiguousarray(self.head_.coef_),
            "intercept": np.ascontiguousarray(np.atleast_1d(self.head_.intercept_)),
        }
        return _write_model(
            directory,
            payload,
            self.backbone_,
            self.tokenizer_,
            quiet=not self.verbose,
            extra=lambda tmp: save_file(arrays, str(tmp / HEAD_FILE)),
        )

    @classmethod
    def from_pretrained(cls, directory: PathLike, **params: Any) -> Self:
        """Load an estimator written by :meth:`save_pretrained`.

        Only safetensors and JSON are read; no code runs unless
        ``trust_remote_code=True`` is passed.

        Parameters
        ----------
        directory : str or path-like
        **params
            Parameters to override (for example ``device="cpu"``).

        Returns
        -------
        estimator : fitted FewShotClassifier
        """
        from ..engine._persistence import load

        return load(directory, cls, **params)

    @classmethod
    def _from_saved(cls, directory, meta, params):
        from safetensors.numpy import load_file

        from ..engine._persistence import saved_params

        fitted = meta["fitted"]
        head_class = _linear_head_class(fitted["head"])
        head_valid = head_class().get_params(deep=False)
        head = head_class(
            **{k: from_json_value(v) for k, v in fitted["head_params"].items() if k in head_valid}
        )
        est = cls(**{"head": head, **saved_params(cls, meta, params)})
        est.model = str(directory)
        est._check_params()
        source = _hub.resolve_model(est.model)
        with _hub.quiet_transformers(not est.verbose):
            est.tokenizer_, backbone = _hub.load_parts(source, est.trust_remote_code)
        est.device_ = check_device(est.device)
        est.backbone_ = backbone.to(est.device_).eval()
        est.is_pair_ = meta["is_pair"]
        est.history_ = None
        est.n_pairs_ = 0
        dtype = object if fitted["classes_dtype"] == "object" else np.dtype(fitted["classes_dtype"])
        classes = np.asarray(fitted["classes"], dtype=dtype)
        arrays = load_file(str(directory / HEAD_FILE))
        head_ = clone(head)
        head_.coef_ = arrays["coef"]
        head_.intercept_ = arrays["intercept"].reshape(fitted.get("intercept_shape", [-1]))
        if head_.intercept_.ndim == 0:
            head_.intercept_ = head_.intercept_.item()
        head_.classes_ = classes
        head_.n_features_in_ = arrays["coef"].shape[-1]
        if fitted["head"] in (
            "LogisticRegression",
            "LogisticRegressionCV",
            "LinearSVC",
            "SGDClassifier",
            "Perceptron",
        ):
            head_.n_iter_ = np.zeros(1, dtype=np.int32)
        est.head_ = head_
        est.classes_ = classes
        return est


def _check_json(payload):
    try:
        json.dumps(payload)
    except TypeError as exc:
        raise TypeError(
            f"save_pretrained could not write the parameters as JSON ({exc}); a parameter "
            "holds an object JSON cannot store. Use joblib.dump(estimator, path) instead."
        ) from None
