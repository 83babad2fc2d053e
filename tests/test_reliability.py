"""Faults: atomic saves, failed refits, interrupts, checkpoint and resume, input gaps."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import DataConversionWarning
from sklearn.model_selection import KFold, cross_val_score
from skorch.callbacks import Callback, EarlyStopping

from sktransformers import (
    MultiTaskTransformer,
    TransformerClassifier,
    TransformerEmbedder,
    TransformerRegressor,
)

X = ["a great film", "awful acting", "i loved it", "truly boring"] * 4
Y = ["pos", "neg", "pos", "neg"] * 4


def small(model, **kw):
    return TransformerClassifier(
        model, **{"max_epochs": 1, "random_state": 0, "batch_size": 4, **kw}
    )


@pytest.fixture(scope="module")
def fitted(tiny_model_dir):
    return small(tiny_model_dir).fit(X, Y)


# ----------------------------------------------------------------------
# 1. Atomic, safe saving
# ----------------------------------------------------------------------
def test_failed_save_keeps_the_previous_model(tiny_model_dir, fitted, tmp_path, monkeypatch):
    target = tmp_path / "model"
    fitted.save_pretrained(target)
    before = TransformerClassifier.from_pretrained(target).predict_proba(X)
    other = small(tiny_model_dir).fit(X, ["x", "y", "z", "y"] * 4)
    import safetensors.torch

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(safetensors.torch, "save_file", broken)
    with pytest.raises(OSError, match="disk full"):
        other.save_pretrained(target)
    monkeypatch.undo()
    again = TransformerClassifier.from_pretrained(target)
    np.testing.assert_allclose(again.predict_proba(X), before, atol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary left


def test_unserialisable_parameter_fails_before_any_file(fitted, tmp_path):
    target = tmp_path / "model"
    fitted.save_pretrained(target)
    stamp = {p.name: p.stat().st_mtime_ns for p in target.iterdir()}
    broken = TransformerClassifier.from_pretrained(target)
    broken.class_weight = {"pos": object()}
    with pytest.raises(TypeError, match="class_weight"):
        broken.save_pretrained(target)
    assert {p.name: p.stat().st_mtime_ns for p in target.iterdir()} == stamp


def test_saved_files_follow_the_umask(fitted, tmp_path):
    old = os.umask(0o022)
    try:
        target = fitted.save_pretrained(tmp_path / "shared")
    finally:
        os.umask(old)
    for name in ("model.safetensors", "sktransformers_heads.safetensors", "sktransformers.json"):
        assert stat.S_IMODE((target / name).stat().st_mode) == 0o644, name
    assert stat.S_IMODE(target.stat().st_mode) == 0o755


def test_load_errors_say_what_is_wrong(fitted, tmp_path):
    with pytest.raises(FileNotFoundError, match="No such directory"):
        TransformerClassifier.from_pretrained(tmp_path / "missing")
    target = fitted.save_pretrained(tmp_path / "m")
    meta_path = target / "sktransformers.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "format": 99, "sktransformers_version": "9.0"}))
    with pytest.raises(ValueError, match="newer sktransformers"):
        TransformerClassifier.from_pretrained(target)
    meta_path.write_text("{not json")
    with pytest.raises(ValueError, match="corrupt"):
        TransformerClassifier.from_pretrained(target)
    meta_path.write_text(json.dumps({**meta, "params": [1, 2]}))
    with pytest.raises(ValueError, match="'params' should be a dict"):
        TransformerClassifier.from_pretrained(target)


def test_tilde_is_expanded(fitted, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    fitted.save_pretrained("~/home-model")
    assert (tmp_path / "home-model" / "sktransformers.json").is_file()
    loaded = TransformerClassifier.from_pretrained("~/home-model")
    assert list(loaded.classes_) == ["neg", "pos"]
    again = small("~/home-model").fit(X, Y)  # as model=
    assert again.predict(X[:1]).shape == (1,)


def test_any_saved_directory_loads_with_the_generic_loader(fitted, tmp_path):
    from sktransformers.engine._persistence import load

    assert isinstance(load(fitted.save_pretrained(tmp_path / "m")), TransformerClassifier)


# ----------------------------------------------------------------------
# 2. A failed fit never corrupts a fitted estimator
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "params, y, match",
    [
        ({}, ["pos"] * 16, "at least 2 classes"),
        ({"class_weight": {"nope": 2.0}}, Y, "not classes"),
        ({"max_length": 100_000}, Y, "longer than this model supports"),
        ({"device": "cuda:7"}, Y, "device"),
    ],
)
def test_failed_refit_keeps_the_fitted_model(fitted, params, y, match):
    import copy

    est = copy.deepcopy(fitted)
    before = est.predict_proba(X)
    est.set_params(**params)
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)
    est.set_params(**{k: fitted.get_params()[k] for k in params})
    assert list(est.classes_) == ["neg", "pos"]
    np.testing.assert_allclose(est.predict_proba(X), before, atol=1e-6)


# ----------------------------------------------------------------------
# 3. Interrupts
# ----------------------------------------------------------------------
class InterruptAt(Callback):
    """Raise KeyboardInterrupt, as Ctrl+C would, at a given training batch."""

    def __init__(self, epoch, batch=1):
        self.epoch = epoch
        self.batch = batch

    def initialize(self):
        self.seen_ = 0
        self.state_after_epoch_ = {}
        return self

    def on_epoch_end(self, net, **kwargs):
        self.state_after_epoch_[len(net.history)] = {
            k: v.clone() for k, v in net.module_.state_dict().items()
        }

    def on_batch_end(self, net, training=False, **kwargs):
        if training and len(net.history) == self.epoch:
            self.seen_ += 1
            if self.seen_ == self.batch:
                raise KeyboardInterrupt


def test_interrupt_reraises_and_keeps_the_last_completed_epoch(tiny_model_dir):
    est = small(tiny_model_dir, max_epochs=3, callbacks=[("stop", InterruptAt(epoch=2))])
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, Y)
    assert len(est.history_) == 1 and "train_loss" in est.history_[-1]
    callback = dict(est.net_.callbacks_)["stop"]
    for key, value in est.net_.module_.state_dict().items():
        torch.testing.assert_close(value, callback.state_after_epoch_[1][key])
    assert est.predict(X).shape == (16,)  # usable


def test_interrupt_stops_cross_validation(tiny_model_dir):
    est = small(tiny_model_dir, max_epochs=2, callbacks=[InterruptAt(epoch=1)])
    with pytest.raises(KeyboardInterrupt):
        cross_val_score(est, X, Y, cv=KFold(2), error_score="raise")


def test_early_stopping_and_callback_stops_still_just_stop(tiny_model_dir):
    est = small(
        tiny_model_dir,
        max_epochs=6,
        validation_fraction=0.25,
        lr=1e-9,
        callbacks=[EarlyStopping(monitor="train_loss", patience=1, threshold=1.0)],
    )
    est.fit(X, Y)  # no exception
    assert 1 < len(est.history_) < 6


# ----------------------------------------------------------------------
# 4. Checkpoint and resume
# ----------------------------------------------------------------------
SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, json
    import torch
    torch.set_num_threads(1)
    from skorch.callbacks import Callback
    from sktransformers import TransformerClassifier

    model, checkpoint, out, kill = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"

    class Kill(Callback):
        def on_epoch_end(self, net, **kwargs):
            if kill and len(net.history) == 1:
                os.kill(os.getpid(), signal.SIGKILL)

    X = ["a great film", "awful acting", "i loved it", "truly boring"] * 4
    y = ["pos", "neg", "pos", "neg"] * 4
    est = TransformerClassifier(model, max_epochs=3, batch_size=4, random_state=0,
                                validation_fraction=0.25, checkpoint_dir=checkpoint or None,
                                callbacks=[Kill()])
    est.fit(X, y)
    torch.save({k: v for k, v in est.net_.module_.state_dict().items()}, out + ".pt")
    rows = [{k: r[k] for k in ("epoch", "train_loss", "valid_loss", "valid_score")}
            for r in est.history_]
    json.dump(rows, open(out + ".json", "w"))
    """
)


def test_sigkill_after_epoch_one_then_resume_matches_an_uninterrupted_run(tiny_model_dir, tmp_path):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def run(checkpoint, out, kill):
        return subprocess.run(
            [
                sys.executable,
                str(script),
                tiny_model_dir,
                checkpoint,
                str(tmp_path / out),
                "1" if kill else "0",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    killed = run(str(tmp_path / "ckpt"), "killed", True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (tmp_path / "ckpt" / "training_state.json").is_file()
    assert not (tmp_path / "ckpt" / "training_state.pt").exists()  # no pickle
    resumed = run(str(tmp_path / "ckpt"), "resumed", False)
    assert resumed.returncode == 0, resumed.stderr
    plain = run("", "plain", False)
    assert plain.returncode == 0, plain.stderr
    history = json.loads((tmp_path / "resumed.json").read_text())
    expected = json.loads((tmp_path / "plain.json").read_text())
    assert [r["epoch"] for r in history] == [1, 2, 3]
    for got, want in zip(history, expected):
        for key in ("train_loss", "valid_loss", "valid_score"):
            assert got[key] == pytest.approx(want[key], rel=1e-6, abs=1e-7), key
    a = torch.load(tmp_path / "resumed.pt")
    b = torch.load(tmp_path / "plain.pt")
    for key in b:
        torch.testing.assert_close(a[key], b[key], rtol=1e-6, atol=1e-7)
    state = json.loads((tmp_path / "ckpt" / "training_state.json").read_text())
    assert state["complete"]


def test_partial_fit_keeps_the_optimizer_state(tiny_model_dir):
    est = small(tiny_model_dir).partial_fit(X, Y)
    optimizer = est.net_.optimizer_
    steps = [float(s["step"]) for s in optimizer.state.values()]
    est.partial_fit(X, Y)
    assert est.net_.optimizer_ is optimizer
    assert [float(s["step"]) for s in optimizer.state.values()] == [2 * v for v in steps]


# ----------------------------------------------------------------------
# 6. Input gaps
# ----------------------------------------------------------------------
def test_embedder_fit_checks_texts(tiny_model_dir):
    for bad, error in (([None, "a"], ValueError), ([float("nan")], ValueError), ([3], TypeError)):
        with pytest.raises(error, match="row 0"):
            TransformerEmbedder(tiny_model_dir).fit(bad)


def test_lone_surrogate_names_the_row(tiny_model_dir):
    with pytest.raises(ValueError, match="row 1.*surrogate"):
        small(tiny_model_dir).fit(["fine", "bad \ud800 text"], ["a", "b"])


def test_random_state_instance_is_accepted(tiny_model_dir):
    est = small(tiny_model_dir, random_state=np.random.RandomState(0)).fit(X, Y)
    assert est.predict(X[:2]).shape == (2,)


@pytest.mark.parametrize("weight", [float("nan"), float("inf"), -1.0])
def test_bad_task_weights_fail(weight):
    Ymt = pd.DataFrame({"a": Y, "b": np.arange(16) + 0.5})
    with pytest.raises(ValueError, match="finite number"):
        MultiTaskTransformer(task_weights={"a": weight}).fit(X, Ymt)


def test_max_length_checked_after_set_params_and_on_load(fitted, tiny_model_dir, tmp_path):
    import copy

    est = copy.deepcopy(fitted).set_params(max_length=4096)
    with pytest.raises(ValueError, match="longer than this model supports"):
        est.predict(X)
    target = fitted.save_pretrained(tmp_path / "m")
    with pytest.raises(ValueError, match="longer than this model supports"):
        TransformerClassifier.from_pretrained(target, max_length=4096)
    with pytest.raises(ValueError, match="longer than this model supports"):
        TransformerEmbedder(tiny_model_dir, max_length=4096).fit()


@pytest.mark.parametrize("device", ["cuda", "meta", "mps", "nonsense"])
def test_embedder_devices_fail_clearly(tiny_model_dir, device):
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="device="):
        TransformerEmbedder(tiny_model_dir, device=device).fit()


def test_partial_fit_classes_rules(tiny_model_dir):
    est = small(tiny_model_dir)
    with pytest.raises(ValueError, match=r"not in classes=\['neg', 'pos'\]: \['meh'\]"):
        est.partial_fit(X[:3], ["pos", "neg", "meh"], classes=["neg", "pos"])
    est.partial_fit(X, Y, classes=["neg", "pos", "meh"])
    est.partial_fit(X, Y, classes=["meh", "neg", "pos"])  # same set, any order
    with pytest.raises(ValueError, match="differs"):
        est.partial_fit(X, Y, classes=["neg", "pos"])


def test_balanced_with_absent_classes_says_so(tiny_model_dir):
    with pytest.raises(ValueError, match=r"\['meh'\].*never occurs"):
        small(tiny_model_dir, class_weight="balanced").partial_fit(
            X, Y, classes=["neg", "pos", "meh"]
        )


def test_regression_column_vector_and_overflow(tiny_model_dir):
    y = np.arange(16, dtype=float).reshape(-1, 1)
    with pytest.warns(DataConversionWarning):
        reg = TransformerRegressor(tiny_model_dir, max_epochs=1, random_state=0).fit(X, y)
    assert reg.predict(X[:3]).shape == (3,)
    with pytest.raises(ValueError, match="too large to standardise"):
        TransformerRegressor(tiny_model_dir).fit(X, np.array([1e308, -1e308] * 8))


def test_custom_code_directory_is_not_called_a_hub_failure(tiny_model_dir, tmp_path):
    import shutil

    target = tmp_path / "custom"
    shutil.copytree(tiny_model_dir, target)
    config = json.loads((target / "config.json").read_text())
    config.update(model_type="my-custom-bert", auto_map={"AutoModel": "modeling.MyModel"})
    (target / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="trust_remote_code=True"):
        small(str(target)).fit(X, Y)


def test_no_warnings_from_a_plain_fit(tiny_model_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataConversionWarning)
        small(tiny_model_dir).fit(X, Y)
    assert Path(tiny_model_dir).is_dir()
