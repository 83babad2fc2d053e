"""TextAugmenter: EDA edits, oversampling, imbalanced-learn Pipeline, the augment= hook."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from sktransformers.engine._augment import TextAugmenter, augment_training_set, embedding_neighbours
from sktransformers.engine._data import check_texts
from sktransformers.engine._synonym_table import synonym_table

X = [
    "a great film with wonderful acting",
    "the story is dull and the ending is predictable",
    "i loved every minute of this charming movie",
    "a boring mess of a film",
    "funny , touching and beautiful",
]
Y = [1, 0, 1, 0, 1]


def test_default_adds_n_aug_copies_after_the_originals():
    X_res, y_res = TextAugmenter(n_aug=2, random_state=0).fit_resample(X, Y)
    assert isinstance(X_res, list) and len(X_res) == 15
    assert X_res[:5] == X
    np.testing.assert_array_equal(y_res, np.concatenate([Y, np.repeat(Y, 2)]))
    assert all(isinstance(t, str) and t for t in X_res)
    assert sum(a != b for a, b in zip(X_res[5::2], X)) >= 4  # edits happened


def test_random_state_reproducible_and_seeds_differ():
    a = TextAugmenter(random_state=0).fit_resample(X, Y)[0]
    b = TextAugmenter(random_state=0).fit_resample(X, Y)[0]
    c = TextAugmenter(random_state=1).fit_resample(X, Y)[0]
    assert a == b
    assert a != c


@pytest.mark.parametrize("method", ["synonym", "swap", "delete", "insert"])
def test_each_method(method):
    aug = TextAugmenter(methods=(method,), p=0.3, random_state=0)
    out = aug.augment(X)
    assert len(out) == len(X) and out != X
    table = synonym_table()
    for before, after in zip(X, out):
        b, a = before.split(), after.split()
        if method == "synonym":
            assert len(a) == len(b)
            changed = [(x, y) for x, y in zip(b, a) if x != y]
            assert changed and all(y.lower() in table[x.lower()] for x, y in changed)
        elif method == "swap":
            assert sorted(a) == sorted(b)
        elif method == "delete":
            assert len(a) < len(b) and all(w in b for w in a)
        else:
            assert len(a) > len(b)


def test_synonym_table_has_no_self_and_keeps_negations():
    table = synonym_table()
    assert len(table) > 500
    assert all(word not in alts for word, alts in table.items())
    out = TextAugmenter(methods=("synonym",), p=1.0, random_state=0).augment(["not a good film"])[0]
    assert out.split()[0] == "not"  # stop words and negations are never replaced


def test_custom_synonyms_and_case():
    aug = TextAugmenter(methods=("synonym",), p=1.0, synonyms={"great": ["superb"]}, random_state=0)
    assert aug.augment(["Great film"]) == ["Superb film"]


def test_text_without_candidates_falls_back_to_another_method():
    aug = TextAugmenter(methods=("synonym", "swap"), random_state=0)
    out = aug.augment(["xyzzy plugh"])
    assert out == ["plugh xyzzy"]
    # Nothing any method can change: the text comes back as is.
    assert TextAugmenter(methods=("synonym",), random_state=0).augment(["xyzzy"]) == ["xyzzy"]


@pytest.mark.parametrize(
    "strategy, expected",
    [
        ("auto", {0: 3, 1: 0}),
        ("minority", {0: 3, 1: 0}),
        ("not minority", {0: 0, 1: 0}),
        ("all", {0: 3, 1: 0}),
        ({0: 4}, {0: 2, 1: 0}),
        (0.8, {0: 2, 1: 0}),
    ],
)
def test_oversampling_strategies(strategy, expected):
    y = [1, 1, 1, 1, 1, 0, 0]
    texts = X + ["a dull story", "an awful plot"]
    aug = TextAugmenter(sampling_strategy=strategy, random_state=0)
    X_res, y_res = aug.fit_resample(texts, y)
    assert aug.sampling_strategy_ == expected
    counts = pd.Series(y_res).value_counts().to_dict()
    assert counts == {c: y.count(c) + n for c, n in expected.items()}
    assert len(X_res) == len(y_res)


def test_oversampling_multiclass_strings_and_bad_dicts():
    y = ["a", "a", "a", "b", "c"]
    X_res, y_res = TextAugmenter(sampling_strategy="auto", random_state=0).fit_resample(X, y)
    assert pd.Series(y_res).value_counts().to_dict() == {"a": 3, "b": 3, "c": 3}
    with pytest.raises(ValueError, match="cannot remove"):
        TextAugmenter(sampling_strategy={"a": 1}).fit_resample(X, y)
    with pytest.raises(ValueError, match="not in y"):
        TextAugmenter(sampling_strategy={"z": 9}).fit_resample(X, y)
    with pytest.raises(ValueError, match="binary"):
        TextAugmenter(sampling_strategy=0.5).fit_resample(X, y)


def test_container_kinds_are_kept():
    X_res, y_res = TextAugmenter(random_state=0).fit_resample(
        pd.Series(X, name="text"), pd.Series(Y, name="label")
    )
    assert isinstance(X_res, pd.Series) and X_res.name == "text" and len(X_res) == 10
    assert isinstance(y_res, pd.Series) and y_res.name == "label"
    X_arr, _ = TextAugmenter(random_state=0).fit_resample(np.array(X, dtype=object), Y)
    assert isinstance(X_arr, np.ndarray) and X_arr.shape == (10,)
    pairs = pd.DataFrame({"a": X, "b": X[::-1]})
    P_res, _ = TextAugmenter(random_state=0).fit_resample(pairs, Y)
    assert list(P_res.columns) == ["a", "b"] and P_res.shape == (10, 2)
    L_res, _ = TextAugmenter(random_state=0).fit_resample(list(zip(X, X)), Y)
    assert isinstance(L_res[-1], tuple) and len(L_res) == 10


def test_bad_input_and_params():
    with pytest.raises(TypeError, match="strings"):
        TextAugmenter().fit_resample([1, 2], [0, 1])
    with pytest.raises(ValueError, match="one label per text"):
        TextAugmenter().fit_resample(X, Y[:3])
    with pytest.raises(ValueError, match="unknown"):
        TextAugmenter(methods=("synonym", "backtranslate")).fit_resample(X, Y)
    with pytest.raises(ValueError, match="p"):
        TextAugmenter(p=0).fit_resample(X, Y)


def test_clone_and_pickle():
    aug = TextAugmenter(methods=["swap"], n_aug=3, random_state=2)
    assert clone(aug).get_params() == aug.get_params()
    loaded = pickle.loads(pickle.dumps(aug))
    assert loaded.augment(X) == aug.augment(X)


def test_augment_training_set_hook():
    texts = check_texts(X)
    out, y_out = augment_training_set(TextAugmenter(n_aug=2), texts, np.array(Y), random_state=0)
    assert type(out) is type(texts) and len(out) == 15 and out.first[:5] == X
    np.testing.assert_array_equal(y_out[5:], np.repeat(Y, 2))
    again, _ = augment_training_set(TextAugmenter(n_aug=2), texts, np.array(Y), random_state=0)
    assert again.first == out.first
    other, _ = augment_training_set(TextAugmenter(n_aug=2), texts, np.array(Y), random_state=1)
    assert other.first != out.first
    pairs = check_texts(list(zip(X, X)))
    out_pairs, _ = augment_training_set(TextAugmenter(), pairs, Y, random_state=0)
    assert out_pairs.is_pair and len(out_pairs) == 10


def test_embedding_neighbours_from_the_tiny_model(tiny_model_dir):
    table = embedding_neighbours(
        {"film", "great", "zzzqqq"}, tiny_model_dir, k=3, min_similarity=-1.0
    )
    assert set(table) == {"film", "great"}
    assert len(table["film"]) == 3 and "film" not in table["film"]
    aug = TextAugmenter(
        methods=("embedding",), embedding_model=tiny_model_dir, p=0.5, random_state=0
    )
    out = aug.augment(["a great film"])[0].split()
    assert out[0] == "a" and out[1:] != ["great", "film"]


def test_imblearn_pipeline_before_a_transformer_classifier(tiny_model_dir):
    pytest.importorskip("imblearn")
    from imblearn.pipeline import make_pipeline

    from sktransformers import TransformerClassifier

    seen = {}

    class Spy(TransformerClassifier):
        def fit(self, X, y):
            seen["n"] = len(X)
            return super().fit(X, y)

    y = [1, 1, 1, 1, 0]
    pipe = make_pipeline(
        TextAugmenter(sampling_strategy="auto", random_state=0),
        Spy(tiny_model_dir, max_epochs=1, device="cpu", random_state=0),
    )
    pipe.fit(X, y)
    assert seen["n"] == 8  # 5 texts + 3 new of the minority class
    assert pipe.predict(X).shape == (5,)  # no resampling at prediction


def test_imblearn_pipeline_with_tfidf_in_a_grid_search():
    pytest.importorskip("imblearn")
    from imblearn.pipeline import make_pipeline
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    pipe = make_pipeline(TextAugmenter(random_state=0), TfidfVectorizer(), LogisticRegression())
    search = GridSearchCV(pipe, {"textaugmenter__n_aug": [1, 2]}, cv=2).fit(X * 4, Y * 4)
    assert search.best_params_["textaugmenter__n_aug"] in (1, 2)


def test_continuous_and_multi_column_targets_are_copied():
    y = np.column_stack([np.arange(5.0), -np.arange(5.0)])
    X_res, y_res = TextAugmenter(random_state=0).fit_resample(X, y)
    assert y_res.shape == (10, 2)
    np.testing.assert_array_equal(y_res[5:], y)
    with pytest.raises(ValueError, match="one label per text"):
        TextAugmenter(sampling_strategy="auto").fit_resample(X, y)
