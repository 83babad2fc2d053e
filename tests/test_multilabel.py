"""Multi-label TransformerClassifier: indicator targets in every form scikit-learn uses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.metrics import f1_score, jaccard_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import MultiLabelBinarizer

from sktransformers import TransformerClassifier

TEXTS = ["sunny and warm", "cold rain", "warm rain", "cold and sunny"] * 8
LABELS = [{"sun", "warm"}, {"cold", "rain"}, {"warm", "rain"}, {"cold", "sun"}] * 8


def indicator():
    mlb = MultiLabelBinarizer()
    return mlb, mlb.fit_transform(LABELS)


def small(model, **kw):
    return TransformerClassifier(
        model, **{"max_epochs": 8, "lr": 2e-3, "batch_size": 8, "random_state": 0, **kw}
    )


@pytest.fixture(scope="module")
def fitted(tiny_model_dir):
    _, Y = indicator()
    return small(tiny_model_dir).fit(TEXTS, Y)


def test_fits_indicator_matrix_and_predicts_it(fitted):
    mlb, Y = indicator()
    assert fitted.multilabel_
    np.testing.assert_array_equal(fitted.classes_, np.arange(Y.shape[1]))
    pred = fitted.predict(TEXTS[:4])
    assert pred.shape == (4, Y.shape[1]) and set(np.unique(pred)) <= {0, 1}
    proba = fitted.predict_proba(TEXTS[:4])
    assert proba.shape == (4, Y.shape[1])
    assert not np.allclose(proba.sum(axis=1), 1.0)  # independent sigmoids, not a softmax
    assert jaccard_score(Y, fitted.predict(TEXTS), average="samples") > 0.8
    assert mlb.inverse_transform(pred)[0] == ("sun", "warm")


def test_threshold_is_applied_at_predict(fitted):
    proba = fitted.predict_proba(TEXTS[:4])
    high = fitted.set_params(threshold=0.99).predict(TEXTS[:4])
    np.testing.assert_array_equal(high, (proba >= 0.99).astype(int))
    fitted.set_params(threshold=0.5)


@pytest.mark.parametrize("kind", ["frame", "sparse", "list"])
def test_accepts_dataframe_sparse_and_lists(tiny_model_dir, kind):
    _, Y = indicator()
    names = ["cold", "rain", "sun", "warm"]
    target = {
        "frame": pd.DataFrame(Y, columns=names),
        "sparse": sp.csr_matrix(Y),
        "list": Y.tolist(),
    }[kind]
    est = small(tiny_model_dir, max_epochs=1).fit(TEXTS, target)
    assert est.predict(TEXTS[:2]).shape == (2, 4)
    assert est.label_names_ == (names if kind == "frame" else None)


def test_grid_search_with_f1_samples(tiny_model_dir):
    _, Y = indicator()
    search = GridSearchCV(
        small(tiny_model_dir, max_epochs=2), {"lr": [2e-3, 1e-4]}, scoring="f1_samples", cv=KFold(2)
    ).fit(TEXTS, Y)
    assert 0.0 <= search.best_score_ <= 1.0
    assert f1_score(Y, search.predict(TEXTS), average="micro") >= 0.0


def test_balanced_class_weight_is_a_pos_weight(tiny_model_dir):
    Y = np.zeros((32, 3), dtype=int)
    Y[:, 0] = 1
    Y[:4, 1] = 1  # rare label
    Y[:16, 2] = 1
    with pytest.warns(UserWarning, match=r"labels \[0\] are set in every row"):
        est = small(tiny_model_dir, max_epochs=1, class_weight="balanced").fit(TEXTS, Y)
    # Label 0 (in every row) gets weight 1, not negatives / positives = 0.
    np.testing.assert_allclose(est.class_weight_, [1.0, 28 / 4, 1.0])
    with pytest.raises(ValueError, match="not a column"):
        small(tiny_model_dir, class_weight={"nope": 2.0}).fit(TEXTS, pd.DataFrame(Y))


def test_save_load_and_score(fitted, tmp_path):
    _, Y = indicator()
    fitted.save_pretrained(tmp_path / "ml")
    loaded = TransformerClassifier.from_pretrained(tmp_path / "ml")
    assert loaded.multilabel_
    np.testing.assert_allclose(
        loaded.predict_proba(TEXTS[:4]), fitted.predict_proba(TEXTS[:4]), atol=1e-5
    )
    # ClassifierMixin.score is subset accuracy, as for any scikit-learn multi-label classifier.
    assert fitted.score(TEXTS, Y) == pytest.approx(
        np.mean((fitted.predict(TEXTS) == Y).all(axis=1))
    )


def test_bad_indicator_values_fail_clearly():
    with pytest.raises(ValueError, match="only 0 and 1"):
        TransformerClassifier().fit(["a", "b"], [[0, 2], [1, 0]])
    with pytest.raises(ValueError, match="missing values"):
        TransformerClassifier().fit(["a", "b"], [[0, np.nan], [1, 0]])


def test_refit_with_other_target_kind_is_refused_by_partial_fit(fitted):
    with pytest.raises(ValueError, match="multi-label"):
        fitted.partial_fit(TEXTS[:2], ["a", "b"])
