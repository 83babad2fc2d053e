"""Run an exported estimator with ONNX Runtime: no torch, no transformers.

The code of :mod:`sktransformers.onnx` (its public path, which documents it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..utils import _schema, _spans
from ..utils._batches import CPU_MAX_TOKENS, eval_batches
from ..utils._decoding import labels_from_json, sigmoid, softmax, unscale
from ..utils._extras import install_hint
from ..utils._text_input import check_texts, check_words, entity_f1, entity_spans
from ..utils._typing import PathLike, Targets, Texts
from ..utils._words import first_subwords, words_from_rows

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "OnnxClassifier",
    "OnnxEmbedder",
    "OnnxModel",
    "OnnxQuestionAnswerer",
    "OnnxRegressor",
    "OnnxTokenClassifier",
    "load",
]

CONFIG_FILE = "sktransformers_onnx.json"
FORMAT_VERSION = 1
_PRECISIONS = ("fp32", "int8")


def _cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def _slow_cpu_fusions(providers):
    """ONNX Runtime graph fusions to leave off when the graph runs on the CPU only.

    ``SkipLayerNormFusion`` folds each residual Add and LayerNorm into one
    ``SkipLayerNormalization`` node, whose CPU kernel was measured 7x slower
    per element than the separate nodes (SST-2 dev, MiniLM-L6 int8, 2-core
    CPU: 26% of the run fused, 1268 against 983 sentences/s left apart). GPU
    providers keep every fusion.
    """
    names = [p[0] if isinstance(p, (tuple, list)) else p for p in providers]
    return ["SkipLayerNormFusion"] if names == ["CPUExecutionProvider"] else []


def _import_onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise ImportError(
            f"The ONNX runtime needs onnxruntime and tokenizers: {install_hint('onnx')}."
        ) from None
    return onnxruntime


def read_config(directory):
    """The ``sktransformers_onnx.json`` of an export directory, checked field by field.

    Read bounded (1 MiB); every field the runtime uses is validated
    (:func:`sktransformers.utils._schema.check_onnx_config`): file names must be
    plain names inside the folder, sizes positive and bounded, labels of a
    valid dtype. Raises ValueError naming the file and the field.
    """
    directory = Path(directory)
    if not (directory / CONFIG_FILE).exists() and not os.path.lexists(directory / CONFIG_FILE):
        raise ValueError(
            f"{os.fspath(directory)!r} has no {CONFIG_FILE}: it is not a directory written by "
            "export_onnx."
        )
    config = _schema.read_json(directory, CONFIG_FILE)
    _schema.check_onnx_config(directory / CONFIG_FILE, config, FORMAT_VERSION, RUNTIMES)
    return config


def load(
    directory: PathLike,
    *,
    precision: Literal["fp32", "int8"] | None = None,
    threads: int | None = None,
    batch_size: int | None = None,
    providers: list[str] | None = None,
    spinning: bool = True,
) -> OnnxModel:
    """Load an exported model for inference.

    Parameters
    ----------
    directory : str or path-like
        A directory written by ``export_onnx``.
    precision : {"fp32", "int8"} or None, default=None
        Which graph to run; None takes the int8 graph when the export has one,
        else the float32 graph.
    threads : int or None, default=None
        ONNX Runtime's intra-op threads; None uses every core this process may
        run on (``os.sched_getaffinity``). Inter-op threads are always 1 (the
        graph is one chain of layers).
    batch_size : int or None, default=None
        Texts per forward pass; None takes the estimator's prediction batch
        size (64 on CPUs).
    providers : list of str or None, default=None
        ONNX Runtime execution providers; None is ``["CPUExecutionProvider"]``.
    spinning : bool, default=True
        Whether ONNX Runtime's worker threads busy-wait for the next piece of
        work (its default: fastest for back-to-back batches). Turn it off
        when the process does other work on the same cores between model
        calls, as a server does: ``sktransformers serve`` loads with
        ``spinning=False`` (10-15% more requests/s on 2 cores).

    Returns
    -------
    model : OnnxClassifier, OnnxRegressor, OnnxEmbedder or OnnxTokenClassifier

    Examples
    --------
    >>> from sktransformers import onnx
    >>> model = onnx.load("exported/")  # doctest: +SKIP
    >>> model.predict(["a great film"])  # doctest: +SKIP
    array(['pos'], dtype='<U3')
    """
    config = read_config(directory)
    return RUNTIMES[config["kind"]](
        directory,
        config,
        precision=precision,
        threads=threads,
        batch_size=batch_size,
        spinning=spinning,
        providers=providers,
    )


#: The runtime class of each deployed kind (a task's ``deploy_kind``); a
#: subclass of :class:`OnnxModel` with a ``deploy_kind`` registers itself.
RUNTIMES: dict[str, type[OnnxModel]] = {}


class OnnxModel:
    """What every exported model shares: the session, the tokenizer, batching.

    Use :func:`load`, which picks the subclass for the exported kind
    (``RUNTIMES``).
    """

    #: The kind this class runs (``kind`` in ``sktransformers_onnx.json``).
    deploy_kind: str | None = None
    #: Axes of the graph's output: (batch, outputs), or (batch, tokens, outputs).
    output_rank = 2

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.deploy_kind is not None:
            RUNTIMES[cls.deploy_kind] = cls

    @classmethod
    def check_task(cls, path, task):
        """Validate the ``task`` entry of a new kind's config; return the output size.

        The built-in kinds are checked by the package's config schema; a
        runtime class registered for another kind must override this (the
        file may be hostile: check every field it reads).
        """
        _schema.fail(path, f"the {cls.deploy_kind!r} runtime does not check its 'task' entry.")

    def __init__(
        self,
        directory,
        config,
        *,
        precision=None,
        threads=None,
        batch_size=None,
        providers=None,
        spinning=True,
    ):
        ort = _import_onnxruntime()
        from tokenizers import Tokenizer

        self.directory = Path(directory)
        self.config = config
        files = config["model_files"]
        if precision is None:
            precision = "int8" if "int8" in files else "fp32"
        if precision not in _PRECISIONS:
            raise ValueError(f"precision={precision!r}; expected one of {_PRECISIONS} or None.")
        if precision not in files:
            raise ValueError(
                f"This export has no {precision} graph (it has {sorted(files)}); export with "
                f"quantize='int8' to add one."
            )
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise ValueError(f"threads={threads!r}; expected a positive int or None.")
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f"batch_size={batch_size!r}; expected a positive int or None.")
        if not isinstance(spinning, bool):
            raise ValueError(f"spinning={spinning!r}; expected True or False.")
        self.precision = precision
        self.threads = threads or _cpu_count()
        self.batch_size = batch_size or int(config.get("batch_size") or 64)
        # Only plain names inside the folder, read bounded: the graph from bytes
        # (so ONNX Runtime never opens another file, such as external data).
        graph_path = _schema.model_file(
            self.directory, files[precision], limit=_schema.GRAPH_LIMIT, what="graph"
        )
        tokenizer_path = _schema.model_file(
            self.directory,
            config["tokenizer_file"],
            limit=_schema.TOKENIZER_LIMIT,
            what="tokenizer",
        )
        tokenizer_text = _schema.read_bytes(tokenizer_path, _schema.TOKENIZER_LIMIT)
        self._graph_path = graph_path
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        if not spinning:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = providers or ["CPUExecutionProvider"]
        # As the estimators: on CPUs, batches of long texts hold fewer texts.
        self._max_tokens = CPU_MAX_TOKENS if providers == ["CPUExecutionProvider"] else None
        try:
            self.session = ort.InferenceSession(
                _schema.read_bytes(graph_path, _schema.GRAPH_LIMIT),
                options,
                providers=providers,
                disabled_optimizers=_slow_cpu_fusions(providers),
            )
        except Exception as exc:  # noqa: BLE001 - ONNX Runtime's errors have no common base
            if isinstance(exc, MemoryError):
                raise
            raise ValueError(
                f"{graph_path}: not an ONNX graph ONNX Runtime can run: {str(exc)[:300]}"
            ) from exc
        self._check_graph(graph_path)
        self.max_length = int(config["max_length"])
        self.is_pair_ = bool(config.get("is_pair", False))
        self.long_texts = config.get("long_texts") or "truncate"
        self.stride = config.get("stride")
        self.pad_token_id = int(config.get("pad_token_id") or 0)
        try:
            self.tokenizer = Tokenizer.from_str(tokenizer_text.decode("utf-8"))
        except Exception as exc:  # noqa: BLE001 - tokenizers raises plain Exception
            if isinstance(exc, MemoryError):
                raise
            raise ValueError(
                f"{tokenizer_path}: not a tokenizer file the tokenizers library "
                f"can read: {str(exc)[:300]}"
            ) from exc
        self._tokenizer_path = tokenizer_path
        self.tokenizer.no_padding()
        self._truncation(strategy="longest_first", stride=0)
        self._pair_strategy = "longest_first"
        if self._windows():
            # As the estimators: windows of max_length tokens overlapping by
            # ``stride``; for pairs the second text is windowed, the first kept.
            self._pair_strategy = "only_second"

    def _truncation(self, strategy, stride):
        self._tokenize(
            self.tokenizer.enable_truncation,
            self.max_length,
            stride=int(stride or 0),
            strategy=strategy,
            direction="right",
        )

    def _tokenize(self, call, *args, **kwargs):
        """A call into the tokenizer; its failure (a damaged tokenizer file) names the file."""
        try:
            return call(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - tokenizers raises plain Exception
            if isinstance(exc, (MemoryError, TypeError, ValueError)):
                raise
            raise ValueError(
                f"{self._tokenizer_path}: the tokenizer failed: {str(exc)[:300]}"
            ) from exc

    def _n_outputs(self):
        """Size of the graph's last output axis that ``sktransformers_onnx.json`` describes."""
        return len(self.config["task"]["classes"])

    def _check_graph(self, path):
        """The graph's inputs and output shape agree with ``sktransformers_onnx.json``."""
        inputs = {i.name for i in self.session.get_inputs()}
        if not {"input_ids", "attention_mask"} <= inputs or not inputs <= set(_schema.ONNX_INPUTS):
            raise ValueError(
                f"{path}: the graph's inputs {sorted(inputs)} are not those of an "
                f"export ({list(_schema.ONNX_INPUTS)})."
            )
        self._input_names = inputs
        outputs = self.session.get_outputs()
        rank = self.output_rank
        shape = list(outputs[0].shape) if outputs else []
        if len(shape) != rank:
            raise ValueError(
                f"{path}: the graph's output has shape {shape}; an exported "
                f"{self.config['kind']} has {rank} axes."
            )
        self._check_outputs(shape[-1])

    def _check_outputs(self, size):
        """Refuse a graph whose output size differs from the config's (None: not yet known)."""
        expected = self._n_outputs()
        if isinstance(size, int) and size != expected:
            raise ValueError(
                f"{self._graph_path}: the graph has {size} outputs per row but {CONFIG_FILE} "
                f"describes {expected} (classes, outputs or features); the files do not "
                "belong together."
            )

    # -- description ---------------------------------------------------------
    @property
    def kind(self):
        return self.config["kind"]

    @property
    def estimator_name(self):
        return self.config["estimator"]

    @property
    def version(self):
        return self.config.get("sktransformers_version")

    def __repr__(self):
        return (
            f"{type(self).__name__}({os.fspath(self.directory)!r}, "
            f"precision={self.precision!r}, threads={self.threads})"
        )

    # -- the forward pass ----------------------------------------------------
    def _windows(self):
        return self.long_texts == "chunk"

    def _check_X(self, X):
        texts = check_texts(X)
        if texts.is_pair != self.is_pair_:
            want = "sentence pairs (2 columns)" if self.is_pair_ else "single texts (1 column)"
            raise ValueError(f"This estimator was fitted on {want}; X does not match.")
        return texts

    def _encode(self, texts):
        """Token ids (and type ids) per window, with the row each window belongs to."""
        stride = self.stride if self._windows() else 0
        if texts.second is None:
            self._truncation("longest_first", stride)
            encodings = self._tokenize(
                self.tokenizer.encode_batch, texts.first, add_special_tokens=True
            )
        else:
            self._truncation(self._pair_strategy, stride)
            encodings = self._tokenize(
                self.tokenizer.encode_batch,
                list(zip(texts.first, texts.second)),
                add_special_tokens=True,
            )
        return self._flatten(encodings)

    def _flatten(self, encodings):
        windows, rows = [], []
        for row, enc in enumerate(encodings):
            windows.append(enc)
            rows.append(row)
            if self._windows():
                for extra in enc.overflowing:
                    windows.append(extra)
                    rows.append(row)
        return windows, np.asarray(rows, dtype=np.int64)

    def _run_windows(self, windows):
        """The graph's output for every window, in the windows' order (a list of arrays)."""
        lengths = np.fromiter((len(w.ids) for w in windows), dtype=np.int64, count=len(windows))
        outputs = [None] * len(windows)
        wants_types = "token_type_ids" in self._input_names
        for batch in eval_batches(lengths, self.batch_size, self._max_tokens):
            width = int(lengths[batch].max())
            ids = np.full((len(batch), width), self.pad_token_id, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            types = np.zeros((len(batch), width), dtype=np.int64) if wants_types else None
            for j, i in enumerate(batch):
                n = lengths[i]
                ids[j, :n] = windows[i].ids
                mask[j, :n] = 1
                if wants_types:
                    types[j, :n] = windows[i].type_ids
            feed = {"input_ids": ids, "attention_mask": mask}
            if wants_types:
                feed["token_type_ids"] = types
            out = self._run(feed)
            for j, i in enumerate(batch):
                outputs[i] = out[j] if out.ndim == 2 else out[j, : lengths[i]]
        return outputs

    def _run(self, feed):
        """One forward pass; an output of the wrong size fails naming the graph."""
        try:
            out = self.session.run(None, feed)[0]
        except Exception as exc:  # noqa: BLE001 - ONNX Runtime's errors have no common base
            if isinstance(exc, MemoryError):
                raise
            raise ValueError(
                f"{self._graph_path}: the graph failed on this input (it may not "
                f"match {self._tokenizer_path.name}): {str(exc)[:300]}"
            ) from exc
        rank = self.output_rank
        if out.ndim != rank:
            raise ValueError(
                f"{self._graph_path}: the graph returned shape {list(out.shape)}; "
                f"expected {rank} axes."
            )
        self._check_outputs(int(out.shape[-1]))
        return out

    def _forward(self, X):
        """(n_samples, n_outputs) float32 outputs in the caller's order.

        With ``long_texts="chunk"`` a text longer than ``max_length`` is read
        as overlapping windows whose outputs are averaged.
        """
        texts = self._check_X(X)
        windows, rows = self._encode(texts)
        outputs = np.stack(self._run_windows(windows)).astype(np.float32, copy=False)
        if len(rows) == len(texts):
            return outputs
        summed = np.zeros((len(texts), outputs.shape[1]), dtype=np.float64)
        np.add.at(summed, rows, outputs)
        counts = np.bincount(rows, minlength=len(texts))[:, None]
        return (summed / counts).astype(np.float32)


class OnnxClassifier(OnnxModel):
    """An exported :class:`~sktransformers.TransformerClassifier`.

    Attributes
    ----------
    classes_ : ndarray
        Class labels (multi-label: the label columns).
    multilabel_ : bool
        Whether the model predicts several labels per text (sigmoid outputs).
    threshold : float or list of float
        Probability from which a label is predicted (multi-label only): one
        for all labels, or one per label (exported with ``threshold="auto"``).
    label_names_ : list of str or None
        Multi-label: the names of the label columns, when ``y`` had them.
    """

    deploy_kind = "classifier"

    def __init__(self, directory, config, **kwargs):
        super().__init__(directory, config, **kwargs)
        task = config["task"]
        self.classes_ = labels_from_json(task["classes"], task["classes_dtype"])
        self.multilabel_ = bool(task.get("multilabel", False))
        threshold = task.get("threshold", 0.5)
        self.threshold = (
            [float(t) for t in threshold]
            if isinstance(threshold, list)
            else float(0.5 if threshold is None else threshold)
        )
        self.label_names_ = task.get("label_names")

    def predict_proba(self, X: Texts) -> np.ndarray:
        """Class probabilities (multi-label: per-label probabilities), columns as ``classes_``."""
        logits = self._forward(X)
        return sigmoid(logits) if self.multilabel_ else softmax(logits)

    def predict(self, X: Texts) -> np.ndarray:
        """Predicted labels (multi-label: a 0/1 indicator matrix)."""
        proba = self.predict_proba(X)
        if self.multilabel_:
            return (proba >= np.asarray(self.threshold)).astype(np.int64)
        return self.classes_[proba.argmax(axis=1)]

    def score(self, X: Texts, y: Targets) -> float:
        """Accuracy (multi-label: subset accuracy), as scikit-learn's ``ClassifierMixin``."""
        pred = self.predict(X)
        y = np.asarray(y)
        if len(y) != len(pred):
            raise ValueError(
                f"X and y have different lengths: {len(pred)} texts but {len(y)} targets."
            )
        if self.multilabel_:
            return float(np.mean(np.all(pred == y, axis=1)))
        return float(np.mean(pred == y))


class OnnxRegressor(OnnxModel):
    """An exported :class:`~sktransformers.TransformerRegressor`."""

    deploy_kind = "regressor"

    def __init__(self, directory, config, **kwargs):
        super().__init__(directory, config, **kwargs)
        task = config["task"]
        self.n_outputs_ = int(task["n_outputs"])
        self.y_mean_ = np.asarray(task["y_mean"], dtype=np.float64)
        self.y_scale_ = np.asarray(task["y_scale"], dtype=np.float64)
        self._y_1d = bool(task["y_1d"])

    def _n_outputs(self):
        return int(self.config["task"]["n_outputs"])

    def predict(self, X: Texts) -> np.ndarray:
        """Predicted targets on the scale of the ``y`` given to ``fit``."""
        out = unscale(self._forward(X), self.y_mean_, self.y_scale_)
        return out.ravel() if self._y_1d else out

    def score(self, X: Texts, y: Targets) -> float:
        """R² (averaged over outputs), as scikit-learn's ``RegressorMixin``."""
        pred = self.predict(X).reshape(len(X) if hasattr(X, "__len__") else -1, -1)
        y = np.asarray(y, dtype=np.float64).reshape(pred.shape[0], -1)
        ss_res = ((y - pred) ** 2).sum(axis=0)
        ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(ss_tot > 0, 1 - ss_res / ss_tot, np.where(ss_res == 0, 1.0, 0.0))
        return float(r2.mean())


class OnnxEmbedder(OnnxModel):
    """An exported :class:`~sktransformers.TransformerEmbedder`."""

    deploy_kind = "embedder"

    def __init__(self, directory, config, **kwargs):
        super().__init__(directory, config, **kwargs)
        task = config["task"]
        self.pooling = task["pooling"]
        self.normalize = bool(task["normalize"])
        self.n_features_out_ = int(task["n_features_out"])

    def _n_outputs(self):
        return int(self.config["task"]["n_features_out"])

    def _check_X(self, X):
        return check_texts(X)  # the embedder takes single texts and pairs alike

    def transform(self, X: Texts) -> np.ndarray:
        """Embeddings, shape (n_samples, ``n_features_out_``), float32.

        The graph returns pooled embeddings; the mean over the windows of a
        long text and the L2 normalisation happen here, as in the estimator.
        """
        out = self._forward(X)
        if self.normalize:
            out = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out.astype(np.float32, copy=False)

    def fit(self, X: Texts | None = None, y: Targets | None = None) -> Self:
        """Nothing to learn (as the embedder); returns self."""
        return self

    def fit_transform(self, X: Texts, y: Targets | None = None) -> np.ndarray:
        """Same as :meth:`transform`: nothing is fitted."""
        return self.transform(X)


class OnnxTokenClassifier(OnnxModel):
    """An exported token classifier (one tag per word, e.g. IOB2 NER tags).

    The graph returns per-token logits (batch, sequence, n_tags); each word
    reads the logits of its first subword. Sentences longer than
    ``max_length`` subwords are read as overlapping windows, and a word seen
    in several windows averages its logits over them, so every word gets one
    tag.
    """

    deploy_kind = "token_classifier"
    output_rank = 3

    def __init__(self, directory, config, **kwargs):
        super().__init__(directory, config, **kwargs)
        task = config["task"]
        self.classes_ = labels_from_json(task["classes"], task["classes_dtype"])
        if self.stride is None:
            self.stride = max(0, self.max_length // 4 - 1)

    def _windows(self):
        return True

    def _word_logits(self, words):
        """Per text, (n_words, n_tags) logits read at each word's first sub-word.

        A word seen in several windows is read from the window where it sits
        farthest from the edges; a window that starts inside a word does not
        read that word; a word with no sub-word gets zero logits. (The rules
        of ``TransformerTokenClassifier``.)
        """
        self._truncation("longest_first", self.stride)
        encodings = self._tokenize(
            self.tokenizer.encode_batch, words, is_pretokenized=True, add_special_tokens=True
        )
        windows, rows = self._flatten(encodings)
        outputs = self._run_windows(windows)
        index = [
            first_subwords(w.word_ids, w.offsets, r > 0 and rows[r - 1] == row)
            for r, (w, row) in enumerate(zip(windows, rows))
        ]
        out, _ = words_from_rows(outputs, rows, index, [len(w) for w in words], len(self.classes_))
        return out

    def predict_proba(self, X: Texts) -> list[np.ndarray]:
        """Per text, an (n_words, n_tags) array of tag probabilities."""
        words, _, _ = check_words(X)
        return [softmax(logits) for logits in self._word_logits(words)]

    def predict(self, X: Texts) -> list[list[Any]]:
        """Per text, the list of predicted tags (one per word)."""
        return [self.classes_[p.argmax(axis=1)].tolist() for p in self.predict_proba(X)]

    def predict_entities(self, X: Texts) -> list[list[dict[str, Any]]]:
        """Per text, a list of ``{"entity", "start", "end", "text", "score"}`` dicts.

        Offsets are character offsets into the text (for pre-split words,
        into the words joined by single spaces, none next to a CJK character);
        ``score`` is the mean of the entity's words' tag probabilities.
        """
        words, offsets, texts = check_words(X)
        probas = [softmax(logits) for logits in self._word_logits(words)]
        results = []
        for w, off, text, proba in zip(words, offsets, texts, probas):
            if text is None:
                text = " ".join(w)
                off, pos = [], 0
                for word in w:
                    off.append((pos, pos + len(word)))
                    pos += len(word) + 1
            tags = [str(t) for t in self.classes_[proba.argmax(axis=1)]]
            scores = proba.max(axis=1)
            results.append(
                [
                    {
                        "entity": label,
                        "start": off[a][0],
                        "end": off[b - 1][1],
                        "text": text[off[a][0] : off[b - 1][1]],
                        "score": float(scores[a:b].mean()),
                    }
                    for label, a, b in entity_spans(tags)
                ]
            )
        return results

    def score(self, X: Texts, y: Targets) -> float:
        """Entity-level micro F1 with strict IOB2 spans (as seqeval's ``f1_score``)."""
        pred = self.predict(X)
        if len(y) != len(pred):
            raise ValueError(f"X and y have different lengths: {len(pred)} texts but {len(y)}.")
        return entity_f1([list(tags) for tags in y], pred)


class OnnxQuestionAnswerer(OnnxModel):
    """An exported question answerer: the answer to each question is a span of its context.

    The graph returns a start and an end logit per token (batch, sequence,
    2); contexts longer than ``max_length`` are read in overlapping windows
    and the best span over all windows wins unless "no answer" scores
    higher (the rules of ``TransformerQuestionAnswerer``, through the same
    functions).
    """

    deploy_kind = "question_answerer"
    output_rank = 3

    @classmethod
    def check_task(cls, path, task):
        _schema.want_int(
            path, task, "max_answer_length", 1, _schema.MAX_TOKENS, "task.max_answer_length"
        )
        _schema.want_int(path, task, "n_best", 1, 10_000, "task.n_best")
        _schema.want_number(path, task.get("no_answer_threshold"), "task.no_answer_threshold")
        return 2

    def __init__(self, directory, config, **kwargs):
        super().__init__(directory, config, **kwargs)
        task = config["task"]
        self.max_answer_length = int(task["max_answer_length"])
        self.n_best = int(task["n_best"])
        self.no_answer_threshold = float(task["no_answer_threshold"])
        if self.stride is None:
            self.stride = self.max_length // 4

    def _n_outputs(self):
        return 2

    def _windows(self):
        return True

    def _check_X(self, X):
        return _spans.check_questions(X)

    def predict_answers(self, X: Texts, *, n_best: int | None = None) -> list[dict[str, Any]]:
        """Per question: ``text``, ``answer_start``, ``score``, ``no_answer_score``, ``n_best``.

        As ``TransformerQuestionAnswerer.predict_answers``.
        """
        _spans.check_n_best(n_best)
        texts = self._check_X(X)
        windows = self._tokenize(
            _spans.encode_pairs,
            self.tokenizer,
            texts.first,
            texts.second,
            self.max_length,
            self.stride,
        )
        rows = self._run_windows(
            [_Window(ids, types) for ids, types in zip(windows.input_ids, windows.token_type_ids)]
        )
        return _spans.answers_by_pair(
            rows,
            windows.doc,
            windows.offsets,
            texts.second,
            n_best=int(n_best or self.n_best),
            max_answer_length=self.max_answer_length,
            no_answer_threshold=self.no_answer_threshold,
        )

    def predict(self, X: Texts) -> np.ndarray:
        """The answer text of each question (``""`` when it has none), an object array."""
        return np.asarray([a["text"] for a in self.predict_answers(X)], dtype=object)

    def score(self, X: Texts, y: Targets) -> float:
        """SQuAD's token F1 against the best-matching reference (0 to 1)."""
        return _spans.squad_f1(y, self.predict(X))


class _Window:
    """Token ids of one window, as :meth:`OnnxModel._run_windows` reads them."""

    __slots__ = ("ids", "type_ids")

    def __init__(self, ids, type_ids):
        self.ids = ids
        self.type_ids = type_ids
