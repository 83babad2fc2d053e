"""Packed oneDNN linear weights for CPU inference: same numbers, plain modules afterwards."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from sktransformers import TransformerClassifier, TransformerEmbedder, _onednn

pytestmark = pytest.mark.skipif(
    not _onednn.available(), reason="oneDNN packed linear kernels are not available here"
)

TEXTS = [
    "a moving, beautifully shot film with a story that stays with you for days",
    "dull, overlong and badly acted from the first scene to the last",
] * 40  # about 1,600 tokens: above MIN_TOKENS, so prediction packs


@pytest.fixture
def packs(monkeypatch):
    """Record how many layers each inference pass packed."""
    counts = []
    real = _onednn.packed_linears

    def recording(module):
        context = real(module)

        class Recorder:
            def __enter__(self):
                n = context.__enter__()
                counts.append(n)
                return n

            def __exit__(self, *exc):
                return context.__exit__(*exc)

        return Recorder()

    monkeypatch.setattr(_onednn, "packed_linears", recording)
    return counts


def _plain_linears(module):
    return all("forward" not in vars(m) for m in module.modules())


def test_packed_prediction_equals_plain_and_leaves_modules_plain(
    tiny_model_dir, packs, monkeypatch
):
    y = [1, 0] * 40
    est = TransformerClassifier(tiny_model_dir, max_epochs=1, batch_size=16, device="cpu",
                                validation_fraction=0.25, random_state=0).fit(TEXTS, y)
    # The 20 held-out rows are about 400 tokens, below MIN_TOKENS: no packing in fit.
    assert packs == []
    packed = est.predict_proba(TEXTS)
    n_linears = sum(type(m) is torch.nn.Linear for m in est.net_.module_.modules())
    assert packs == [n_linears] and n_linears > 0
    assert _plain_linears(est.net_.module_)

    monkeypatch.setenv("SKTRANSFORMERS_ONEDNN", "0")
    monkeypatch.setattr(_onednn, "_checked", {})
    plain = est.predict_proba(TEXTS)
    assert packs == [n_linears, 0]
    np.testing.assert_allclose(packed, plain, atol=1e-5)
    np.testing.assert_array_equal(est.classes_[packed.argmax(1)], est.predict(TEXTS))

    # After a packed pass the estimator pickles and keeps training as before.
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(again.predict_proba(TEXTS), plain, atol=1e-5)
    est.partial_fit(TEXTS, y)


def test_short_inputs_bf16_and_compile_do_not_pack(tiny_model_dir, packs):
    y = [1, 0] * 40
    est = TransformerClassifier(tiny_model_dir, max_epochs=1, batch_size=16, device="cpu",
                                random_state=0).fit(TEXTS, y)
    est.predict(TEXTS[:4])  # a few dozen tokens: packing would cost more than it saves
    assert packs == []
    est.net_.amp = "bf16"  # autocast runs linear layers in bf16; packing is float32 only
    est.predict(TEXTS)
    assert packs == []
    est.net_.amp = None
    est.predict(TEXTS)
    assert len(packs) == 1 and packs[0] > 0


def test_validation_passes_pack(tiny_model_dir, packs):
    texts = TEXTS * 4  # 80 held-out rows: about 1,600 tokens
    y = [1, 0] * 160
    TransformerClassifier(tiny_model_dir, max_epochs=2, batch_size=32, device="cpu",
                          validation_fraction=0.25, random_state=0).fit(texts, y)
    assert len(packs) == 2 and all(n > 0 for n in packs)  # one per epoch


def test_embedder_packs_and_matches(tiny_model_dir, packs, monkeypatch):
    emb = TransformerEmbedder(tiny_model_dir, device="cpu").fit(TEXTS)
    packed = emb.transform(TEXTS)
    assert len(packs) == 1 and packs[0] > 0
    assert _plain_linears(emb.backbone_)
    monkeypatch.setenv("SKTRANSFORMERS_ONEDNN", "0")
    monkeypatch.setattr(_onednn, "_checked", {})
    np.testing.assert_allclose(packed, emb.transform(TEXTS), atol=1e-5)


def test_packed_layer_falls_back_when_gradients_are_on():
    layer = torch.nn.Linear(8, 4)
    x = torch.randn(5, 8, requires_grad=True)
    with _onednn.packed_linears(layer) as n:
        assert n == 1
        out = layer(x)  # gradients enabled: the plain forward, so backward works
        out.sum().backward()
        with torch.inference_mode():
            packed = layer(x.detach())
    assert x.grad is not None
    torch.testing.assert_close(packed, layer(x).detach(), atol=1e-5, rtol=1e-5)
    assert "forward" not in vars(layer)


def test_only_float32_cpu_linears_are_packed():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 4).bfloat16())
    with _onednn.packed_linears(model) as n:
        assert n == 1
        assert "forward" in vars(model[0]) and "forward" not in vars(model[1])
    assert _plain_linears(model)
