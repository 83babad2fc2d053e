"""The skorch internals the training engine relies on, checked so that a skorch
release that changes them fails here, loudly, naming the file to update.

``sktransformers/_net.py`` overrides ``NeuralNet`` hooks (and a few private
methods) and ``sktransformers/_base.py`` builds the net with skorch callbacks;
pyproject.toml caps skorch below the next minor release for that reason. When
this file fails after a skorch upgrade, adapt those files to the new skorch,
then move the cap.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import skorch
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, EpochScoring

NET = "sktransformers/_net.py"
BASE = "sktransformers/_base.py"


def _broken(what, file=NET):
    return (
        f"skorch {skorch.__version__} changed {what}, which {file} relies on: adapt {file} "
        "to this skorch, then update the skorch bound in pyproject.toml."
    )


# The signatures TransformerNet overrides or calls (as in skorch 1.4; fit_loop
# gained ``_routing_method`` in 1.4, for scikit-learn's metadata routing).
SIGNATURES = {
    "run_single_epoch": "(self, iterator, training, prefix, step_fn, **fit_params)",
    "train_step": "(self, batch, **fit_params)",
    "train_step_single": "(self, batch, **fit_params)",
    "evaluation_step": "(self, batch, training=False)",
    "infer": "(self, x, **fit_params)",
    "get_loss": "(self, y_pred, y_true, X=None, training=False)",
    "get_iterator": "(self, dataset, training=False)",
    "notify": "(self, method_name, **cb_kwargs)",
    "partial_fit": "(self, X, y=None, classes=None, **fit_params)",
    "fit_loop": "(self, X, y=None, epochs=None, *, _routing_method='fit', **fit_params)",
    "on_epoch_begin": "(self, net, dataset_train=None, dataset_valid=None, **kwargs)",
    "get_all_learnable_params": "(self)",
    "check_is_fitted": "(self, attributes=None, *args, **kwargs)",
}


def test_every_pinned_name_is_one_the_package_uses():
    # A pin on a skorch name the package no longer uses would block skorch upgrades for nothing.
    import re
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "sktransformers"
    source = "\n".join(path.read_text() for path in package.rglob("*.py"))
    unused = [name for name in SIGNATURES if not re.search(rf"\b{name}\b", source)]
    assert not unused, f"pinned but unused by sktransformers: {unused}; drop them from SIGNATURES"


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_neural_net_signatures(name):
    method = getattr(NeuralNet, name, None)
    assert method is not None, _broken(f"NeuralNet.{name} (it is gone)")
    assert str(inspect.signature(method)) == SIGNATURES[name], _broken(
        f"the signature of NeuralNet.{name} to {inspect.signature(method)}"
    )


def test_helper_signatures():
    from skorch.dataset import unpack_data
    from skorch.helper import predefined_split
    from skorch.utils import TeeGenerator

    assert str(inspect.signature(unpack_data)) == "(data)", _broken("skorch.dataset.unpack_data")
    assert str(inspect.signature(TeeGenerator)) == "(gen)", _broken("skorch.utils.TeeGenerator")
    assert str(inspect.signature(predefined_split)) == "(dataset)", _broken(
        "skorch.helper.predefined_split", BASE
    )
    params = inspect.signature(EpochScoring).parameters
    for name in ("scoring", "lower_is_better", "name", "use_caching"):
        assert name in params, _broken(f"EpochScoring's parameter {name!r}", BASE)
    params = inspect.signature(EarlyStopping).parameters
    for name in ("monitor", "patience", "load_best"):
        assert name in params, _broken(f"EarlyStopping's parameter {name!r}", BASE)


# --- behaviour ---------------------------------------------------------------------------


def _data(n=32):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 4)).astype("float32")
    return X, (X[:, 0] > 0).astype("int64")


class Recorder(NeuralNet):
    """Records which overridable hooks the training loop calls, and how."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = []

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        self.calls.append(("run_single_epoch", training, prefix, step_fn.__name__))
        return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)

    def train_step_single(self, batch, **fit_params):
        self.calls.append(("train_step_single",))
        return super().train_step_single(batch, **fit_params)

    def evaluation_step(self, batch, training=False):
        self.calls.append(("evaluation_step", training))
        return super().evaluation_step(batch, training=training)

    def infer(self, x, **fit_params):
        self.calls.append(("infer",))
        return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        self.calls.append(("get_loss", training))
        return super().get_loss(y_pred, y_true, X=X, training=training)

    def get_iterator(self, dataset, training=False):
        self.calls.append(("get_iterator", training))
        return super().get_iterator(dataset, training=training)


def _net(cls=NeuralNet, **kwargs):
    params = dict(
        module=torch.nn.Linear,
        module__in_features=4,
        module__out_features=2,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=1,
        batch_size=8,
        lr=0.1,
        train_split=None,
        verbose=0,
    )
    return cls(**{**params, **kwargs})


def test_training_loop_calls_the_overridden_hooks():
    from skorch.dataset import Dataset
    from skorch.helper import predefined_split

    X, y = _data()
    net = _net(Recorder, train_split=predefined_split(Dataset(X[:8], y[:8])))
    net.fit(X, y)
    epochs = [c for c in net.calls if c[0] == "run_single_epoch"]
    assert epochs == [
        ("run_single_epoch", True, "train", "train_step"),
        ("run_single_epoch", False, "valid", "validation_step"),
    ], _broken("how fit_loop calls run_single_epoch")
    for hook in [
        ("train_step_single",),
        ("infer",),
        ("get_loss", True),
        ("get_loss", False),
        ("get_iterator", True),
        ("get_iterator", False),
    ]:
        assert hook in net.calls, _broken(f"the training loop, which no longer calls {hook}")
    # predefined_split: validation on exactly the given dataset.
    assert net.history[-1, "valid_batch_count"] == 1, _broken("predefined_split", BASE)
    batches = net.history[-1, "batches"]
    assert {"train_loss", "train_batch_size"} <= set(batches[0]), _broken("history batches")

    net.calls.clear()
    proba = net.predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert ("evaluation_step", False) in net.calls, _broken("evaluation_step")
    assert ("get_iterator", False) in net.calls


def test_train_step_returns_loss_and_prediction():
    from skorch.dataset import unpack_data

    X, y = _data(8)
    net = _net().initialize()
    step = net.train_step((torch.as_tensor(X), torch.as_tensor(y)))
    assert {"loss", "y_pred"} <= set(step), _broken("train_step's return value")
    assert step["loss"].ndim == 0 and step["y_pred"].shape == (8, 2)
    Xi, yi = unpack_data((X, y))
    assert Xi is X and yi is y, _broken("skorch.dataset.unpack_data")
    names = [name for name, _ in net.get_all_learnable_params()]
    assert names == ["weight", "bias"], _broken("get_all_learnable_params")


def test_notify_and_history_bookkeeping():
    class Seen(Callback):
        def __init__(self):
            self.seen = []

        def on_grad_computed(self, net, named_parameters, batch=None, training=False, **kw):
            self.seen.append((training, [name for name, _ in named_parameters]))

    from skorch.utils import TeeGenerator

    net = _net(callbacks=[("seen", Seen())]).initialize()
    gen = TeeGenerator(iter([("a", 1), ("b", 2)]))
    assert list(gen) == list(gen) == [("a", 1), ("b", 2)], _broken("skorch.utils.TeeGenerator")
    net.notify(
        "on_grad_computed",
        named_parameters=TeeGenerator(net.get_all_learnable_params()),
        batch=None,
        training=True,
    )
    seen = dict(net.callbacks_)["seen"].seen
    assert seen == [(True, ["weight", "bias"])], _broken("NeuralNet.notify")
    net.history.new_epoch()
    net.history.new_batch()
    net.history.record_batch("train_loss", 1.0)
    assert net.history[-1]["batches"][-1]["train_loss"] == 1.0, _broken("History.record_batch")


class StopNow(Callback):
    def __init__(self, where):
        self.where = where
        self.train_end_called = False

    def on_epoch_end(self, net, **kwargs):
        if self.where == "epoch_end":
            raise KeyboardInterrupt

    def on_batch_end(self, net, **kwargs):
        if self.where == "batch_end":
            raise KeyboardInterrupt

    def on_train_end(self, net, **kwargs):
        self.train_end_called = True


@pytest.mark.parametrize("where", ["epoch_end", "batch_end"])
def test_keyboard_interrupt_leaves_fit_loop_before_partial_fit_catches_it(where):
    # TransformerNet.fit_loop tells a stop request from a user's interrupt on the way out
    # of skorch's fit_loop, before skorch's partial_fit swallows it and runs on_train_end.
    class Seen(NeuralNet):
        def fit_loop(self, X, y=None, epochs=None, **fit_params):
            try:
                return super().fit_loop(X, y, epochs, **fit_params)
            except KeyboardInterrupt:
                self.seen_ = (len(self.history), dict(self.callbacks_)["stop"].train_end_called)
                raise

    X, y = _data()
    net = _net(Seen, callbacks=[("stop", StopNow(where))], max_epochs=3)
    net.partial_fit(X, y)
    assert net.seen_ == (1, False), _broken("how partial_fit calls fit_loop")
    assert dict(net.callbacks_)["stop"].train_end_called


@pytest.mark.parametrize("where", ["epoch_end", "batch_end"])
def test_partial_fit_catches_keyboard_interrupt(where):
    # The engine's stop requests (EarlyStopping, OptunaPruningCallback) are a
    # KeyboardInterrupt from on_epoch_end that skorch's partial_fit catches,
    # then it runs on_train_end; the engine tells them from a real Ctrl+C.
    X, y = _data()
    stop = StopNow(where)
    net = _net(callbacks=[("stop", stop)], max_epochs=3)
    net.partial_fit(X, y)  # returns: the interrupt is caught
    assert stop.train_end_called, _broken("partial_fit's handling of KeyboardInterrupt")
    assert len(net.history) == 1, _broken("partial_fit's handling of KeyboardInterrupt")
    assert ("train_loss" in net.history[-1]) == (where == "epoch_end")


def test_early_stopping_stops_through_keyboard_interrupt():
    from skorch.dataset import Dataset
    from skorch.helper import predefined_split

    X, y = _data()
    es = EarlyStopping(monitor="valid_loss", patience=2, load_best=True, sink=lambda *a: None)
    net = _net(
        lr=0.0,
        max_epochs=10,
        callbacks=[("early_stopping", es)],
        train_split=predefined_split(Dataset(X[:8], y[:8])),
    )
    seen = []
    original = es.on_epoch_end

    def spy(net, **kwargs):
        try:
            return original(net, **kwargs)
        except KeyboardInterrupt:
            seen.append(len(net.history))
            raise

    es.on_epoch_end = spy
    net.fit(X, y)  # lr=0: valid_loss never improves
    assert seen == [3] and len(net.history) == 3, _broken("EarlyStopping's stop", BASE)


def test_epoch_scoring_records_its_name_each_epoch():
    from skorch.dataset import Dataset
    from skorch.helper import predefined_split

    X, y = _data()

    def score(net, X, y):
        return 0.5

    net = _net(
        max_epochs=2,
        train_split=predefined_split(Dataset(X[:8], y[:8])),
        callbacks=[
            (
                "valid_score",
                EpochScoring(score, lower_is_better=False, name="valid_score", use_caching=True),
            )
        ],
    )
    net.fit(X, y)
    assert net.history[:, "valid_score"] == [0.5, 0.5], _broken("EpochScoring", BASE)
    assert net.history[-1, "valid_score_best"] in (True, False)
