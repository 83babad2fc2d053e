"""Trust: checkpoints without pickle, no paths from saved files, robust saving, the global RNG.

* no file the package reads from a checkpoint or a saved model is ever
  unpickled (real crafted pickles are planted and must never run);
* ``checkpoint_dir`` and other path/object parameters are neither saved nor
  restored;
* a damaged checkpoint is reported (with its path) and the fit starts
  afresh;
* saving works with a read-only parent, and stale temporaries of killed
  saves are removed;
* ``fit`` leaves torch's, NumPy's and Python's global generators alone.
"""

from __future__ import annotations

import fcntl
import json
import os
import pickle
import random
import re
import shutil
import tempfile
import warnings

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sktransformers import TransformerClassifier
from sktransformers.engine import _persistence

X = ["a great film", "awful acting", "i loved it", "truly boring"] * 4
Y = ["pos", "neg", "pos", "neg"] * 4
AFRESH = "starting afresh; the checkpoint will be overwritten"


def small(model, **kw):
    return TransformerClassifier(
        model, **{"max_epochs": 2, "random_state": 0, "batch_size": 4, "device": "cpu", **kw}
    )


class _Payload:
    """Unpickling this creates the directory ``marker``: proof that a pickle ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.makedirs, (self.marker,))


def _plant(path, marker):
    """A real crafted pickle at ``path`` (torch's zip format for ``.pt``/``.bin``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix in (".pt", ".bin"):
        torch.save({"state": _Payload(marker)}, path)
    else:
        path.write_bytes(pickle.dumps(_Payload(marker)))


def _check_the_plant_is_real(path, marker):
    torch.load(path, weights_only=False)  # what the old code did with training_state.pt
    assert marker.is_dir()
    marker.rmdir()


class Interrupt(Callback):
    """Stop the fit (as a kill would) at the first batch of epoch ``epoch``."""

    def __init__(self, epoch=2):
        self.epoch = epoch

    def on_batch_begin(self, net, training=False, **kwargs):
        if training and len(net.history) == self.epoch:
            raise KeyboardInterrupt


@pytest.fixture(scope="module")
def unfinished(tiny_model_dir, tmp_path_factory):
    """A checkpoint of a 2-epoch run stopped after epoch 1."""
    directory = tmp_path_factory.mktemp("ckpt") / "run"
    with pytest.raises(KeyboardInterrupt):
        small(tiny_model_dir, checkpoint_dir=directory, callbacks=[Interrupt()]).fit(X, Y)
    state = json.loads((directory / "training_state.json").read_text())
    assert state["complete"] is False and len(state["history"]) == 1
    return directory


@pytest.fixture(scope="module")
def plain(tiny_model_dir):
    """The uninterrupted 2-epoch run."""
    return small(tiny_model_dir).fit(X, Y)


def _copy(directory, tmp_path):
    target = tmp_path / "ckpt"
    shutil.copytree(directory, target)
    return target


def _fit_warns_afresh(tiny_model_dir, checkpoint, match):
    with pytest.warns(UserWarning, match=match) as record:
        est = small(tiny_model_dir, checkpoint_dir=checkpoint).fit(X, Y)
    assert any(AFRESH in str(w.message) for w in record)
    return est


def _state_is_fresh_and_valid(checkpoint):
    state = json.loads((checkpoint / "training_state.json").read_text())
    assert state["complete"] is True and len(state["history"]) == 2
    from safetensors.torch import load_file

    assert "rng/torch" in load_file(str(checkpoint / "training_state.safetensors"))
    assert not (checkpoint / "training_state.pt").exists()


# ----------------------------------------------------------------------
# 1. No pickle, ever
# ----------------------------------------------------------------------
def test_checkpoint_is_safetensors_and_json_only(unfinished):
    names = sorted(p.name for p in unfinished.iterdir())
    assert names == ["model", "training_state.json", "training_state.safetensors"]
    for path in unfinished.rglob("*"):
        if path.is_file() and path.suffix != ".safetensors":
            path.read_text(encoding="utf-8")  # JSON or the tokenizer's text files
            assert not path.read_bytes().startswith(b"\x80")  # no pickle protocol header


CHECKPOINT_NAMES = [
    "training_state.pt",
    "training_state.safetensors",
    "training_state.json",
    "model/model.safetensors",
    "model/sktransformers_heads.safetensors",
    "model/sktransformers.json",
    "model/config.json",
    "model/pytorch_model.bin",
    "model/training_args.bin",
]


def test_pickles_planted_in_a_checkpoint_dir_never_run(tiny_model_dir, tmp_path, plain):
    marker = tmp_path / "PWNED"
    checkpoint = tmp_path / "ckpt"
    for name in CHECKPOINT_NAMES:
        _plant(checkpoint / name, marker)
    _check_the_plant_is_real(checkpoint / "training_state.pt", marker)
    est = _fit_warns_afresh(tiny_model_dir, checkpoint, "training_state.pt.*pickle")
    assert not marker.exists()
    _state_is_fresh_and_valid(checkpoint)
    np.testing.assert_allclose(est.predict_proba(X), plain.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize(
    "name",
    [
        "training_state.safetensors",
        "model/model.safetensors",
        "model/sktransformers_heads.safetensors",
        "model/tokenizer.json",
    ],
)
def test_a_pickle_in_an_unfinished_checkpoint_never_runs(
    tiny_model_dir, tmp_path, unfinished, plain, name
):
    marker = tmp_path / "PWNED"
    checkpoint = _copy(unfinished, tmp_path)
    (checkpoint / name).unlink()
    _plant(checkpoint / name, marker)
    est = _fit_warns_afresh(tiny_model_dir, checkpoint, "cannot be")
    assert not marker.exists()
    _state_is_fresh_and_valid(checkpoint)
    # Afresh means afresh: the same model as a fit without any checkpoint.
    np.testing.assert_allclose(est.predict_proba(X), plain.predict_proba(X), atol=1e-6)


SAVED_NAMES = [
    "model.safetensors",
    "sktransformers_heads.safetensors",
    "pytorch_model.bin",
    "training_args.bin",
    "optimizer.pt",
    "training_state.pt",
]


@pytest.mark.parametrize("name", SAVED_NAMES)
def test_a_pickle_in_a_saved_model_never_runs(plain, tmp_path, name):
    marker = tmp_path / "PWNED"
    directory = plain.save_pretrained(tmp_path / "saved")
    replaced = (directory / name).exists()
    (directory / name).unlink(missing_ok=True)
    _plant(directory / name, marker)
    if replaced:  # a file the loader needs: a clear error naming the directory, never unpickled
        with pytest.raises(ValueError, match=re.escape(str(directory))):
            TransformerClassifier.from_pretrained(directory)
    else:  # extra files are never read
        loaded = TransformerClassifier.from_pretrained(directory)
        np.testing.assert_allclose(loaded.predict_proba(X), plain.predict_proba(X), atol=1e-6)
    assert not marker.exists()


def test_the_package_has_no_unpickling_calls():
    import sktransformers

    root = os.path.dirname(sktransformers.__file__)
    found = []
    for base, _, files in os.walk(root):
        for name in files:
            if name.endswith(".py"):
                text = open(os.path.join(base, name), encoding="utf-8").read()
                for call in (
                    "torch.load(",
                    "pickle.load",
                    "joblib.load",
                    "allow_pickle=True",
                    "weights_only=False",
                ):
                    if call in text:
                        found.append((name, call))
    assert found == []


# ----------------------------------------------------------------------
# 3. A damaged checkpoint: reported, then afresh
# ----------------------------------------------------------------------
def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


DAMAGE = {
    "truncated tensors": lambda c: _truncate(c / "training_state.safetensors"),
    "garbage tensors": lambda c: (c / "training_state.safetensors").write_bytes(os.urandom(300)),
    "empty JSON (EOF)": lambda c: (c / "training_state.json").write_text(""),
    "truncated JSON": lambda c: _truncate(c / "training_state.json"),
    "a JSON list": lambda c: (c / "training_state.json").write_text("[1, 2]"),
    "missing tensor": lambda c: (c / "training_state.json").write_text(
        (c / "training_state.json").read_text().replace('"rng/torch"', '"rng/nothing"')
    ),
    "wrong types": lambda c: (c / "training_state.json").write_text(
        (c / "training_state.json").read_text().replace('"history": [', '"history": [3, ')
    ),
    "truncated weights": lambda c: _truncate(c / "model" / "model.safetensors"),
    "no model": lambda c: shutil.rmtree(c / "model"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_checkpoint_is_reported_and_the_fit_starts_afresh(
    tiny_model_dir, tmp_path, unfinished, plain, damage
):
    checkpoint = _copy(unfinished, tmp_path)
    DAMAGE[damage](checkpoint)
    with pytest.warns(UserWarning, match=AFRESH) as record:
        est = small(tiny_model_dir, checkpoint_dir=checkpoint).fit(X, Y)
    message = next(str(w.message) for w in record if AFRESH in str(w.message))
    assert str(checkpoint) in message
    _state_is_fresh_and_valid(checkpoint)
    np.testing.assert_allclose(est.predict_proba(X), plain.predict_proba(X), atol=1e-6)


def test_an_unfinished_checkpoint_resumes_exactly(tiny_model_dir, tmp_path, unfinished, plain):
    checkpoint = _copy(unfinished, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # resuming warns about nothing
        est = small(tiny_model_dir, checkpoint_dir=checkpoint).fit(X, Y)
    assert [row["epoch"] for row in est.history_] == [1, 2]
    for key in ("train_loss",):
        assert est.history_[-1, key] == pytest.approx(plain.history_[-1, key], rel=1e-6)
    np.testing.assert_allclose(est.predict_proba(X), plain.predict_proba(X), atol=1e-6)
    assert json.loads((checkpoint / "training_state.json").read_text())["complete"] is True


# ----------------------------------------------------------------------
# 2. Paths and objects are never restored from a saved model
# ----------------------------------------------------------------------
def test_checkpoint_dir_is_neither_saved_nor_restored(tiny_model_dir, tmp_path):
    est = small(tiny_model_dir, max_epochs=1, checkpoint_dir=tmp_path / "mine").fit(X, Y)
    directory = est.save_pretrained(tmp_path / "saved")
    meta_path = directory / "sktransformers.json"
    meta = json.loads(meta_path.read_text())
    assert "checkpoint_dir" not in meta["params"] and "callbacks" not in meta["params"]
    # An older (or tampered) file naming a folder of someone else's.
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "training_state.json").write_text("{}")
    before = sorted(p.name for p in planted.iterdir())
    meta["params"]["checkpoint_dir"] = str(planted)
    meta["params"]["callbacks"] = ["skorch.callbacks.Checkpoint"]
    meta_path.write_text(json.dumps(meta))
    loaded = TransformerClassifier.from_pretrained(directory)
    assert loaded.checkpoint_dir is None and loaded.callbacks is None
    loaded.partial_fit(X, Y)
    assert sorted(p.name for p in planted.iterdir()) == before
    assert (planted / "training_state.json").read_text() == "{}"


# ----------------------------------------------------------------------
# 4. A read-only parent (a volume mounted at the target)
# ----------------------------------------------------------------------
def test_saving_into_a_writable_folder_of_a_read_only_parent(
    plain, tiny_model_dir, tmp_path, monkeypatch
):
    """The parent refuses new entries; the target (a mount point) is writable.

    Tests run as root, where ``chmod 0o555`` does not stop writes, so the
    read-only parent is simulated: ``os.access`` says it is not writable,
    and ``mkdtemp``/``os.replace``/``rename`` there raise ``PermissionError``
    as the kernel would.
    """
    parent = tmp_path / "volume-parent"
    target = parent / "model"
    target.mkdir(parents=True)
    parent.chmod(0o555)
    real_access, real_mkdtemp, real_replace = os.access, tempfile.mkdtemp, os.replace

    def in_parent(path):
        return os.path.dirname(os.path.abspath(path)) == str(parent)

    def access(path, mode, *args, **kwargs):
        if os.path.abspath(path) == str(parent) and mode & os.W_OK:
            return False
        return real_access(path, mode, *args, **kwargs)

    def mkdtemp(*args, dir=None, **kwargs):
        if dir is not None and os.path.abspath(dir) == str(parent):
            raise PermissionError(13, "Permission denied", str(dir))
        return real_mkdtemp(*args, dir=dir, **kwargs)

    def replace(src, dst, *args, **kwargs):
        if in_parent(src) or in_parent(dst):
            raise PermissionError(13, "Permission denied", str(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    monkeypatch.setattr(os, "replace", replace)
    try:
        plain.save_pretrained(target)
        other = small(tiny_model_dir, max_epochs=1).fit(X, ["x", "y", "z", "y"] * 4)
        other.save_pretrained(target)  # over a previous save
        assert sorted(p.name for p in parent.iterdir()) == ["model"]
        assert not [p.name for p in target.iterdir() if p.name.startswith(".")]
        loaded = TransformerClassifier.from_pretrained(target)
        assert list(loaded.classes_) == ["x", "y", "z"]
        np.testing.assert_allclose(loaded.predict_proba(X), other.predict_proba(X), atol=1e-6)
    finally:
        parent.chmod(0o755)


# ----------------------------------------------------------------------
# 5. Stale temporaries of killed saves
# ----------------------------------------------------------------------
def test_stale_temporaries_of_killed_saves_are_removed(plain, tmp_path, monkeypatch):
    target = tmp_path / "model"
    plain.save_pretrained(target)

    def killed(*args, **kwargs):  # what a save killed mid-write leaves: its temporary
        raise KeyboardInterrupt

    import safetensors.torch

    with monkeypatch.context() as m:
        m.setattr(shutil, "rmtree", lambda *a, **k: None)
        m.setattr(safetensors.torch, "save_file", killed)
        with pytest.raises(KeyboardInterrupt):
            plain.save_pretrained(target)
    stale = [p for p in tmp_path.iterdir() if p.name.startswith(".model.tmp-")]
    assert len(stale) == 1 and (stale[0] / _persistence.TMP_MARKER).is_file()
    old = tmp_path / ".model.old-1234abcd"  # moved aside, then killed before removal
    shutil.copytree(target, old)
    # Look-alikes that are not ours, or not this target's, or in use, are kept.
    foreign = tmp_path / ".model.tmp-foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    other = tmp_path / ".other.tmp-abc"
    other.mkdir()
    (other / _persistence.TMP_MARKER).write_text("")
    link = tmp_path / ".model.old-link"
    link.symlink_to(old)
    busy = tmp_path / ".model.tmp-busy"
    busy.mkdir()
    handle = open(busy / _persistence.TMP_MARKER, "a+b")
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a save still running
    try:
        plain.save_pretrained(target)
    finally:
        handle.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(
        [".model.old-link", ".model.tmp-busy", ".model.tmp-foreign", ".other.tmp-abc", "model"]
    )
    assert (foreign / "notes.txt").read_text() == "mine"
    assert TransformerClassifier.from_pretrained(target).predict(X[:2]).shape == (2,)


# ----------------------------------------------------------------------
# 6. The global random generators
# ----------------------------------------------------------------------
def _seed_all(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def _draw():
    return torch.rand(3).tolist(), np.random.rand(3).tolist(), random.random()


def test_fit_and_partial_fit_leave_the_global_generators_alone(tiny_model_dir, tmp_path):
    _seed_all(123)
    expected = _draw()
    _seed_all(123)
    small(tiny_model_dir, validation_fraction=0.25, checkpoint_dir=tmp_path / "c").fit(X, Y)
    assert _draw() == expected
    _seed_all(123)
    est = small(tiny_model_dir).partial_fit(X, Y, classes=["neg", "pos"])
    est.partial_fit(X, Y)
    assert _draw() == expected


def test_results_depend_on_random_state_only(tiny_model_dir, plain):
    _seed_all(1)
    a = small(tiny_model_dir).fit(X, Y)
    _seed_all(2)
    torch.rand(10)
    b = small(tiny_model_dir).fit(X, Y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-7)
    np.testing.assert_allclose(a.predict_proba(X), plain.predict_proba(X), atol=1e-7)
    # partial_fit continues the estimator's own stream, whatever happens in between.
    c = small(tiny_model_dir, max_epochs=1).partial_fit(X, Y, classes=["neg", "pos"])
    d = small(tiny_model_dir, max_epochs=1).partial_fit(X, Y, classes=["neg", "pos"])
    _seed_all(7)
    c.partial_fit(X, Y)
    _seed_all(8)
    d.partial_fit(X, Y)
    np.testing.assert_allclose(c.predict_proba(X), d.predict_proba(X), atol=1e-7)


def test_resuming_leaves_the_global_generators_alone(tiny_model_dir, tmp_path, unfinished):
    checkpoint = _copy(unfinished, tmp_path)
    _seed_all(123)
    expected = _draw()
    _seed_all(123)
    small(tiny_model_dir, checkpoint_dir=checkpoint).fit(X, Y)
    assert _draw() == expected
