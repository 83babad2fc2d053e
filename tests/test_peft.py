"""freeze and LoRA: what trains, and exact round trips through save/load."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
import torch

from sktransformers import MultiTaskTransformer, TransformerClassifier, TransformerRegressor
from sktransformers.engine._hub import load_backbone_with_adapter
from sktransformers.engine._peft import LORA_DIR

X = [
    "a great film",
    "wonderful acting",
    "i loved it",
    "a terrible film",
    "awful acting",
    "i hated it",
] * 4
Y = [1, 1, 1, 0, 0, 0] * 4
FIT = dict(max_epochs=1, batch_size=8, lr=5e-3, random_state=0, device="cpu")


def trainable(estimator):
    return {n for n, p in estimator.net_.module_.named_parameters() if p.requires_grad}


def state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@pytest.fixture(scope="module")
def start(tiny_model_dir):
    from transformers import AutoModel

    return state(AutoModel.from_pretrained(tiny_model_dir))


@pytest.mark.parametrize("freeze", ["backbone", "embeddings", 1])
def test_freeze_trains_only_what_is_left(tiny_model_dir, start, freeze):
    clf = TransformerClassifier(tiny_model_dir, freeze=freeze, **FIT).fit(X, Y)
    after = state(clf.net_.module_.backbone)

    def frozen(key):
        if freeze == "backbone":
            return True
        return key.startswith("embeddings.") or (freeze == 1 and key.startswith("encoder.layer.0."))

    for key, value in after.items():
        if frozen(key):
            assert torch.equal(value, start[key]), key
    assert any(not torch.equal(after[k], start[k]) for k in after if not frozen(k)) or (
        freeze == "backbone"
    )
    assert all(
        name.startswith("heads.") or not frozen(name[len("backbone.") :]) for name in trainable(clf)
    )


def test_freeze_round_trip(tiny_model_dir, tmp_path):
    clf = TransformerClassifier(tiny_model_dir, freeze=1, **FIT).fit(X, Y)
    clf.save_pretrained(tmp_path / "frozen")
    loaded = TransformerClassifier.from_pretrained(tmp_path / "frozen")
    assert loaded.freeze == 1
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert trainable(loaded) == trainable(clf)


def test_freeze_beyond_the_layers_is_an_error(tiny_model_dir):
    with pytest.raises(ValueError, match="only 2 layers"):
        TransformerClassifier(tiny_model_dir, freeze=5, **FIT).fit(X, Y)


def test_lora_trains_adapters_and_heads_only(tiny_model_dir, start):
    clf = TransformerClassifier(tiny_model_dir, lora={"r": 4}, **FIT).fit(X, Y)
    names = trainable(clf)
    assert names and all("lora_" in n or n.startswith("heads.") for n in names)
    assert any("lora_B" in n for n in names)
    n_trainable = sum(p.numel() for p in clf.net_.module_.parameters() if p.requires_grad)
    n_total = sum(p.numel() for p in clf.net_.module_.parameters())
    assert n_trainable < 0.05 * n_total
    # the pretrained weights did not move; the adapter did
    base = clf.net_.module_.backbone.get_base_model().state_dict()
    for key, value in base.items():
        if "lora_" not in key:
            assert torch.equal(value, start[key.replace(".base_layer.", ".")]), key
    assert any(v.abs().sum() > 0 for k, v in base.items() if "lora_B" in k)


def test_lora_round_trip_and_directory_as_model(tiny_model_dir, tmp_path):
    clf = TransformerClassifier(tiny_model_dir, lora=True, **FIT).fit(X, Y)
    path = clf.save_pretrained(tmp_path / "lora")
    assert (path / LORA_DIR / "adapter_config.json").is_file()

    loaded = TransformerClassifier.from_pretrained(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert trainable(loaded) == trainable(clf)
    loaded.partial_fit(X, Y)  # the adapter keeps training
    assert not np.array_equal(loaded.predict_proba(X), clf.predict_proba(X))

    # model=directory: the adapter is merged into the weights of the new backbone
    merged = load_backbone_with_adapter(str(path), None, False)
    assert not hasattr(merged, "peft_config")
    snapshot = clf.backbone().state_dict  # the in-memory transfer merges the same way
    for key, value in merged.state_dict().items():
        torch.testing.assert_close(value, snapshot[key])
    reg = TransformerRegressor(path, freeze="backbone", **FIT).fit(X, np.arange(24.0))
    for key, value in reg.net_.module_.backbone.state_dict().items():
        torch.testing.assert_close(value, snapshot[key])

    # a LoRA estimator on top of a LoRA-trained directory gets a fresh adapter
    again = TransformerClassifier(path, lora={"r": 2}, **FIT).fit(X, Y)
    assert again.net_.module_.backbone.peft_config["default"].r == 2


def test_lora_on_multitask_round_trip(tiny_model_dir, tmp_path):
    Yf = pd.DataFrame({"a": Y, "b": np.linspace(0.1, 2.0, 24)})
    Yf.loc[::2, "b"] = np.nan
    mt = MultiTaskTransformer(tiny_model_dir, lora=True, **FIT).fit(X, Yf)
    mt.save_pretrained(tmp_path / "mt")
    loaded = MultiTaskTransformer.from_pretrained(tmp_path / "mt")
    pd.testing.assert_frame_equal(loaded.predict(X), mt.predict(X))


def test_lora_and_freeze_backbone_keep_the_adapter_trainable(tiny_model_dir):
    clf = TransformerClassifier(tiny_model_dir, lora=True, freeze="backbone", **FIT).fit(X, Y)
    assert any("lora_" in n for n in trainable(clf))


def test_lora_bad_config(tiny_model_dir):
    with pytest.raises(ValueError, match="LoraConfig"):
        TransformerClassifier(tiny_model_dir, lora={"rank": 4}, **FIT).fit(X, Y)
    with pytest.raises(ValueError, match="target_modules"):
        TransformerClassifier(tiny_model_dir, lora={"target_modules": ["nope"]}, **FIT).fit(X, Y)


def test_lora_without_peft_names_the_extra(tiny_model_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "peft", None)  # import peft now raises ImportError
    with pytest.raises(
        ImportError, match=r"pip install -e \".\[peft\]\" --config-settings editable_mode=compat"
    ):
        TransformerClassifier(tiny_model_dir, lora=True, **FIT).fit(X, Y)
