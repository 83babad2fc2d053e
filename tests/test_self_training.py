"""TextSelfTrainingClassifier: sklearn's self-training interface on texts, warm-started rounds."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from sktransformers import TransformerClassifier
from sktransformers.fewlabels._fewshot import FewShotClassifier
from sktransformers.fewlabels._self_training import TextSelfTrainingClassifier

POS = ["a great film", "wonderful acting", "i loved it", "truly excellent", "great fun"]
NEG = ["a terrible film", "awful acting", "i hated it", "truly boring", "dull mess"]
X = POS + NEG
Y_FULL = np.array([1] * 5 + [0] * 5)
# Two labelled texts per class, the rest unlabelled.
Y = np.array([1, 1, -1, -1, -1, 0, 0, -1, -1, -1])


def tfidf():
    return make_pipeline(TfidfVectorizer(), LogisticRegression(C=100))


def test_labels_unlabelled_rows_and_records_rounds():
    st = TextSelfTrainingClassifier(tfidf(), threshold=0.55).fit(X, Y)
    assert st.labeled_iter_[Y != -1].tolist() == [0] * 4
    assert (st.labeled_iter_[Y == -1] >= 1).all()  # every unlabelled row got a label
    assert st.termination_condition_ == "all_labeled"
    assert st.n_iter_ == st.labeled_iter_.max()
    np.testing.assert_array_equal(st.transduction_[Y != -1], Y[Y != -1])
    assert st.transduction_.dtype.kind == "i"
    assert set(st.transduction_) <= {0, 1}
    assert st.classes_.tolist() == [0, 1]
    assert st.predict(X).shape == (10,)
    assert st.predict_proba(X).shape == (10, 2)
    assert 0 <= st.score(X, Y_FULL) <= 1


def test_threshold_too_high_stops_with_no_change():
    st = TextSelfTrainingClassifier(tfidf(), threshold=0.999).fit(X, Y)
    assert st.termination_condition_ == "no_change"
    assert st.n_iter_ == 1
    assert (st.labeled_iter_[Y == -1] == -1).all()
    assert (st.transduction_[Y == -1] == -1).all()


def test_k_best_and_max_iter():
    st = TextSelfTrainingClassifier(tfidf(), criterion="k_best", k_best=2, max_iter=2).fit(X, Y)
    assert st.termination_condition_ == "max_iter"
    assert st.n_iter_ == 2
    assert (st.labeled_iter_ == 1).sum() == 2 and (st.labeled_iter_ == 2).sum() == 2
    assert (st.labeled_iter_ == -1).sum() == 2
    with pytest.warns(UserWarning, match="k_best"):
        TextSelfTrainingClassifier(tfidf(), criterion="k_best", k_best=50).fit(X, Y)


def test_string_labels_with_none_or_a_marker():
    y = np.array(["pos", "pos", None, None, None, "neg", "neg", None, None, None], dtype=object)
    st = TextSelfTrainingClassifier(tfidf(), threshold=0.55).fit(X, y)
    assert st.classes_.tolist() == ["neg", "pos"]
    assert st.transduction_.dtype.kind == "U"
    y2 = ["pos", "pos", "?", "?", "?", "neg", "neg", "?", "?", "?"]
    st2 = TextSelfTrainingClassifier(tfidf(), threshold=0.55, unlabeled="?").fit(X, y2)
    np.testing.assert_array_equal(st2.labeled_iter_, st.labeled_iter_)


def test_errors():
    with pytest.raises(ValueError, match="no labelled row"):
        TextSelfTrainingClassifier(tfidf()).fit(X, [-1] * 10)
    with pytest.raises(ValueError, match="one label per text"):
        TextSelfTrainingClassifier(tfidf()).fit(X, Y[:5])
    with pytest.raises(TypeError, match="strings"):
        TextSelfTrainingClassifier(tfidf()).fit(list(range(10)), Y)
    with pytest.raises(ValueError, match="criterion"):
        TextSelfTrainingClassifier(tfidf(), criterion="best").fit(X, Y)
    with pytest.raises(ValueError, match="threshold"):
        TextSelfTrainingClassifier(tfidf(), threshold=1.5).fit(X, Y)
    with pytest.warns(UserWarning, match="no unlabelled"):
        TextSelfTrainingClassifier(tfidf()).fit(X, Y_FULL)


def test_clone_pickle_grid_search_cross_val():
    st = TextSelfTrainingClassifier(tfidf(), threshold=0.55)
    assert clone(st).get_params()["threshold"] == 0.55
    fitted = st.fit(X, Y)
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    # Scoring folds hold only labelled rows here; the training folds mix both.
    search = GridSearchCV(
        TextSelfTrainingClassifier(tfidf()),
        {"threshold": [0.55, 0.9]},
        cv=2,
        scoring=lambda est, Xs, ys: float(np.mean(est.predict(Xs) == np.abs(ys))),
    ).fit(X * 2, np.concatenate([Y, Y_FULL]))
    assert search.best_params_["threshold"] in (0.55, 0.9)
    scores = cross_val_score(
        TextSelfTrainingClassifier(tfidf()),
        X * 2,
        np.concatenate([Y, Y_FULL]),
        cv=2,
        scoring=lambda est, Xs, ys: float(np.mean(est.predict(Xs) == np.abs(ys))),
    )
    assert scores.shape == (2,)


def test_sklearn_self_training_rejects_texts_this_one_does_not():
    from sklearn.semi_supervised import SelfTrainingClassifier

    with pytest.raises(ValueError):
        SelfTrainingClassifier(tfidf()).fit(X, Y)
    TextSelfTrainingClassifier(tfidf()).fit(X, Y)


def test_transformer_classifier_is_warm_started(tiny_model_dir):
    calls = []

    class Recording(TransformerClassifier):
        def fit(self, X, y):
            calls.append(("fit", len(X)))
            return super().fit(X, y)

        def partial_fit(self, X, y, classes=None):
            calls.append(("partial_fit", len(X)))
            return super().partial_fit(X, y, classes=classes)

    base = Recording(tiny_model_dir, max_epochs=1, device="cpu", random_state=0)
    st = TextSelfTrainingClassifier(base, criterion="k_best", k_best=3, max_iter=2).fit(X, Y)
    assert calls == [("fit", 4), ("partial_fit", 7), ("partial_fit", 10)]
    assert st.termination_condition_ == "all_labeled"
    assert len(st.estimator_.history_) == 3  # one fit epoch + one epoch per round
    assert st.predict(X).shape == (10,)

    calls.clear()
    TextSelfTrainingClassifier(
        base, criterion="k_best", k_best=3, max_iter=1, warm_start=False
    ).fit(X, Y)
    assert calls == [("fit", 4), ("fit", 7)]


def test_few_shot_classifier_refits_only_the_head(tiny_model_dir):
    base = FewShotClassifier(tiny_model_dir, num_iterations=2, device="cpu", random_state=0)
    st = TextSelfTrainingClassifier(base, criterion="k_best", k_best=3).fit(X, Y)
    assert st.termination_condition_ == "all_labeled"
    assert st.n_iter_ == 2
    est = st.estimator_
    assert est.n_pairs_ == 2 * 2 * 4  # the contrastive stage saw the 4 labelled texts only
    assert est.head_.n_features_in_ == 32
    # The head was refitted on all 10 rows: its predictions match a head fitted
    # on the final transduction with the same embeddings.
    ref = clone(est.head_).fit(est.transform(X), st.transduction_)
    np.testing.assert_allclose(est.head_.coef_, ref.coef_, atol=1e-4)
    assert st.predict_proba(X).shape == (10, 2)
