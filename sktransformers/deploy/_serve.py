"""``sktransformers serve``: a saved estimator or an ONNX export over HTTP (FastAPI + uvicorn).

Endpoints: ``POST /predict``, ``POST /transform`` (embedders), ``GET
/healthz`` (the process answers), ``GET /readyz`` (the model is loaded and
what it is), ``GET /metrics`` (Prometheus text format), ``GET /`` (what this
service is) and, unless turned off, ``GET /openapi.json`` and ``GET /docs``.

Concurrent requests are gathered by a :class:`MicroBatcher` into one model
call (at most ``max_batch_size`` texts); the model runs in one worker
thread, so the event loop keeps accepting requests while it computes, and
the requests that arrive meanwhile form the next call. By default a call
starts as soon as the model is free (``max_wait_ms=0``); a positive
``max_wait_ms`` holds it open that long for more requests. Client mistakes (malformed
JSON, wrong types, unknown fields, empty lists, too many texts, texts too
long, bodies too large, invalid Unicode) are answered 4xx with a JSON body
``{"error": message, "problems": [...]}``; the server never answers 5xx to
them. Request bodies are counted as they arrive, whatever their transfer
encoding, and refused (413) past the limit. Answers never name a server path:
details (a model that failed to load, a bug) go to the server's log.

Install with ``pip install -e ".[serve]" (from a checkout)`` (add ``[onnx]`` to
serve ONNX exports).
"""

import asyncio
import concurrent.futures
import json
import logging
import math
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..tasks import TOKEN, Task, single_task, task_class_of_export
from ..utils._extras import install_hint

logger = logging.getLogger("sktransformers.serve")

ENV_CONFIG = "SKTRANSFORMERS_SERVE_CONFIG"
ONNX_FILE = "sktransformers_onnx.json"
ESTIMATOR_FILE = "sktransformers.json"


def _import_serving():
    try:
        import fastapi  # noqa: F401
        import prometheus_client  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise ImportError(
            "sktransformers serve needs fastapi, uvicorn and prometheus_client: "
            f"{install_hint('serve')}."
        ) from None


def _cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 1


# ----------------------------------------------------------------------
# The model behind the server: an ONNX export or a saved estimator
# ----------------------------------------------------------------------
def check_model_directory(directory):
    """Which kind of directory ``directory`` is: "onnx" or "estimator" (else a ValueError)."""
    path = Path(directory)
    if not path.is_dir():
        raise ValueError(f"{os.fspath(directory)!r} is not a directory.")
    if (path / ONNX_FILE).is_file():
        return "onnx"
    if (path / ESTIMATOR_FILE).is_file():
        return "estimator"
    raise ValueError(
        f"{os.fspath(directory)!r} has neither {ONNX_FILE} (written by export_onnx) nor "
        f"{ESTIMATOR_FILE} (written by save_pretrained)."
    )


@dataclass
class ServedModel:
    """A loaded model and what the server says about it.

    ``kind`` is the server's name for the model (``classifier``,
    ``regressor``, ``token_classifier``, ``embedder``), ``task`` the task in
    words (``classification``, ``multilabel classification``, ``regression``,
    ``token classification``, ``embedding``), ``precision`` what the model
    computes in (ONNX: ``int8`` or ``fp32``, the graph loaded; torch:
    ``fp32``, or ``bf16``/``fp16`` under autocast). ``directory`` is where it
    was loaded from (None for a model given in memory); the server logs it
    and answers only its last component.
    """

    model: object
    name: str
    kind: str
    runtime: str
    version: str
    is_pair: bool = False
    extra: dict = field(default_factory=dict)
    task: str = ""
    precision: str = "fp32"
    directory: str | None = None
    task_class: type = Task

    @classmethod
    def wrap(cls, model, name=None, directory=None):
        """Describe an in-memory model: a fitted estimator or an ONNX runtime model.

        The model's task (:mod:`sktransformers.tasks`) decides its kind, its
        description and the server's answers.
        """
        from .._version import __version__

        if hasattr(model, "session") and hasattr(model, "config"):  # sktransformers.onnx
            task_class = task_class_of_export(model.config)
            return cls(
                model,
                name or model.config.get("estimator"),
                task_class.deploy_kind,
                "onnx",
                model.version or __version__,
                bool(model.is_pair_),
                {"precision": model.precision},
                task=task_class.description,
                precision=str(model.precision),
                directory=directory,
                task_class=task_class,
            )
        task = single_task(model, "sktransformers serve")
        if task.deploy_kind is None:
            raise TypeError(f"Cannot serve a {task.kind} task.")
        amp = getattr(getattr(model, "_runtime", None), "amp", None)
        return cls(
            model,
            name or type(model).__name__,
            task.deploy_kind,
            "torch",
            __version__,
            bool(getattr(model, "is_pair_", False)),
            task=task.description,
            precision=str(amp or "fp32"),
            directory=directory,
            task_class=type(task),
        )

    def describe(self):
        """What the server says about the model (``/readyz``): never a full server path."""
        from .._version import __version__

        return {
            "model": self.name,
            "estimator": self.name,
            "kind": self.kind,
            "task": self.task,
            "runtime": self.runtime,
            "precision": self.precision,
            "pairs": self.is_pair,
            "model_dir": None if self.directory is None else Path(self.directory).name,
            "version": self.version,
            "sktransformers_version": __version__,
        }

    @property
    def on_gpu(self):
        """Whether the model computes on a GPU (an ONNX GPU provider or a CUDA device)."""
        session = getattr(self.model, "session", None)
        if session is not None:
            return session.get_providers()[0] != "CPUExecutionProvider"
        device = getattr(self.model, "device_", None)
        return device is not None and str(device).startswith("cuda")

    @property
    def endpoint(self):
        """The endpoint that answers for this model: ``predict`` or ``transform``."""
        return self.task_class.endpoint

    @property
    def needs_words(self):
        """Whether the model reads words (a token-level task): texts are split first."""
        return self.task_class.level == TOKEN

    def check_endpoint(self, endpoint):
        """A 404 _ClientError when ``endpoint`` is not the one that serves this model."""
        if endpoint != self.endpoint:
            article = "an" if self.kind[:1] in "aeiou" else "a"
            raise _ClientError(
                404, f"This model is {article} {self.kind}: use POST /{self.endpoint}."
            )

    def check_pairs(self, pair):
        """A 422 _ClientError when single texts or pairs are not what the model takes."""
        accepts = self.task_class.accepts
        if accepts == "single" and pair:
            raise _ClientError(422, f"A {self.task} model takes single texts, not pairs.")
        if accepts == "as_fitted" and pair != self.is_pair:
            want = "[text, text] pairs" if self.is_pair else "single texts (strings)"
            raise _ClientError(422, f"This model was fitted on {want}.")

    def predict(self, texts):
        """Per-text JSON-ready predictions (the task's answer) for texts or (a, b) pairs."""
        self.check_endpoint("predict")
        return self.task_class.serve_predictions(self.model, texts)

    def transform(self, texts):
        """Per-text JSON-ready embeddings (the task's answer)."""
        self.check_endpoint("transform")
        return self.task_class.serve_predictions(self.model, texts)


def load_model(directory, *, threads=None, precision=None):
    """Load a directory written by ``export_onnx`` or ``save_pretrained``."""
    kind = check_model_directory(directory)
    if kind == "onnx":
        from . import _onnx_runtime as onnx

        # No busy-waiting: between model calls the event loop needs the cores.
        return ServedModel.wrap(
            onnx.load(directory, threads=threads, precision=precision, spinning=False),
            directory=os.fspath(directory),
        )
    from .. import estimators  # noqa: F401  (the estimators register for saved directories)
    from ..engine._persistence import ESTIMATORS
    from ..utils import _schema

    meta = _schema.read_json(Path(directory), ESTIMATOR_FILE)  # bounded: a hostile file
    name = meta.get("estimator")
    # Only an estimator class of the package, named by the file; its task decides the rest.
    estimator_class = ESTIMATORS.get(name) if isinstance(name, str) else None
    if estimator_class is None or not callable(getattr(estimator_class, "_fitted_tasks", None)):
        raise ValueError(
            f"{directory!r} holds a {name!r:.80}; the server serves estimators of one task "
            "(TransformerClassifier, TransformerRegressor, TransformerTokenClassifier, "
            "TransformerEmbedder)."
        )
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    estimator = estimator_class.from_pretrained(directory)
    try:
        return ServedModel.wrap(estimator, directory=os.fspath(directory))
    except TypeError as exc:  # several tasks, or a task that cannot be served
        raise ValueError(f"{directory!r}: {exc}") from None


# ----------------------------------------------------------------------
# Micro-batching
# ----------------------------------------------------------------------
class _ClientError(Exception):
    def __init__(self, status, message, problems=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = problems or [message]


@dataclass
class _Item:
    key: tuple
    texts: list
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop


_STOP = object()


class MicroBatcher:
    """Gather concurrent requests into one model call.

    Requests go into a thread-safe queue; the batcher's thread (the one
    thread that runs the model while batching is on) takes the first waiting
    request and every request queued behind it with the same endpoint and
    input shape (single texts or pairs), up to ``max_batch_size`` texts,
    waits up to ``max_wait_ms`` for more when that is positive, runs the
    model on the batch and hands each request its answer. The batches form
    in the model's thread, not in the event loop, so the model never waits
    for a busy event loop to pass it the next batch: requests that arrive
    during a model call make up the next one. A batch that fails is retried
    request by request, so one bad request cannot fail the others. With
    ``max_batch_size=1`` every request is its own model call, run in
    ``executor``.
    """

    def __init__(self, run, *, max_batch_size, max_wait_ms, executor, on_batch=None):
        self.run = run  # run(key, texts) -> list of results, one per text
        # None: not decided yet (the app sets it once it knows where the model runs).
        self.max_batch_size = None if max_batch_size is None else int(max_batch_size)
        self.max_wait = float(max_wait_ms) / 1000.0
        self.executor = executor
        self.on_batch = on_batch
        self._queue = None
        self._worker = None

    @property
    def enabled(self):
        return self.max_batch_size is not None and self.max_batch_size > 1

    def start(self):
        """Start the batcher's thread (once; nothing to start when batching is off)."""
        if self.enabled and self._worker is None:
            self._queue = queue.SimpleQueue()
            self._worker = threading.Thread(
                target=self._work, name="sktransformers-batcher", daemon=True
            )
            self._worker.start()

    async def stop(self):
        """Finish every queued request, then stop."""
        if self._worker is None:
            return
        self._queue.put(_STOP)
        await asyncio.get_running_loop().run_in_executor(None, self._worker.join)
        self._worker = None

    async def submit(self, key, texts):
        loop = asyncio.get_running_loop()
        if not self.enabled:
            if self.on_batch is not None:
                self.on_batch(len(texts))
            return await loop.run_in_executor(self.executor, self.run, key, texts)
        self.start()  # a no-op once started
        future = loop.create_future()
        self._queue.put(_Item(key, texts, future, loop))
        return await future

    # -- the model's thread ----------------------------------------------
    def _work(self):
        carry, stopping = None, False
        while True:
            if carry is not None:
                first, carry = carry, None
            elif stopping:
                try:
                    first = self._queue.get_nowait()
                except queue.Empty:
                    return
            else:
                first = self._queue.get()
            if first is _STOP:
                stopping = True
                continue
            batch, n = [first], len(first.texts)
            deadline = time.monotonic() + self.max_wait
            while n < self.max_batch_size:
                wait = 0 if stopping else deadline - time.monotonic()
                try:
                    item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                if item.key != first.key or n + len(item.texts) > self.max_batch_size:
                    carry = item
                    break
                batch.append(item)
                n += len(item.texts)
            self._execute(batch)

    def _call(self, key, texts):
        if self.on_batch is not None:
            self.on_batch(len(texts))
        return self.run(key, texts)

    def _execute(self, batch):
        texts = [t for item in batch for t in item.texts]
        try:
            results = self._call(batch[0].key, texts)
        except Exception as exc:
            if len(batch) == 1:
                _answer(batch[0], error=exc)
                return
            for item in batch:  # find the request at fault; the others still get answers
                try:
                    _answer(item, self._call(item.key, item.texts))
                except Exception as single_exc:
                    _answer(item, error=single_exc)
            return
        start = 0
        for item in batch:
            _answer(item, results[start : start + len(item.texts)])
            start += len(item.texts)


def _answer(item, result=None, error=None):
    """Settle a request's future from the model's thread, in its event loop."""
    try:
        item.loop.call_soon_threadsafe(_settle, item.future, result, error)
    except RuntimeError:  # the loop is closed: nobody waits for the answer
        pass


def _settle(future, result=None, error=None):
    if future.done():  # the client went away
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


# ----------------------------------------------------------------------
# Request checks
# ----------------------------------------------------------------------
def _lone_surrogate(text):
    """The index of the first lone surrogate in ``text`` (not a character: no UTF-8), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def check_request_texts(texts, *, max_texts, max_chars, need_words=False):
    """Validate ``texts`` of a request body; return (texts, is_pair) or raise _ClientError.

    Lists of strings or of ``[text, text]`` pairs, within the limits, of
    valid Unicode (a lone surrogate such as ``"\\ud800"`` is valid JSON but
    no character); with ``need_words`` (token classifiers) every text needs
    a word (a non-space character).
    """
    if not isinstance(texts, list):
        raise _ClientError(422, f'"texts" must be a list, got {type(texts).__name__}.')
    if not texts:
        raise _ClientError(422, '"texts" is empty: send at least one text.')
    if len(texts) > max_texts:
        raise _ClientError(
            413,
            f'"texts" has {len(texts)} items; this server takes at most {max_texts} per '
            "request. Split the request.",
        )
    problems, too_long = [], []
    pair = isinstance(texts[0], list)

    def check_text(i, text):
        if len(text) > max_chars:
            too_long.append(True)
            return f"texts[{i}]: {len(text)} characters; the limit is {max_chars} per text"
        at = _lone_surrogate(text)
        if at is not None:
            return (
                f"texts[{i}]: invalid Unicode at character {at} (a lone surrogate, "
                "not a character); send UTF-8 text"
            )
        if need_words and (not text or text.isspace()):
            return f"texts[{i}]: no words (empty or only spaces); a token classifier tags words"
        return None

    for i, item in enumerate(texts):
        problem = None
        if isinstance(item, str):
            if pair:
                problem = f"texts[{i}]: a single text in a request of pairs"
            else:
                problem = check_text(i, item)
        elif isinstance(item, list):
            if not pair:
                problem = f"texts[{i}]: a pair in a request of single texts"
            elif len(item) != 2 or not all(isinstance(t, str) for t in item):
                problem = f"texts[{i}]: a pair must be [text, text] (two strings)"
            else:
                problem = check_text(i, item[0]) or check_text(i, item[1])
        else:
            kind = "null" if item is None else type(item).__name__
            problem = f"texts[{i}]: expected a string or a [text, text] pair, got {kind}"
        if problem is not None:
            problems.append(problem)
        if len(problems) >= 10:
            break
    if problems:
        status = 413 if len(too_long) == len(problems) else 422
        raise _ClientError(status, "; ".join(problems), problems)
    return ([tuple(item) for item in texts] if pair else texts), pair


def _describe_validation_errors(errors):
    """A readable message for FastAPI's request validation errors: (status, message, problems)."""
    problems = []
    status = 422
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part != "body"]
        where = ".".join(loc) or "body"
        kind = error.get("type", "")
        if kind == "json_invalid":
            status = 400
            problems.append(
                f"malformed JSON: {error.get('msg', '')}"
                f" ({error.get('ctx', {}).get('error', 'cannot parse')})"
            )
        elif kind == "extra_forbidden":
            problems.append(f'unknown field "{where}"; the body takes only "texts"')
        elif kind == "missing" and where == "body":
            status = 400
            problems.append('empty request body; send JSON such as {"texts": ["a text"]}')
        elif kind == "missing":
            problems.append(f'missing field "{where}"')
        else:
            problems.append(f"{where}: {error.get('msg', kind)}")
    return status, "; ".join(problems) or "invalid request", problems


# ----------------------------------------------------------------------
# The body limit
# ----------------------------------------------------------------------
def _json_error_body(status, message):
    return json.dumps({"error": message, "problems": [message]}).encode()


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``limit`` bytes (413), as they arrive.

    A declared ``Content-Length`` over the limit is answered at once, before
    a byte of the body is read. Every body (``Transfer-Encoding: chunked``
    included, which declares no length) is also counted as the app reads
    it: past the limit, reading raises ``HTTPException(413)``, answered by
    the app's handler (or here, if nothing has been answered yet), with
    ``Connection: close`` so that the client stops sending. The server so
    never holds more than about ``limit`` bytes of one request.
    """

    def __init__(self, app, limit):
        self.app = app
        self.limit = int(limit)

    def _message(self, size=None):
        got = f"request body of {size} bytes" if size is not None else "request body"
        return f"{got} is over this server's limit of {self.limit} bytes"

    async def _refuse(self, send, message):
        body = _json_error_body(413, message)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._refuse(send, self._message(int(value)))
                return
        from starlette.exceptions import HTTPException

        received = 0
        started = False

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise HTTPException(413, self._message(), headers={"connection": "close"})
            return message

        async def watched_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except HTTPException as exc:
            if exc.status_code != 413 or started:
                raise
            await self._refuse(send, str(exc.detail))


# ----------------------------------------------------------------------
# The app
# ----------------------------------------------------------------------
AUTO_GPU_BATCH_SIZE = 32


@dataclass
class ServeConfig:
    """Everything the app needs (also passed to uvicorn's workers as JSON)."""

    directory: str | None = None
    max_batch_size: int | None = None  # None: 32 on a GPU, 1 (no batching) on a CPU
    max_wait_ms: float = 0.0
    max_texts: int = 256
    max_chars: int = 10_000
    max_body_bytes: int | None = None  # None: what max_texts texts of max_chars can take
    threads: int | None = None
    precision: str | None = None
    docs: bool = True  # serve /docs and /openapi.json

    def check(self):
        for name in ("max_batch_size", "max_texts", "max_chars", "max_body_bytes", "threads"):
            value = getattr(self, name)
            if value is None and name in ("max_batch_size", "max_body_bytes", "threads"):
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}={value!r}; expected a positive int.")
        if not (isinstance(self.max_wait_ms, (int, float)) and 0 <= self.max_wait_ms < math.inf):
            raise ValueError(f"max_wait_ms={self.max_wait_ms!r}; expected a number >= 0.")
        if not isinstance(self.docs, bool):
            raise ValueError(f"docs={self.docs!r}; expected True or False.")
        return self

    @property
    def body_limit(self):
        """The most bytes a request body may have: ``max_body_bytes``, or by default room
        for ``max_texts`` pairs of ``max_chars`` characters, each escaped as ``\\uXXXX``."""
        if self.max_body_bytes is not None:
            return self.max_body_bytes
        return self.max_texts * (2 * 6 * self.max_chars + 16) + 4096


def _schemas(config):
    """The pydantic models of the API: requests, answers and errors (the OpenAPI schema)."""
    from typing import Annotated

    from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

    text = {"type": "string", "maxLength": config.max_chars}
    texts_schema = {
        "type": "array",
        "minItems": 1,
        "maxItems": config.max_texts,
        "items": {
            "anyOf": [
                text,
                {"type": "array", "items": text, "minItems": 2, "maxItems": 2},
            ]
        },
        "description": (
            f"Texts (strings), or [text, text] pairs for a model fitted on pairs; at most "
            f"{config.max_texts} per request, {config.max_chars} characters each."
        ),
    }
    Label = str | int | float | bool

    class TextsRequest(BaseModel):
        """Texts to predict or embed."""

        # Checked by check_request_texts (its messages name the item at fault);
        # the schema says what it accepts.
        model_config = ConfigDict(
            extra="forbid", json_schema_extra={"examples": [{"texts": ["a wonderful film"]}]}
        )
        texts: Annotated[list, WithJsonSchema(texts_schema)]

    class ErrorBody(BaseModel):
        """Every 4xx and 5xx answer: the reason, and up to 10 problems."""

        error: str
        problems: list[str]

    class ClassPrediction(BaseModel):
        label: Label
        probabilities: dict[str, float]

    class MultilabelPrediction(BaseModel):
        labels: list[Label]
        probabilities: dict[str, float]

    class ValuePrediction(BaseModel):
        value: float

    class ValuesPrediction(BaseModel):
        values: list[float]

    class Entity(BaseModel):
        entity: str
        start: int
        end: int
        text: str
        score: float

    class TokenPrediction(BaseModel):
        tags: list[str]
        entities: list[Entity]

    class AnswerPrediction(BaseModel):
        answer: str = Field(description='the answer span ("": no answer)')
        answer_start: int = Field(description="its character offset in the context (-1: none)")
        score: float
        no_answer_score: float

    class Predictions(BaseModel):
        """One prediction per text, by the model's kind."""

        model: str
        predictions: list[
            ClassPrediction
            | MultilabelPrediction
            | ValuePrediction
            | ValuesPrediction
            | TokenPrediction
            | AnswerPrediction
        ]

    class Embeddings(BaseModel):
        model: str
        embeddings: list[list[float]]

    class Health(BaseModel):
        status: str

    class Ready(BaseModel):
        """The model served (``model`` and ``estimator``: the estimator's class name)."""

        status: str
        model: str
        estimator: str
        kind: str = Field(
            description="the deployed kind: classifier, regressor, token_classifier, "
            "question_answerer, embedder, or a registered kind's"
        )
        task: str = Field(description="what the model does, in words (the task's description)")
        runtime: str = Field(description="onnx or torch")
        precision: str = Field(description="ONNX: int8 or fp32; torch: fp32, bf16 or fp16")
        pairs: bool
        model_dir: str | None = Field(description="the model directory's name")
        version: str = Field(description="the sktransformers version that made the model")
        sktransformers_version: str
        max_batch_size: int | None
        max_texts: int
        max_chars: int
        max_body_bytes: int

    class About(BaseModel):
        service: str
        version: str
        ready: bool
        model: str | None
        endpoints: dict[str, str]
        docs: str | None
        openapi: str | None

    return {
        name: value
        for name, value in locals().items()
        if isinstance(value, type) and issubclass(value, BaseModel)
    }


def create_app(model=None, config=None, **options):
    """The FastAPI app serving ``model``.

    Parameters
    ----------
    model : str, path-like, ServedModel, fitted estimator or ONNX runtime model
        A directory (loaded in the background at startup: ``/readyz``
        answers 503 until it is ready) or a model already in memory.
    config : ServeConfig, optional
    **options
        Fields of :class:`ServeConfig` (``max_batch_size``, ``max_wait_ms``,
        ``max_texts``, ``max_chars``, ``max_body_bytes``, ``threads``,
        ``precision``, ``docs``).

    Returns
    -------
    app : fastapi.FastAPI
    """
    _import_serving()
    from contextlib import asynccontextmanager

    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        CollectorRegistry,
        Counter,
        Gauge,
        Histogram,
        generate_latest,
    )
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from .._version import __version__

    config = ServeConfig(**{**(config or ServeConfig()).__dict__, **options})
    if isinstance(model, (str, os.PathLike)):
        config.directory = os.fspath(model)
        check_model_directory(config.directory)
        model = None
    config.check()
    schemas = _schemas(config)

    registry = CollectorRegistry()
    requests_total = Counter(
        "sktransformers_requests",
        "HTTP requests by endpoint and status code.",
        ["endpoint", "status"],
        registry=registry,
    )
    latency = Histogram(
        "sktransformers_request_duration_seconds",
        "Request latency by endpoint.",
        ["endpoint"],
        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        registry=registry,
    )
    batch_sizes = Histogram(
        "sktransformers_batch_size",
        "Texts per model call (after micro-batching).",
        buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
        registry=registry,
    )
    model_info = Gauge(
        "sktransformers_model_info",
        "The model served (value 1).",
        ["name", "kind", "runtime", "version", "sktransformers_version"],
        registry=registry,
    )
    ready = Gauge("sktransformers_model_ready", "1 once the model is loaded.", registry=registry)
    state = {"model": None, "error": None}
    executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sktransformers-model")

    def run(key, texts):
        endpoint, _ = key
        served = state["model"]
        return served.predict(texts) if endpoint == "predict" else served.transform(texts)

    batcher = MicroBatcher(
        run,
        max_batch_size=config.max_batch_size,
        max_wait_ms=config.max_wait_ms,
        executor=executor,
        on_batch=batch_sizes.observe,
    )

    def set_model(served):
        if config.max_batch_size is None:
            # Batching pays where a model call's cost grows slower than its batch (GPUs);
            # on CPUs it only adds padding and waiting (see the Deploying page).
            batcher.max_batch_size = AUTO_GPU_BATCH_SIZE if served.on_gpu else 1
        state["model"] = served
        model_info.labels(
            served.name, served.kind, served.runtime, served.version, __version__
        ).set(1)
        ready.set(1)
        logger.info(
            "serving %s from %s: %s (%s), %s runtime, precision %s, made by sktransformers %s; "
            "sktransformers %s",
            served.name,
            served.directory or "memory",
            served.task,
            served.kind,
            served.runtime,
            served.precision,
            served.version,
            __version__,
        )

    async def load_in_background():
        try:
            served = await asyncio.get_running_loop().run_in_executor(
                executor,
                lambda: load_model(
                    config.directory, threads=config.threads, precision=config.precision
                ),
            )
        except Exception:  # the details go to the log, never to a client
            logger.exception("could not load the model in %s", config.directory)
            state["error"] = "the model failed to load; the server's log has the details"
            return
        set_model(served)
        batcher.start()

    if model is not None:
        set_model(model if isinstance(model, ServedModel) else ServedModel.wrap(model))

    @asynccontextmanager
    async def lifespan(app):
        if state["model"] is not None:
            batcher.start()
        loader = None
        if state["model"] is None:
            loader = asyncio.get_running_loop().create_task(load_in_background())
        try:
            yield
        finally:
            # uvicorn has finished the in-flight requests by now; drain what is queued.
            if loader is not None and not loader.done():
                loader.cancel()
            await batcher.stop()
            executor.shutdown(wait=True)

    docs_url = "/docs" if config.docs else None
    openapi_url = "/openapi.json" if config.docs else None
    app = FastAPI(
        title="sktransformers",
        version=__version__,
        lifespan=lifespan,
        description="Predictions of a fitted sktransformers model.",
        docs_url=docs_url,
        redoc_url=None,
        openapi_url=openapi_url,
    )
    app.state.config = config
    app.state.batcher = batcher
    app.state.registry = registry

    def error(status, message, problems=None, headers=None):
        return JSONResponse(
            {"error": message, "problems": problems or [message]},
            status_code=status,
            headers=headers,
        )

    def not_serving():
        return error(
            503, "the model is still loading" if state["error"] is None else state["error"]
        )

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request, exc):
        status, message, problems = _describe_validation_errors(exc.errors())
        return error(status, message, problems)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request, exc):
        return error(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def on_error(request, exc):  # a bug of ours, never the client's
        logger.exception("internal error on %s", request.url.path)
        return error(500, f"internal error: {type(exc).__name__}")

    known = {
        "/predict",
        "/transform",
        "/healthz",
        "/readyz",
        "/metrics",
        "/",
        "/docs",
        "/openapi.json",
    }
    # Innermost first: the body limit, then the metrics around it (its 413s are counted).
    app.add_middleware(BodyLimit, limit=config.body_limit)

    @app.middleware("http")
    async def measure(request: Request, call_next):
        endpoint = request.url.path if request.url.path in known else "other"
        start = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception as exc:  # a bug of ours, never the client's
            logger.exception("internal error on %s", request.url.path)
            response = error(500, f"internal error: {type(exc).__name__}")
        requests_total.labels(endpoint, str(response.status_code)).inc()
        latency.labels(endpoint).observe(time.perf_counter() - start)
        return response

    async def answer(endpoint, body):
        served = state["model"]
        if served is None:
            return not_serving()
        try:
            texts, pair = check_request_texts(
                body.texts,
                max_texts=config.max_texts,
                max_chars=config.max_chars,
                need_words=served.needs_words,
            )
            served.check_endpoint(endpoint)
            served.check_pairs(pair)
            results = await batcher.submit((endpoint, pair), texts)
        except _ClientError as exc:
            return error(exc.status, exc.message, exc.problems)
        key = "predictions" if endpoint == "predict" else "embeddings"
        if endpoint == "transform":
            results = [r["embedding"] for r in results]
        return JSONResponse({"model": served.name, key: results})

    errors = {"model": schemas["ErrorBody"]}
    body_errors = {
        400: {**errors, "description": "Malformed JSON or no body"},
        404: {**errors, "description": "The other endpoint serves this model"},
        413: {**errors, "description": "Too many texts, a text too long, or a body too large"},
        422: {**errors, "description": "Not a list of texts (or pairs) this model takes"},
        503: {**errors, "description": "The model is not loaded (yet)"},
    }
    TextsRequest = schemas["TextsRequest"]

    @app.post("/predict", response_model=schemas["Predictions"], responses=body_errors)
    async def predict(body: TextsRequest):
        """Labels and probabilities (classifier), values (regressor), tags and entities."""
        return await answer("predict", body)

    @app.post("/transform", response_model=schemas["Embeddings"], responses=body_errors)
    async def transform(body: TextsRequest):
        """Embeddings (embedders only)."""
        return await answer("transform", body)

    @app.get(
        "/healthz",
        response_model=schemas["Health"],
        responses={503: {**errors, "description": "The model failed to load"}},
    )
    async def healthz():
        """Liveness: the process answers (503 if the model failed to load)."""
        if state["error"] is not None:
            return not_serving()
        return {"status": "ok"}

    @app.get(
        "/readyz",
        response_model=schemas["Ready"],
        responses={503: {**errors, "description": "The model is not loaded (yet)"}},
    )
    async def readyz():
        """Readiness: the model is loaded, and what it is."""
        served = state["model"]
        if served is None:
            return not_serving()
        return {
            "status": "ready",
            **served.describe(),
            "max_batch_size": batcher.max_batch_size,
            "max_texts": config.max_texts,
            "max_chars": config.max_chars,
            "max_body_bytes": config.body_limit,
        }

    @app.get(
        "/metrics",
        response_class=Response,
        responses={
            200: {
                "content": {"text/plain": {"schema": {"type": "string"}}},
                "description": "Prometheus text format",
            }
        },
    )
    async def metrics():
        """Prometheus metrics."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", response_model=schemas["About"])
    async def about():
        """What this service is, and where its endpoints are."""
        served = state["model"]
        return {
            "service": "sktransformers",
            "version": __version__,
            "ready": served is not None,
            "model": None if served is None else served.name,
            "endpoints": {
                "predict": "POST /predict",
                "transform": "POST /transform",
                "liveness": "GET /healthz",
                "readiness": "GET /readyz",
                "metrics": "GET /metrics",
            },
            "docs": docs_url,
            "openapi": openapi_url,
        }

    return app


def app_from_env():
    """App factory for uvicorn (``--workers``); configured by ``$SKTRANSFORMERS_SERVE_CONFIG``."""
    config = ServeConfig(**json.loads(os.environ[ENV_CONFIG]))
    return create_app(config.directory, config)


def _log_config(log_level):
    """uvicorn's logging, with the package's own logger (``sktransformers``) beside it."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    log_config = copy.deepcopy(LOGGING_CONFIG)
    log_config["loggers"]["sktransformers"] = {
        "handlers": ["default"],
        "level": log_level.upper(),
        "propagate": False,
    }
    return log_config


def serve(
    directory,
    *,
    host="127.0.0.1",
    port=8000,
    workers=1,
    log_level="info",
    graceful_timeout=30.0,
    **options,
):
    """Run the server (blocking) with uvicorn; see ``sktransformers serve --help``."""
    _import_serving()
    import uvicorn

    check_model_directory(directory)
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers={workers!r}; expected a positive int.")
    config = ServeConfig(directory=os.path.abspath(os.fspath(directory)), **options)
    if config.threads is None:  # the workers share the cores
        config.threads = max(1, _cpu_count() // workers)
    config.check()
    os.environ[ENV_CONFIG] = json.dumps(config.__dict__)
    uvicorn.run(
        "sktransformers.deploy._serve:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        timeout_graceful_shutdown=graceful_timeout,
        log_config=_log_config(log_level),
    )
