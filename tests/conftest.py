"""Shared fixtures: a tiny random BERT with the real MiniLM tokenizer, never a download."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest

# Tests never reach the Hugging Face Hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_model_dir():
    """A 2-layer, 32-wide random BERT saved with the real all-MiniLM-L6-v2 tokenizer."""
    return tiny_model_path()


_TINY_MODEL_PATH = None


def save_tiny_bert(path, tokenizer, vocab_size=None):
    """Save ``tokenizer`` and a tiny random BERT sized to it (seeded, global RNG left alone)."""
    import torch
    from transformers import BertConfig, BertModel

    tokenizer.save_pretrained(path)
    state = torch.random.get_rng_state()
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=vocab_size or tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(path)
    torch.random.set_rng_state(state)
    return str(path)


def tiny_model_path():
    """The tiny model directory as a plain function, built once per process.

    For code that needs the directory before fixtures exist (estimator
    instances given to ``parametrize_with_checks`` at collection time).
    Same model as the ``tiny_model_dir`` fixture; removed at exit.
    """
    global _TINY_MODEL_PATH
    if _TINY_MODEL_PATH is None:
        import atexit
        import shutil
        import tempfile

        from transformers import AutoTokenizer

        from sktransformers.engine._hub import DEFAULT_MODEL, resolve_model

        path = tempfile.mkdtemp(prefix="sktransformers-tiny-bert-")
        atexit.register(shutil.rmtree, path, ignore_errors=True)
        tokenizer = AutoTokenizer.from_pretrained(resolve_model(DEFAULT_MODEL))
        save_tiny_bert(path, tokenizer)
        _TINY_MODEL_PATH = path
    return _TINY_MODEL_PATH


@pytest.fixture(autouse=True)
def _seed():
    import torch

    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture
def sentiment_data():
    """A small, clearly separable two-class text set (80 texts)."""
    pos = ["a great film", "wonderful acting", "i loved it", "truly excellent", "great fun"]
    neg = ["a terrible film", "awful acting", "i hated it", "truly boring", "dull mess"]
    X = (pos + neg) * 8
    y = (["pos"] * 5 + ["neg"] * 5) * 8
    return X, y


def shared_data(name):
    """The data folder holding ``name/``, or a skip that says where it was looked for.

    The folder is the package's one convention (``sktransformers.datasets.get_data_dir``):
    ``$SKTRANSFORMERS_DATA_DIR``, else ``../shared/data`` beside the checkout. The README's
    "Data the tests use" lists every data set a test may read.
    """
    from sktransformers.datasets import get_data_dir

    base = get_data_dir()
    if not (base / name).is_dir():
        pytest.skip(
            f"{name}/ not found in {base}: set SKTRANSFORMERS_DATA_DIR to the folder holding "
            f"{name}/ (the README's 'Data the tests use' says where each data set comes from)"
        )
    return base


@pytest.fixture
def glue_dir():
    return shared_data("glue") / "glue"


def pytest_collection_modifyitems(config, items):
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        has_cuda = False
    skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(skip_gpu)


def wait_ready(client, timeout=60):
    """Poll a server's ``/readyz`` (a TestClient) until the model is loaded."""
    import time

    deadline = time.monotonic() + timeout
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "the server did not get ready"
        time.sleep(0.05)
