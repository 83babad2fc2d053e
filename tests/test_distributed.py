"""Data-parallel training under torchrun or accelerate launch (2 CPU processes, Gloo)

Both launchers must give what one process gives.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).parent / "scripts" / "ddp_train.py"


@pytest.fixture(scope="module")
def no_dropout_model(tiny_model_dir, tmp_path_factory):
    """The tiny model without dropout: one process and two then compute the same thing."""
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    path = tmp_path_factory.mktemp("tiny-no-dropout")
    config = AutoConfig.from_pretrained(tiny_model_dir)
    config.hidden_dropout_prob = 0.0
    config.attention_probs_dropout_prob = 0.0
    AutoModel.from_pretrained(tiny_model_dir, config=config).save_pretrained(path)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(path)
    return str(path)


def _run(args, out, timeout=240):
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    env.update(HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", PYTHONPATH=str(SCRIPT.parents[2]))
    proc = subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _result(out, rank):
    return json.loads((out / f"result_rank{rank}.json").read_text())


@pytest.fixture(scope="module")
def alone(no_dropout_model, tmp_path_factory):
    """The result of training in one plain process."""
    single = tmp_path_factory.mktemp("single")
    _run([str(SCRIPT), no_dropout_model, str(single)], single)
    return _result(single, 0)


LAUNCHERS = {
    "torchrun": ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"],
    # The documented Accelerate command; on a machine without GPUs it runs Gloo on CPUs.
    "accelerate": [
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes=2",
        "--num_machines=1",
        "--mixed_precision=no",
        "--dynamo_backend=no",
    ],
}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_two_processes_match_one_and_only_rank0_writes(launcher, alone, no_dropout_model, tmp_path):
    if launcher == "accelerate":
        pytest.importorskip("accelerate")
    multi = tmp_path / "multi"
    multi.mkdir()
    _run([*LAUNCHERS[launcher], str(SCRIPT), no_dropout_model, str(multi)], multi)
    rank0, rank1 = _result(multi, 0), _result(multi, 1)
    assert alone["net_class"] == "TransformerNet"
    assert rank0["net_class"] == rank1["net_class"] == "DistributedTransformerNet"
    # Each process trained on its share of every batch of 8 (27 texts: 8, 8, 8, 3).
    assert sorted(alone["train_batch_sizes"]) == [3, 8, 8, 8]
    assert sorted(rank0["train_batch_sizes"]) == [2, 4, 4, 4]
    assert sorted(rank1["train_batch_sizes"]) == [1, 4, 4, 4]
    # Same model in both processes, and the same as training alone.
    np.testing.assert_allclose(rank0["head"], rank1["head"], atol=1e-6)
    # Up to rounding (summation order; AdamW amplifies it on near-zero gradients).
    np.testing.assert_allclose(rank0["head"], alone["head"], atol=1e-3)
    np.testing.assert_allclose(rank0["proba"], alone["proba"], atol=2e-3)
    np.testing.assert_allclose(rank0["valid_loss"], alone["valid_loss"], atol=1e-3)
    # Training moved the predictions far more than that tolerance.
    assert np.abs(np.asarray(alone["proba"]) - 0.5).max() > 10 * 2e-3
    # Only rank 0 wrote the saved model and the checkpoints.
    assert (multi / "saved_rank0" / "sktransformers.json").is_file()
    assert not (multi / "saved_rank1").exists()
    assert any((multi / "checkpoints_rank0").iterdir())
    rank1_ckpt = multi / "checkpoints_rank1"
    assert not rank1_ckpt.exists() or not any(rank1_ckpt.iterdir())


def test_single_process_is_unchanged(monkeypatch):
    from sktransformers.engine._distributed import is_main_process, resolve_net_class
    from sktransformers.engine._net import TransformerNet

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert resolve_net_class(TransformerNet, "cpu") == (TransformerNet, "cpu")
    assert is_main_process()
    # A rank > 0 of a launched run does not write; opting out trains alone.
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert not is_main_process()
    monkeypatch.setenv("SKTRANSFORMERS_DISTRIBUTED", "0")
    assert is_main_process()
    assert resolve_net_class(TransformerNet, "cpu") == (TransformerNet, "cpu")
