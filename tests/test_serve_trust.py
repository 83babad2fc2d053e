"""`sktransformers serve` facing untrusted clients: body limits, client mistakes, what it says.

Issues 17 ("Trust") and 20 ("First hour"). Some tests run a real server
process (``python -m sktransformers serve``) on 127.0.0.1; every one is killed
when its test ends. Failures found by the fuzzer (tests/test_serve_fuzz.py)
become named tests here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import wait_ready

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("prometheus_client")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")
httpx = pytest.importorskip("httpx")
psutil = pytest.importorskip("psutil")

from fastapi.testclient import TestClient  # noqa: E402

import sktransformers  # noqa: E402
from sktransformers import (  # noqa: E402
    TransformerClassifier,
    TransformerEmbedder,
    TransformerRegressor,
    TransformerTokenClassifier,
)
from sktransformers.deploy._export import export_onnx  # noqa: E402
from sktransformers.deploy._serve import create_app  # noqa: E402

TEXTS = ["a great film", "a terrible film", "i loved it", "i hated it", "wonderful", "dull"]
LABELS = ["pos", "neg", "pos", "neg", "pos", "neg"]
FAST = {"max_epochs": 1, "batch_size": 4, "device": "cpu", "random_state": 0, "max_length": 32}
NER_X = [["Ada", "Lovelace", "lived", "in", "London"], ["Grace", "visited", "Rome"]]
NER_Y = [["B-PER", "I-PER", "O", "O", "B-LOC"], ["B-PER", "O", "B-LOC"]]


# ----------------------------------------------------------------------
# Models, and a real server process
# ----------------------------------------------------------------------
def fit_models(tiny_model_dir, kinds=None):
    """A tiny fitted model of each kind in ``kinds`` (default: every kind the server serves)."""
    import pandas as pd

    Y = pd.DataFrame({"joy": [1, 0, 1, 0, 1, 0], "anger": [0, 1, 0, 1, 1, 0]})
    makers = {
        "classifier": lambda: TransformerClassifier(tiny_model_dir, **FAST).fit(TEXTS, LABELS),
        "regressor": lambda: TransformerRegressor(tiny_model_dir, **FAST).fit(
            TEXTS, np.arange(6.0)
        ),
        "multilabel": lambda: TransformerClassifier(tiny_model_dir, **FAST).fit(TEXTS, Y),
        "token_classifier": lambda: TransformerTokenClassifier(
            tiny_model_dir, max_epochs=1, device="cpu", random_state=0
        ).fit(NER_X, NER_Y),
        "embedder": lambda: TransformerEmbedder(tiny_model_dir, device="cpu").fit(),
    }
    return {kind: makers[kind]() for kind in (kinds or makers)}


@pytest.fixture(scope="module")
def models(tiny_model_dir):
    return fit_models(tiny_model_dir)


@pytest.fixture(scope="module")
def onnx_dirs(models, tmp_path_factory):
    root = tmp_path_factory.mktemp("trust-onnx")
    return {
        "classifier": export_onnx(models["classifier"], root / "classifier", quantize="int8"),
        "token_classifier": export_onnx(models["token_classifier"], root / "ner"),
    }


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def log_text(self):
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def running_server(directory, log_dir, *args, timeout=120):
    """``python -m sktransformers serve DIRECTORY`` on 127.0.0.1, ready; killed at the end."""
    port = free_port()
    log = Path(log_dir) / f"server-{port}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sktransformers",
                "serve",
                os.fspath(directory),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--threads",
                "1",
                *args,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    server = Server(proc, port, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert proc.poll() is None, server.log_text()
            try:
                if httpx.get(f"{server.base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"not ready: {server.log_text()}"
            time.sleep(0.2)
        yield server
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(15)


@pytest.fixture(scope="module")
def onnx_server(onnx_dirs, tmp_path_factory):
    with running_server(
        onnx_dirs["classifier"], tmp_path_factory.mktemp("logs"), "--max-body-bytes", "1000000"
    ) as server:
        yield server


# ----------------------------------------------------------------------
# 1. The body limit holds whatever the transfer encoding
# ----------------------------------------------------------------------
def send_chunked(port, first, pad, total, chunk=16384, timeout=60):
    """POST /predict with ``Transfer-Encoding: chunked``: ``first``, then ``pad`` up to
    ``total`` bytes, stopping as soon as the server answers or closes. Returns
    (status, body, bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    deadline = time.monotonic() + timeout
    sent, reply = 0, b""
    try:
        sock.sendall(
            b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )

        def send(data):
            sock.sendall(b"%x\r\n%s\r\n" % (len(data), data))

        send(first)
        sent = len(first)
        piece = pad * (chunk // len(pad))
        answered = False
        while sent < total and time.monotonic() < deadline:
            if select.select([sock], [], [], 0)[0]:
                answered = True
                break
            try:
                send(piece)
            except OSError:  # the server closed the connection
                answered = True
                break
            sent += len(piece)
        if not answered:
            with contextlib.suppress(OSError):
                sock.sendall(b"0\r\n\r\n")
        while time.monotonic() < deadline:
            head, _, body = reply.partition(b"\r\n\r\n")
            if _:
                length = [
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ]
                if length and len(body) >= length[0]:
                    break
            try:
                data = sock.recv(65536)
            except OSError:
                break
            if not data:
                break
            reply += data
    finally:
        sock.close()
    head, _, body = reply.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/") else None
    return status, body, sent


def test_chunked_body_over_the_limit_is_refused_as_it_arrives(onnx_server):
    # A valid request padded with 50 MB of JSON whitespace, sent chunked (no
    # Content-Length): read whole, it would be answered 200.
    process = psutil.Process(onnx_server.proc.pid)
    r = httpx.post(f"{onnx_server.base}/predict", json={"texts": ["a"]}, timeout=30)
    assert r.status_code == 200
    before = process.memory_info().rss
    status, body, sent = send_chunked(onnx_server.port, b'{"texts": ["a"]}', b" ", 50_000_000)
    assert status == 413, (status, body[:200], sent)
    assert b"limit of 1000000 bytes" in body
    assert sent < 20_000_000  # the server stopped the upload, not the end of it
    assert process.memory_info().rss - before < 32 * 2**20  # read whole: about 80 MiB
    # A body under the limit still gets through chunked.
    status, body, _ = send_chunked(onnx_server.port, b'{"texts": ["a"]}', b" ", 500_000)
    assert status == 200, body[:200]
    assert httpx.get(f"{onnx_server.base}/healthz", timeout=10).status_code == 200
    metrics = httpx.get(f"{onnx_server.base}/metrics", timeout=10).text
    assert 'sktransformers_requests_total{endpoint="/predict",status="413"}' in metrics


def test_declared_length_over_the_limit_is_refused_before_reading(onnx_server):
    with socket.create_connection(("127.0.0.1", onnx_server.port), timeout=30) as sock:
        sock.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 5000000\r\n\r\n{"texts"'
        )
        reply = b""
        while b"\r\n\r\n" not in reply:
            data = sock.recv(65536)
            if not data:
                break
            reply += data
    assert reply.startswith(b"HTTP/1.1 413")


def test_body_limit_in_process(models):
    app = create_app(models["classifier"], max_body_bytes=1000)
    with TestClient(app) as c:

        def chunks():  # no Content-Length: the body is counted as it is read
            yield b'{"texts": ["a"]}'
            for _ in range(100):
                yield b" " * 100

        r = c.post("/predict", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413, r.text
        assert "limit of 1000 bytes" in r.json()["error"]
        r = c.post(
            "/predict",
            content=b'{"texts": ["a"]}' + b" " * 900,
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 200
        assert c.get("/readyz").json()["max_body_bytes"] == 1000


# ----------------------------------------------------------------------
# 2. Client mistakes are 4xx with a reason, on every kind of server
# ----------------------------------------------------------------------
KINDS = [
    "classifier",
    "regressor",
    "multilabel",
    "token_classifier",
    "embedder",
    "onnx classifier",
    "onnx token_classifier",
]


@pytest.fixture(scope="module")
def clients(models, onnx_dirs):
    with contextlib.ExitStack() as stack:
        out = {}
        for kind in KINDS:
            if kind.startswith("onnx "):
                client = stack.enter_context(TestClient(create_app(onnx_dirs[kind[5:]])))
                wait_ready(client)
            else:
                client = stack.enter_context(TestClient(create_app(models[kind])))
            out[kind] = client
        yield out


def _post(client, body):
    path = "/transform" if client.get("/readyz").json()["kind"] == "embedder" else "/predict"
    return client.post(path, content=body, headers={"content-type": "application/json"})


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("text", ["a\\ud800b", "\\udfff", "ok \\ud83d"])
def test_lone_surrogate_is_a_4xx_on_every_kind(clients, kind, text):
    # Valid JSON, but no character: the tokenizer cannot take it.
    r = _post(clients[kind], '{"texts": ["fine", "' + text + '"]}')
    assert r.status_code == 422, r.text
    assert r.json()["error"].startswith("texts[1]: invalid Unicode")
    assert clients[kind].get("/healthz").status_code == 200


@pytest.mark.parametrize("kind", ["token_classifier", "onnx token_classifier"])
@pytest.mark.parametrize("text", ["", " ", "\\t\\n ", "\\u3000"])
def test_token_classifier_texts_without_words_are_a_4xx(clients, kind, text):
    r = _post(clients[kind], '{"texts": ["Ada lived in London", "' + text + '"]}')
    assert r.status_code == 422, r.text
    assert "texts[1]: no words" in r.json()["error"]
    r = _post(clients[kind], '{"texts": ["Ada lived in London"]}')
    assert r.status_code == 200


@pytest.mark.parametrize(
    "kind", ["classifier", "regressor", "multilabel", "embedder", "onnx classifier"]
)
def test_empty_texts_are_fine_for_sequence_models(clients, kind):
    r = _post(clients[kind], '{"texts": ["", "   "]}')
    assert r.status_code == 200, r.text


# ----------------------------------------------------------------------
# 3. Answers name no server path
# ----------------------------------------------------------------------
def test_failed_load_answers_a_generic_reason_and_logs_the_detail(onnx_dirs, tmp_path, caplog):
    import shutil

    broken = tmp_path / "secret-place" / "broken-model"
    shutil.copytree(onnx_dirs["classifier"], broken)
    (broken / "model.int8.onnx").write_bytes(b"not an onnx graph")
    with caplog.at_level(logging.ERROR, logger="sktransformers.serve"):
        with TestClient(create_app(broken)) as c:
            deadline = time.monotonic() + 30
            while c.get("/healthz").status_code == 200:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            replies = [
                c.get("/healthz"),
                c.get("/readyz"),
                c.post("/predict", json={"texts": ["a"]}),
                c.get("/"),
            ]
    for r in replies[:3]:
        assert r.status_code == 503
        assert r.json()["error"] == "the model failed to load; the server's log has the details"
    for r in replies:
        assert "secret-place" not in r.text and str(tmp_path) not in r.text
    assert str(broken) in caplog.text  # the operator gets the detail


# ----------------------------------------------------------------------
# 4. The command line refuses bad values with a usage message
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "option, value, words",
    [
        ("--port", "-1", "not a port number"),
        ("--port", "70000", "not a port number"),
        ("--port", "http", "not a port number"),
        ("--threads", "0", "not a positive integer"),
        ("--workers", "0", "not a positive integer"),
        ("--max-batch-size", "-3", "not a positive integer"),
        ("--max-texts", "0", "not a positive integer"),
        ("--max-chars", "-1", "not a positive integer"),
        ("--max-body-bytes", "0", "not a positive integer"),
        ("--max-wait-ms", "-5", "not a finite number >= 0"),
        ("--max-wait-ms", "inf", "not a finite number >= 0"),
        ("--graceful-timeout", "nan", "not a finite number >= 0"),
    ],
)
def test_cli_bad_values_are_usage_errors(tmp_path, capsys, option, value, words):
    from sktransformers.__main__ import main

    # A missing directory: were the value accepted, main would return 2 without a usage line.
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", str(tmp_path / "missing"), f"{option}={value}"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: sktransformers serve" in err
    assert f"argument {option}" in err and words in err
    assert "Traceback" not in err


def test_cli_version_and_help(capsys):
    from sktransformers.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"sktransformers {sktransformers.__version__}"
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--log-level" in out and "log level (default info" in out
    assert "--no-docs" in out and "--max-body-bytes" in out


def test_cli_passes_the_new_options(tmp_path, monkeypatch):
    from sktransformers.__main__ import main
    from sktransformers.deploy import _serve

    seen = {}
    monkeypatch.setattr(_serve, "serve", lambda directory, **kw: seen.update(kw))
    assert main(["serve", str(tmp_path), "--no-docs", "--max-body-bytes", "1234"]) == 0
    assert seen["docs"] is False and seen["max_body_bytes"] == 1234
    assert main(["serve", str(tmp_path)]) == 0
    assert seen["docs"] is True and seen["max_body_bytes"] is None


def test_bad_config_values_in_python(models):
    for bad in (
        {"max_body_bytes": 0},
        {"max_body_bytes": -1},
        {"threads": 0},
        {"max_chars": True},
        {"docs": "no"},
    ):
        with pytest.raises(ValueError):
            create_app(models["classifier"], **bad)


# ----------------------------------------------------------------------
# 5. The server says what it serves
# ----------------------------------------------------------------------
def test_startup_log_and_readyz_say_what_is_served(onnx_server, onnx_dirs):
    ready = httpx.get(f"{onnx_server.base}/readyz", timeout=10).json()
    directory = Path(onnx_dirs["classifier"])
    assert ready["status"] == "ready"
    assert ready["model"] == ready["estimator"] == "TransformerClassifier"
    assert ready["kind"] == "classifier" and ready["task"] == "classification"
    assert ready["runtime"] == "onnx" and ready["precision"] == "int8"
    assert ready["model_dir"] == directory.name  # the name only: no server path
    assert ready["sktransformers_version"] == sktransformers.__version__
    assert ready["max_batch_size"] == 1 and ready["max_body_bytes"] == 1_000_000
    log = onnx_server.log_text()
    line = next(line for line in log.splitlines() if "serving TransformerClassifier" in line)
    assert str(directory.resolve()) in line
    for words in (
        "classification (classifier)",
        "onnx runtime",
        "precision int8",
        f"sktransformers {sktransformers.__version__}",
    ):
        assert words in line, line


@pytest.mark.parametrize(
    "kind, task, precision",
    [
        ("classifier", "classification", "fp32"),
        ("regressor", "regression", "fp32"),
        ("multilabel", "multilabel classification", "fp32"),
        ("token_classifier", "token classification", "fp32"),
        ("embedder", "embedding", "fp32"),
        ("onnx token_classifier", "token classification", "fp32"),
    ],
)
def test_readyz_task_and_precision_of_every_kind(clients, kind, task, precision):
    ready = clients[kind].get("/readyz").json()
    assert (ready["task"], ready["precision"]) == (task, precision)
    assert ready["runtime"] == ("onnx" if kind.startswith("onnx") else "torch")


def test_saved_directory_readyz_and_log(models, tmp_path, caplog):
    saved = models["multilabel"].save_pretrained(tmp_path / "emotions")
    with caplog.at_level(logging.INFO, logger="sktransformers.serve"):
        with TestClient(create_app(saved)) as c:
            wait_ready(c)
            ready = c.get("/readyz").json()
    assert ready["model_dir"] == "emotions" and str(tmp_path) not in str(ready)
    assert ready["task"] == "multilabel classification" and ready["runtime"] == "torch"
    assert f"from {saved}" in caplog.text and "multilabel classification" in caplog.text


# ----------------------------------------------------------------------
# 6. OpenAPI schema, docs and a root page
# ----------------------------------------------------------------------
def test_openapi_docs_and_root(onnx_server):
    base = onnx_server.base
    schema = httpx.get(f"{base}/openapi.json", timeout=10).json()
    assert {"/predict", "/transform", "/healthz", "/readyz", "/metrics", "/"} <= set(
        schema["paths"]
    )
    body = schema["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
    request = schema["components"]["schemas"][body["schema"]["$ref"].split("/")[-1]]
    assert request["additionalProperties"] is False and request["required"] == ["texts"]
    texts = request["properties"]["texts"]
    assert texts["minItems"] == 1 and texts["maxItems"] == 256
    assert texts["items"]["anyOf"][0] == {"type": "string", "maxLength": 10_000}
    answers = schema["paths"]["/predict"]["post"]["responses"]
    assert {"200", "400", "413", "422"} <= set(answers)
    assert answers["422"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorBody")
    docs = httpx.get(f"{base}/docs", timeout=10)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    root = httpx.get(f"{base}/", timeout=10).json()
    assert root["service"] == "sktransformers" and root["version"] == sktransformers.__version__
    assert root["ready"] is True and root["model"] == "TransformerClassifier"
    assert root["docs"] == "/docs" and root["openapi"] == "/openapi.json"
    assert root["endpoints"]["predict"] == "POST /predict"


def test_no_docs_turns_off_docs_and_schema(models):
    with TestClient(create_app(models["classifier"], docs=False)) as c:
        assert c.get("/docs").status_code == 404
        assert c.get("/openapi.json").status_code == 404
        root = c.get("/").json()
        assert root["docs"] is None and root["openapi"] is None
        assert c.post("/predict", json={"texts": ["a"]}).status_code == 200


def test_answers_match_the_declared_schemas(clients):
    # Every kind's /predict (or /transform) and /readyz answer validates
    # against the pydantic models the OpenAPI schema is made from.
    from sktransformers.deploy._serve import ServeConfig, _schemas

    schemas = _schemas(ServeConfig())
    for kind, client in clients.items():
        r = _post(client, '{"texts": ["Ada lived in London"]}')
        assert r.status_code == 200, (kind, r.text)
        model = schemas["Embeddings" if kind == "embedder" else "Predictions"]
        model.model_validate(r.json())
        schemas["Ready"].model_validate(client.get("/readyz").json())
        schemas["About"].model_validate(client.get("/").json())
        schemas["ErrorBody"].model_validate(_post(client, '{"texts": []}').json())
