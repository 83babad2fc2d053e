"""MultiTaskTransformer: missing labels, mixed task kinds, mixed pairs, outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from sktransformers import MultiTaskTransformer
from sktransformers.engine._data import check_texts, encode
from sktransformers.engine._net import TaskLoss
from sktransformers.estimators._multitask import TaskBatchSampler
from sktransformers.tasks import ClassificationTask, RegressionTask

POS = ["a great film", "wonderful acting", "i loved it", "truly excellent"]
NEG = ["a terrible film", "awful acting", "i hated it", "truly boring"]
PAIRS = [
    ("a cat sits on the mat", "a cat is sitting on a mat"),
    ("the market fell today", "a dog runs in the park"),
    ("he bought a car", "he purchased a car"),
    ("rain is expected", "the sun will shine all week"),
]
SIMILARITY = [4.6, 0.3, 4.1, 0.8]


def stacked_data(repeat=4):
    """Sentiment on single texts (labels only there) + similarity on pairs (scores only there)."""
    first = (POS + NEG) * repeat + [a for a, _ in PAIRS] * repeat
    second = [None] * (8 * repeat) + [b for _, b in PAIRS] * repeat
    X = pd.DataFrame({"text": first, "text_pair": second})
    Y = pd.DataFrame(
        {
            "sentiment": (["pos"] * 4 + ["neg"] * 4) * repeat + [None] * (4 * repeat),
            "similarity": [np.nan] * (8 * repeat) + SIMILARITY * repeat,
        }
    )
    return X, Y


def small(model, **params):
    defaults = dict(max_epochs=1, batch_size=8, lr=1e-3, random_state=0, device="cpu")
    defaults.update(params)
    return MultiTaskTransformer(model, **defaults)


def test_mixed_tasks_predict_shapes_and_types(tiny_model_dir):
    X, Y = stacked_data()
    mt = small(tiny_model_dir).fit(X, Y)
    assert mt.tasks_ == ["sentiment", "similarity"]
    assert mt.task_kinds_ == {"sentiment": "classification", "similarity": "regression"}
    assert mt.classes_["sentiment"].tolist() == ["neg", "pos"]
    assert set(mt.net_.module_.heads) == {"sentiment", "similarity"}
    assert mt.is_pair_

    pred = mt.predict(X)
    assert isinstance(pred, pd.DataFrame)
    assert pred.columns.tolist() == ["sentiment", "similarity"]
    assert pred.shape == (len(X), 2)
    assert set(pred["sentiment"]) <= {"pos", "neg"}
    assert pred["similarity"].dtype == np.float64

    probas = mt.predict_proba(X)
    assert isinstance(probas, list) and len(probas) == 1  # one classification task
    assert probas[0].shape == (len(X), 2)
    np.testing.assert_allclose(probas[0].sum(axis=1), 1.0, rtol=1e-6)
    # predict is the argmax of predict_proba, in classes_ order
    assert (mt.classes_["sentiment"][probas[0].argmax(axis=1)] == pred["sentiment"]).all()

    scores = mt.task_scores(X, Y)
    assert set(scores) == {"sentiment", "similarity"}
    assert mt.score(X, Y) == pytest.approx(np.mean(list(scores.values())))


def test_array_targets_give_array_predictions(tiny_model_dir):
    X = (POS + NEG) * 2
    y_class = np.array([1, 1, 1, 1, 0, 0, 0, 0] * 2, dtype=float)
    y_reg = np.linspace(0.0, 1.0, 16) + 0.05
    Y = np.column_stack([y_class, y_reg])
    Y[::3, 0] = np.nan  # some rows carry only the regression target
    mt = small(tiny_model_dir).fit(X, Y)
    assert mt.tasks_ == [0, 1]
    # ints turned float by NaN are still class labels, returned as ints
    assert mt.task_kinds_ == {0: "classification", 1: "regression"}
    assert mt.classes_[0].dtype.kind == "i"
    pred = mt.predict(X)
    assert isinstance(pred, np.ndarray) and pred.shape == (16, 2) and pred.dtype.kind == "f"
    assert set(np.unique(pred[:, 0])) <= {0.0, 1.0}

    # string classes cannot share a numeric array: object dtype
    Y_obj = np.empty((16, 2), dtype=object)
    Y_obj[:, 0] = np.where(y_class == 1, "pos", "neg")
    Y_obj[:, 1] = y_reg
    Y_obj[1, 0] = None
    pred = small(tiny_model_dir).fit(X, Y_obj).predict(X[:3])
    assert pred.dtype == object and pred.shape == (3, 2)
    assert set(pred[:, 0]) <= {"pos", "neg"}


def test_missing_labels_count_nothing_in_the_loss():
    tasks = [ClassificationTask(["x", "y", "z"], name="a"), RegressionTask([0.0], [1.0], name="b")]
    loss = TaskLoss(tasks, [1.0, 2.0])
    logits_a = torch.randn(4, 3, requires_grad=True)
    out_b = torch.randn(4, 1, requires_grad=True)
    y = {
        "a": torch.tensor([0, 2, -1, -1]),
        "b": torch.tensor([[np.nan], [0.5], [-1.0], [np.nan]], dtype=torch.float32),
    }
    value = loss({"a": logits_a, "b": out_b}, y)
    expected_a = torch.nn.functional.cross_entropy(logits_a[:2], torch.tensor([0, 2]))
    expected_b = ((out_b[1:3, 0] - torch.tensor([0.5, -1.0])) ** 2).mean()
    torch.testing.assert_close(value, expected_a + 2.0 * expected_b)
    value.backward()
    # rows without a label for a task get no gradient from it
    assert torch.all(logits_a.grad[2:] == 0)
    assert torch.all(out_b.grad[[0, 3]] == 0)
    # a batch where a task has no label at all adds nothing (no NaN)
    only_b = {"a": torch.tensor([-1, -1]), "b": torch.tensor([[1.0], [0.0]])}
    value = loss({"a": logits_a[:2], "b": out_b[:2]}, only_b)
    assert torch.isfinite(value)


def test_none_and_nan_both_mark_missing_labels(tiny_model_dir):
    X, Y = stacked_data()
    as_none = Y.astype(object).where(Y.notna(), None)  # None everywhere, object columns
    assert as_none["similarity"].isna().sum() == 32 and as_none["similarity"].dtype == object
    mt1 = small(tiny_model_dir).fit(X, Y)
    mt2 = small(tiny_model_dir).fit(X, as_none)
    assert mt2.task_kinds_ == mt1.task_kinds_
    np.testing.assert_allclose(mt1._forward(X), mt2._forward(X), rtol=1e-5, atol=1e-6)
    assert np.isfinite(mt1.history_[:, "train_loss"]).all()


@pytest.mark.parametrize(
    "sampling, expected",
    [("proportional", (0.9, 0.1)), ("uniform", (0.5, 0.5)), ("temperature", (0.75, 0.25))],
)
def test_batches_come_from_one_task(sampling, expected):
    labelled = np.zeros((1000, 2), dtype=bool)
    labelled[:900, 0] = True
    labelled[900:, 1] = True
    lengths = np.random.default_rng(0).integers(3, 40, size=1000)
    # temperature 2 with sizes 900/100: 30 / (30 + 10) = 0.75
    sampler = TaskBatchSampler(labelled, lengths, 10, sampling=sampling, temperature=2.0, seed=0)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 100
    tasks = []
    for batch in batches:
        owners = {int(t) for t in np.flatnonzero(labelled[batch].all(axis=0))}
        assert owners, "every row of a batch is labelled for the batch's task"
        tasks.append(owners.pop())
    share = np.bincount(tasks, minlength=2) / len(tasks)
    np.testing.assert_allclose(share, expected, atol=0.02)
    # within a task, rows are drawn without replacement before repeating
    task0 = np.concatenate([b for b, t in zip(batches, tasks) if t == 0])
    n_unique = len(np.unique(task0))
    assert n_unique == min(len(task0), 900)
    # a new epoch gives a new order
    assert list(sampler) != batches


def test_pairs_mixed_with_single_texts(tiny_model_dir):
    X, Y = stacked_data(repeat=2)
    texts = check_texts(X, allow_mixed=True)
    assert texts.second[0] is None and texts.second[-1] == PAIRS[-1][1]
    # a list mixing strings and 2-tuples is the same input
    as_list = [a if b is None else (a, b) for a, b in zip(X["text"], X["text_pair"])]
    assert check_texts(as_list, allow_mixed=True) == texts

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    enc = encode(tokenizer, texts, 64)
    single = tokenizer(X["text"][0])
    pair = tokenizer(*PAIRS[-1])
    assert enc.input_ids[0] == single["input_ids"]
    assert enc.input_ids[-1] == pair["input_ids"]
    assert enc.token_type_ids[-1] == pair["token_type_ids"]

    mt = small(tiny_model_dir).fit(as_list, Y)
    mixed = mt.predict(X)
    # predictions keep the index of a DataFrame X
    assert mt.predict(X.iloc[[3, 20]]).index.tolist() == [3, 20]
    # each row is predicted as it would be alone: pairs as pairs, singles as singles
    singles = mt.predict(list(X["text"][:16]))
    pairs = mt.predict(pd.DataFrame(PAIRS * 2))
    np.testing.assert_allclose(mixed["similarity"][:16], singles["similarity"], rtol=1e-5)
    np.testing.assert_allclose(mixed["similarity"][16:], pairs["similarity"], rtol=1e-5)


def test_task_kinds_weights_and_errors(tiny_model_dir):
    X = (POS + NEG) * 2
    Y = pd.DataFrame({"stars": [5.0, 4.0, 5.0, 4.0, 1.0, 2.0, 1.0, 2.0] * 2})
    mt = small(tiny_model_dir, tasks={"stars": "regression"}).fit(X, Y)
    assert mt.task_kinds_ == {"stars": "regression"}
    assert isinstance(mt.predict(X), pd.DataFrame)
    # without the override, whole numbers are class labels
    mt = small(tiny_model_dir).fit(X, Y)
    assert mt.task_kinds_ == {"stars": "classification"}
    assert mt.predict(X)["stars"].isin([1, 2, 4, 5]).all()

    with pytest.raises(ValueError, match="not columns of Y"):
        small(tiny_model_dir, tasks={"nope": "regression"}).fit(X, Y)
    with pytest.raises(ValueError, match="'classification' or 'regression'"):
        small(tiny_model_dir, tasks={"stars": "ranking"}).fit(X, Y)
    with pytest.raises(ValueError, match="not columns of Y"):
        small(tiny_model_dir, task_weights={"other": 2.0}).fit(X, Y)
    with pytest.raises(ValueError, match="2-dimensional"):
        small(tiny_model_dir).fit(X, np.ones(16))
    with pytest.raises(ValueError, match="no labelled row"):
        small(tiny_model_dir).fit(X, pd.DataFrame({"a": [1.5] * 16, "b": [None] * 16}))
    with pytest.raises(ValueError, match="at least 2 classes"):
        small(tiny_model_dir).fit(X, pd.DataFrame({"a": ["x"] * 16}))
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="sampling"):
        small(tiny_model_dir, sampling="random").fit(X, Y)


def test_history_has_per_task_validation_curves(tiny_model_dir):
    X, Y = stacked_data(repeat=5)
    mt = small(tiny_model_dir, max_epochs=2, validation_fraction=0.3, sampling="uniform").fit(X, Y)
    history = mt.history_
    assert len(history) == 2
    for row in history:
        assert 0.0 <= row["valid_score_sentiment"] <= 1.0
        assert np.isfinite(row["valid_score_similarity"])
        assert row["valid_score"] == pytest.approx(
            (row["valid_score_sentiment"] + row["valid_score_similarity"]) / 2
        )
        assert np.isfinite(row["valid_loss"])


def test_save_load_and_partial_fit(tiny_model_dir, tmp_path):
    X, Y = stacked_data(repeat=2)
    mt = small(tiny_model_dir, task_weights={"similarity": 0.5}).fit(X, Y)
    mt.save_pretrained(tmp_path / "mt")
    loaded = MultiTaskTransformer.from_pretrained(tmp_path / "mt")
    pd.testing.assert_frame_equal(loaded.predict(X), mt.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X)[0], mt.predict_proba(X)[0])
    assert loaded.task_kinds_ == mt.task_kinds_
    assert loaded.task_weights_ == {"sentiment": 1.0, "similarity": 0.5}

    loaded.partial_fit(X, Y)
    assert len(loaded.history_) == 1
    with pytest.raises(ValueError, match="not seen in the first fit"):
        loaded.partial_fit(X[:2], pd.DataFrame({"sentiment": ["meh", "pos"], "similarity": [1, 2]}))
