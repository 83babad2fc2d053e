"""Trust: inputs users really pass are accepted or refused clearly, and settings take effect.

One test (or a few) per problem of issue 17 ("Trust") and the user-visible
bugs of issue 16; each failed before its fix. Examples the fuzzer of
``tests/test_fuzz_inputs.py`` found are pinned here as named tests.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from skorch.callbacks import Callback

from sktransformers import (
    TextAugmenter,
    TransformerClassifier,
    TransformerRegressor,
    TransformerTokenClassifier,
)

TEXTS = ["a great film", "a terrible film", "i loved it", "i hated it"] * 2
LABELS = ["pos", "neg", "pos", "neg"] * 2
FAST = {"max_epochs": 1, "batch_size": 4, "device": "cpu", "random_state": 0}


class Raising(Callback):
    """Fails the epoch it sees: proves the callback ran."""

    def on_epoch_end(self, net, **kwargs):
        raise RuntimeError("the new callback ran")


class Counting(Callback):
    """Counts the epochs it saw since the net initialized it."""

    def initialize(self):
        self.epochs_ = 0
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs_ += 1


# ----------------------------------------------------------------------
# 1. set_params(callbacks=...) takes effect in partial_fit
# ----------------------------------------------------------------------
def test_set_params_callbacks_takes_effect_in_partial_fit(tiny_model_dir):
    clf = TransformerClassifier(tiny_model_dir, **FAST).partial_fit(TEXTS, LABELS)
    schedule = dict(clf.net_.callbacks_)["lr_schedule"]
    steps = schedule.step_
    clf.set_params(callbacks=[Raising()])
    with pytest.raises(RuntimeError, match="the new callback ran"):
        clf.partial_fit(TEXTS, LABELS)
    # The built-in callbacks kept their state (the schedule went on, not back to 0).
    assert dict(clf.net_.callbacks_)["lr_schedule"] is schedule
    assert schedule.step_ > steps
    counting = Counting()
    clf.set_params(callbacks=[("count", counting)])
    clf.partial_fit(TEXTS, LABELS)
    assert counting.epochs_ == 1
    names = [name for name, _ in clf.net_.callbacks_]
    assert "count" in names and not any(name.startswith("user_") for name in names)
    clf.set_params(callbacks=None)
    clf.partial_fit(TEXTS, LABELS)
    assert counting.epochs_ == 1  # removed: no longer called
    assert "count" not in dict(clf.net_.callbacks_)


def test_set_params_callbacks_name_clash_is_a_clear_error(tiny_model_dir):
    clf = TransformerClassifier(tiny_model_dir, **FAST).partial_fit(TEXTS, LABELS)
    clf.set_params(callbacks=[("lr_schedule", Counting())])
    with pytest.raises(ValueError, match="lr_schedule"):
        clf.partial_fit(TEXTS, LABELS)


# ----------------------------------------------------------------------
# 2. User callbacks are used as given (not deep-copied), as in skorch
# ----------------------------------------------------------------------
def test_skorch_tensorboard_callback_with_a_summary_writer(tiny_model_dir, tmp_path):
    from skorch.callbacks import TensorBoard
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path))
    callback = TensorBoard(writer)
    clf = TransformerClassifier(tiny_model_dir, callbacks=[callback], **FAST).fit(TEXTS, LABELS)
    writer.flush()
    assert any(cb is callback for _, cb in clf.net_.callbacks_)
    assert list(tmp_path.glob("events.out.tfevents.*"))
    writer.close()


def test_clone_and_grid_search_copy_plain_callbacks(tiny_model_dir):
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV

    counting = Counting()
    clf = TransformerClassifier(tiny_model_dir, callbacks=[counting], **FAST)
    copy = clone(clf)
    assert copy.callbacks[0] is not counting and isinstance(copy.callbacks[0], Counting)
    search = GridSearchCV(clf, {"lr": [1e-4]}, cv=2).fit(TEXTS, LABELS)
    assert not hasattr(counting, "epochs_")  # the search trains clones, with their copies
    assert search.best_estimator_.callbacks[0].epochs_ == 1
    clf.fit(TEXTS, LABELS)
    assert counting.epochs_ == 1  # a fit uses the instance given


# ----------------------------------------------------------------------
# 3. class_weight="balanced" with a label in every row (or in none)
# ----------------------------------------------------------------------
def test_balanced_class_weight_warns_for_labels_in_every_or_no_row(tiny_model_dir):
    Y = pd.DataFrame({"always": [1] * 8, "sometimes": [1, 0] * 4, "never": [0] * 8})
    clf = TransformerClassifier(tiny_model_dir, class_weight="balanced", **FAST)
    with pytest.warns(UserWarning, match=r"\['always'\] are set in every row") as record:
        clf.fit(TEXTS, Y)
    assert "['never'] are set in no row" in str(record[0].message)
    np.testing.assert_allclose(clf.class_weight_, [1.0, 1.0, 1.0])
    assert clf.class_weight_.min() > 0


def test_balanced_class_weight_without_degenerate_labels_does_not_warn():
    from sktransformers.tasks import MultiLabelTask

    Y = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [0, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        task = MultiLabelTask.from_targets(Y, class_weight="balanced")
    np.testing.assert_allclose(task.pos_weight, [1.5, 1.5])  # negatives / positives


# ----------------------------------------------------------------------
# 4. Multi-label y as label lists or sets (what MultiLabelBinarizer reads)
# ----------------------------------------------------------------------
LABEL_LISTS = [["sport"], ["politics"], ["sport", "politics"], []] * 2


@pytest.mark.parametrize("kind", ["lists", "sets"])
def test_multilabel_label_sets_are_accepted(tiny_model_dir, kind):
    y = LABEL_LISTS if kind == "lists" else [set(row) for row in LABEL_LISTS]
    clf = TransformerClassifier(tiny_model_dir, **FAST).fit(TEXTS, y)
    assert clf.multilabel_
    assert clf.classes_.tolist() == ["politics", "sport"]
    assert clf.label_names_ == ["politics", "sport"]
    pred = clf.predict(TEXTS)
    assert pred.shape == (8, 2) and set(np.unique(pred)) <= {0, 1}
    assert 0.0 <= clf.score(TEXTS, y) <= 1.0


@pytest.mark.parametrize(
    "y",
    [
        [tuple(row) for row in LABEL_LISTS],
        pd.Series([list(row) for row in LABEL_LISTS]),
        np.array([np.array(row, dtype=object) for row in LABEL_LISTS] + [None], dtype=object)[:-1],
        [["sport", "politics"], ["politics", "sport"]],  # same length, but labels
    ],
    ids=["tuples", "series", "array-of-arrays", "equal-lengths"],
)
def test_label_set_forms_are_recognised(y):
    from sktransformers.estimators._classifier import binarize_label_sets, is_label_sets

    assert is_label_sets(y)
    indicator, classes = binarize_label_sets(y)
    assert classes.tolist() == ["politics", "sport"]
    assert indicator[: len(y)].tolist()[:2] == (
        [[0, 1], [1, 0]] if len(y) > 2 else [[1, 1], [1, 1]]
    )


@pytest.mark.parametrize(
    "y", [np.array([[0, 1], [1, 0]]), [[0, 1], [1, 0]], ["a", "b"], [1, 2], [[1], [0]]]
)
def test_matrices_and_labels_are_not_label_sets(y):
    from sktransformers.estimators._classifier import is_label_sets

    assert not is_label_sets(y)


def test_multilabel_label_sets_round_trip_and_partial_fit(tiny_model_dir, tmp_path):
    y = [[3], [1], [1, 3], []] * 2
    clf = TransformerClassifier(tiny_model_dir, **FAST).partial_fit(TEXTS, y, classes=[1, 2, 3])
    assert clf.classes_.tolist() == [1, 2, 3] and clf.predict(TEXTS).shape == (8, 3)
    clf.partial_fit(TEXTS, y)
    with pytest.raises(ValueError, match=r"not in classes=\[1, 2, 3\]: \[4\]"):
        clf.partial_fit(TEXTS, [[4]] + y[1:])
    loaded = TransformerClassifier.from_pretrained(clf.save_pretrained(tmp_path / "m"))
    assert loaded.classes_.tolist() == [1, 2, 3] and loaded.classes_.dtype.kind == "i"
    np.testing.assert_array_equal(loaded.predict(TEXTS), clf.predict(TEXTS))
    loaded.partial_fit(TEXTS, y)  # label sets again, against the saved labels


@pytest.mark.parametrize(
    "y, error, match",
    [
        ([["a"], ["a", None]] * 4, ValueError, "missing label"),
        ([["a"], ["b", 1]] * 4, TypeError, "mixes label types"),
        ([["a"], [1.5]] * 4, TypeError, "strings or integers"),
        ([["a"], []] * 4, ValueError, "at least 2 labels"),
        ([{"a"}, {b"b"}] * 4, TypeError, "strings or integers"),
    ],
)
def test_bad_label_sets_are_clear_errors(tiny_model_dir, y, error, match):
    with pytest.raises(error, match=match):
        TransformerClassifier(tiny_model_dir, **FAST).fit(TEXTS, y)


def test_indicator_model_refuses_label_sets_in_partial_fit(tiny_model_dir):
    Y = np.array([[1, 0], [0, 1]] * 4)
    clf = TransformerClassifier(tiny_model_dir, **FAST).partial_fit(TEXTS, Y)
    with pytest.raises(ValueError, match="indicator matrix"):
        clf.partial_fit(TEXTS, LABEL_LISTS)


# ----------------------------------------------------------------------
# 5. TextAugmenter with missing labels
# ----------------------------------------------------------------------
@pytest.mark.parametrize("strategy", [None, "auto"])
def test_augmenter_missing_label_is_a_value_error(strategy):
    aug = TextAugmenter(sampling_strategy=strategy, random_state=0)
    with pytest.raises(ValueError, match="missing labels"):
        aug.fit_resample(["a b c", "d e f", "g h i"], ["x", None, "y"])


def test_augmenter_mixed_or_odd_labels_are_type_errors():
    aug = TextAugmenter(random_state=0)
    with pytest.raises(TypeError, match="mixes label types"):
        aug.fit_resample(["a b c", "d e f"], np.array(["x", 1], dtype=object))
    with pytest.raises(TypeError, match="strings or numbers"):
        aug.fit_resample(["a b c", "d e f"], np.array([{"a": 1}, {"b": 2}], dtype=object))


# ----------------------------------------------------------------------
# 6. A database URL whose password holds ":" or "@"
# ----------------------------------------------------------------------
@pytest.mark.parametrize("password", ["se:cret", "p@ss:w0rd", "a/b:c@d", "x:1@h2:99", "100%:sure"])
def test_storage_url_password_is_read_whole(password):
    from urllib.parse import quote

    from sqlalchemy.engine import make_url

    from sktransformers.integrations._tuning import _storage_url

    raw = f"postgresql+psycopg2://user:{password}@db.example:5432/studies"
    url = make_url(_storage_url(raw))
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "user",
        password,
        "db.example",
        5432,
        "studies",
    )
    # Already percent-encoded passwords are not encoded twice.
    encoded = f"postgresql+psycopg2://user:{quote(password, safe='')}@db.example/studies"
    assert make_url(_storage_url(encoded)).password == password


def test_storage_url_errors_never_show_the_password():
    from sktransformers.integrations._tuning import _open_storage, _storage_url

    with pytest.raises(ValueError, match=r"user:\*\*\*@") as excinfo:
        _storage_url("postgresql+psycopg2://user:top:secret@host:notaport/db")
    assert "secret" not in str(excinfo.value) and "top" not in str(excinfo.value)
    # Unreachable server: the driver's error names host and port, never the password.
    with pytest.raises(Exception) as excinfo:
        _open_storage("postgresql+psycopg2://user:hunter:2@x@127.0.0.1:1/db", attempts=1)
    assert "hunter" not in str(excinfo.value)
    assert "invalid literal" not in str(excinfo.value)


def test_storage_url_keeps_other_urls():
    from sktransformers.integrations._tuning import _storage_url

    assert _storage_url("sqlite:////tmp/me@home/study.db") == "sqlite:////tmp/me@home/study.db"
    assert _storage_url("postgresql+psycopg2://u@h/db?sslmode=require") == (
        "postgresql+psycopg2://u@h/db?sslmode=require"
    )
    assert _storage_url(None) is None


# ----------------------------------------------------------------------
# 7. Regression targets: complex, NaN, inf, text
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "y, match",
    [
        (np.array([1 + 1j, 2, 3, 4] * 2), "complex"),
        ([1 + 0j, 2.0, 3.0, 4.0] * 2, "complex"),
        (np.array([np.nan, 2, 3, 4] * 2), "NaN or infinite"),
        (np.array([np.inf, 2, 3, 4] * 2), "NaN or infinite"),
        (np.array([[1.0, -np.inf]] * 8), "NaN or infinite"),
        (["1.5", "2", "3", "4"] * 2, "holds text"),
        ([1.0, None, 3.0, 4.0] * 2, "missing values"),
        (pd.Series([1.0, None, 3.0, 4.0] * 2, dtype="Float64"), "missing values|NaN"),
    ],
)
def test_bad_regression_targets_are_value_errors(tiny_model_dir, y, match):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning on the way
        with pytest.raises(ValueError, match=match):
            TransformerRegressor(tiny_model_dir, **FAST).fit(TEXTS, y)


# ----------------------------------------------------------------------
# 8. HistoryDisplay on one Axes
# ----------------------------------------------------------------------
def test_history_display_on_one_axes():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sktransformers.plot import HistoryDisplay

    history = [
        {"epoch": 1, "train_loss": 0.7, "valid_loss": 0.6, "valid_score": 0.5},
        {"epoch": 2, "train_loss": 0.5, "valid_loss": 0.55, "valid_score": 0.75},
    ]
    figure, ax = plt.subplots()
    try:
        display = HistoryDisplay(history, score_name="accuracy").plot(ax=ax)
        assert display.figure_ is figure and display.ax_[0] is ax
        twin = display.ax_[1]
        assert twin is not ax and twin.get_ylabel() == "accuracy"
        assert display.lines_["valid_score"].axes is twin
        assert display.lines_["train_loss"].axes is ax
        np.testing.assert_allclose(display.lines_["valid_score"].get_ydata(), [0.5, 0.75])
        colors = {line.get_color() for line in display.lines_.values()}
        assert len(colors) == 3  # the twin axis does not reuse the loss lines' colours
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend == ["train loss", "validation loss", "validation score"]
        # One Axes in a list works too; no validation set says so on the twin axis.
        _, other = plt.subplots()
        display = HistoryDisplay([{"epoch": 1, "train_loss": 0.7}]).plot(ax=[other])
        assert "no validation set" in display.ax_[1].get_ylabel()
    finally:
        plt.close("all")


# ----------------------------------------------------------------------
# 9. The window stride follows max_length unless set (issue 16)
# ----------------------------------------------------------------------
WORDS = [["John", "lives", "in", "Paris"], ["Mary", "visited", "Berlin"]] * 2
TAGS = [["B-PER", "O", "O", "B-LOC"], ["B-PER", "O", "B-LOC"]] * 2


def test_token_classifier_small_max_length_without_stride(tiny_model_dir):
    long = [["word"] * 40, ["other"] * 30]
    tags = [["O"] * 39 + ["B-LOC"], ["B-PER"] + ["O"] * 29]
    tok = TransformerTokenClassifier(tiny_model_dir, max_length=32, **FAST).fit(
        WORDS + long, TAGS + tags
    )
    assert tok.stride is None  # the parameter is left as given
    assert [len(p) for p in tok.predict(long)] == [40, 30]


@pytest.mark.parametrize("max_length", [16, 64])
def test_chunk_any_small_max_length_without_stride(tiny_model_dir, max_length):
    clf = TransformerClassifier(
        tiny_model_dir, max_length=max_length, long_texts="chunk", **FAST
    ).fit(TEXTS, LABELS)
    assert clf.predict([" ".join(["long"] * 100)]).shape == (1,)


def test_default_stride_is_unchanged_for_max_length_128():
    from sktransformers.engine._base import window_stride

    assert window_stride(TransformerClassifier()) == 32
    assert window_stride(TransformerClassifier(max_length=64)) == 16
    assert window_stride(TransformerClassifier(stride=5)) == 5


def test_explicit_stride_is_still_checked(tiny_model_dir):
    with pytest.raises(ValueError, match="stride=16 must be less than half of max_length=32"):
        TransformerTokenClassifier(tiny_model_dir, max_length=32, stride=16, **FAST).fit(
            WORDS, TAGS
        )


# ----------------------------------------------------------------------
# Found by tests/test_fuzz_inputs.py
# ----------------------------------------------------------------------
@pytest.mark.parametrize("X", [1.5, b"abc", {"a": ["x y"]}, np.array("x y")])
def test_token_classifier_x_that_is_no_collection_is_a_type_error(X):
    from sktransformers.utils._text_input import check_words

    with pytest.raises(TypeError, match="X must be a list, tuple, array or pandas Series"):
        check_words(X)


def test_multitask_ragged_y_is_a_clear_value_error(tiny_model_dir):
    from sktransformers import MultiTaskTransformer

    with pytest.raises(ValueError, match="rows have different lengths"):
        MultiTaskTransformer(tiny_model_dir, **FAST).fit(TEXTS[:3], [[1, 2.0], [0], [1, 3.0]])
