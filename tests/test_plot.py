"""HistoryDisplay: training curves in scikit-learn's Display convention, drawn headless."""

from __future__ import annotations

import io
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sktransformers import (  # noqa: E402
    MultiTaskTransformer,
    TransformerClassifier,
    TransformerRegressor,
)
from sktransformers.plot import HistoryDisplay  # noqa: E402

X = ["good", "great", "fine film", "loved it", "bad", "awful", "dull film", "hated it"] * 2
Y = (["pos"] * 4 + ["neg"] * 4) * 2


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _ydata(line):
    return np.asarray(line.get_ydata(), dtype=float)


def test_classifier_losses_and_score(tiny_model_dir):
    clf = TransformerClassifier(
        tiny_model_dir, max_epochs=3, batch_size=4, validation_fraction=0.25, random_state=0
    ).fit(X, Y)
    display = HistoryDisplay.from_estimator(clf)
    assert isinstance(display.figure_, matplotlib.figure.Figure)
    assert display.ax_.shape == (2,)
    loss_ax, score_ax = display.ax_
    assert set(display.lines_) == {"train_loss", "valid_loss", "valid_score"}
    history = clf.history_
    np.testing.assert_allclose(_ydata(display.lines_["train_loss"]), history[:, "train_loss"])
    np.testing.assert_allclose(_ydata(display.lines_["valid_loss"]), history[:, "valid_loss"])
    np.testing.assert_allclose(_ydata(display.lines_["valid_score"]), history[:, "valid_score"])
    assert list(display.lines_["train_loss"].get_xdata()) == [1, 2, 3]
    assert display.lines_["valid_score"].axes is score_ax
    assert score_ax.get_ylabel() == "accuracy" and loss_ax.get_ylabel() == "loss"
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == [
        "train loss",
        "validation loss",
    ]
    assert display.history is history
    display.figure_.savefig(io.BytesIO(), format="png")


def test_given_axes_and_no_validation_set(tiny_model_dir):
    reg = TransformerRegressor(tiny_model_dir, max_epochs=2, batch_size=4, random_state=0).fit(
        X, np.arange(len(X), dtype=float)
    )
    figure, axes = plt.subplots(2, 1)
    display = HistoryDisplay.from_estimator(reg, ax=axes, color="black")
    assert display.figure_ is figure
    assert list(display.ax_) == list(axes)
    assert set(display.lines_) == {"train_loss"}
    assert display.lines_["train_loss"].get_color() == "black"
    assert axes[1].get_ylabel() == "R²"
    assert "validation_fraction" in " ".join(t.get_text() for t in axes[1].texts)
    _, three = plt.subplots(3, 1)
    with pytest.raises(ValueError, match="2 Axes"):
        HistoryDisplay(reg.history_).plot(ax=three)


def test_multitask_scores_per_task(tiny_model_dir):
    Ymt = pd.DataFrame(
        {
            "sentiment": Y,
            "rating": np.linspace(0, 1, len(X)),
        }
    )
    mt = MultiTaskTransformer(
        tiny_model_dir, max_epochs=2, batch_size=4, validation_fraction=0.25, random_state=0
    ).fit(X, Ymt)
    display = HistoryDisplay.from_estimator(mt)
    assert {"valid_score", "valid_score_sentiment", "valid_score_rating"} <= set(display.lines_)
    labels = [t.get_text() for t in display.ax_[1].get_legend().get_texts()]
    assert "validation score sentiment" in labels


def test_from_history_and_errors(tiny_model_dir):
    rows = [{"epoch": 1, "train_loss": 0.7}, {"epoch": 2, "train_loss": 0.5}]
    display = HistoryDisplay(rows).plot()
    np.testing.assert_allclose(_ydata(display.lines_["train_loss"]), [0.7, 0.5])
    with pytest.raises(ValueError, match="empty"):
        HistoryDisplay([]).plot()
    with pytest.raises(NotFittedError):
        HistoryDisplay.from_estimator(TransformerClassifier(tiny_model_dir))


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"\.\[plot\]"):
        HistoryDisplay([{"epoch": 1, "train_loss": 0.7}]).plot()
