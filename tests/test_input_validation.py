"""Bad input fails early, with a ValueError or TypeError that names the problem.

"Early" is proved, not assumed: the ``no_model_loading`` fixture replaces
every loader in ``sktransformers.engine._hub`` with one that fails the test, so an
error raised here was raised before any model (config, tokenizer, weights)
was read, and therefore before any training started.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from sktransformers import TransformerClassifier, TransformerRegressor
from sktransformers.engine import _hub

TEXTS = ["a great film", "a terrible film", "i loved it", "i hated it"]
LABELS = ["pos", "neg", "pos", "neg"]
FAST = {"max_epochs": 1, "batch_size": 4, "device": "cpu", "random_state": 0}

LIBRARY_DIRS = tuple(
    os.sep + name + os.sep for name in ("torch", "transformers", "skorch", "tokenizers")
)


@pytest.fixture
def no_model_loading(monkeypatch):
    def loaded(*args, **kwargs):
        raise AssertionError("a model was loaded before the input was validated")

    for name in ("load_config", "load_tokenizer", "load_backbone"):
        monkeypatch.setattr(_hub, name, loaded)


def assert_clean(excinfo):
    """The error is raised by sktransformers/scikit-learn code, not deep inside a library."""
    last = str(excinfo.traceback[-1].path)
    assert not any(d in last for d in LIBRARY_DIRS), f"error raised inside {last}"


def fit_error(est, X, y, exc, match):
    with pytest.raises(exc, match=match) as excinfo:
        est.fit(X, y)
    assert_clean(excinfo)
    assert "net_" not in est.__dict__
    return excinfo


# ----------------------------------------------------------------------
# Texts
# ----------------------------------------------------------------------
BAD_TEXTS = [
    (None, ValueError, "X is None"),
    (["a", None, "b", "c"], ValueError, r"missing value at row 1: None"),
    (["a", "b", np.nan, "c"], ValueError, r"missing value at row 2: nan"),
    (pd.Series(["a", "b", "c", pd.NA], dtype="string"), ValueError, r"missing value at row 3"),
    (pd.DataFrame({"t": ["a", None, "b", "c"]}), ValueError, "missing value at row 1"),
    ([1, 2, 3, 4], TypeError, r"must contain strings, but row 0 is 1 \(type int\)"),
    (["a", "b", "c", b"bytes"], TypeError, r"row 3 is b'bytes' \(type bytes\)"),
    (np.arange(4.0), TypeError, r"must contain strings.*type float"),
    ("just one string", TypeError, "not a single string; wrap it in a list"),
    ({"text": "a"}, TypeError, "got dict"),
    ([], ValueError, "X is empty"),
    (pd.DataFrame({"text": []}), ValueError, "X is empty"),
    (pd.DataFrame({"a": TEXTS, "b": TEXTS, "c": TEXTS}), ValueError, "X has 3 columns"),
    (np.array([TEXTS, TEXTS, TEXTS], dtype=object).T, ValueError, "X has 3 columns"),
    ([(t, t, t) for t in TEXTS], ValueError, "X has 3 columns"),
    ([("a", "b"), ("c",), ("d", "e"), ("f", "g")], ValueError, "exactly 2 texts"),
    ([("a", "b"), ("c", None), ("d", "e"), ("f", "g")], ValueError, "column 1, row 1"),
]


@pytest.mark.parametrize("X, exc, match", BAD_TEXTS)
def test_bad_texts_fail_before_loading(no_model_loading, X, exc, match):
    y = LABELS if X is None or not hasattr(X, "__len__") or len(X) == 4 else []
    fit_error(TransformerClassifier(**FAST), X, y, exc, match)


@pytest.mark.parametrize("X, exc, match", BAD_TEXTS[:8])
def test_bad_texts_fail_in_regressor(no_model_loading, X, exc, match):
    fit_error(TransformerRegressor(**FAST), X, [0.0, 1.0, 2.0, 3.0], exc, match)


# ----------------------------------------------------------------------
# Targets
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "y, match",
    [
        (LABELS[:3], "different lengths: 4 texts but 3 targets"),
        (LABELS + ["pos"], "different lengths: 4 texts but 5 targets"),
        (["pos"] * 4, "at least 2 classes.*only 1"),
        (None, "y is None|needs targets"),
        (["pos", None, "neg", "pos"], "missing labels"),
        ([0.5, 1.5, 2.5, 3.5], "Unknown label type: continuous"),
        ([[0, 2], [1, 0], [0, 1], [1, 0]], "only 0 and 1"),
        (np.zeros((4, 2, 2)), "1-dimensional"),
    ],
)
def test_bad_labels_fail_before_loading(no_model_loading, y, match):
    fit_error(TransformerClassifier(**FAST), TEXTS, y, ValueError, match)


def test_mixed_label_types(no_model_loading):
    fit_error(TransformerClassifier(**FAST), TEXTS, ["pos", 1, "pos", 1], TypeError, "mixes")


@pytest.mark.parametrize(
    "y, match",
    [
        ([0.0, np.nan, 1.0, 2.0], "NaN or infinite"),
        ([0.0, np.inf, 1.0, 2.0], "NaN or infinite"),
        (np.array([[0.0, 1.0], [1.0, -np.inf], [0.0, 1.0], [2.0, 1.0]]), "NaN or infinite"),
        (["low", "high", "low", "high"], "numeric"),
        ([1.0, 2.0], "different lengths"),
        (None, "y is None|needs targets"),
        (np.zeros((4, 2, 2)), "1- or 2-dimensional"),
    ],
)
def test_bad_regression_targets_fail_before_loading(no_model_loading, y, match):
    fit_error(TransformerRegressor(**FAST), TEXTS, y, ValueError, match)


# ----------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "params, name",
    [
        ({"lr": 0}, "lr"),
        ({"lr": -1e-5}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"max_epochs": 0}, "max_epochs"),
        ({"max_epochs": 1.5}, "max_epochs"),
        ({"max_length": 1}, "max_length"),
        ({"pooling": "max"}, "pooling"),
        ({"precision": "fp8"}, "precision"),
        ({"validation_fraction": 1.5}, "validation_fraction"),
        ({"warmup_ratio": 1.0}, "warmup_ratio"),
        ({"freeze": "head"}, "freeze"),
        ({"dropout": 2.0}, "dropout"),
        ({"model": 42}, "model"),
        ({"class_weight": "uniform"}, "class_weight"),
    ],
)
def test_invalid_parameter_values(no_model_loading, params, name):
    est = TransformerClassifier(**{**FAST, **params})  # __init__ accepts anything
    excinfo = fit_error(est, TEXTS, LABELS, InvalidParameterError, f"'{name}' parameter")
    assert isinstance(excinfo.value, ValueError)  # what users catch


def test_invalid_parameter_wins_over_bad_data(no_model_loading):
    fit_error(TransformerClassifier(lr=-1), None, None, InvalidParameterError, "'lr'")


def test_early_stopping_needs_validation_fraction(no_model_loading):
    est = TransformerClassifier(early_stopping=True, **FAST)
    fit_error(est, TEXTS, LABELS, ValueError, "early_stopping=True needs.*validation_fraction")
    # with a held-out share it is accepted (the loader is reached)
    est.set_params(validation_fraction=0.5)
    with pytest.raises(AssertionError, match="a model was loaded"):
        est.fit(TEXTS, LABELS)


def test_unknown_device(no_model_loading):
    fit_error(
        TransformerClassifier(**{**FAST, "device": "not-a-device"}),
        TEXTS,
        LABELS,
        ValueError,
        "not a torch device",
    )


def test_cuda_requested_without_cuda(no_model_loading):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    fit_error(
        TransformerClassifier(**{**FAST, "device": "cuda"}),
        TEXTS,
        LABELS,
        ValueError,
        "CUDA is not available",
    )


def test_max_length_beyond_the_model(tiny_model_dir, monkeypatch):
    """Caught from the config, before the weights load, not as an index error in torch."""

    def loaded(*args, **kwargs):
        raise AssertionError("weights loaded before max_length was checked")

    monkeypatch.setattr(_hub, "load_backbone", loaded)
    est = TransformerClassifier(tiny_model_dir, **{**FAST, "max_length": 512})
    fit_error(est, TEXTS, LABELS, ValueError, "max_length=512.*at most 128")


# ----------------------------------------------------------------------
# Models that cannot be found
# ----------------------------------------------------------------------
def test_unknown_model_id_says_what_was_tried():
    est = TransformerClassifier("no-such-owner/no-such-model-xyz", **FAST)
    excinfo = fit_error(est, TEXTS, LABELS, ValueError, "no-such-owner/no-such-model-xyz")
    message = str(excinfo.value)
    assert "offline" in message and "local directory" in message and "cache" in message


def test_missing_directory(tmp_path):
    missing = str(tmp_path / "no" / "such" / "dir")
    fit_error(
        TransformerClassifier(missing, **FAST),
        TEXTS,
        LABELS,
        ValueError,
        "no such directory",
    )


def test_directory_without_config(tmp_path):
    fit_error(
        TransformerClassifier(tmp_path, **FAST),
        TEXTS,
        LABELS,
        ValueError,
        "has no config.json",
    )


def test_bad_data_reported_before_unknown_model(no_model_loading):
    est = TransformerClassifier("no-such-owner/no-such-model-xyz", **FAST)
    fit_error(est, TEXTS, ["pos"] * 4, ValueError, "at least 2 classes")


# ----------------------------------------------------------------------
# Unfitted and fitted estimators
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, method",
    [
        (TransformerClassifier, "predict"),
        (TransformerClassifier, "predict_proba"),
        (TransformerClassifier, "predict_log_proba"),
        (TransformerClassifier, "decision_function"),
        (TransformerClassifier, "score"),
        (TransformerRegressor, "predict"),
        (TransformerRegressor, "score"),
    ],
)
def test_predict_before_fit(no_model_loading, make, method):
    est = make(**FAST)
    args = (TEXTS, LABELS) if method == "score" else (TEXTS,)
    with pytest.raises(NotFittedError):
        getattr(est, method)(*args)


def test_save_and_history_before_fit(tmp_path):
    est = TransformerClassifier(**FAST)
    with pytest.raises(NotFittedError):
        est.save_pretrained(tmp_path / "out")
    with pytest.raises(NotFittedError):
        est.history_  # noqa: B018
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def fitted(tiny_model_dir):
    return TransformerClassifier(tiny_model_dir, **FAST).fit(TEXTS, LABELS)


@pytest.mark.parametrize(
    "X, exc, match",
    [
        (None, ValueError, "X is None"),
        ([], ValueError, "X is empty"),
        (["ok", 3], TypeError, "row 1 is 3"),
        ([("a", "b")], ValueError, "fitted on single texts"),
        (pd.DataFrame({"a": ["x"], "b": ["y"], "c": ["z"]}), ValueError, "3 columns"),
    ],
)
def test_bad_texts_at_predict_time(fitted, X, exc, match):
    with pytest.raises(exc, match=match) as excinfo:
        fitted.predict(X)
    assert_clean(excinfo)


def test_partial_fit_rejects_unseen_labels_and_other_input(tiny_model_dir):
    clf = TransformerClassifier(tiny_model_dir, **FAST).fit(TEXTS, LABELS)
    n_epochs = len(clf.history_)
    with pytest.raises(ValueError, match=r"labels not seen in the first fit: \['meh'\]"):
        clf.partial_fit(TEXTS, ["pos", "neg", "meh", "pos"])
    with pytest.raises(ValueError, match="fitted on single texts"):
        clf.partial_fit([("a", "b")] * 2, ["pos", "neg"])
    with pytest.raises(ValueError, match="different lengths"):
        clf.partial_fit(TEXTS, LABELS[:2])
    assert len(clf.history_) == n_epochs  # nothing was trained


def test_regressor_partial_fit_rejects_other_output_count(tiny_model_dir):
    reg = TransformerRegressor(tiny_model_dir, **FAST).fit(TEXTS, [0.0, 1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="2 outputs; the model was fitted with 1"):
        reg.partial_fit(TEXTS, np.ones((4, 2)))
