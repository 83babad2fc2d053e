"""TransformerTokenClassifier: word alignment, windows, entities, seqeval agreement, API."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from sktransformers import TransformerClassifier, TransformerTokenClassifier
from sktransformers.engine._data import check_words, encode_words
from sktransformers.tasks._tagging import entity_f1, entity_spans

PEOPLE = ["Ada", "Grace", "Alan", "Marie"]
PLACES = ["London", "Paris", "Rome", "Berlin"]


def ner_data(n=32):
    X, y = [], []
    for i in range(n):
        person, place = PEOPLE[i % 4], PLACES[(i // 4) % 4]
        X.append([person, "Smith", "lives", "in", place, "now"])
        y.append(["B-PER", "I-PER", "O", "O", "B-LOC", "O"])
    return X, y


def small(model, **kw):
    params = dict(max_epochs=2, batch_size=8, lr=1e-3, random_state=0)
    params.update(kw)
    return TransformerTokenClassifier(model, **params)


@pytest.fixture(scope="module")
def fitted(tiny_model_dir):
    X, y = ner_data()
    return small(tiny_model_dir, max_epochs=6).fit(X, y)


def test_learns_tags_and_returns_one_tag_per_word(fitted):
    X, y = ner_data(8)
    pred = fitted.predict(X)
    assert [len(p) for p in pred] == [len(w) for w in X]
    assert all(isinstance(tag, str) for row in pred for tag in row)
    assert fitted.score(X, y) > 0.9
    assert list(fitted.classes_) == ["B-LOC", "B-PER", "I-PER", "O"]


def test_predict_proba_rows_are_distributions(fitted):
    X, _ = ner_data(3)
    probas = fitted.predict_proba(X)
    assert [p.shape for p in probas] == [(6, 4)] * 3
    np.testing.assert_allclose([p.sum(axis=1) for p in probas], 1.0, rtol=1e-5)


def test_string_input_keeps_character_offsets(fitted):
    text = "Grace  Smith lives in   Paris now"
    entities = fitted.predict_entities([text])[0]
    for entity in entities:
        assert text[entity["start"] : entity["end"]] == entity["text"]
        assert 0.0 <= entity["score"] <= 1.0
    assert {e["text"] for e in entities} >= {"Grace  Smith", "Paris"}
    kinds = {e["text"]: e["entity"] for e in entities}
    assert kinds["Paris"] == "LOC"


def test_long_sentences_are_windowed_never_truncated(tiny_model_dir, fitted):
    words = ["Ada", "Smith", "lives", "in", "London", "now"] * 40  # far past max_length
    est = clone(fitted).set_params(max_length=16, stride=4, max_epochs=1)
    X, y = ner_data()
    est.fit(X, y)
    pred = est.predict([words])[0]
    assert len(pred) == len(words)
    enc = encode_words(est.tokenizer_, [words], 16, 4)
    assert len(enc) > 10  # many windows
    # Every word's first sub-word sits in some window.
    seen = set(np.concatenate([i[i >= 0] for i in enc.word_index]).tolist())
    assert seen == set(range(len(words)))


def test_first_subword_alignment(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    enc = encode_words(tok, [["unaffable", "is", "x"]], 32, 4)
    index = enc.word_index[0]
    marked = [(p, w) for p, w in enumerate(index) if w >= 0]
    assert [w for _, w in marked] == [0, 1, 2]  # one position per word
    # "unaffable" is several sub-words; only the first carries the tag.
    assert len(enc.input_ids[0]) > 2 + 3


def test_window_starting_inside_a_word_does_not_mark_it(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    words = ["Hello", "world", "unaffable", "x", "y", "z"]
    enc = encode_words(tok, [words], 6, 2)
    firsts = [w for index in enc.word_index for w in index[index >= 0]]
    # Each word is marked once per window holding its first sub-word, never more.
    for w in range(len(words)):
        assert firsts.count(w) >= 1
    for index in enc.word_index[1:]:
        ids = index[1:-1]
        assert (ids >= 0).sum() <= len(ids)


def test_entity_f1_equals_seqeval_strict():
    from seqeval.metrics import f1_score
    from seqeval.scheme import IOB2

    rng = np.random.default_rng(0)
    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    for _ in range(30):
        y_true = [list(rng.choice(tags, size=rng.integers(1, 9))) for _ in range(6)]
        y_pred = [list(rng.choice(tags, size=len(row))) for row in y_true]
        # seqeval's strict mode needs valid IOB2 gold tags; repair the gold.
        y_true = [_valid_iob2(row) for row in y_true]
        ours = entity_f1(y_true, y_pred)
        theirs = f1_score(y_true, y_pred, mode="strict", scheme=IOB2)
        assert ours == pytest.approx(theirs)


def _valid_iob2(row):
    out, prev = [], "O"
    for tag in row:
        if tag.startswith("I-") and prev[2:] != tag[2:]:
            tag = "B-" + tag[2:]
        out.append(tag)
        prev = tag
    return out


def test_entity_spans_strict():
    assert entity_spans(["B-PER", "I-PER", "O", "B-LOC"]) == [("PER", 0, 2), ("LOC", 3, 4)]
    assert entity_spans(["I-PER", "I-PER", "O"]) == []  # no B: no entity in strict mode
    assert entity_spans(["B-PER", "I-LOC"]) == [("PER", 0, 1)]


@pytest.mark.parametrize("lr", [None, 5e-5])
def test_token_tasks_default_learning_rate_reaches_the_optimizer(tiny_model_dir, lr):
    # Word tags train at twice the text estimators' rate by default (chosen on CoNLL-2003);
    # an explicit lr keeps its meaning.
    X, y = ner_data(8)
    given = {} if lr is None else {"lr": lr}
    est = TransformerTokenClassifier(tiny_model_dir, max_epochs=1, random_state=0, **given)
    est.fit(X, y)
    peak = dict(est.net_.callbacks_)["lr_schedule"].base_lrs_
    assert peak and set(peak) == {1e-4 if lr is None else lr}
    assert TransformerClassifier().lr == 5e-5  # texts keep theirs


def test_sklearn_workflows(tiny_model_dir):
    X, y = ner_data(16)
    est = small(tiny_model_dir, max_epochs=1)
    scores = cross_val_score(est, X, y, cv=KFold(2))
    assert scores.shape == (2,) and np.all((0 <= scores) & (scores <= 1))
    search = GridSearchCV(est, {"lr": [1e-3, 1e-4]}, cv=KFold(2)).fit(X, y)
    assert search.best_params_["lr"] in (1e-3, 1e-4)


def test_pickle_and_save_load_round_trip(fitted, tmp_path):
    X, _ = ner_data(4)
    expected = fitted.predict_proba(X)
    again = pickle.loads(pickle.dumps(fitted))
    for a, b in zip(expected, again.predict_proba(X)):
        np.testing.assert_allclose(a, b, atol=1e-6)
    fitted.save_pretrained(tmp_path / "ner")
    loaded = TransformerTokenClassifier.from_pretrained(tmp_path / "ner")
    assert list(loaded.classes_) == list(fitted.classes_)
    for a, b in zip(expected, loaded.predict_proba(X)):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_partial_fit_and_classes(tiny_model_dir):
    X, y = ner_data(8)
    tags = ["B-LOC", "B-MISC", "B-PER", "I-PER", "O"]
    est = small(tiny_model_dir).partial_fit(X, y, classes=tags)
    assert list(est.classes_) == tags
    est.partial_fit(X, y)
    assert len(est.history_) == 2
    with pytest.raises(ValueError, match="differs"):
        est.partial_fit(X, y, classes=["O", "B-PER"])


def test_transfer_freeze_and_lora(tiny_model_dir):
    X, y = ner_data(8)
    clf = TransformerClassifier(tiny_model_dir, max_epochs=1, random_state=0).fit(
        [" ".join(w) for w in X], [i % 2 for i in range(8)]
    )
    est = small(clf.backbone(), freeze="embeddings").fit(X, y)
    assert len(est.predict(X)) == 8
    pytest.importorskip("peft")
    lora = small(tiny_model_dir, lora=True, max_epochs=1).fit(X, y)
    trainable = [n for n, p in lora.net_.module_.named_parameters() if p.requires_grad]
    assert all("lora_" in n or n.startswith("heads.") for n in trainable)


@pytest.mark.parametrize(
    "X, y, match",
    [
        ([["a", "b"]], [["O"]], "Row 0: 2 words but 1 tags"),
        ([[]], [[]], "empty sentence"),
        ([["a", 3]], [["O", "O"]], "word 1 is 3"),
        (["two  words"], [["O", "O", "O"]], "Row 0: 2 words but 3 tags"),
        ([["a"], ["b"]], [["O"]], "different lengths"),
        ([["a"], ["b"]], [["O"], ["O"]], "at least 2 distinct tags"),
        ([["a", " "]], [["O", "O"]], "empty or blank"),
    ],
)
def test_bad_input_fails_before_loading(X, y, match):
    est = TransformerTokenClassifier()
    with pytest.raises((ValueError, TypeError), match=match):
        est.fit(X, y)


def test_check_words_splits_on_whitespace():
    words = check_words(["  New York\tcity "])
    assert words.words == [["New", "York", "city"]]
    assert words.offsets == [[(2, 5), (6, 10), (11, 15)]]
