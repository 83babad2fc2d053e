"""TransformerQuestionAnswerer: extractive question answering, from fit to the server."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest
from conftest import shared_data, wait_ready
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score

from sktransformers import TransformerQuestionAnswerer
from sktransformers.datasets import load_squad2_subset, read_squad
from sktransformers.metrics import squad_exact_match, squad_f1, squad_f1_scorer
from sktransformers.utils import _spans

NAMES = ["Ada", "Bob", "Cleo", "Dan", "Eve", "Finn", "Gus", "Hal"]
PLACES = ["Paris", "Rome", "Oslo", "Lima"]


def _data():
    """Questions whose answer is the word after "by" / "in"; some have none."""
    questions, contexts, answers = [], [], []
    for i, name in enumerate(NAMES):
        context = f"The old book was written by {name} long ago."
        questions.append("Who wrote the book?")
        contexts.append(context)
        answers.append({"text": name, "answer_start": context.index(name)})
        place = PLACES[i % len(PLACES)]
        context = f"The house stands in {place} near the river."
        questions.append("Where is the house?")
        contexts.append(context)
        answers.append({"text": [place], "answer_start": [context.index(place)]})
    for context in ("The sky was grey all day.", "Nobody came to the party."):
        questions.append("Who wrote the book?")
        contexts.append(context)
        answers.append({"text": [], "answer_start": []})
    return pd.DataFrame({"question": questions, "context": contexts}), answers


X, Y = _data()


@pytest.fixture(scope="module")
def fitted(tiny_model_dir):
    return TransformerQuestionAnswerer(
        tiny_model_dir, max_length=48, max_epochs=30, lr=2e-3, batch_size=6, random_state=0
    ).fit(X, Y)


def test_it_learns_to_point_at_the_answer(fitted):
    history = fitted.history_
    assert history[-1, "train_loss"] < 0.5 * history[0, "train_loss"]
    pred = fitted.predict(X)
    assert pred.dtype == object and pred.shape == (len(X),)
    assert squad_f1(Y, pred) > 0.8  # a pattern a 2-layer random model can learn
    answers = fitted.predict_answers(X, n_best=3)
    for answer, context in zip(answers, X["context"]):
        if answer["text"]:
            start = answer["answer_start"]
            assert context[start : start + len(answer["text"])] == answer["text"]
        else:
            assert answer["answer_start"] == -1
        assert len(answer["n_best"]) <= 3
        assert 0 <= answer["score"] <= 1 and 0 <= answer["no_answer_score"] <= 1
    assert fitted.score(X, Y) == pytest.approx(squad_f1(Y, pred))


def test_validation_records_the_span_accuracy(tiny_model_dir):
    qa = TransformerQuestionAnswerer(
        tiny_model_dir, max_length=48, max_epochs=2, validation_fraction=0.25, random_state=0
    ).fit(X, Y)
    scores = qa.history_[:, "valid_score"]
    assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
    assert all(np.isfinite(qa.history_[:, "valid_loss"]))


def test_the_no_answer_threshold_moves_abstention(fitted):
    fitted_params = fitted.get_params()
    try:
        fitted.set_params(no_answer_threshold=1e9)  # takes effect at prediction time
        assert all(fitted.predict(X) != "")
        fitted.set_params(no_answer_threshold=-1e9)
        assert all(fitted.predict(X) == "")
    finally:
        fitted.set_params(**fitted_params)


def test_long_contexts_are_read_in_windows(tiny_model_dir):
    filler = " ".join(["the grass was green and the wind was soft"] * 12)
    contexts = [f"{filler} The key is under the mat. {filler}"] * 2
    X_long = pd.DataFrame({"question": ["Where is the key?"] * 2, "context": contexts})
    start = contexts[0].index("under the mat")
    y = [{"text": "under the mat", "answer_start": start}] * 2
    qa = TransformerQuestionAnswerer(tiny_model_dir, max_length=32, stride=8, max_epochs=1)
    qa.fit(X_long, y)
    enc = qa._encode_inputs(qa._check_X(X_long))
    assert len(enc) > 4 and set(enc.docs()) == {0, 1}  # several windows per question
    targets = qa._tasks[0].row_targets(qa._tasks[0].encode([[("under the mat", start)]] * 2), enc)
    holding = targets[:, 0] > 0
    assert 1 <= holding.sum() <= 2 * 2  # only the windows that hold the whole answer
    for row in np.flatnonzero(holding):
        first, last = targets[row]
        assert enc.offsets[row][first][0] == start
        assert enc.offsets[row][last][1] == start + len("under the mat")
    windows = qa._forward(X_long)
    assert len(windows[0]) == int((enc.docs() == 0).sum())


def test_windows_are_the_fast_tokenizers_own(tiny_model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    questions = ["What is it?", "Who?"]
    contexts = ["one two three four five six seven eight nine ten " * 6, "short context"]
    backend = tokenizer.backend_tokenizer
    backend.enable_truncation(77, strategy="longest_first")
    padding = backend.padding
    ours = _spans.encode_pairs(backend, questions, contexts, 40, 10)
    # the (shared) tokenizer's own settings are left as they were
    assert backend.truncation["max_length"] == 77 and backend.padding == padding
    theirs = tokenizer(
        questions,
        contexts,
        truncation="only_second",
        max_length=40,
        stride=10,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    assert ours.input_ids == theirs["input_ids"]
    assert ours.doc.tolist() == list(theirs["overflow_to_sample_mapping"])
    for row, offsets in enumerate(ours.offsets):
        sequence = theirs.sequence_ids(row)
        for position, (where, seq) in enumerate(zip(offsets, sequence)):
            expected = theirs["offset_mapping"][row][position] if seq == 1 else (-1, -1)
            assert tuple(where) == tuple(expected)


def test_best_answers_takes_the_best_span_over_windows():
    context = "alpha beta gamma delta"
    offsets = np.asarray([[-1, -1], [0, 5], [6, 10], [11, 16], [17, 22], [-1, -1]])
    low = np.zeros((6, 2))
    high = np.zeros((6, 2))
    high[2, 0], high[3, 1] = 5.0, 5.0  # "beta gamma" in the second window
    low[1, 0], low[1, 1] = 2.0, 2.0
    answer = _spans.best_answers([(low, offsets), (high, offsets)], context, where=True)
    assert answer["text"] == "beta gamma" and answer["answer_start"] == 6
    assert answer["where"] == (1, 2, 3)
    assert answer["n_best"][0]["text"] == "beta gamma"
    assert answer["n_best"][0]["score"] > answer["n_best"][1]["score"]
    # "no answer" wins when the first special token outscores every span
    null = np.zeros((6, 2))
    null[0] = 20.0
    assert _spans.best_answers([(null, offsets)], context)["text"] == ""
    # ... unless the threshold says to answer anyway
    forced = _spans.best_answers([(null, offsets)], context, no_answer_threshold=100)
    assert forced["text"] != ""
    # spans longer than max_answer_length tokens are never given
    long = np.zeros((6, 2))
    long[1, 0], long[4, 1] = 9.0, 9.0
    short = _spans.best_answers([(long, offsets)], context, max_answer_length=2)
    assert short["text"] not in ("alpha beta gamma delta", "")


def test_the_best_no_answer_threshold_is_squads_search():
    refs = [["alpha"], ["beta"], []]
    # answering q1 and q2 (margins -1, 0.5) is right; q3 (margin 2) has no answer
    threshold = _spans.best_no_answer_threshold([-1.0, 0.5, 2.0], ["alpha", "beta", "x"], refs)
    assert threshold == 0.5
    # wrong spans everywhere: never answer (below every margin)
    never = _spans.best_no_answer_threshold([-1.0, 0.5], ["x", "y"], [["a"], []])
    assert never < -1.0
    # ties answer together: the threshold is a margin of the tie's end
    tied = _spans.best_no_answer_threshold([0.3, 0.3], ["a", "z"], [["a"], ["b"]])
    assert tied == 0.3


def test_auto_threshold_is_chosen_on_held_out_questions(tiny_model_dir, tmp_path):
    with pytest.raises(ValueError, match="validation_fraction"):
        TransformerQuestionAnswerer(tiny_model_dir, no_answer_threshold="auto").fit(X, Y)
    qa = TransformerQuestionAnswerer(
        tiny_model_dir,
        max_length=48,
        max_epochs=2,
        validation_fraction=0.3,
        no_answer_threshold="auto",
        random_state=0,
    ).fit(X, Y)
    assert np.isfinite(qa.no_answer_threshold_)
    loaded = TransformerQuestionAnswerer.from_pretrained(qa.save_pretrained(tmp_path / "auto"))
    assert loaded.no_answer_threshold_ == qa.no_answer_threshold_
    np.testing.assert_array_equal(loaded.predict(X), qa.predict(X))


def test_every_answer_layout_encodes_alike(tiny_model_dir):
    task = TransformerQuestionAnswerer(tiny_model_dir)
    from sktransformers.tasks import SpanTask, check_answers

    contexts = ["It is in Paris.", "Nothing here."]
    layouts = [
        [{"text": "Paris", "answer_start": 9}, {"text": "", "answer_start": -1}],
        [{"text": ["Paris", "Paris."], "answer_start": [9, 9]}, {"text": [], "answer_start": []}],
        pd.DataFrame({"text": ["Paris", None], "answer_start": [9, None]}),
        [("Paris", 9), None],
        np.asarray([("Paris", 9), ("", -1)], dtype=object),
    ]
    encoded = [SpanTask().encode(check_answers(y, contexts)) for y in layouts]
    for e in encoded:
        np.testing.assert_array_equal(e, [[9, 14], [-1, -1]])
    assert task.get_params()["max_length"] == 384


@pytest.mark.parametrize(
    ("X_bad", "y_bad", "error", "match"),
    [
        (["a single text"], [{"text": "a", "answer_start": 0}], ValueError, "pairs"),
        (X.iloc[:1], [{"text": "Ada", "answer_start": 3}], ValueError, "not at character 3"),
        (X.iloc[:1], [{"answer": "Ada"}], ValueError, "'text' and 'answer_start'"),
        (X.iloc[:2], [{"text": "Ada", "answer_start": 28}], ValueError, "different lengths"),
        (X.iloc[:1], ["Ada"], TypeError, "each answer is a dict"),
        (X.iloc[:1], [{"text": "Ada", "answer_start": "28"}], TypeError, "an int"),
        (X.iloc[:1], [{"text": ["Ada"], "answer_start": 28}], ValueError, "both lists"),
        (X.iloc[:1], None, ValueError, "needs targets"),
    ],
)
def test_bad_input_fails_clearly_before_any_model_loads(
    X_bad, y_bad, error, match, tiny_model_dir, monkeypatch
):
    from sktransformers.engine import _hub

    def no_loading(*args, **kwargs):
        raise AssertionError("a model was loaded before the input was checked")

    monkeypatch.setattr(_hub, "load_parts", no_loading)
    qa = TransformerQuestionAnswerer(tiny_model_dir)
    with pytest.raises(error, match=match):
        qa.fit(X_bad, y_bad)
    assert not hasattr(qa, "net_")


def test_bad_parameters_fail_clearly(tiny_model_dir):
    for params in ({"max_answer_length": 0}, {"n_best": 0}, {"max_length": 64, "stride": 40}):
        with pytest.raises(ValueError):
            TransformerQuestionAnswerer(tiny_model_dir, **params).fit(X, Y)


def test_columns_are_read_by_name(fitted):
    swapped = X[["context", "question"]]
    np.testing.assert_array_equal(fitted.predict(swapped), fitted.predict(X))
    pairs = list(zip(X["question"], X["context"]))
    np.testing.assert_array_equal(fitted.predict(pairs), fitted.predict(X))


def test_clone_pickle_save_and_load(fitted, tmp_path):
    params = clone(fitted).get_params()
    assert params["max_answer_length"] == 30 and params["no_answer_threshold"] == 0.0
    pred = fitted.predict(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).predict(X), pred)
    loaded = TransformerQuestionAnswerer.from_pretrained(fitted.save_pretrained(tmp_path / "qa"))
    np.testing.assert_array_equal(loaded.predict(X), pred)
    assert loaded.predict_answers(X[:2]) == fitted.predict_answers(X[:2])
    # a tampered task kind is refused before anything is built
    meta_path = tmp_path / "qa" / "sktransformers.json"
    meta = json.loads(meta_path.read_text())
    meta["tasks"][0]["kind"] = "regression"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=r"sktransformers.json: 'tasks\[0\]"):
        TransformerQuestionAnswerer.from_pretrained(tmp_path / "qa")


def test_cross_validation_and_grid_search(tiny_model_dir):
    qa = TransformerQuestionAnswerer(tiny_model_dir, max_length=48, max_epochs=1, batch_size=8)
    groups = np.arange(len(X)) % 3
    scores = cross_val_score(qa, X, Y, groups=groups, cv=GroupKFold(3), scoring=squad_f1_scorer)
    assert scores.shape == (3,) and np.all((scores >= 0) & (scores <= 1))
    search = GridSearchCV(qa, {"no_answer_threshold": [-1e9, 1e9]}, cv=2).fit(X, Y)
    assert search.best_params_["no_answer_threshold"] in (-1e9, 1e9)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_onnx_export_runtime_and_server(fitted, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from sktransformers import onnx
    from sktransformers.deploy._serve import create_app

    exported = fitted.export_onnx(tmp_path / "onnx")
    runtime = onnx.load(exported)
    assert type(runtime).__name__ == "OnnxQuestionAnswerer"
    np.testing.assert_array_equal(runtime.predict(X), fitted.predict(X))
    ours, theirs = runtime.predict_answers(X[:3]), fitted.predict_answers(X[:3])
    for a, b in zip(ours, theirs):
        assert (a["text"], a["answer_start"]) == (b["text"], b["answer_start"])
        assert a["score"] == pytest.approx(b["score"], abs=1e-4)
    assert runtime.score(X, Y) == pytest.approx(fitted.score(X, Y))
    for model in (fitted, exported):
        with TestClient(create_app(model)) as client:
            wait_ready(client)
            ready = client.get("/readyz").json()
            assert ready["kind"] == "question_answerer" and ready["pairs"] is True
            body = {"texts": X[["question", "context"]].values[:3].tolist()}
            answers = client.post("/predict", json=body).json()["predictions"]
            assert [a["answer"] for a in answers] == list(fitted.predict(X[:3]))
            assert client.post("/predict", json={"texts": ["no context"]}).status_code == 422


def test_explain_scores_the_words_behind_the_answer(fitted):
    pytest.importorskip("captum")
    explanations = fitted.explain(X[:2], n_steps=16)
    answers = fitted.predict(X[:2])
    for exp, answer in zip(explanations, answers):
        assert exp.prediction == answer
        assert exp.target == ("answer" if answer else "no answer")
        assert set(exp.segments) == {0, 1}  # question words and context words
        assert abs(exp.delta) < 0.05 * max(1.0, abs(exp.output))  # completeness
    quick = fitted.explain(X[:1], method="occlusion")
    assert len(quick[0].words) == len(explanations[0].words)
    with pytest.raises(ValueError, match="word="):
        from sktransformers.explain._attributions import explain

        explain(fitted, X[:1], word=0)


def test_squad_scores():
    assert squad_exact_match(["the Normans"], ["Normans"]) == 1.0
    assert squad_f1(["in the 10th century"], ["10th century"]) == pytest.approx(0.8)
    # unanswerable: only "" is right
    assert squad_f1([{"text": [], "answer_start": []}], [""]) == 1.0
    assert squad_f1([{"text": [], "answer_start": []}], ["anything"]) == 0.0
    # the best of several references counts
    refs = [{"text": ["Paris", "in Paris, France"], "answer_start": [0, 0]}]
    assert squad_f1(refs, ["Paris France"]) == pytest.approx(0.8)
    # a CJK character is a word: Chinese answers score by character
    assert squad_f1(["北京大学"], ["北京"]) == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    assert squad_exact_match(["北京。"], ["北京"]) == 1.0  # CJK punctuation dropped
    with pytest.raises(ValueError, match="different lengths"):
        squad_f1(["a", "b"], ["a"])


def test_chinese_questions_end_to_end(tiny_model_dir):
    context = "小明住在北京，他喜欢读书。"
    X_zh = pd.DataFrame({"question": ["小明住在哪里？"] * 4, "context": [context] * 4})
    y = [{"text": "北京", "answer_start": context.index("北京")}] * 4
    qa = TransformerQuestionAnswerer(tiny_model_dir, max_length=32, max_epochs=2)
    with pytest.warns(UserWarning, match="unknown token"):  # the tiny test model's vocabulary
        qa.fit(X_zh, y)
    for answer in qa.predict_answers(X_zh):
        if answer["text"]:
            start = answer["answer_start"]
            assert context[start : start + len(answer["text"])] == answer["text"]


def test_read_squad_checks_the_file(tmp_path):
    good = {
        "version": "v2.0",
        "data": [
            {
                "title": "T",
                "paragraphs": [
                    {
                        "context": "Ada wrote it.",
                        "qas": [
                            {
                                "id": "1",
                                "question": "Who?",
                                "answers": [{"text": "Ada", "answer_start": 0}],
                            },
                            {"id": "2", "question": "Why?", "answers": [], "is_impossible": True},
                        ],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(good))
    data = read_squad(path)
    assert data.X.columns.tolist() == ["question", "context"]
    assert data.y == [{"text": ["Ada"], "answer_start": [0]}, {"text": [], "answer_start": []}]
    assert data.groups.tolist() == ["T", "T"] and data.ids == ["1", "2"]
    with pytest.raises(ValueError, match="max_bytes"):
        read_squad(path, max_bytes=10)
    good["data"][0]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] = 4
    path.write_text(json.dumps(good))
    with pytest.raises(ValueError, match="not at character 4"):
        read_squad(path)
    path.write_text(json.dumps({"data": [{"paragraphs": "oops"}]}))
    with pytest.raises(ValueError, match="paragraphs"):
        read_squad(path)


def test_the_shared_squad_subset_loads():
    if shared_data("squad2_subset") is None:
        pytest.skip("../shared/data/squad2_subset is not on this machine")
    data = load_squad2_subset()
    assert len(data.X) == 1197 and len(data.y) == 1197
    assert sum(bool(a["text"]) for a in data.y) == 597
    assert len(set(data.groups)) == 4
