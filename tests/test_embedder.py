"""TransformerEmbedder: embeddings as a scikit-learn transformer."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from sktransformers import TransformerClassifier, TransformerEmbedder

TEXTS = [
    "short",
    "a somewhat longer text here",
    "mid length text",
    "x",
    "the longest text of them all by quite a margin, really",
]


def test_shape_order_and_padding_do_not_matter(tiny_model_dir):
    emb = TransformerEmbedder(tiny_model_dir, batch_size=2).fit(TEXTS)
    out = emb.transform(TEXTS)
    assert out.shape == (5, 32) and out.dtype == np.float32
    assert emb.n_features_out_ == 32
    # batched (sorted, padded) == one text at a time, in the caller's order
    alone = np.vstack([emb.transform([t]) for t in TEXTS])
    np.testing.assert_allclose(out, alone, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(emb.transform(TEXTS[::-1]), out[::-1], rtol=1e-4, atol=1e-5)
    names = emb.get_feature_names_out()
    assert names.tolist()[:2] == ["transformerembedder0", "transformerembedder1"]
    assert len(names) == 32
    # a pair is embedded as one joint input
    pairs = emb.transform([("a cat", "a dog"), ("rain", "sun")])
    assert pairs.shape == (2, 32)


def test_pooling_and_normalisation(tiny_model_dir):
    mean = TransformerEmbedder(tiny_model_dir).fit(TEXTS).transform(TEXTS)
    cls = TransformerEmbedder(tiny_model_dir, pooling="cls").fit(TEXTS).transform(TEXTS)
    unit = TransformerEmbedder(tiny_model_dir, normalize=True).fit(TEXTS).transform(TEXTS)
    assert not np.allclose(mean, cls)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(
        unit, mean / np.linalg.norm(mean, axis=1, keepdims=True), rtol=1e-4, atol=1e-6
    )


def test_parameters_stored_verbatim_validated_in_fit(tiny_model_dir):
    emb = TransformerEmbedder(tiny_model_dir, pooling="max")  # no error yet
    assert emb.get_params()["pooling"] == "max"
    with pytest.raises(InvalidParameterError, match="pooling"):
        emb.fit(TEXTS)
    assert clone(TransformerEmbedder(tiny_model_dir, normalize=True)).normalize is True
    fitted = TransformerEmbedder(tiny_model_dir).fit(TEXTS)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(TEXTS), fitted.transform(TEXTS))


def test_embedder_in_pipeline_and_grid_search(tiny_model_dir, sentiment_data):
    X, y = sentiment_data
    pipe = make_pipeline(TransformerEmbedder(tiny_model_dir), LogisticRegression(max_iter=500))
    pipe.fit(X, y)
    assert pipe.predict(X[:3]).shape == (3,)
    assert pipe.score(X, y) > 0.5
    search = GridSearchCV(
        pipe,
        {"transformerembedder__pooling": ["mean", "cls"], "logisticregression__C": [0.1, 10.0]},
        cv=2,
        error_score="raise",
    )
    search.fit(X, y)
    assert set(search.best_params_) == {"transformerembedder__pooling", "logisticregression__C"}
    assert search.predict(X[:2]).shape == (2,)


def test_embeds_with_a_fine_tuned_backbone(tiny_model_dir, sentiment_data, tmp_path):
    X, y = sentiment_data
    clf = TransformerClassifier(
        tiny_model_dir, max_epochs=1, batch_size=16, lr=5e-3, random_state=0, device="cpu"
    ).fit(X, y)
    plain = TransformerEmbedder(tiny_model_dir).fit(X).transform(X)
    by_object = TransformerEmbedder(clf.backbone()).fit(X).transform(X)
    by_dir = TransformerEmbedder(clf.save_pretrained(tmp_path / "clf")).fit(X).transform(X)
    np.testing.assert_allclose(by_object, by_dir, rtol=1e-5, atol=1e-6)
    assert not np.allclose(by_object, plain)
    # the fine-tuned model's own pooled features are what the embedder returns
    import torch

    from sktransformers.engine._data import EncodedDataset, PadCollator, check_texts, encode

    module = clf.net_.module_.eval()
    dataset = EncodedDataset(encode(clf.tokenizer_, check_texts(X[:4]), 128))
    inputs, _ = PadCollator(dataset, 0)(list(range(4)))
    with torch.no_grad():
        features = module.embed(**inputs).numpy()
    np.testing.assert_allclose(by_object[:4], features, rtol=1e-4, atol=1e-5)


def test_save_pretrained_round_trip(tiny_model_dir, sentiment_data, tmp_path):
    import json

    from sktransformers.engine import _persistence

    X, y = sentiment_data
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        TransformerEmbedder(tiny_model_dir).save_pretrained(tmp_path / "unfitted")
    emb = TransformerEmbedder(
        tiny_model_dir, pooling="cls", normalize=True, max_length=16, batch_size=8
    ).fit()
    path = emb.save_pretrained(tmp_path / "emb")
    meta = json.loads((path / "sktransformers.json").read_text())
    assert meta["format"] == _persistence.FORMAT and meta["estimator"] == "TransformerEmbedder"
    assert meta["params"]["pooling"] == "cls" and "model" not in meta["params"]
    assert not (path / _persistence.HEADS_FILE).exists()
    assert not list(tmp_path.glob(".emb.*"))  # no temporary directory left behind

    # from_pretrained and the generic loader (the one the HTTP server uses) agree
    for loaded in (TransformerEmbedder.from_pretrained(path), _persistence.load(path)):
        assert type(loaded) is TransformerEmbedder
        assert loaded.get_params()["pooling"] == "cls" and loaded.max_length == 16
        assert loaded.n_features_out_ == 32
        np.testing.assert_array_equal(loaded.transform(X), emb.transform(X))
    # overrides, and the wrong class is refused
    plain = TransformerEmbedder.from_pretrained(path, normalize=False, device="cpu")
    assert plain.normalize is False and plain.device_ == "cpu"
    assert not np.allclose(np.linalg.norm(plain.transform(X[:3]), axis=1), 1.0)
    with pytest.raises(ValueError, match="TransformerEmbedder"):
        TransformerClassifier.from_pretrained(path)
    with pytest.raises(ValueError, match="Unknown parameters"):
        TransformerEmbedder.from_pretrained(path, heads=2)

    # saving again over the directory replaces it (atomically) and still loads
    TransformerEmbedder(tiny_model_dir).fit().save_pretrained(path)
    assert TransformerEmbedder.from_pretrained(path).pooling == "mean"

    # the directory is a Hugging Face model directory: model= for a classifier
    clf = TransformerClassifier(
        path, max_epochs=1, batch_size=16, random_state=0, device="cpu"
    ).fit(X, y)
    assert clf.predict(X[:4]).shape == (4,)


def test_save_pretrained_keeps_a_fine_tuned_backbone(tiny_model_dir, sentiment_data, tmp_path):
    X, y = sentiment_data
    clf = TransformerClassifier(
        tiny_model_dir, max_epochs=1, batch_size=16, lr=5e-3, random_state=0, device="cpu"
    ).fit(X, y)
    emb = TransformerEmbedder(clf.backbone()).fit()  # model= is an object: not saved as JSON
    loaded = TransformerEmbedder.from_pretrained(emb.save_pretrained(tmp_path / "tuned"))
    np.testing.assert_allclose(loaded.transform(X), emb.transform(X), rtol=1e-5, atol=1e-6)
    assert not np.allclose(
        loaded.transform(X), TransformerEmbedder(tiny_model_dir).fit().transform(X)
    )
