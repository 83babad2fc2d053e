"""``max_epochs="auto"``: a training budget that follows the size of the data."""

from __future__ import annotations

import numpy as np
import pytest

from sktransformers import (
    MultiTaskTransformer,
    TransformerClassifier,
    TransformerRegressor,
    TransformerTokenClassifier,
)
from sktransformers.engine._budget import (
    MAX_EPOCHS,
    MIN_EPOCHS,
    MIN_STEPS,
    auto_epochs,
    n_training_texts,
    steps_per_epoch,
)

TEXTS = ["a great film", "a terrible film", "i loved it", "i hated it"] * 4
LABELS = [1, 0, 1, 0] * 4
FAST = {"batch_size": 8, "device": "cpu", "random_state": 0}


@pytest.mark.parametrize(
    "n_texts, batch_size, accumulation, epochs",
    [
        (100, 32, 1, MAX_EPOCHS),  # 4 steps an epoch: capped
        (1000, 32, 1, -(-MIN_STEPS // 32)),  # 32 steps an epoch: enough epochs for MIN_STEPS
        (67349, 32, 1, MIN_EPOCHS),  # large data: the Trainer's 3 epochs, no more
        (1000, 16, 2, -(-MIN_STEPS // 32)),  # accumulation counts optimizer steps
        (1, 32, 1, MAX_EPOCHS),
    ],
)
def test_auto_epochs_give_small_data_enough_steps_and_large_data_three_epochs(
    n_texts, batch_size, accumulation, epochs
):
    assert auto_epochs(n_texts, batch_size, accumulation) == epochs
    planned = epochs * steps_per_epoch(n_texts, batch_size, accumulation)
    assert planned >= MIN_STEPS or epochs == MAX_EPOCHS


def test_auto_epochs_are_the_fewest_that_reach_the_step_budget():
    for n in range(1, 20000, 37):
        per_epoch = steps_per_epoch(n, 32)
        epochs = auto_epochs(n, 32)
        if MIN_EPOCHS < epochs < MAX_EPOCHS:  # not clipped: one epoch less falls short
            assert (epochs - 1) * per_epoch < MIN_STEPS <= epochs * per_epoch


def test_validation_split_is_left_out_of_the_count():
    assert n_training_texts(100, None) == 100
    assert n_training_texts(100, 0.1) == 90
    assert n_training_texts(101, 0.1) == 90  # ceil, as train_test_split counts
    assert n_training_texts(1, 0.5) == 1


def test_fit_trains_the_auto_number_of_epochs(tiny_model_dir):
    clf = TransformerClassifier(tiny_model_dir, max_epochs="auto", **FAST).fit(TEXTS, LABELS)
    want = auto_epochs(len(TEXTS), FAST["batch_size"])
    assert clf.max_epochs_ == want == len(clf.net_.history)
    assert clf.max_epochs == "auto"  # the parameter stays as given
    # The learning-rate schedule spans those epochs: it ends at zero.
    assert clf.net_.history[-1, "batches", -1]["train_loss"] >= 0
    assert clf.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_explicit_max_epochs_keeps_its_meaning(tiny_model_dir):
    clf = TransformerClassifier(tiny_model_dir, max_epochs=2, **FAST).fit(TEXTS, LABELS)
    assert clf.max_epochs_ == 2 == len(clf.net_.history)


def test_auto_counts_only_the_training_split(tiny_model_dir):
    clf = TransformerClassifier(
        tiny_model_dir, max_epochs="auto", validation_fraction=0.25, **FAST
    ).fit(TEXTS, LABELS)
    assert clf.max_epochs_ == auto_epochs(12, FAST["batch_size"])


@pytest.mark.parametrize("verbose, printed", [(0, False), (1, True)])
def test_verbose_fit_says_what_auto_chose(tiny_model_dir, capsys, verbose, printed):
    TransformerClassifier(
        tiny_model_dir, max_epochs="auto", verbose=verbose, **{**FAST, "batch_size": 16}
    ).fit(TEXTS, LABELS)
    out = capsys.readouterr().out
    line = f'max_epochs="auto": {MAX_EPOCHS} epochs of 1 optimizer steps (16 training texts'
    assert (line in out) is printed


def test_same_rule_for_every_estimator_kind(tiny_model_dir):
    want = auto_epochs(len(TEXTS), FAST["batch_size"])
    reg = TransformerRegressor(tiny_model_dir, max_epochs="auto", **FAST)
    reg.fit(TEXTS, np.linspace(0, 1, len(TEXTS)))
    words = [t.split() for t in TEXTS]
    ner = TransformerTokenClassifier(tiny_model_dir, max_epochs="auto", **FAST)
    ner.fit(words, [["O"] * (len(w) - 1) + ["B-X"] for w in words])
    multi = MultiTaskTransformer(tiny_model_dir, max_epochs="auto", **FAST)
    multi.fit(TEXTS, np.column_stack([LABELS, np.linspace(0, 1, len(TEXTS))]))
    for est in (reg, ner, multi):
        assert est.max_epochs_ == want == len(est.net_.history), type(est).__name__


def test_save_load_and_partial_fit_keep_the_planned_schedule(tiny_model_dir, tmp_path):
    clf = TransformerClassifier(tiny_model_dir, max_epochs="auto", **FAST).fit(TEXTS, LABELS)
    clf.save_pretrained(tmp_path / "m")
    loaded = TransformerClassifier.from_pretrained(tmp_path / "m")
    assert loaded.max_epochs == "auto"
    assert loaded.max_epochs_ == clf.max_epochs_ == loaded.net_.max_epochs
    loaded.partial_fit(TEXTS, LABELS)
    assert len(loaded.net_.history) == 1


def test_first_partial_fit_plans_from_its_batch(tiny_model_dir):
    clf = TransformerClassifier(tiny_model_dir, max_epochs="auto", **FAST)
    clf.partial_fit(TEXTS, LABELS, classes=[0, 1])
    assert clf.max_epochs_ == auto_epochs(len(TEXTS), FAST["batch_size"])
    assert len(clf.net_.history) == 1  # one epoch per call, as always


@pytest.mark.parametrize("value", ["three", 0, 2.5, None])
def test_bad_max_epochs_is_refused_before_any_model_loads(value):
    clf = TransformerClassifier("no/such-model-anywhere", max_epochs=value)
    with pytest.raises(ValueError, match="max_epochs"):
        clf.fit(TEXTS, LABELS)


@pytest.mark.parametrize(
    "cls",
    [TransformerClassifier, TransformerRegressor, TransformerTokenClassifier, MultiTaskTransformer],
)
def test_auto_is_the_default_of_every_fine_tuning_estimator(cls):
    assert cls().get_params()["max_epochs"] == "auto"
