"""FewShotClassifier: pairs, contrastive stage, head, scikit-learn API, saving."""

from __future__ import annotations

import json
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import LinearSVC

from sktransformers import TransformerClassifier
from sktransformers.fewlabels._fewshot import FewShotClassifier, generate_pairs

POS = ["a great film", "wonderful acting", "i loved it", "truly excellent"]
NEG = ["a terrible film", "awful acting", "i hated it", "truly boring"]
X = POS + NEG
Y = ["pos"] * 4 + ["neg"] * 4
FAST = {"num_iterations": 2, "batch_size": 8, "device": "cpu", "random_state": 0}


@pytest.fixture(scope="module")
def fitted(tiny_model_dir):
    return FewShotClassifier(tiny_model_dir, **FAST).fit(X, Y)


def test_pairs_follow_setfit_scheme():
    y = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    rng = np.random.default_rng(0)
    left, right, label = generate_pairs(y, 3, rng)
    assert len(left) == 2 * 3 * len(y)
    assert label.mean() == 0.5  # balanced
    same = y[left] == y[right]
    np.testing.assert_array_equal(same, label == 1)
    assert not np.any(left[label == 1] == right[label == 1])  # never a text with itself
    np.testing.assert_array_equal(np.bincount(left), np.full(len(y), 6))


def test_fit_predict_string_labels(fitted):
    assert fitted.classes_.tolist() == ["neg", "pos"]
    assert set(fitted.predict(X)) <= {"neg", "pos"}
    proba = fitted.predict_proba(X)
    assert proba.shape == (8, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    assert fitted.n_pairs_ == 2 * 2 * 8
    assert "train_loss" in fitted.history_[-1]
    assert fitted.transform(X).shape == (8, 32)


def test_contrastive_stage_changes_the_encoder(tiny_model_dir, fitted):
    frozen = FewShotClassifier(tiny_model_dir, **{**FAST, "num_iterations": 0}).fit(X, Y)
    assert frozen.history_ is None and frozen.n_pairs_ == 0
    assert not np.allclose(frozen.transform(X), fitted.transform(X))


def test_contrastive_training_separates_classes(tiny_model_dir):
    data_x, data_y = X * 3, Y * 3
    params = {**FAST, "num_iterations": 10, "lr": 1e-3, "contrastive_epochs": 4}
    clf = FewShotClassifier(tiny_model_dir, **params).fit(data_x, data_y)
    first, last = clf.history_[0, "train_loss"], clf.history_[-1, "train_loss"]
    assert np.isfinite(first)
    emb = clf.transform(X)
    sims = emb @ emb.T
    same = np.equal.outer(np.array(Y), np.array(Y))
    off_diag = ~np.eye(len(X), dtype=bool)
    assert sims[same & off_diag].mean() > sims[~same].mean() + 0.2
    assert clf.score(X, Y) == 1.0
    assert last > 0  # a loss, not a score


@pytest.mark.parametrize("loss", ["cosine", "contrastive"])
def test_losses(tiny_model_dir, loss):
    clf = FewShotClassifier(tiny_model_dir, **{**FAST, "loss": loss}).fit(X, Y)
    assert np.isfinite(clf.history_[-1, "train_loss"])


def test_multiclass_and_int_labels(tiny_model_dir):
    y = [0, 0, 1, 1, 2, 2, 0, 1]
    clf = FewShotClassifier(tiny_model_dir, **FAST).fit(X, y)
    assert clf.classes_.tolist() == [0, 1, 2]
    assert clf.predict_proba(X).shape == (8, 3)
    assert clf.predict(X).dtype.kind == "i"


def test_random_state_reproducible(tiny_model_dir, fitted):
    again = FewShotClassifier(tiny_model_dir, **FAST).fit(X, Y)
    np.testing.assert_allclose(again.predict_proba(X), fitted.predict_proba(X), atol=1e-6)


def test_sentence_pairs(tiny_model_dir):
    pairs = [(a, b) for a, b in zip(X, reversed(X))]
    clf = FewShotClassifier(tiny_model_dir, **FAST).fit(pairs, Y)
    assert clf.is_pair_
    assert clf.predict(pd.DataFrame(pairs)).shape == (8,)
    with pytest.raises(ValueError, match="fitted on sentence pairs"):
        clf.predict(X)


@pytest.mark.parametrize(
    "y, match",
    [
        (["pos"] * 8, "at least 2 classes"),
        (["pos"] * 7 + ["neg"], "class 'neg' has only 1"),
        (["pos"] * 6 + ["neg", None], "missing labels"),
        (["pos"] * 7, "different lengths"),
    ],
)
def test_bad_labels_fail_before_loading(y, match):
    # The model directory does not exist: the label check must come first.
    with pytest.raises(ValueError, match=match):
        FewShotClassifier("/no/such/model/dir").fit(X, y)


def test_bad_params_fail_before_loading():
    with pytest.raises(ValueError, match="loss"):
        FewShotClassifier(loss="triplet").fit(X, Y)
    with pytest.raises(ValueError, match="num_iterations"):
        FewShotClassifier(num_iterations=-1).fit(X, Y)
    with pytest.raises(TypeError, match="strings"):
        FewShotClassifier().fit([1, 2, 3, 4, 5, 6, 7, 8], Y)


def test_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        FewShotClassifier().predict(X)


def test_clone_and_params(fitted):
    c = clone(fitted)
    assert c.get_params() == fitted.get_params()
    assert "head_" not in c.__dict__
    head = LinearSVC()
    est = FewShotClassifier(head=head)
    assert est.get_params()["head"] is head  # stored verbatim
    assert "head__C" in est.get_params(deep=True)


def test_any_head_and_no_proba_head(tiny_model_dir):
    clf = FewShotClassifier(tiny_model_dir, head=LinearSVC(), **FAST).fit(X, Y)
    assert clf.predict(X).shape == (8,)
    assert clf.decision_function(X).shape == (8,)
    assert not hasattr(clf, "predict_proba")
    knn = FewShotClassifier(tiny_model_dir, head=KNeighborsClassifier(3), **FAST).fit(X, Y)
    assert knn.predict_proba(X).shape == (8, 2)


def test_grid_search_and_cross_val(tiny_model_dir):
    base = FewShotClassifier(tiny_model_dir, **{**FAST, "num_iterations": 1})
    Xs, ys = X * 2, Y * 2
    scores = cross_val_score(base, Xs, ys, cv=2)
    assert scores.shape == (2,)
    search = GridSearchCV(base, {"lr": [1e-5, 1e-4]}, cv=2).fit(Xs, ys)
    assert search.best_estimator_.predict(X).shape == (8,)


def test_grid_search_over_head_params(tiny_model_dir):
    from sklearn.linear_model import LogisticRegression

    base = FewShotClassifier(
        tiny_model_dir, head=LogisticRegression(), **{**FAST, "num_iterations": 1}
    )
    search = GridSearchCV(base, {"head__C": [0.1, 10.0]}, cv=2).fit(X * 2, Y * 2)
    assert search.best_estimator_.head_.C in (0.1, 10.0)


def test_pickle_and_joblib(fitted, tmp_path):
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    joblib.dump(fitted, tmp_path / "m.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "m.joblib").predict_proba(X), fitted.predict_proba(X)
    )
    assert b"truly excellent" not in pickle.dumps(fitted)  # no training data kept


@pytest.mark.parametrize("labels", [Y, [1, 1, 1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 2, 2, 0, 1]])
def test_save_load_round_trip(tiny_model_dir, tmp_path, labels):
    clf = FewShotClassifier(tiny_model_dir, **FAST).fit(X, labels)
    clf.save_pretrained(tmp_path)
    files = {p.name for p in tmp_path.iterdir()}
    assert "model.safetensors" in files and "sktransformers_head.safetensors" in files
    assert not any(p.suffix in {".pkl", ".bin", ".joblib", ".pt"} for p in tmp_path.iterdir())
    meta = json.loads((tmp_path / "sktransformers.json").read_text())
    assert meta["format"] == 1 and meta["estimator"] == "FewShotClassifier"
    loaded = FewShotClassifier.from_pretrained(tmp_path, device="cpu")
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    assert loaded.classes_.dtype == clf.classes_.dtype
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-6)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    assert loaded.num_iterations == clf.num_iterations


@pytest.mark.parametrize("head", ["LinearSVC", "RidgeClassifier"])
def test_save_load_other_linear_heads(tiny_model_dir, tmp_path, head):
    from sklearn import linear_model, svm

    cls = getattr(linear_model, head, None) or getattr(svm, head)
    clf = FewShotClassifier(tiny_model_dir, head=cls(), **FAST).fit(X, Y)
    clf.save_pretrained(tmp_path)
    loaded = FewShotClassifier.from_pretrained(tmp_path)
    assert type(loaded.head_) is cls
    np.testing.assert_allclose(loaded.decision_function(X), clf.decision_function(X), atol=1e-5)


def test_save_nonlinear_head_is_a_clear_error(tiny_model_dir, tmp_path):
    clf = FewShotClassifier(tiny_model_dir, head=KNeighborsClassifier(3), **FAST).fit(X, Y)
    with pytest.raises(TypeError, match="joblib"):
        clf.save_pretrained(tmp_path)


def test_from_pretrained_wrong_estimator(tiny_model_dir, tmp_path):
    TransformerClassifier(tiny_model_dir, max_epochs=1, device="cpu").fit(X, Y).save_pretrained(
        tmp_path
    )
    with pytest.raises(ValueError, match="TransformerClassifier"):
        FewShotClassifier.from_pretrained(tmp_path)


def test_saved_directory_and_backbone_start_other_estimators(fitted, tmp_path):
    fitted.save_pretrained(tmp_path)
    clf = TransformerClassifier(str(tmp_path), max_epochs=1, device="cpu").fit(X, Y)
    assert clf.predict(X).shape == (8,)
    again = FewShotClassifier(fitted.backbone(), **FAST).fit(X, Y)
    assert again.predict(X).shape == (8,)


def test_verbose_zero_is_silent(tiny_model_dir, capsys):
    FewShotClassifier(tiny_model_dir, **FAST).fit(X, Y)
    out = capsys.readouterr()
    assert out.out == ""


def test_failed_save_leaves_the_previous_save_intact(fitted, tiny_model_dir, tmp_path, monkeypatch):
    import safetensors.numpy

    from sktransformers.engine import _persistence

    target = tmp_path / "model"
    fitted.save_pretrained(target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    other = FewShotClassifier(tiny_model_dir, **{**FAST, "num_iterations": 0}).fit(X, Y)
    assert not np.allclose(other.transform(X), fitted.transform(X))  # other encoder weights

    def broken(*args, **kwargs):
        raise OSError("disk full")

    # The head is written last but one: the encoder files are already in the temporary directory.
    monkeypatch.setattr(safetensors.numpy, "save_file", broken)
    with pytest.raises(OSError, match="disk full"):
        other.save_pretrained(target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no temporary directory left
    monkeypatch.undo()
    loaded = _persistence.load(target)  # the class comes from the directory
    assert type(loaded) is FewShotClassifier
    np.testing.assert_allclose(loaded.predict_proba(X), fitted.predict_proba(X), atol=1e-6)


def test_saved_layout_is_unchanged(fitted, tmp_path):
    """The files and keys earlier versions wrote, so their directories keep loading."""
    fitted.save_pretrained(tmp_path)
    meta = json.loads((tmp_path / "sktransformers.json").read_text())
    assert set(meta) == {
        "format",
        "estimator",
        "sktransformers_version",
        "params",
        "is_pair",
        "fitted",
    }
    assert set(meta["fitted"]) == {
        "head",
        "head_params",
        "intercept_shape",
        "classes",
        "classes_dtype",
    }
    assert meta["format"] == 1
    assert "head" not in meta["params"] and "model" not in meta["params"]
