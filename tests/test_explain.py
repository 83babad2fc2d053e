"""Token attributions: completeness, words and offsets, pairs, regressors, targets, errors."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from sktransformers import TransformerClassifier, TransformerRegressor
from sktransformers.explain._attributions import (
    Explanations,
    comprehensiveness,
    delete_words,
    explain,
)

pytest.importorskip("captum")

# Completeness tolerance at the default n_steps=50 (Gauss-Legendre, float32):
# |sum of scores - (output - baseline output)|, in log-probability units.
# Measured: about 1e-7 on the tiny model; with all-MiniLM-L6-v2 fine-tuned on
# SST-2, median 2e-6 and max 3.2e-4 over 40 dev sentences (docs/explaining.md).
COMPLETENESS_ATOL = 1e-3

GOOD = ["great", "wonderful", "excellent", "superb", "lovely"]
BAD = ["awful", "terrible", "boring", "dreadful", "horrible"]
FILLERS = ["the film was", "this movie is", "honestly the plot felt", "overall it seems"]


def _toy_data():
    """Sentiment carried by one keyword among filler words: clearly separable."""
    X, y = [], []
    for filler in FILLERS:
        for good, bad in zip(GOOD, BAD):
            X += [f"{filler} {good} today", f"{filler} {bad} today"]
            y += ["pos", "neg"]
    return X, y


@pytest.fixture(scope="module")
def clf(tiny_model_dir):
    X, y = _toy_data()
    return TransformerClassifier(
        tiny_model_dir, max_epochs=8, lr=3e-3, batch_size=8, warmup_ratio=0.0, random_state=0
    ).fit(X, y)


@pytest.fixture(scope="module")
def reg(tiny_model_dir):
    X, y = _toy_data()
    targets = np.column_stack(
        [[1.0 if label == "pos" else -1.0 for label in y], [float(len(t)) for t in X]]
    )
    return TransformerRegressor(tiny_model_dir, max_epochs=2, lr=1e-3, random_state=0).fit(
        X, targets
    )


@pytest.fixture(scope="module")
def pair_clf(tiny_model_dir):
    X = [("a cat sat", "a cat sat"), ("a cat sat", "dogs run fast")] * 8
    y = [1, 0] * 8
    # Frozen embeddings: the attributions still need their gradient.
    return TransformerClassifier(
        tiny_model_dir, max_epochs=1, freeze="embeddings", random_state=0
    ).fit(X, y)


def _check_completeness(exp):
    assert exp.baseline_output is not None
    gap = exp.output - exp.baseline_output
    assert abs(exp.scores.sum() - gap) <= COMPLETENESS_ATOL
    assert abs(exp.delta) <= COMPLETENESS_ATOL


def test_integrated_gradients_completeness(clf):
    texts = ["the film was great today", "honestly it felt dreadful and slow", "lovely"]
    explanations = explain(clf, texts)
    proba = clf.predict_proba(texts)
    predicted = clf.predict(texts)
    for i, exp in enumerate(explanations):
        assert exp.method == "integrated_gradients"
        _check_completeness(exp)
        # The explained quantity is the log-probability of the predicted class.
        assert exp.target == exp.prediction == predicted[i]
        column = list(clf.classes_).index(exp.target)
        assert exp.output == pytest.approx(np.log(proba[i, column]), abs=1e-4)
    # The model has learnt something, so the scores are not trivially zero.
    assert max(abs(exp.output - exp.baseline_output) for exp in explanations) > 0.05


def test_words_and_offsets(clf):
    text = "The  film, unbelievably <b>great</b>!"
    (exp,) = explain(clf, [text], method="gradient_x_input")
    assert exp.words == ["The", "film,", "unbelievably", "<b>great</b>!"]
    assert exp.segments == [0, 0, 0, 0]
    for word, (start, end) in zip(exp.words, exp.offsets):
        assert text[start:end] == word
    assert exp.offsets[1] == (5, 10)
    assert exp.scores.shape == (4,) and exp.text == text and exp.text_pair is None
    assert not exp.truncated


def test_truncated_text_lists_only_the_words_seen(clf):
    long = " ".join(["great"] * 300)
    (exp,) = explain(clf, [long], method="occlusion")
    assert exp.truncated
    assert len(exp.words) == clf.max_length - 2  # [CLS] and [SEP]


def test_pairs_explain_both_texts(pair_clf):
    X = [("a cat sat", "dogs run fast")]
    (exp,) = explain(pair_clf, X, target=1)
    assert exp.text == "a cat sat" and exp.text_pair == "dogs run fast"
    assert exp.words == ["a", "cat", "sat", "dogs", "run", "fast"]
    assert exp.segments == [0, 0, 0, 1, 1, 1]
    assert exp.offsets[3] == (0, 4)
    _check_completeness(exp)
    for method in ("gradient_x_input", "occlusion"):
        assert explain(pair_clf, X, method=method)[0].segments == exp.segments
    frame = Explanations([exp]).to_frame()
    assert frame["segment"].tolist() == [0, 0, 0, 1, 1, 1]
    with pytest.raises(ValueError, match="sentence pairs"):
        explain(pair_clf, ["a single text"])


def test_regressor_explains_the_prediction(reg):
    texts = ["the film was great today", "this movie is awful today"]
    pred = reg.predict(texts)
    for target in (0, 1):
        explanations = explain(reg, texts, target=target)
        for i, exp in enumerate(explanations):
            assert exp.target == target
            assert exp.output == pytest.approx(pred[i, target], rel=1e-4, abs=1e-4)
            # Completeness holds in the units of y.
            gap = exp.output - exp.baseline_output
            assert abs(exp.scores.sum() - gap) <= COMPLETENESS_ATOL * max(1.0, reg.y_scale_[target])
    with pytest.raises(ValueError, match="output index"):
        explain(reg, texts, target=2)
    with pytest.raises(ValueError, match="output index"):
        explain(reg, texts, target="pos")


def test_named_target_class(clf):
    text = ["the film was great today"]
    (pos,) = explain(clf, text, target="pos", method="occlusion")
    (neg,) = explain(clf, text, target="neg", method="occlusion")
    proba = clf.predict_proba(text)[0]
    assert pos.target == "pos" and neg.target == "neg"
    assert pos.prediction == neg.prediction == "pos"
    assert pos.output == pytest.approx(np.log(proba[1]), abs=1e-4)
    assert neg.output == pytest.approx(np.log(proba[0]), abs=1e-4)
    # The keyword is evidence for "pos" and against "neg".
    great = pos.words.index("great")
    assert pos.scores[great] > 0 > neg.scores[great]
    with pytest.raises(ValueError, match=r"not one of the classes \['neg', 'pos'\]"):
        explain(clf, text, target="neutral")


def test_methods_agree_on_the_keyword(clf):
    text = ["overall it seems horrible today"]
    for method in ("integrated_gradients", "gradient_x_input", "occlusion"):
        (exp,) = explain(clf, text, method=method)
        assert exp.method == method
        assert exp.words == ["overall", "it", "seems", "horrible", "today"]
        assert (exp.delta is None) == (method != "integrated_gradients")
        # The gradient at a confident prediction saturates (log p is flat near 0),
        # which is why Integrated Gradients is the default; IG and occlusion see the keyword.
        if method != "gradient_x_input":
            assert exp.top(1)[0][0] == "horrible", (method, exp.top(3))


def test_html_is_escaped_and_frame_exports(clf):
    texts = ['<script>alert("x")</script> great & fine', "terrible"]
    explanations = explain(clf, texts, method="gradient_x_input")
    page = explanations[0]._repr_html_()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&amp;" in page and "rgba(" in page
    assert "<hr>" in explanations._repr_html_()
    plain = str(explanations[0])
    assert "great(" in plain and "prediction=" in plain
    frame = explanations.to_frame()
    assert list(frame.columns) == [
        "text_index",
        "segment",
        "word_index",
        "word",
        "start",
        "end",
        "score",
        "prediction",
        "target",
        "method",
    ]
    assert len(frame) == len(explanations[0].words) + len(explanations[1].words)
    assert frame.loc[frame.text_index == 1, "word"].tolist() == ["terrible"]
    np.testing.assert_allclose(frame.loc[frame.text_index == 0, "score"], explanations[0].scores)


def test_bad_input_gets_the_usual_errors(clf, tiny_model_dir):
    with pytest.raises(NotFittedError):
        explain(TransformerClassifier(tiny_model_dir), ["text"])
    with pytest.raises(TypeError, match="not a single string"):
        explain(clf, "great")
    with pytest.raises(ValueError, match="missing value"):
        explain(clf, ["fine", None])
    with pytest.raises(ValueError, match="empty"):
        explain(clf, [])
    with pytest.raises(ValueError, match="single texts"):
        explain(clf, [("a", "b")])
    with pytest.raises(ValueError, match="method must be one of"):
        explain(clf, ["fine"], method="lime")
    with pytest.raises(ValueError, match="n_steps"):
        explain(clf, ["fine"], n_steps=0)
    with pytest.raises(ValueError, match="baseline"):
        explain(clf, ["fine"], baseline="zeros")
    with pytest.raises(TypeError, match="explain works with .*TransformerClassifier"):
        explain(object(), ["fine"])


def test_model_is_left_as_it_was(clf):
    module = clf.net_.module_
    before = clf.predict_proba(["the film was great today"])
    grads = [None if p.grad is None else p.grad.clone() for p in module.parameters()]
    module.train()
    for method in ("integrated_gradients", "gradient_x_input", "occlusion"):
        explain(clf, ["the film was great today"], method=method)
        assert module.training
    for p, g in zip(module.parameters(), grads):
        assert (p.grad is None) == (g is None)
        if g is not None:
            assert p.grad.equal(g)
    np.testing.assert_allclose(clf.predict_proba(["the film was great today"]), before)


def test_without_captum_the_cheap_methods_work(clf, monkeypatch):
    monkeypatch.setitem(sys.modules, "captum", None)
    monkeypatch.setitem(sys.modules, "captum.attr", None)
    with pytest.raises(
        ImportError, match=r"pip install -e \".\[explain\]\" --config-settings editable_mode=compat"
    ):
        explain(clf, ["fine"])
    assert explain(clf, ["fine"], method="gradient_x_input")[0].words == ["fine"]


def test_faithfulness_smoke(clf):
    """Deleting the top-attributed words drops the probability more than deleting random ones."""
    texts = [
        f"{f} {w} today"
        for f in ("i think the film was", "all in all this movie is")
        for w in GOOD + BAD
    ]
    explanations = explain(clf, texts)
    result = comprehensiveness(clf, explanations, ks=(1, 2), random_state=0)
    assert result["k"] == [1, 2]
    for top, rand in zip(result["top"], result["random"]):
        assert top > rand + 0.05, result
    assert delete_words(explanations[0], [0, 1]) == " ".join(explanations[0].words[2:])


@pytest.mark.parametrize("method", ["integrated_gradients", "occlusion", "gradient_x_input"])
def test_long_texts_chunked_windows(clf, method):
    """With long_texts="chunk" every word is scored, and IG stays complete over the windows."""
    import copy

    chunked = copy.deepcopy(clf).set_params(long_texts="chunk", max_length=12, stride=3)
    text = " ".join(["the film was great today"] * 4 + ["honestly the plot felt dreadful"] * 3)
    (exp,) = explain(chunked, [text], method=method)
    assert not exp.truncated
    assert exp.words == text.split()
    proba = chunked.predict_proba([text])[0]
    column = list(chunked.classes_).index(exp.target)
    # The explained output is the estimator's: the windows' logits averaged.
    assert exp.output == pytest.approx(np.log(proba[column]), abs=1e-4)
    if method == "integrated_gradients":
        _check_completeness(exp)
    truncating = copy.deepcopy(clf).set_params(max_length=12)
    (short,) = explain(truncating, [text], method=method)
    assert short.truncated and short.words == exp.words[:10]


def test_long_pairs_chunked(pair_clf):
    import copy

    chunked = copy.deepcopy(pair_clf).set_params(long_texts="chunk", max_length=16, stride=2)
    first, second = "a cat sat on the mat", " ".join(["dogs run fast"] * 6)
    (exp,) = explain(chunked, [(first, second)])
    assert exp.words == first.split() + second.split()
    assert exp.segments == [0] * 6 + [1] * 18
    proba = chunked.predict_proba([(first, second)])[0]
    assert exp.output == pytest.approx(
        np.log(proba[list(chunked.classes_).index(exp.target)]), abs=1e-4
    )
    _check_completeness(exp)


def test_multilabel_explains_one_label(tiny_model_dir):
    import pandas as pd

    X, y = _toy_data()
    Y = pd.DataFrame(
        {"positive": [int(v == "pos") for v in y], "long": [int(len(t) > 28) for t in X]}
    )
    ml = TransformerClassifier(tiny_model_dir, max_epochs=1, random_state=0).fit(X, Y)
    assert ml.multilabel_
    texts = ["the film was great today"]
    (exp,) = explain(ml, texts, target="long")
    assert exp.target == "long"
    np.testing.assert_array_equal(exp.prediction, ml.predict(texts)[0])
    assert exp.output == pytest.approx(np.log(ml.predict_proba(texts)[0, 1]), abs=1e-4)
    _check_completeness(exp)
    assert explain(ml, texts, target=0)[0].target == "positive"
    with pytest.raises(ValueError, match="not one of the classes"):
        explain(ml, texts, target="neutral")
