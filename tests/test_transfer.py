"""Transfer: a fitted estimator's backbone as the start of a new one (directory or object)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback

from sktransformers import (
    FittedBackbone,
    MultiTaskTransformer,
    TransformerClassifier,
    TransformerRegressor,
)

X = [
    "a great film",
    "wonderful acting",
    "i loved it",
    "a terrible film",
    "awful acting",
    "i hated it",
] * 4
Y_SENT = [1, 1, 1, 0, 0, 0] * 4
Y_LEN = [float(len(t)) for t in X]

FIT = dict(max_epochs=1, batch_size=8, lr=5e-3, random_state=0, device="cpu")


def backbone_state(estimator):
    backbone = estimator.net_.module_.backbone
    return {k: v.detach().cpu().clone() for k, v in backbone.state_dict().items()}


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)


def differs(a, b):
    return any(not torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def fitted_clf(tiny_model_dir):
    return TransformerClassifier(tiny_model_dir, **FIT).fit(X, Y_SENT)


class StartWeights(Callback):
    """Records, at the start of every fit, whether the backbone holds the reference weights."""

    seen = []  # class level: clones and folds all report here

    def __init__(self, reference):
        self.reference = reference

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        state = net.module_.backbone.state_dict()
        StartWeights.seen.append(all(torch.equal(state[k], v) for k, v in self.reference.items()))


def test_directory_transfer_to_a_new_head(fitted_clf, tiny_model_dir, tmp_path):
    path = fitted_clf.save_pretrained(tmp_path / "clf")
    plain = TransformerRegressor(tiny_model_dir, **FIT).fit(X, Y_LEN)
    source = backbone_state(fitted_clf)
    assert differs(source, backbone_state(plain))  # fine-tuning changed the backbone
    # a frozen backbone stays exactly what was transferred
    reg = TransformerRegressor(path, freeze="backbone", **FIT).fit(X, Y_LEN)
    assert_same_weights(backbone_state(reg), source)
    assert reg.predict(X).shape == (len(X),)


def test_backbone_object_survives_clone_and_pickle(fitted_clf):
    transfer = fitted_clf.backbone()
    assert isinstance(transfer, FittedBackbone)
    assert "TransformerClassifier" in repr(transfer)
    # a CPU snapshot, independent of the live model
    assert_same_weights(transfer.state_dict, backbone_state(fitted_clf))
    assert all(v.device.type == "cpu" for v in transfer.state_dict.values())
    est = TransformerRegressor(model=transfer, **FIT)
    cloned = clone(est)
    assert cloned.model is transfer  # not replaced by an unfitted copy
    assert copy.deepcopy(transfer) is transfer
    restored = pickle.loads(pickle.dumps(transfer))
    assert_same_weights(restored.load_backbone().state_dict(), transfer.state_dict)
    tokenizer = restored.load_tokenizer()
    assert tokenizer("a test")["input_ids"] == transfer.tokenizer("a test")["input_ids"]

    # continuing to train the source does not change the snapshot
    before = {k: v.clone() for k, v in transfer.state_dict.items()}
    fitted_clf.partial_fit(X, Y_SENT)
    assert_same_weights(transfer.state_dict, before)


def test_grid_search_starts_every_fold_from_transferred_weights(tiny_model_dir):
    source = TransformerClassifier(tiny_model_dir, **FIT).fit(X, Y_SENT)
    transfer = source.backbone()
    StartWeights.seen = []
    search = GridSearchCV(
        TransformerRegressor(model=transfer, callbacks=[StartWeights(transfer.state_dict)], **FIT),
        {"lr": [1e-3, 5e-3]},
        cv=2,
        error_score="raise",
    )
    search.fit(X, Y_LEN)
    # 2 candidates x 2 folds + the refit, each starting from the transferred weights
    assert StartWeights.seen == [True] * 5
    best = search.best_estimator_
    assert best.model is transfer
    # the refit trained from there: its backbone moved away from the start
    assert differs(backbone_state(best), transfer.state_dict)

    # the plain backbone is not what the folds started from
    StartWeights.seen = []
    TransformerRegressor(tiny_model_dir, callbacks=[StartWeights(transfer.state_dict)], **FIT).fit(
        X, Y_LEN
    )
    assert StartWeights.seen == [False]


def test_multitask_to_single_task(tiny_model_dir, tmp_path):
    Y = pd.DataFrame({"sentiment": Y_SENT, "length": Y_LEN})
    Y.loc[::2, "length"] = np.nan
    mt = MultiTaskTransformer(tiny_model_dir, **FIT).fit(X, Y)
    source = backbone_state(mt)
    by_object = TransformerClassifier(mt.backbone(), freeze="backbone", **FIT).fit(X, Y_SENT)
    assert_same_weights(backbone_state(by_object), source)
    path = mt.save_pretrained(tmp_path / "mt")
    by_dir = TransformerClassifier(path, freeze="backbone", **FIT).fit(X, Y_SENT)
    assert_same_weights(backbone_state(by_dir), source)
    # the new head is new: one output per class, not the multi-task heads
    assert list(by_dir.net_.module_.heads) == ["default"]
    # and single-task -> multi-task
    again = MultiTaskTransformer(by_dir.backbone(), freeze="backbone", **FIT).fit(X, Y)
    assert_same_weights(backbone_state(again), source)


def test_backbone_needs_a_fitted_estimator(tiny_model_dir):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        TransformerClassifier(tiny_model_dir).backbone()
