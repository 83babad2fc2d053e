"""Launched by tests/test_distributed.py, alone or under torchrun: train and write results.

python tests/scripts/ddp_train.py MODEL_DIR OUT_DIR
torchrun --standalone --nproc_per_node=2 tests/scripts/ddp_train.py MODEL_DIR OUT_DIR
accelerate launch --multi_gpu --num_processes=2 tests/scripts/ddp_train.py MODEL_DIR OUT_DIR
"""

import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
from skorch.callbacks import Checkpoint  # noqa: E402

from sktransformers import TransformerClassifier  # noqa: E402


def main(model, out):
    rank = int(os.environ.get("RANK", "0"))
    pos = ["a great film", "wonderful acting all round", "i loved it", "truly excellent stuff"]
    neg = ["a terrible film", "awful acting", "i hated every minute of it", "truly boring"]
    X = (pos + neg) * 4 + pos[:3] + neg[:1]  # 36 texts: 27 train, 9 valid
    y = ([1] * 4 + [0] * 4) * 4 + [1, 1, 1, 0]
    clf = TransformerClassifier(
        model,
        max_epochs=2,
        batch_size=8,
        lr=1e-3,
        dropout=0.0,
        validation_fraction=0.25,
        device="cpu",
        random_state=0,
        callbacks=[Checkpoint(monitor=None, dirname=os.path.join(out, f"checkpoints_rank{rank}"))],
    )
    clf.fit(X, y)
    clf.save_pretrained(os.path.join(out, f"saved_rank{rank}"))
    proba = clf.predict_proba(X)
    head = clf.net_.module_.heads["default"].weight.detach().numpy()
    batches = clf.history_[-1]["batches"]
    result = {
        "net_class": type(clf.net_).__name__,
        "proba": proba.tolist(),
        "head": head.tolist(),
        "train_batch_sizes": [b["train_batch_size"] for b in batches if "train_batch_size" in b],
        "valid_loss": clf.history_[:, "valid_loss"],
    }
    with open(os.path.join(out, f"result_rank{rank}.json"), "w") as f:
        json.dump(result, f)
    assert np.isfinite(proba).all()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
