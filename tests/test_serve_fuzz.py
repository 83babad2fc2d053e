"""Fuzz a live `sktransformers serve` with schemathesis, driven by its own OpenAPI schema.

For each kind of server (a torch classifier, a torch token classifier, an
ONNX classifier), a real server process on 127.0.0.1 gets requests generated
from ``/openapi.json``: valid ones (positive) and ones that break the schema
(negative: wrong types, missing and extra fields, ...). No answer may be a
5xx, every answer must be documented in the schema (status code, content
type, body), and ``/healthz`` must answer 200 afterwards. Derandomized, with
a bounded number of examples: the same requests on every run. What the fuzzer
found became named tests in tests/test_serve_trust.py.
"""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")
schemathesis = pytest.importorskip("schemathesis")
httpx = pytest.importorskip("httpx")
requests = pytest.importorskip("requests")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from test_serve_trust import fit_models, running_server  # noqa: E402

from sktransformers.deploy._export import export_onnx  # noqa: E402

EXAMPLES = 60  # per operation and generation mode
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def model_dirs(tiny_model_dir, tmp_path_factory):
    models = fit_models(tiny_model_dir, ["classifier", "token_classifier"])
    root = tmp_path_factory.mktemp("fuzz-models")
    return {
        "classifier": models["classifier"].save_pretrained(root / "classifier"),
        "token_classifier": models["token_classifier"].save_pretrained(root / "ner"),
        "onnx classifier": export_onnx(models["classifier"], root / "onnx", quantize="int8"),
    }


@pytest.fixture(scope="module", params=["classifier", "token_classifier", "onnx classifier"])
def live_server(request, model_dirs, tmp_path_factory):
    # Small limits keep the generated requests cheap; the schema states them.
    with running_server(
        model_dirs[request.param],
        tmp_path_factory.mktemp("fuzz-logs"),
        "--max-texts",
        "4",
        "--max-chars",
        "64",
        "--log-level",
        "warning",
    ) as server:
        yield server


def _fuzz(operation, mode, base, session):
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        case.call_and_validate(base_url=base, session=session, checks=CHECKS, timeout=30)

    run()


def test_fuzz_live_server(live_server):
    base = live_server.base
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json", timeout=10)
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {op.label for op in operations}
    assert {"POST /predict", "POST /transform", "GET /healthz", "GET /readyz"} <= labels
    with requests.Session() as session:
        for operation in operations:
            _fuzz(operation, GenerationMode.POSITIVE, base, session)
            if operation.method.upper() == "POST":  # GETs take nothing to break
                _fuzz(operation, GenerationMode.NEGATIVE, base, session)
    assert live_server.proc.poll() is None, live_server.log_text()
    assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
    assert "Traceback" not in live_server.log_text(), live_server.log_text()
