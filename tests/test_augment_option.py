"""The estimators' ``augment=`` option: training texts resampled on the fly."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from sktransformers import (
    MultiTaskTransformer,
    TextAugmenter,
    TransformerClassifier,
    TransformerRegressor,
    TransformerTokenClassifier,
)

POS = ["a great film", "wonderful acting", "i loved it", "truly excellent"]
NEG = ["a terrible film", "awful acting", "i hated it", "truly boring"]
X = POS + NEG
Y = ["pos"] * 4 + ["neg"] * 4
FAST = {"max_epochs": 1, "batch_size": 4, "device": "cpu", "random_state": 0}


class SpyAugmenter(TextAugmenter):
    """A TextAugmenter that records what each fit_resample got and returned.

    The estimator runs a clone, so the record is kept on the class.
    """

    calls: list = []

    def fit_resample(self, X, y):
        X_res, y_res = super().fit_resample(X, y)
        type(self).calls.append(
            {"X": list(X), "y": y, "X_res": list(X_res), "random_state": self.random_state}
        )
        return X_res, y_res


class Duplicate:
    """A sampler that is not a scikit-learn estimator: every row twice."""

    def fit_resample(self, X, y):
        return list(X) + list(X), np.concatenate([np.asarray(y), np.asarray(y)])


class ToSingles:
    """A broken sampler: returns single texts whatever it is given."""

    def fit_resample(self, X, y):
        return [a for a, _ in X], y


@pytest.fixture(autouse=True)
def _fresh_spy():
    SpyAugmenter.calls = []


def _rows(est, kind="train", epoch=0):
    """Rows the net trained (or validated) on in an epoch, from skorch's batch records."""
    return sum(b.get(f"{kind}_batch_size", 0) for b in est.history_[epoch]["batches"])


def test_training_set_grows(tiny_model_dir):
    plain = TransformerClassifier(tiny_model_dir, **FAST).fit(X, Y)
    assert _rows(plain) == 8
    clf = TransformerClassifier(tiny_model_dir, augment=SpyAugmenter(n_aug=2), **FAST).fit(X, Y)
    assert _rows(clf) == 24
    (call,) = SpyAugmenter.calls
    assert call["X"] == X and len(call["X_res"]) == 24
    assert clf.augment.get_params()["random_state"] is None  # the parameter is not touched


def test_sampler_without_get_params(tiny_model_dir):
    clf = TransformerClassifier(tiny_model_dir, augment=Duplicate(), **FAST).fit(X, Y)
    assert _rows(clf) == 16
    assert isinstance(clone(clf).augment, Duplicate)


def test_validation_split_is_not_augmented(tiny_model_dir, monkeypatch):
    import skorch.helper

    seen = []
    original = skorch.helper.predefined_split

    def spy(dataset):
        seen.append(dataset)
        return original(dataset)

    monkeypatch.setattr(skorch.helper, "predefined_split", spy)
    X16, Y16 = X * 2, Y * 2
    params = {**FAST, "validation_fraction": 0.25}
    TransformerClassifier(tiny_model_dir, **params).fit(X16, Y16)
    clf = TransformerClassifier(tiny_model_dir, augment=SpyAugmenter(n_aug=2), **params)
    clf.fit(X16, Y16)
    plain_valid, augmented_valid = seen
    assert len(augmented_valid) == len(plain_valid) == 4
    assert augmented_valid.encoded.input_ids == plain_valid.encoded.input_ids
    assert augmented_valid.y.keys() == plain_valid.y.keys()
    for key in plain_valid.y:
        np.testing.assert_array_equal(augmented_valid.y[key], plain_valid.y[key])
    (call,) = SpyAugmenter.calls
    assert len(call["X"]) == 12  # the training split only
    assert _rows(clf) == 36 and _rows(clf, "valid") == 4


def test_random_state_makes_it_reproducible(tiny_model_dir):
    def fit(random_state, augment=None):
        augment = SpyAugmenter() if augment is None else augment
        return TransformerClassifier(
            tiny_model_dir, augment=augment, **{**FAST, "random_state": random_state}
        ).fit(X, Y)

    a, b = fit(0), fit(0)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-6)
    fit(1)
    first, second, other = SpyAugmenter.calls
    assert first["X_res"] == second["X_res"] != other["X_res"]
    assert first["random_state"] is not None
    # A sampler's own random_state is kept.
    fit(0, SpyAugmenter(random_state=7))
    fit(1, SpyAugmenter(random_state=7))
    assert SpyAugmenter.calls[-2]["X_res"] == SpyAugmenter.calls[-1]["X_res"]
    assert SpyAugmenter.calls[-1]["random_state"] == 7


@pytest.mark.parametrize("augment", ["synonyms", object(), [TextAugmenter()]])
def test_bad_augment_fails_before_loading_the_model(augment):
    with pytest.raises(ValueError, match="augment"):
        TransformerClassifier("/no/such/model/dir", augment=augment).fit(X, Y)


def test_token_classifier_has_no_augment(tiny_model_dir, monkeypatch):
    with pytest.raises(TypeError, match="augment"):
        TransformerTokenClassifier(augment=TextAugmenter())
    assert "augment" not in TransformerTokenClassifier().get_params()
    # Set by hand anyway, the engine refuses it before loading any model.
    from sktransformers.engine import _hub

    def no_loading(*args, **kwargs):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(_hub, "load_parts", no_loading)
    ner = TransformerTokenClassifier(tiny_model_dir, device="cpu")
    ner.augment = TextAugmenter()
    with pytest.raises(ValueError, match="word-level"):
        ner.fit([["Ada", "lived", "here"]], [["B-PER", "O", "O"]])


def test_grid_search_over_augment(tiny_model_dir):
    search = GridSearchCV(
        TransformerClassifier(tiny_model_dir, **FAST),
        {"augment": [None, TextAugmenter(n_aug=1)]},
        cv=2,
    ).fit(X * 2, Y * 2)
    assert len(search.cv_results_["params"]) == 2
    assert search.predict(X).shape == (8,)


def test_save_load_clone_pickle_with_augment(tiny_model_dir, tmp_path):
    aug = TextAugmenter(n_aug=1)
    clf = TransformerClassifier(tiny_model_dir, augment=aug, **FAST).fit(X, Y)
    clf.save_pretrained(tmp_path)
    meta = json.loads((tmp_path / "sktransformers.json").read_text())
    assert "augment" not in meta["params"]
    loaded = TransformerClassifier.from_pretrained(tmp_path)
    assert loaded.augment is None
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-6)
    again = TransformerClassifier.from_pretrained(tmp_path, augment=aug)
    assert again.augment is aug
    again.partial_fit(X, Y)  # continues training with augmentation
    assert _rows(again, epoch=-1) == 16
    assert clone(clf).get_params()["augment"].get_params() == aug.get_params()
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


def test_partial_fit_augments_every_call_the_same_way(tiny_model_dir):
    clf = TransformerClassifier(tiny_model_dir, augment=SpyAugmenter(), **FAST)
    clf.partial_fit(X, Y).partial_fit(X, Y)
    first, second = SpyAugmenter.calls
    assert first["X_res"] == second["X_res"] and len(first["X_res"]) == 16
    assert _rows(clf, epoch=0) == _rows(clf, epoch=1) == 16


def test_sentence_pairs(tiny_model_dir):
    pairs = [(x, "a film review") for x in X]
    clf = TransformerClassifier(tiny_model_dir, augment=SpyAugmenter(p=0.5), **FAST)
    clf.fit(pairs, Y)
    assert clf.is_pair_ and _rows(clf) == 16
    (call,) = SpyAugmenter.calls
    assert call["X"] == pairs and all(len(p) == 2 for p in call["X_res"])
    with pytest.raises(ValueError, match="returned single texts for sentence pairs"):
        TransformerClassifier(tiny_model_dir, augment=ToSingles(), **FAST).fit(pairs, Y)


def test_multilabel_regressor_and_multitask(tiny_model_dir):
    indicator = np.array([[1, 0], [1, 1], [0, 1], [1, 0]] * 2)
    clf = TransformerClassifier(tiny_model_dir, augment=TextAugmenter(), **FAST)
    assert _rows(clf.fit(X, indicator)) == 16 and clf.multilabel_
    reg = TransformerRegressor(tiny_model_dir, augment=TextAugmenter(n_aug=2), **FAST)
    assert _rows(reg.fit(X, np.arange(8.0))) == 24
    Y_frame = pd.DataFrame(
        {
            "sentiment": ["pos", "neg", "pos", "neg"] + [None] * 4,
            "score": [np.nan] * 4 + [1.5, 2.5, 3.5, 4.5],
        }
    )
    mt = MultiTaskTransformer(tiny_model_dir, augment=TextAugmenter(), **FAST).fit(X, Y_frame)
    assert _rows(mt) == 16
    assert mt.task_kinds_ == {"sentiment": "classification", "score": "regression"}
