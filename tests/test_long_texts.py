"""long_texts="chunk": windows of max_length tokens, outputs averaged per text."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sktransformers import TransformerClassifier, TransformerEmbedder, TransformerRegressor
from sktransformers.engine._data import TextInput, encode

LONG = " ".join(["the film was long"] * 30)


def test_windows_overlap_by_stride_and_cover_the_text(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    whole = tok(LONG, add_special_tokens=False)["input_ids"]
    enc = encode(tok, TextInput([LONG, "short"]), 16, chunk=True, stride=4)
    windows = [ids[1:-1] for ids, d in zip(enc.input_ids, enc.doc) if d == 0]
    assert all(len(ids) <= 16 for ids in enc.input_ids)
    assert windows[0] == whole[:14]
    assert windows[1][:4] == windows[0][-4:]  # stride tokens shared
    covered = windows[0] + [t for w in windows[1:] for t in w[4:]]
    assert covered == whole  # nothing dropped
    assert list(enc.doc).count(1) == 1


def _window_logits(est, text):
    enc = encode(est.tokenizer_, TextInput([text]), est.max_length, chunk=True, stride=est.stride)
    module = est.net_.module_.eval()
    outs = []
    with torch.no_grad():
        for ids, types in zip(enc.input_ids, enc.token_type_ids):
            x = torch.tensor([ids])
            outs.append(module(x, torch.ones_like(x), torch.tensor([types])).numpy()[0])
    return np.mean(outs, axis=0), len(outs)


def test_classifier_averages_window_logits(tiny_model_dir):
    X = [LONG, "short and good", LONG + " bad", "fine"] * 2
    est = TransformerClassifier(
        tiny_model_dir, max_length=16, stride=4, long_texts="chunk", max_epochs=1, random_state=0
    ).fit(X, [0, 1, 0, 1] * 2)
    mean_logits, n_windows = _window_logits(est, LONG)
    assert n_windows > 3
    expected = np.exp(mean_logits) / np.exp(mean_logits).sum()
    np.testing.assert_allclose(est.predict_proba([LONG])[0], expected, atol=1e-5)
    truncated = est.set_params(long_texts="truncate").predict_proba([LONG])[0]
    assert not np.allclose(truncated, expected, atol=1e-6)


def test_chunk_reads_evidence_past_max_length(tiny_model_dir):
    filler = " ".join(["plain words here"] * 5)  # 15 tokens: the first window is all filler
    X = [filler + " excellent", filler + " terrible"] * 12
    y = [1, 0] * 12
    kw = dict(max_length=16, stride=4, max_epochs=10, lr=2e-3, batch_size=8, random_state=0)
    chunk = TransformerClassifier(tiny_model_dir, long_texts="chunk", **kw).fit(X, y)
    trunc = TransformerClassifier(tiny_model_dir, long_texts="truncate", **kw).fit(X, y)
    assert chunk.score(X, y) == 1.0
    assert trunc.score(X, y) == 0.5  # the evidence is past max_length: a coin flip


def test_regressor_and_embedder_chunk(tiny_model_dir):
    reg = TransformerRegressor(
        tiny_model_dir, max_length=16, stride=4, long_texts="chunk", max_epochs=1, random_state=0
    )
    reg.fit([LONG, "a", "b c"], [1.0, 2.0, 3.0])
    assert reg.predict([LONG, "x"]).shape == (2,)
    emb = TransformerEmbedder(
        tiny_model_dir, max_length=16, stride=4, long_texts="chunk", normalize=True
    ).fit()
    vectors = emb.transform([LONG, "x"])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    plain = TransformerEmbedder(tiny_model_dir, max_length=16).fit().transform([LONG])
    assert not np.allclose(plain[0] / np.linalg.norm(plain[0]), vectors[0], atol=1e-4)


def test_stride_must_leave_room_to_move(tiny_model_dir):
    with pytest.raises(ValueError, match="stride=8 must be less than half"):
        TransformerClassifier(tiny_model_dir, max_length=16, stride=8, long_texts="chunk").fit(
            ["a", "b"], [0, 1]
        )
