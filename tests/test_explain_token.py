"""explain for TransformerTokenClassifier: one word's tag, its window, words and errors."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from sktransformers import TransformerClassifier, TransformerTokenClassifier
from sktransformers.engine._data import check_words
from sktransformers.explain._attributions import Explanations, explain

pytest.importorskip("captum")

# As in test_explain.py: |sum of scores - (output - baseline output)| at n_steps=50.
COMPLETENESS_ATOL = 1e-3
METHODS = ("integrated_gradients", "gradient_x_input", "occlusion")

PEOPLE = ["Ada", "Grace", "Alan", "Marie"]
PLACES = ["London", "Paris", "Rome", "Berlin"]


def _ner_data(n=16):
    X, y = [], []
    for i in range(n):
        X.append([PEOPLE[i % 4], "Smith", "lives", "in", PLACES[(i // 4) % 4], "now"])
        y.append(["B-PER", "I-PER", "O", "O", "B-LOC", "O"])
    return X, y


@pytest.fixture(scope="module")
def ner(tiny_model_dir):
    X, y = _ner_data()
    return TransformerTokenClassifier(
        tiny_model_dir, max_epochs=4, batch_size=8, lr=3e-3, warmup_ratio=0.0, random_state=0
    ).fit(X, y)


@pytest.fixture(scope="module")
def windowed(ner):
    """The same model reading long sentences as windows of 16 sub-words (4 shared)."""
    return copy.deepcopy(ner).set_params(max_length=16, stride=4)


def _log_proba(est, text, word, tag):
    proba = est.predict_proba([text])[0]
    return float(np.log(proba[word, list(est.classes_).index(tag)]))


def _check_completeness(exp):
    gap = exp.output - exp.baseline_output
    assert abs(exp.scores.sum() - gap) <= COMPLETENESS_ATOL
    assert abs(exp.delta) <= COMPLETENESS_ATOL


def test_integrated_gradients_completeness_and_prediction(ner):
    X = ["Grace Smith lives in Paris now", ["Marie", "Smith", "lives", "in", "Rome"]]
    explanations = ner.explain(X, word=[4, 1])
    predicted = ner.predict(X)
    for i, (exp, w) in enumerate(zip(explanations, [4, 1])):
        assert exp.method == "integrated_gradients" and exp.word_index == w
        assert exp.word == check_words(X).words[i][w]
        _check_completeness(exp)
        # The explained word's tag as predict gives it, and its log-probability.
        assert exp.prediction == exp.target == predicted[i][w]
        assert exp.output == pytest.approx(_log_proba(ner, X[i], w, exp.target), abs=1e-4)
    assert max(abs(exp.output - exp.baseline_output) for exp in explanations) > 1e-3


def test_words_and_offsets_are_the_estimators(ner):
    text = "Grace  Smith lives in   Paris now"
    listed = ["Ada", "New York", "x"]  # a listed word may hold a space: still one word
    (exp, exp_list) = ner.explain([text, listed], word=[4, 1], method="gradient_x_input")
    checked = check_words([text, listed])
    assert exp.words == text.split() and exp.words == checked.words[0]
    assert exp.offsets == checked.offsets[0] and exp.offsets[4] == (24, 29)
    for word, (start, end) in zip(exp.words, exp.offsets):
        assert text[start:end] == word
    assert exp.text == text and exp.text_pair is None
    assert exp.segments == [0] * 6 and exp.scores.shape == (6,) and not exp.truncated
    # predict_entities' offsets are the same spans.
    for entity in ner.predict_entities([text])[0]:
        assert entity["start"] in [a for a, _ in exp.offsets]
        assert entity["end"] in [b for _, b in exp.offsets]
    assert exp_list.words == listed and exp_list.text == "Ada New York x"
    assert exp_list.offsets == [(0, 3), (4, 12), (13, 14)] and exp_list.word == "New York"


def test_target_by_tag_name(ner):
    text = ["Grace Smith lives in Paris now"]
    (loc,) = ner.explain(text, word=4, target="B-LOC", method="occlusion")
    (out,) = ner.explain(text, word=4, target="O", method="occlusion")
    assert loc.target == "B-LOC" and out.target == "O"
    assert loc.prediction == out.prediction == ner.predict(text)[0][4]
    assert loc.output == pytest.approx(_log_proba(ner, text[0], 4, "B-LOC"), abs=1e-4)
    assert out.output == pytest.approx(_log_proba(ner, text[0], 4, "O"), abs=1e-4)
    assert abs(loc.output - out.output) > 1e-3
    assert not np.allclose(loc.scores, out.scores)
    (ig,) = ner.explain(text, word=4, target="I-PER")
    _check_completeness(ig)


def test_default_and_negative_words(ner):
    X = ["Grace Smith lives in Paris now", "lives in now", "in Rome now"]
    predicted = ner.predict(X)
    explanations = ner.explain(X, method="occlusion")
    for exp, tags in zip(explanations, predicted):
        expected = next((j for j, tag in enumerate(tags) if tag != "O"), 0)
        assert exp.word_index == expected and exp.prediction == tags[expected]
    (last,) = ner.explain(X[:1], word=-1, method="occlusion")
    assert last.word_index == 5 and last.word == "now"
    mixed = ner.explain(X, word=[None, 2, -3], method="occlusion")
    assert [e.word_index for e in mixed] == [explanations[0].word_index, 2, 0]


@pytest.mark.parametrize("method", METHODS)
def test_long_sentence_reads_the_words_window(windowed, method):
    words = ["Ada", "Smith", "lives", "in", "London", "now"] * 6
    for w in (0, 20, len(words) - 1):
        (exp,) = windowed.explain([words], word=w, method=method)
        assert exp.words == words and exp.truncated and exp.word_index == w
        assert exp.prediction == windowed.predict([words])[0][w]
        # The estimator's own log-probability: the same window as predict reads.
        assert exp.output == pytest.approx(_log_proba(windowed, words, w, exp.target), abs=1e-4)
        if method == "integrated_gradients":
            _check_completeness(exp)
        # Only the words of that window are scored; the rest score exactly 0.
        scored = np.flatnonzero(exp.scores != 0)
        assert scored.min() <= w <= scored.max() and len(scored) <= windowed.max_length - 2
        outside = np.r_[0 : scored.min(), scored.max() + 1 : len(words)]
        assert np.all(exp.scores[outside] == 0)
        if w == 20:
            # Read from the middle of a window, not from one where it sits at an edge.
            assert min(w - scored.min(), scored.max() - w) >= 3
    assert "outside the explained word's window" in str(exp)


def test_str_html_and_frame(ner):
    X = ["Grace Smith lives in Paris now", ["Ada", "<b>", "Rome"]]
    explanations = ner.explain(X, word=[4, 1], method="gradient_x_input")
    assert "word=4 'Paris'" in str(explanations[0])
    page = explanations[1]._repr_html_()
    assert "&lt;b&gt;" in page and "<b>" not in page and "outline:2px" in page
    frame = explanations.to_frame()
    assert frame.columns[-1] == "explained"
    assert frame.loc[frame.explained, "word"].tolist() == ["Paris", "<b>"]
    assert isinstance(explanations, Explanations)


def test_errors_come_before_any_forward_pass(ner, tiny_model_dir):
    calls = []
    handle = ner.net_.module_.register_forward_pre_hook(lambda *args: calls.append(1))
    text = ["Grace Smith lives in Paris now"]
    try:
        with pytest.raises(ValueError, match=r"word=6 is out of range for text 0, which has 6"):
            ner.explain(text, word=6)
        with pytest.raises(ValueError, match=r"word=-7 is out of range"):
            ner.explain(text, word=-7)
        with pytest.raises(ValueError, match=r"word=3 is out of range for text 1, which has 2"):
            ner.explain(text + ["in Rome"], word=[3, 3])
        with pytest.raises(ValueError, match="word has 1 entries but X has 2 texts"):
            ner.explain(text * 2, word=[0])
        for bad in ("Paris", 1.0, True, [0.5]):
            with pytest.raises(TypeError, match="word must be an int"):
                ner.explain(text, word=bad)
        with pytest.raises(ValueError, match=r"not one of the tags \['B-LOC', 'B-PER'"):
            ner.explain(text, target="B-ORG")
        with pytest.raises(ValueError, match="has no sub-word token"):
            ner.explain([["Ada", "\u00ad", "Smith"]], word=1)
        with pytest.raises(ValueError, match="method must be one of"):
            ner.explain(text, method="lime")
        with pytest.raises(TypeError, match="not a single string"):
            ner.explain("Grace Smith")
        with pytest.raises(ValueError, match="empty sentence"):
            ner.explain([[]])
        assert not calls
    finally:
        handle.remove()
    # A word the tokenizer drops is skipped by the default choice.
    (exp,) = ner.explain([["\u00ad", "Smith"]], method="occlusion")
    assert exp.word_index == 1
    with pytest.raises(NotFittedError):
        TransformerTokenClassifier(tiny_model_dir).explain(text)
    clf = TransformerClassifier(tiny_model_dir, max_epochs=1, random_state=0).fit(
        ["good", "bad"] * 2, [1, 0] * 2
    )
    with pytest.raises(ValueError, match="word= picks the word"):
        explain(clf, ["good"], word=0)
