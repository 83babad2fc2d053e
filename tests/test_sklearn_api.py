"""scikit-learn conformance: the estimators work wherever a scikit-learn estimator does.

Every test uses the tiny random BERT (``tiny_model_dir``), one or two epochs
and a few dozen texts: these tests check the API contract, not accuracy.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import tiny_model_path
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import StackingClassifier
from sklearn.exceptions import NotFittedError, SkipTestWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import classification_report
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from sktransformers import TransformerClassifier, TransformerRegressor

POS = ["a great film", "wonderful acting, loved every minute", "i loved it", "truly excellent"]
NEG = ["a terrible film", "awful acting and a plot that goes nowhere", "i hated it", "dull"]
TEXTS = (POS + NEG) * 3  # 24 texts of varied lengths
LABELS = np.array((["pos"] * 4 + ["neg"] * 4) * 3)
FAST = {"max_epochs": 1, "batch_size": 8, "device": "cpu", "random_state": 0}


def _clf(model, **params):
    return TransformerClassifier(model, **{**FAST, **params})


def _reg(model, **params):
    return TransformerRegressor(model, **{**FAST, **params})


@pytest.fixture(scope="module")
def fitted_clf(tiny_model_dir):
    """One fitted classifier shared by the read-only tests (predict only)."""
    return _clf(tiny_model_dir, max_epochs=2).fit(TEXTS, LABELS)


# ----------------------------------------------------------------------
# scikit-learn's own estimator checks
# ----------------------------------------------------------------------
def _estimators():
    model = tiny_model_path()
    return [_clf(model), _reg(model)]


# With ``input_tags.string=True, two_d_array=False`` scikit-learn runs only
# check_estimator_cloneable: every other common check feeds numeric matrices,
# which a text model cannot take. Nothing is expected to fail. (Run with the
# tag forced to two_d_array=True, the 11 DATA_FREE_CHECKS below pass; every
# other check fails only because it fits on random floats, rejected with
# "X must contain strings" or "X has k columns". What those checks guard is
# tested on texts below: fit returns self, pickling, unfitted errors,
# sample-order invariance, NaN/empty input, idempotent fit, n-class errors.)
EXPECTED_FAILED_CHECKS: dict = {}


with warnings.catch_warnings():
    # "Can't test estimator ... requires input of type string": see the next test.
    warnings.simplefilter("ignore", SkipTestWarning)
    _sklearn_checks = parametrize_with_checks(
        _estimators(), expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS
    )


@_sklearn_checks
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_string_input_tags_skip_numeric_checks():
    """The tags say 'texts, not matrices', so sklearn skips the numeric-data checks."""
    for est in _estimators():
        tags = est.__sklearn_tags__()
        assert tags.input_tags.string and not tags.input_tags.two_d_array
        with pytest.warns(SkipTestWarning, match="requires input"):
            checks = list(estimator_checks.estimator_checks_generator(est, legacy=True))
        names = [check.func.__name__ for _, check in checks]
        assert names == ["check_estimator_cloneable"]


# The common checks that need no numeric data, run directly: the numeric ones
# do not apply (a text estimator rejects float matrices with a TypeError) and
# are replaced by the workflow tests below.
DATA_FREE_CHECKS = [
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimators_unfitted",
    "check_non_transformer_estimators_n_iter",
]


@pytest.mark.parametrize("check_name", DATA_FREE_CHECKS)
@pytest.mark.parametrize("make", [_clf, _reg], ids=["classifier", "regressor"])
def test_data_free_sklearn_checks(make, check_name):
    est = make(tiny_model_path())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkipTestWarning)
        getattr(estimator_checks, check_name)(type(est).__name__, est)


# ----------------------------------------------------------------------
# Parameters, clone
# ----------------------------------------------------------------------
def test_clone_is_unfitted_with_equal_params(fitted_clf):
    copy = clone(fitted_clf)
    assert copy.get_params() == fitted_clf.get_params()
    assert "net_" not in copy.__dict__ and not hasattr(copy, "classes_")
    with pytest.raises(NotFittedError):
        copy.predict(["a text"])


def test_get_set_params_round_trip_and_nested(tiny_model_dir):
    clf = _clf(tiny_model_dir)
    params = clf.get_params()
    assert params["model"] == tiny_model_dir and params["lr"] == 5e-5
    assert clf.set_params(lr=1e-3, max_epochs=4) is clf
    assert clf.get_params()["lr"] == 1e-3 and clf.get_params()["max_epochs"] == 4
    same = TransformerClassifier(**clf.get_params())
    assert same.get_params() == clf.get_params()

    pipe = Pipeline([("lower", FunctionTransformer(np.char.lower)), ("clf", clf)])
    assert pipe.get_params()["clf__lr"] == 1e-3
    pipe.set_params(clf__lr=2e-4, clf__pooling="cls")
    assert clf.lr == 2e-4 and clf.pooling == "cls"


# ----------------------------------------------------------------------
# Composition: Pipeline, ColumnTransformer, searches, meta-estimators
# ----------------------------------------------------------------------
def test_pipeline(tiny_model_dir):
    lower = FunctionTransformer(lambda X: [t.lower() for t in X])
    pipe = make_pipeline(lower, _clf(tiny_model_dir)).fit(TEXTS, LABELS)
    pred = pipe.predict(["A GREAT FILM", "AWFUL"])
    assert pred.shape == (2,) and set(pred) <= {"pos", "neg"}
    assert 0.0 <= pipe.score(TEXTS, LABELS) <= 1.0


def test_column_transformer_selects_text_column(tiny_model_dir):
    df = pd.DataFrame({"text": TEXTS, "n_words": [len(t.split()) for t in TEXTS]})
    pipe = Pipeline(
        [
            ("select", ColumnTransformer([("text", "passthrough", ["text"])])),
            ("clf", _clf(tiny_model_dir)),
        ]
    ).fit(df, LABELS)
    clf = pipe.named_steps["clf"]
    assert clf.is_pair_ is False  # an (n, 1) column means single texts
    proba = pipe.predict_proba(df)
    np.testing.assert_allclose(proba, clf.predict_proba(TEXTS), rtol=1e-5, atol=1e-6)


def test_one_column_dataframe_is_single_texts(fitted_clf):
    expected = fitted_clf.predict_proba(TEXTS)
    for X in (pd.DataFrame({"text": TEXTS}), pd.Series(TEXTS), np.array(TEXTS)[:, None]):
        np.testing.assert_allclose(fitted_clf.predict_proba(X), expected, rtol=1e-5, atol=1e-6)


def test_grid_search_over_lr_and_max_epochs(tiny_model_dir):
    grid = {"lr": [1e-4, 1e-3], "max_epochs": [1, 2]}
    search = GridSearchCV(_clf(tiny_model_dir), grid, cv=2).fit(TEXTS, LABELS)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_
    assert best.lr == search.best_params_["lr"]
    assert best.max_epochs == search.best_params_["max_epochs"]
    assert len(best.history_) == best.max_epochs  # refit used the chosen value
    assert search.predict(["a great film"]).shape == (1,)


def test_cross_val_score(tiny_model_dir):
    scores = cross_val_score(_clf(tiny_model_dir), TEXTS, LABELS, cv=3)
    assert scores.shape == (3,) and ((scores >= 0) & (scores <= 1)).all()


def test_calibrated_classifier(tiny_model_dir):
    cal = CalibratedClassifierCV(_clf(tiny_model_dir), cv=2).fit(TEXTS, LABELS)
    proba = cal.predict_proba(["a great film", "awful"])
    assert proba.shape == (2, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(cal.classes_) == ["neg", "pos"]


def test_stacking_beside_tfidf_logistic_regression(tiny_model_dir):
    stack = StackingClassifier(
        [
            ("tfidf", make_pipeline(TfidfVectorizer(), LogisticRegression())),
            ("transformer", _clf(tiny_model_dir)),
        ],
        final_estimator=LogisticRegression(),
        cv=2,
    ).fit(TEXTS, LABELS)
    # the meta-features hold one column per base model (binary task)
    assert stack.transform(TEXTS[:3]).shape == (3, 2)
    assert set(stack.predict(TEXTS)) <= {"pos", "neg"}


def test_classification_report_on_predictions(fitted_clf):
    report = classification_report(LABELS, fitted_clf.predict(TEXTS), output_dict=True)
    assert {"pos", "neg", "accuracy"} <= set(report)


# ----------------------------------------------------------------------
# Targets: labels of any type, binary and multi-class; regression outputs
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "labels",
    [
        np.array([0, 1] * 6),
        np.array([3, 7, 11] * 4),
        np.array(["neg", "pos"] * 6),
        np.array(["a", "b", "c"] * 4, dtype=object),
        np.array([True, False] * 6),
    ],
    ids=["int-binary", "int-multiclass", "str-binary", "object-multiclass", "bool"],
)
def test_labels_of_any_type(tiny_model_dir, labels):
    X = TEXTS[: len(labels)]
    clf = _clf(tiny_model_dir).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, np.unique(labels))
    pred = clf.predict(X)
    assert pred.dtype == clf.classes_.dtype and set(pred.tolist()) <= set(labels.tolist())
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), len(clf.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    decision = clf.decision_function(X)
    assert decision.shape == ((len(X),) if len(clf.classes_) == 2 else proba.shape)


def test_pandas_labels(tiny_model_dir):
    y = pd.Series(LABELS, dtype="category")
    clf = _clf(tiny_model_dir).fit(pd.Series(TEXTS), y)
    assert set(clf.predict(TEXTS[:4])) <= set(LABELS)


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_regressor_single_and_multi_output(tiny_model_dir, n_outputs):
    rng = np.random.default_rng(0)
    # large offset and scale: targets are standardised internally and predictions mapped back
    y = 1000.0 + 50.0 * rng.normal(size=(len(TEXTS), n_outputs))
    y = y.ravel() if n_outputs == 1 else y
    reg = _reg(tiny_model_dir).fit(TEXTS, y)
    pred = reg.predict(TEXTS)
    assert pred.shape == y.shape and np.isfinite(pred).all()
    assert reg.n_outputs_ == n_outputs
    assert np.all(np.abs(pred.mean(axis=0) - y.mean(axis=0)) < 3 * y.std(axis=0))
    assert np.isfinite(reg.score(TEXTS, y))


# ----------------------------------------------------------------------
# Sentence pairs
# ----------------------------------------------------------------------
def test_sentence_pairs_in_every_form(tiny_model_dir):
    first, second = TEXTS[:12], TEXTS[12:]
    y = [0, 1] * 6
    df = pd.DataFrame({"premise": first, "hypothesis": second})
    clf = _clf(tiny_model_dir).fit(df, y)
    assert clf.is_pair_ is True
    expected = clf.predict_proba(df)
    for X in (np.array([first, second], dtype=object).T, list(zip(first, second, strict=True))):
        np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-5, atol=1e-6)
    swapped = clf.predict_proba(list(zip(second, first, strict=True)))
    assert not np.allclose(swapped, expected)  # the two columns are different inputs
    with pytest.raises(ValueError, match="pairs"):
        clf.predict(first)


# ----------------------------------------------------------------------
# Order, continued training, output
# ----------------------------------------------------------------------
def test_predictions_in_callers_order(fitted_clf):
    rng = np.random.default_rng(1)
    X = np.array(TEXTS, dtype=object)
    perm = rng.permutation(len(X))
    proba = fitted_clf.predict_proba(X)
    assert not np.allclose(proba, proba[0])  # texts differ, so outputs differ
    np.testing.assert_allclose(fitted_clf.predict_proba(X[perm]), proba[perm], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(fitted_clf.predict(X[perm]), fitted_clf.predict(X)[perm])


def test_regressor_predictions_in_callers_order(tiny_model_dir):
    y = np.arange(len(TEXTS), dtype=float)
    reg = _reg(tiny_model_dir, predict_batch_size=5).fit(TEXTS, y)
    X = np.array(TEXTS, dtype=object)
    perm = np.random.default_rng(2).permutation(len(X))
    np.testing.assert_allclose(reg.predict(X[perm]), reg.predict(X)[perm], rtol=1e-5)


def _weights(est):
    return {k: v.detach().clone() for k, v in est.net_.module_.state_dict().items()}


def test_partial_fit_continues_training(tiny_model_dir):
    clf = _clf(tiny_model_dir, lr=1e-3)
    clf.partial_fit(TEXTS[:4], LABELS[:4], classes=["neg", "pos"])
    assert len(clf.history_) == 1 and list(clf.classes_) == ["neg", "pos"]
    net = clf.net_
    before = _weights(clf)
    clf.partial_fit(TEXTS[4:], LABELS[4:])
    assert clf.net_ is net  # same model, not rebuilt
    assert len(clf.history_) == 2
    after = _weights(clf)
    assert any(not torch.equal(before[k], after[k]) for k in before)

    reg = _reg(tiny_model_dir)
    reg.partial_fit(TEXTS, np.arange(len(TEXTS), dtype=float))
    reg.partial_fit(TEXTS, np.arange(len(TEXTS), dtype=float))
    assert len(reg.history_) == 2


def test_fit_starts_over_and_is_idempotent(tiny_model_dir):
    clf = _clf(tiny_model_dir, lr=1e-3).fit(TEXTS, LABELS)
    first = clf.predict_proba(TEXTS)
    clf.fit(TEXTS, LABELS)  # from the pretrained weights again, same seed
    assert len(clf.history_) == clf.max_epochs
    np.testing.assert_allclose(clf.predict_proba(TEXTS), first, rtol=1e-5, atol=1e-6)


def test_verbose_zero_prints_nothing(tiny_model_dir, capsys):
    clf = _clf(tiny_model_dir, verbose=0).fit(TEXTS, LABELS)
    clf.predict(TEXTS)
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_verbose_one_shows_progress(tiny_model_dir, capsys):
    _clf(tiny_model_dir, verbose=1, max_epochs=2).fit(TEXTS, LABELS)
    out, err = capsys.readouterr()
    assert "train_loss" in out  # the per-epoch table
    assert "epoch" in out
