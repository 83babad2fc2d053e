"""`sktransformers serve`: endpoints, micro-batching, client mistakes, metrics, a real uvicorn."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("prometheus_client")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")
httpx = pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from sktransformers import (  # noqa: E402
    TransformerClassifier,
    TransformerEmbedder,
    TransformerRegressor,
)
from sktransformers import onnx as skonnx  # noqa: E402
from sktransformers.deploy._export import export_onnx  # noqa: E402
from sktransformers.deploy._serve import MicroBatcher, ServeConfig, create_app  # noqa: E402

TEXTS = ["a great film", "a terrible film", "i loved it", "i hated it", "wonderful", "dull"]
LABELS = ["pos", "neg", "pos", "neg", "pos", "neg"]
FAST = {"max_epochs": 1, "batch_size": 4, "device": "cpu", "random_state": 0, "max_length": 32}


@pytest.fixture(scope="module")
def classifier(tiny_model_dir):
    return TransformerClassifier(tiny_model_dir, **FAST).fit(TEXTS, LABELS)


@pytest.fixture(scope="module")
def onnx_dir(classifier, tmp_path_factory):
    return export_onnx(classifier, tmp_path_factory.mktemp("served-onnx"))


@pytest.fixture(scope="module")
def saved_dir(classifier, tmp_path_factory):
    return classifier.save_pretrained(tmp_path_factory.mktemp("served-saved"))


def _wait_ready(client, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get("/readyz").status_code == 200:
            return
        time.sleep(0.05)
    raise AssertionError(f"not ready: {client.get('/readyz').json()}")


@pytest.fixture(scope="module")
def client(onnx_dir):
    with TestClient(create_app(onnx_dir, max_texts=8, max_chars=100)) as c:
        _wait_ready(c)
        yield c


def test_predict_onnx_directory(client, onnx_dir):
    r = client.post("/predict", json={"texts": TEXTS})
    assert r.status_code == 200
    body = r.json()
    assert body["model"] == "TransformerClassifier"
    runtime = skonnx.load(onnx_dir)
    proba = runtime.predict_proba(TEXTS)
    for row, p, label in zip(body["predictions"], proba, runtime.predict(TEXTS)):
        assert row["label"] == label
        assert row["probabilities"] == pytest.approx({"neg": p[0], "pos": p[1]}, abs=1e-6)
    ready = client.get("/readyz").json()
    assert ready["runtime"] == "onnx" and ready["kind"] == "classifier"
    assert ready["max_batch_size"] == 1  # the default on a CPU: no micro-batching
    assert client.get("/healthz").json() == {"status": "ok"}


def test_saved_estimator_directory_uses_torch(saved_dir, classifier):
    with TestClient(create_app(saved_dir)) as c:
        _wait_ready(c)
        assert c.get("/readyz").json()["runtime"] == "torch"
        body = c.post("/predict", json={"texts": TEXTS[:2]}).json()
    proba = classifier.predict_proba(TEXTS[:2])
    assert [row["label"] for row in body["predictions"]] == classifier.predict(TEXTS[:2]).tolist()
    assert body["predictions"][0]["probabilities"]["pos"] == pytest.approx(proba[0, 1], abs=1e-6)


def test_pairs_regression_and_embeddings(tiny_model_dir):
    pairs = [[a, b] for a, b in zip(TEXTS, TEXTS[::-1])]
    clf = TransformerClassifier(tiny_model_dir, **FAST).fit([tuple(p) for p in pairs], LABELS)
    with TestClient(create_app(clf)) as c:
        body = c.post("/predict", json={"texts": pairs}).json()
        assert [r["label"] for r in body["predictions"]] == clf.predict(pairs).tolist()
        r = c.post("/predict", json={"texts": TEXTS})
        assert r.status_code == 422 and "pairs" in r.json()["error"]
    reg = TransformerRegressor(tiny_model_dir, **FAST).fit(TEXTS, np.arange(6.0))
    with TestClient(create_app(reg)) as c:
        values = [
            row["value"] for row in c.post("/predict", json={"texts": TEXTS}).json()["predictions"]
        ]
        np.testing.assert_allclose(values, reg.predict(TEXTS), atol=1e-6)
        assert c.post("/transform", json={"texts": TEXTS}).status_code == 404
    emb = TransformerEmbedder(tiny_model_dir, device="cpu", normalize=True).fit()
    with TestClient(create_app(emb)) as c:
        vectors = c.post("/transform", json={"texts": TEXTS}).json()["embeddings"]
        np.testing.assert_allclose(vectors, emb.transform(TEXTS), atol=1e-6)
        r = c.post("/predict", json={"texts": TEXTS})
        assert r.status_code == 404 and "/transform" in r.json()["error"]


def test_multilabel_and_token_classification(tiny_model_dir):
    import pandas as pd

    from sktransformers import TransformerTokenClassifier

    Y = pd.DataFrame({"joy": [1, 0, 1, 0, 1, 0], "anger": [0, 1, 0, 1, 1, 0]})
    clf = TransformerClassifier(tiny_model_dir, threshold=0.5, **FAST).fit(TEXTS, Y)
    with TestClient(create_app(clf)) as c:
        rows = c.post("/predict", json={"texts": TEXTS}).json()["predictions"]
    proba = clf.predict_proba(TEXTS)
    for row, p in zip(rows, proba):
        assert row["probabilities"] == pytest.approx({"joy": p[0], "anger": p[1]}, abs=1e-6)
        assert row["labels"] == [n for n, q in zip(["joy", "anger"], p) if q >= 0.5]
    ner = TransformerTokenClassifier(tiny_model_dir, max_epochs=1, device="cpu", random_state=0)
    ner.fit([["Ada", "Lovelace", "lived", "in", "London"]], [["B-PER", "I-PER", "O", "O", "B-LOC"]])
    text = "Grace Hopper visited Rome"
    with TestClient(create_app(ner)) as c:
        row = c.post("/predict", json={"texts": [text]}).json()["predictions"][0]
        assert c.post("/predict", json={"texts": [["a", "b"]]}).status_code == 422
    assert row["tags"] == ner.predict([text])[0]
    expected = ner.predict_entities([text])[0]
    assert [e["text"] for e in row["entities"]] == [e["text"] for e in expected]


BAD_REQUESTS = [
    ('{"texts": ["a", ', 400, "malformed JSON"),
    ("", 400, "empty request body"),
    ("[1, 2]", 422, "body"),
    ('{"texts": "a single string"}', 422, "texts"),
    ('{"texts": []}', 422, "empty"),
    ('{"texts": [1, "a"]}', 422, "texts[0]"),
    ('{"texts": [null]}', 422, "got null"),
    ('{"texts": ["a"], "labels": [1]}', 422, 'unknown field "labels"'),
    ('{"text": ["a"]}', 422, 'missing field "texts"'),
    ('{"texts": [["a", "b"]]}', 422, "single texts"),
    ('{"texts": ["a", ["b", "c"]]}', 422, "texts[1]"),
    ('{"texts": [["a", "b", "c"]]}', 422, "texts[0]"),
    ('{"texts": ["a", "b", "c", "d", "e", "f", "g", "h", "i"]}', 413, "at most 8"),
    ('{"texts": ["' + "x" * 101 + '"]}', 413, "limit is 100"),
]


@pytest.mark.parametrize("body, status, words", BAD_REQUESTS)
def test_client_mistakes_are_4xx_with_a_message(client, body, status, words):
    r = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert words in r.json()["error"]
    assert isinstance(r.json()["problems"], list)
    assert client.get("/healthz").status_code == 200


def test_other_mistakes(client):
    assert client.get("/predict").status_code == 405
    r = client.get("/no-such-page")
    assert r.status_code == 404 and r.json()["error"] == "Not Found"
    r = client.post("/predict", content=b"\xff\xfe", headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500
    r = client.post("/predict", content='{"texts": ["a"]}', headers={"content-type": "text/plain"})
    assert 400 <= r.status_code < 500
    r = client.post("/predict", content=b"x" * 100, headers={"content-length": str(10**9)})
    assert r.status_code == 413


def test_metrics(client):
    client.post("/predict", json={"texts": ["a", "b"]})
    client.post("/predict", json={"texts": []})
    text = client.get("/metrics").text
    assert 'sktransformers_requests_total{endpoint="/predict",status="200"}' in text
    assert 'sktransformers_requests_total{endpoint="/predict",status="422"}' in text
    assert "sktransformers_request_duration_seconds_bucket" in text
    assert "sktransformers_batch_size_bucket" in text
    assert 'sktransformers_model_info{kind="classifier",name="TransformerClassifier"' in text
    assert "sktransformers_model_ready 1.0" in text


def test_batch_size_follows_where_the_model_runs(onnx_dir, classifier, monkeypatch):
    # None (the default): 32 texts a call on a GPU, no batching on a CPU; a
    # number given is kept.
    from sktransformers.deploy._serve import AUTO_GPU_BATCH_SIZE, ServedModel

    assert ServeConfig().max_batch_size is None
    assert not ServedModel.wrap(classifier).on_gpu
    assert not ServedModel.wrap(skonnx.load(onnx_dir)).on_gpu
    with TestClient(create_app(onnx_dir, max_batch_size=8)) as c:
        _wait_ready(c)
        assert c.get("/readyz").json()["max_batch_size"] == 8
    monkeypatch.setattr(ServedModel, "on_gpu", property(lambda self: True))
    with TestClient(create_app(onnx_dir)) as c:
        _wait_ready(c)
        assert c.get("/readyz").json()["max_batch_size"] == AUTO_GPU_BATCH_SIZE
        assert c.app.state.batcher.enabled
        r = c.post("/predict", json={"texts": TEXTS[:3]})
        assert r.status_code == 200 and len(r.json()["predictions"]) == 3
    with pytest.raises(ValueError, match="max_batch_size"):
        create_app(onnx_dir, max_batch_size=0)


def test_concurrent_requests_share_model_calls(onnx_dir):
    app = create_app(onnx_dir, max_batch_size=64, max_wait_ms=200)
    with TestClient(app) as c:
        _wait_ready(c)
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            replies = list(
                pool.map(lambda i: c.post("/predict", json={"texts": [TEXTS[i % 6]] * 2}), range(8))
            )
        assert all(r.status_code == 200 for r in replies)
        assert [len(r.json()["predictions"]) for r in replies] == [2] * 8
        text = c.get("/metrics").text
    count = float(text.split("sktransformers_batch_size_count ")[1].split()[0])
    assert count < 8  # 8 requests, fewer model calls


def _run_batcher(max_batch_size, n_requests=8, fail_on=None, max_wait_ms=100):
    calls = []

    def run(key, texts):
        calls.append(list(texts))
        if fail_on is not None and fail_on in texts:
            raise ValueError("boom")
        return [t.upper() for t in texts]

    async def main():
        executor = concurrent.futures.ThreadPoolExecutor(1)
        batcher = MicroBatcher(
            run, max_batch_size=max_batch_size, max_wait_ms=max_wait_ms, executor=executor
        )
        batcher.start()
        jobs = [batcher.submit(("predict", False), [f"t{i}", f"u{i}"]) for i in range(n_requests)]
        results = await asyncio.gather(*jobs, return_exceptions=True)
        await batcher.stop()
        executor.shutdown()
        return results

    return asyncio.run(main()), calls


def test_micro_batcher_gathers_and_splits():
    results, calls = _run_batcher(max_batch_size=6)
    assert results == [[f"T{i}", f"U{i}"] for i in range(8)]
    assert [len(c) for c in calls] == [6, 6, 4]  # bounded by max_batch_size, in order


def test_micro_batcher_off_is_one_call_per_request():
    results, calls = _run_batcher(max_batch_size=1)
    assert results == [[f"T{i}", f"U{i}"] for i in range(8)]
    assert len(calls) == 8


def test_micro_batcher_isolates_a_failing_request():
    results, calls = _run_batcher(max_batch_size=64, fail_on="t3")
    assert isinstance(results[3], ValueError)
    assert [r for i, r in enumerate(results) if i != 3] == [
        [f"T{i}", f"U{i}"] for i in range(8) if i != 3
    ]


def test_micro_batcher_without_wait_batches_what_arrives_during_a_call():
    # max_wait_ms=0 (the default): a lone request goes to the model at once;
    # the requests that arrive while the model is busy form the next call.
    calls, busy, release = [], threading.Event(), threading.Event()

    def run(key, texts):
        calls.append(list(texts))
        if len(calls) == 1:
            busy.set()
            release.wait(10)
        return texts

    async def main():
        executor = concurrent.futures.ThreadPoolExecutor(1)
        batcher = MicroBatcher(run, max_batch_size=32, max_wait_ms=0, executor=executor)
        batcher.start()
        first = asyncio.ensure_future(batcher.submit(("predict", False), ["a"]))
        await asyncio.get_running_loop().run_in_executor(None, busy.wait, 10)
        rest = [
            asyncio.ensure_future(batcher.submit(("predict", False), [str(i)])) for i in range(5)
        ]
        await asyncio.sleep(0.05)
        release.set()
        results = await asyncio.gather(first, *rest)
        await batcher.stop()
        executor.shutdown()
        return results

    assert asyncio.run(main()) == [["a"]] + [[str(i)] for i in range(5)]
    assert calls == [["a"], ["0", "1", "2", "3", "4"]]
    assert ServeConfig().max_wait_ms == 0


def test_micro_batcher_drains_on_stop():
    calls = []

    async def main():
        executor = concurrent.futures.ThreadPoolExecutor(1)
        batcher = MicroBatcher(
            lambda k, t: calls.append(t) or t,
            max_batch_size=4,
            max_wait_ms=10_000,
            executor=executor,
        )
        batcher.start()
        jobs = [
            asyncio.ensure_future(batcher.submit(("predict", False), [str(i)])) for i in range(10)
        ]
        await asyncio.sleep(0.05)
        await batcher.stop()  # must not wait 10 s, must not drop the queued requests
        return await asyncio.gather(*jobs)

    start = time.monotonic()
    assert asyncio.run(main()) == [[str(i)] for i in range(10)]
    assert time.monotonic() - start < 5


def test_bad_options(onnx_dir, tmp_path):
    with pytest.raises(ValueError, match="max_texts"):
        create_app(onnx_dir, max_texts=0)
    with pytest.raises(ValueError, match="neither"):
        create_app(tmp_path)
    from sktransformers.__main__ import main

    assert main(["serve", str(tmp_path)]) == 2


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_uvicorn_process_and_graceful_shutdown(onnx_dir):
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # A long batching wait keeps the request in flight while SIGTERM arrives.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sktransformers",
            "serve",
            str(onnx_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--max-wait-ms",
            "1500",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.stdout.read()
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.2)
        assert httpx.post(f"{base}/predict", json={"texts": ["a"]}, timeout=30).status_code == 200
        r = httpx.post(
            f"{base}/predict",
            content="{oops",
            timeout=30,
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 400
        reply = {}

        def in_flight():
            reply["r"] = httpx.post(f"{base}/predict", json={"texts": TEXTS}, timeout=30)

        thread = threading.Thread(target=in_flight)
        thread.start()
        time.sleep(0.5)  # the request waits in the batcher
        proc.send_signal(signal.SIGTERM)
        thread.join(30)
        assert reply["r"].status_code == 200
        assert len(reply["r"].json()["predictions"]) == len(TEXTS)
        # uvicorn re-raises SIGTERM once shut down cleanly (exit status -15).
        assert proc.wait(30) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
