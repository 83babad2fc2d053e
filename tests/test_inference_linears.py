"""Linear weights prepared once per inference pass: same numbers, plain modules afterwards."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from sktransformers import TransformerClassifier, TransformerEmbedder
from sktransformers.engine import _inference_linears as il

needs_onednn = pytest.mark.skipif(
    not il.can_pack(), reason="oneDNN packed linear kernels are not available here"
)

TEXTS = [
    "a moving, beautifully shot film with a story that stays with you for days",
    "dull, overlong and badly acted from the first scene to the last",
] * 40  # about 1,600 tokens: above MIN_TOKENS, so prediction prepares the weights
Y = [1, 0] * 40


@pytest.fixture(autouse=True)
def packing_on(monkeypatch):
    """Pack wherever oneDNN works (by default only AVX-512 CPUs pack): the path tested here."""
    monkeypatch.setenv("SKTRANSFORMERS_ONEDNN", "1")


@pytest.fixture
def passes(monkeypatch):
    """Record (layers prepared, dtype, packed) for each prepared inference pass."""
    calls = []
    real = il.prepared_linears

    def recording(module, dtype=torch.float32, pack=True):
        context = real(module, dtype=dtype, pack=pack)

        class Recorder:
            def __enter__(self):
                n = context.__enter__()
                calls.append((n, dtype, pack))
                return n

            def __exit__(self, *exc):
                return context.__exit__(*exc)

        return Recorder()

    monkeypatch.setattr(il, "prepared_linears", recording)
    return calls


@pytest.fixture
def no_onednn(monkeypatch):
    """SKTRANSFORMERS_ONEDNN=0, as a user would set it."""

    def off():
        monkeypatch.setenv("SKTRANSFORMERS_ONEDNN", "0")

    return off


def _plain_linears(module):
    return all("forward" not in vars(m) for m in module.modules())


def _n_linears(module):
    return sum(type(m) is torch.nn.Linear for m in module.modules())


@needs_onednn
def test_packed_prediction_equals_plain_and_leaves_modules_plain(tiny_model_dir, passes, no_onednn):
    est = TransformerClassifier(
        tiny_model_dir,
        max_epochs=1,
        batch_size=16,
        device="cpu",
        validation_fraction=0.25,
        random_state=0,
    ).fit(TEXTS, Y)
    # The 20 held-out rows are about 400 tokens, below MIN_TOKENS: nothing prepared in fit.
    assert passes == []
    packed = est.predict_proba(TEXTS)
    n = _n_linears(est.net_.module_)
    assert passes == [(n, torch.float32, True)] and n > 0
    assert _plain_linears(est.net_.module_)

    no_onednn()  # float32 without packing: nothing to prepare
    plain = est.predict_proba(TEXTS)
    assert len(passes) == 1
    np.testing.assert_allclose(packed, plain, atol=1e-5)
    np.testing.assert_array_equal(est.classes_[packed.argmax(1)], est.predict(TEXTS))

    # After a prepared pass the estimator pickles and keeps training as before.
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(again.predict_proba(TEXTS), plain, atol=1e-5)
    est.partial_fit(TEXTS, Y)


def test_bf16_prediction_casts_weights_once_with_autocast_results(
    tiny_model_dir, passes, no_onednn, monkeypatch
):
    # The path a GPU takes (cast, no packing) and the CPU's packed bf16 path
    # both give what autocast gives with the float32 weights.
    est = TransformerClassifier(
        tiny_model_dir,
        max_epochs=1,
        batch_size=16,
        device="cpu",
        precision="bf16",
        validation_fraction=None,
        random_state=0,
    ).fit(TEXTS, Y)
    n = _n_linears(est.net_.module_)
    packed = None
    if il.can_pack(torch.bfloat16):
        packed = est.predict_proba(TEXTS)
        assert passes[-1] == (n, torch.bfloat16, True)
    no_onednn()
    cast = est.predict_proba(TEXTS)
    assert passes[-1] == (n, torch.bfloat16, False)
    assert _plain_linears(est.net_.module_)

    # Reference: autocast over the plain float32 weights, nothing prepared.
    monkeypatch.setattr(il, "MIN_TOKENS", 10**9)
    count = len(passes)
    reference = est.predict_proba(TEXTS)
    assert len(passes) == count
    np.testing.assert_allclose(cast, reference, atol=1e-6)
    if packed is not None:
        np.testing.assert_allclose(packed, reference, atol=2e-2)


def test_short_inputs_and_compile_are_not_prepared(tiny_model_dir, passes):
    est = TransformerClassifier(
        tiny_model_dir, max_epochs=1, batch_size=16, device="cpu", random_state=0
    ).fit(TEXTS, Y)
    est.predict(TEXTS[:4])  # a few dozen tokens: preparing would cost more than it saves
    assert passes == []
    est.net_.compile_model = True  # compiled graphs keep their own kernels
    with est.net_.inference_kernels(_dataset(est)):
        pass
    assert passes == []


def _dataset(est):
    from sktransformers.engine._data import EncodedDataset, check_texts, encode

    return EncodedDataset(encode(est.tokenizer_, check_texts(TEXTS), est.max_length))


@needs_onednn
def test_validation_passes_are_prepared(tiny_model_dir, passes):
    texts = TEXTS * 4  # 80 held-out rows: about 1,600 tokens
    y = Y * 4
    TransformerClassifier(
        tiny_model_dir,
        max_epochs=2,
        batch_size=32,
        device="cpu",
        validation_fraction=0.25,
        random_state=0,
    ).fit(texts, y)
    assert len(passes) == 2 and all(n > 0 for n, _, _ in passes)  # one per epoch


@needs_onednn
def test_embedder_is_prepared_and_matches(tiny_model_dir, passes, no_onednn):
    emb = TransformerEmbedder(tiny_model_dir, device="cpu").fit(TEXTS)
    packed = emb.transform(TEXTS)
    assert len(passes) == 1 and passes[0][0] > 0
    assert _plain_linears(emb.backbone_)
    no_onednn()
    np.testing.assert_allclose(packed, emb.transform(TEXTS), atol=1e-5)


@pytest.mark.parametrize("pack", [False, pytest.param(True, marks=needs_onednn)])
def test_prepared_layer_falls_back_when_gradients_are_on(pack):
    layer = torch.nn.Linear(8, 4)
    x = torch.randn(5, 8, requires_grad=True)
    with il.prepared_linears(layer, pack=pack) as n:
        assert n == 1
        out = layer(x)  # gradients enabled: the plain forward, so backward works
        out.sum().backward()
        with torch.inference_mode():
            prepared = layer(x.detach())
    assert x.grad is not None
    torch.testing.assert_close(prepared, layer(x).detach(), atol=1e-5, rtol=1e-5)
    assert "forward" not in vars(layer)


def test_only_float32_linears_are_prepared():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 4).bfloat16())
    with il.prepared_linears(model, pack=False) as n:
        assert n == 1
        assert "forward" in vars(model[0]) and "forward" not in vars(model[1])
    assert _plain_linears(model)


@pytest.mark.parametrize(
    ("capability", "setting", "packs"),
    [
        ("AVX512", None, True),
        ("AVX2", None, False),  # measured slower or no faster there
        ("AVX2", "1", True),
        ("AVX512", "0", False),
    ],
)
def test_cpu_passes_pack_by_default_only_with_avx512(
    tiny_model_dir, passes, monkeypatch, capability, setting, packs
):
    if packs and not il.can_pack():
        pytest.skip("oneDNN packed linear kernels are not available here")
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    if setting is None:
        monkeypatch.delenv("SKTRANSFORMERS_ONEDNN")
    else:
        monkeypatch.setenv("SKTRANSFORMERS_ONEDNN", setting)
    est = TransformerClassifier(
        tiny_model_dir, max_epochs=1, batch_size=16, device="cpu", random_state=0
    ).fit(TEXTS, Y)
    est.predict(TEXTS)
    # float32 without packing has nothing to prepare: no prepared pass at all.
    assert passes == ([(_n_linears(est.net_.module_), torch.float32, True)] if packs else [])
