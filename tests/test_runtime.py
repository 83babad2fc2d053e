"""Device, precision (fp16 with a scaler), compile once, layer pruning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sktransformers import TransformerClassifier
from sktransformers.engine._runtime import resolve_runtime

X = ["a great film", "awful acting", "i loved it", "truly boring"] * 4
Y = ["pos", "neg", "pos", "neg"] * 4


def small(model, **kw):
    return TransformerClassifier(
        model, **{"max_epochs": 1, "random_state": 0, "batch_size": 4, **kw}
    )


def test_auto_precision_by_device(monkeypatch):
    assert resolve_runtime("cpu", "auto").amp is None
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    old_gpu = resolve_runtime("cuda", "auto")  # T4, V100
    assert old_gpu.amp == "fp16" and old_gpu.scaler_enabled
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    new_gpu = resolve_runtime("cuda", "auto")  # Ampere and newer
    assert new_gpu.amp == "bf16" and not new_gpu.scaler_enabled
    assert resolve_runtime("cuda", "fp32").amp is None


def test_fp16_trains_with_a_grad_scaler_on_cpu(tiny_model_dir):
    est = small(tiny_model_dir, precision="fp16", max_epochs=2).fit(X, Y)
    scaler = est.net_.grad_scaler_
    assert scaler.is_enabled()
    assert scaler.get_scale() > 0
    assert all(p.dtype == torch.float32 for p in est.net_.module_.parameters())
    proba = est.predict_proba(X)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    # The fp16 forward really ran in half precision under autocast.
    with est._runtime.autocast():
        out = est.net_.module_.heads["default"](torch.randn(2, 32))
    assert out.dtype == torch.float16


def test_scaler_skips_steps_with_non_finite_gradients(tiny_model_dir):
    est = small(tiny_model_dir, precision="fp16")
    est.fit(X, Y)
    net = est.net_
    before = {k: v.clone() for k, v in net.module_.state_dict().items()}
    for p in net.module_.parameters():
        p.grad = torch.full_like(p, float("inf"))
    net._apply_gradients(batch=None)
    for k, v in net.module_.state_dict().items():
        torch.testing.assert_close(v, before[k])


def test_compile_compiles_once_and_keeps_the_plain_module(tiny_model_dir, monkeypatch):
    calls = []

    def fake_compile(module, **kwargs):
        calls.append(module)
        return module

    monkeypatch.setattr(torch, "compile", fake_compile)
    est = small(tiny_model_dir, compile=True, max_epochs=2).fit(X, Y)
    est.predict(X)
    module = est.net_.module_
    assert type(module).__name__ == "TransformerModel"  # not an OptimizedModule
    assert calls == [module]  # one compile, of the module itself, not of a compiled one
    assert est.net_.compile is False  # skorch's own compile stays off


def test_num_layers_prunes_the_top_layers(tiny_model_dir, tmp_path):
    est = small(tiny_model_dir, num_layers=1).fit(X, Y)
    backbone = est.net_.module_.backbone
    assert backbone.config.num_hidden_layers == 1
    assert len(backbone.encoder.layer) == 1
    loaded = TransformerClassifier.from_pretrained(est.save_pretrained(tmp_path / "p"))
    assert len(loaded.net_.module_.backbone.encoder.layer) == 1
    np.testing.assert_allclose(loaded.predict_proba(X), est.predict_proba(X), atol=1e-5)
    with pytest.raises(ValueError, match="only 2 layers"):
        small(tiny_model_dir, num_layers=5).fit(X, Y)
