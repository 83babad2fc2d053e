"""The training engine: gradient accumulation, length-grouped batches, prediction order, compile."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sktransformers import TransformerClassifier, TransformerRegressor
from sktransformers.engine._data import LengthGroupedBatchSampler


@pytest.fixture(scope="module")
def no_dropout_model_dir(tmp_path_factory, tiny_model_dir):
    """The tiny BERT without dropout, so that two runs see the same function."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    path = tmp_path_factory.mktemp("tiny-bert-no-dropout")
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(path)
    config = BertConfig.from_pretrained(tiny_model_dir)
    config.hidden_dropout_prob = 0.0
    config.attention_probs_dropout_prob = 0.0
    torch.manual_seed(0)
    BertModel(config).save_pretrained(path)
    return str(path)


class RecordSteps(Callback):
    """Gradients and learning rate at every optimizer step (``on_grad_computed``)."""

    def initialize(self):
        self.grads_, self.lrs_ = [], []
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.grads_.append(
            {name: p.grad.detach().clone() for name, p in named_parameters if p.grad is not None}
        )
        self.lrs_.append(net.optimizer_.param_groups[0]["lr"])


TEXTS = [
    "a great film",
    "truly awful acting from start to finish",
    "i loved it",
    "boring",
    "one of the best things i have seen in years",
    "a dull mess",
    "fine",
    "terrible, terrible, terrible",
]
LABELS = ["pos", "neg", "pos", "neg", "pos", "neg", "pos", "neg"]


def _fit_recording(model_dir, **params):
    recorder = RecordSteps()
    defaults = dict(
        max_epochs=1,
        dropout=0.0,
        warmup_ratio=0.0,
        max_grad_norm=None,
        random_state=0,
        device="cpu",
    )
    est = TransformerClassifier(
        model_dir, callbacks=[("record", recorder)], **{**defaults, **params}
    ).fit(TEXTS, LABELS)
    return est, dict(est.net_.callbacks_)["record"]


def test_accumulated_gradient_equals_full_batch_gradient(no_dropout_model_dir):
    full, full_rec = _fit_recording(no_dropout_model_dir, batch_size=8)
    acc, acc_rec = _fit_recording(no_dropout_model_dir, batch_size=4, gradient_accumulation_steps=2)
    # One optimizer step each, and gradient callbacks see the summed gradient once.
    assert len(full_rec.grads_) == len(acc_rec.grads_) == 1
    assert full.history_[-1]["train_batch_count"] == 1
    assert acc.history_[-1]["train_batch_count"] == 2
    g_full, g_acc = full_rec.grads_[0], acc_rec.grads_[0]
    assert g_full.keys() == g_acc.keys()
    for name in g_full:
        torch.testing.assert_close(g_acc[name], g_full[name], rtol=1e-4, atol=1e-6)
    # The recorded train loss stays the unscaled mean loss of each batch.
    losses = [b["train_loss"] for b in acc.history_[-1]["batches"]]
    assert np.mean(losses) == pytest.approx(full.history_[-1]["train_loss"], rel=0.05)
    # Same start, same gradient, same step: same weights.
    for (name, p_full), (_, p_acc) in zip(
        full.net_.module_.named_parameters(), acc.net_.module_.named_parameters(), strict=True
    ):
        torch.testing.assert_close(p_acc, p_full, rtol=1e-4, atol=1e-6, msg=name)


def test_accumulation_schedule_counts_optimizer_steps(no_dropout_model_dir):
    # 8 texts, batches of 2, groups of 3 batches: 4 batches make 2 optimizer
    # steps (3 batches, then the last one alone); linear decay from lr to 0
    # over those 2 steps.
    est, rec = _fit_recording(
        no_dropout_model_dir, batch_size=2, gradient_accumulation_steps=3, lr=1e-3
    )
    assert est.history_[-1]["train_batch_count"] == 4
    assert len(rec.grads_) == 2
    assert rec.lrs_ == pytest.approx([1e-3, 5e-4])


def test_accumulation_with_validation_and_regressor(tiny_model_dir):
    X = TEXTS * 2
    y = np.linspace(0.0, 1.0, len(X))
    reg = TransformerRegressor(
        tiny_model_dir,
        batch_size=4,
        gradient_accumulation_steps=2,
        max_epochs=2,
        validation_fraction=0.25,
        random_state=0,
        device="cpu",
    ).fit(X, y)
    assert len(reg.history_) == 2
    assert np.isfinite(reg.history_[:, "valid_loss"]).all()
    assert reg.predict(X).shape == (len(X),)


def test_gradient_accumulation_steps_is_validated():
    with pytest.raises(ValueError, match="gradient_accumulation_steps"):
        TransformerClassifier(gradient_accumulation_steps=0).fit(TEXTS, LABELS)


def test_length_grouped_sampler_covers_every_index_once_per_epoch():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 100, size=1003)
    sampler = LengthGroupedBatchSampler(lengths, 16, shuffle=True, seed=3)
    orders = []
    for _ in range(3):
        batches = list(sampler)
        assert len(batches) == len(sampler) == int(np.ceil(1003 / 16))
        flat = np.concatenate(batches)
        assert sorted(flat.tolist()) == list(range(1003))
        orders.append(flat)
    # Every epoch sees another order.
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[1], orders[2])


def test_length_grouped_batches_pad_far_less_than_random_batches():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 100, size=2000)
    batches = list(LengthGroupedBatchSampler(lengths, 32, shuffle=True, seed=0))
    perm = rng.permutation(len(lengths))
    random_batches = [perm[i : i + 32] for i in range(0, len(perm), 32)]

    def padded(bs):
        return sum(lengths[b].max() * len(b) for b in bs)

    waste_grouped = padded(batches) - lengths.sum()
    waste_random = padded(random_batches) - lengths.sum()
    assert waste_grouped < waste_random / 5
    # Each batch spans a narrow band of lengths.
    spreads = [lengths[b].max() - lengths[b].min() for b in batches]
    assert np.median(spreads) <= 5


def test_evaluation_batches_are_sorted_and_complete():
    lengths = np.array([5, 1, 9, 3, 9, 2, 7])
    batches = list(LengthGroupedBatchSampler(lengths, 3, shuffle=False))
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    assert list(lengths[flat]) == sorted(lengths, reverse=True)


def test_prediction_order_is_the_callers_order(tiny_model_dir):
    clf = TransformerClassifier(
        tiny_model_dir,
        max_epochs=1,
        batch_size=4,
        predict_batch_size=3,
        random_state=0,
        device="cpu",
    ).fit(TEXTS, LABELS)
    proba = clf.predict_proba(TEXTS)
    one_by_one = np.vstack([clf.predict_proba([t]) for t in TEXTS])
    np.testing.assert_allclose(proba, one_by_one, rtol=1e-4, atol=1e-5)
    reversed_proba = clf.predict_proba(TEXTS[::-1])
    np.testing.assert_allclose(reversed_proba[::-1], proba, rtol=1e-4, atol=1e-5)
    # The texts have different lengths, so a sorted order would have shown.
    assert len({len(t.split()) for t in TEXTS}) > 3


def test_prediction_outputs_are_plain_arrays_after_inference_mode(tiny_model_dir):
    clf = TransformerClassifier(tiny_model_dir, max_epochs=1, random_state=0, device="cpu").fit(
        TEXTS, LABELS
    )
    clf.predict(TEXTS)
    # Training again after predicting works (no inference tensors leak into autograd).
    clf.partial_fit(TEXTS, LABELS)
    assert len(clf.history_) == 2


def _compile_works():
    if not hasattr(torch, "compile"):
        return "torch.compile is not available in this torch build"
    try:
        fn = torch.compile(lambda x: x * 2, backend="eager")
        fn(torch.ones(2))
    except Exception as exc:  # pragma: no cover - platform dependent
        return f"torch.compile does not run here: {exc}"
    return None


def test_compile_flag_trains_predicts_and_pickles(tiny_model_dir, monkeypatch):
    reason = _compile_works()
    if reason:
        pytest.skip(reason)
    # The eager backend traces the model with dynamo exactly as the default
    # backend does, without minutes of C++ code generation in the test run.
    real_compile = torch.compile
    calls = []

    def eager_compile(model, **kwargs):
        calls.append(kwargs)
        return real_compile(model, backend="eager", **kwargs)

    monkeypatch.setattr(torch, "compile", eager_compile)
    params = dict(max_epochs=1, batch_size=4, random_state=0, device="cpu", dropout=0.0)
    compiled = TransformerClassifier(tiny_model_dir, compile=True, **params).fit(TEXTS, LABELS)
    plain = TransformerClassifier(tiny_model_dir, **params).fit(TEXTS, LABELS)
    assert calls, "compile=True did not go through torch.compile"
    np.testing.assert_allclose(
        compiled.predict_proba(TEXTS), plain.predict_proba(TEXTS), rtol=1e-3, atol=1e-4
    )
    restored = pickle.loads(pickle.dumps(compiled))
    np.testing.assert_allclose(
        restored.predict_proba(TEXTS), compiled.predict_proba(TEXTS), rtol=1e-5, atol=1e-6
    )


class RecordModes(Callback):
    """Whether every submodule is in train mode at each training step."""

    def initialize(self):
        self.modes_ = []
        return self

    def on_grad_computed(self, net, **kwargs):
        self.modes_.append(all(m.training for m in net.module_.modules()))


def test_training_runs_every_submodule_in_train_mode(tiny_model_dir):
    # from_pretrained returns the backbone in eval mode (no dropout); training
    # must switch it, and prediction must switch it back, on every call.
    recorder = RecordModes()
    clf = TransformerClassifier(
        tiny_model_dir,
        max_epochs=1,
        batch_size=4,
        random_state=0,
        device="cpu",
        callbacks=[("modes", recorder)],
    ).fit(TEXTS, LABELS)
    assert dict(clf.net_.callbacks_)["modes"].modes_ == [True, True]
    first = clf.predict_proba(TEXTS)
    assert not any(m.training for m in clf.net_.module_.modules())
    # Deterministic in eval mode (no dropout), then training again enables it.
    np.testing.assert_array_equal(clf.predict_proba(TEXTS), first)
    clf.partial_fit(TEXTS, LABELS)
    assert dict(clf.net_.callbacks_)["modes"].modes_ == [True, True, True, True]
