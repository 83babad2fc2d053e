"""
Texts longer than the model's window
====================================

A transformer reads at most ``max_length`` tokens. By default
(``long_texts="truncate"``) the rest of a longer text is cut off, which is
fine when the start says it all, and wrong when the evidence comes late (the
verdict at the end of a long review). ``long_texts="chunk"`` splits such a
text into windows of ``max_length`` tokens overlapping by ``stride`` tokens
and averages the windows' outputs, so the whole text is read, at the cost of
one forward (and backward) pass per window.

This script builds long reviews whose sentiment sits past ``max_length``:
three SST-2 sentences of one label behind about 200 words of neutral,
factual filler (:func:`sktransformers.datasets.load_long_reviews`), trains
the default model both ways and prints accuracy and time.

Run from the repository root::

    python examples/long_texts.py                   # 400 training texts, 1 epoch
    python examples/long_texts.py --evidence-at start   # truncation is fine here
    python examples/long_texts.py --help

The SST-2 files (``glue/SST-2/{train,dev}.tsv``) are looked for in
``--data-dir``, else in ``$SKTRANSFORMERS_DATA_DIR``, ``../shared/data`` or
``shared/data``. Without them the script says so and builds the long texts
from the synthetic movie-review sample shipped with the package
(:func:`sktransformers.datasets.make_long_texts`). The default options take
a few minutes on a laptop CPU.
"""

from __future__ import annotations

import argparse
import time


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="long_texts.py",
        description="Compare long_texts='truncate' and 'chunk' on long reviews whose "
        "sentiment sits past max_length.",
        epilog="Without the SST-2 files the long texts are built from the shipped "
        "movie-review sample, and the script says so.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    from sktransformers.datasets import get_data_dir

    parser.add_argument(
        "--data-dir",
        default=str(get_data_dir()),
        help="data folder holding glue/SST-2/ ($SKTRANSFORMERS_DATA_DIR sets the default)",
    )
    parser.add_argument("--train-size", type=int, default=400, help="long training texts")
    parser.add_argument("--test-size", type=int, default=200, help="long test texts")
    parser.add_argument(
        "--filler-words",
        type=int,
        default=200,
        help="neutral words before the evidence (about 1.2 tokens each)",
    )
    parser.add_argument(
        "--evidence-at",
        default="end",
        choices=["end", "start", "scattered"],
        help="where the sentiment-bearing sentence sits in each long text",
    )
    parser.add_argument("--epochs", type=int, default=1, help="passes over the training set")
    parser.add_argument("--lr", type=float, default=1e-4, help="peak learning rate of AdamW")
    parser.add_argument("--max-length", type=int, default=128, help="tokens per text or per chunk")
    parser.add_argument(
        "--stride", type=int, default=32, help="tokens shared by consecutive windows ('chunk')"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampling and the fit")
    return parser.parse_args(argv)


def load_data(args):
    from sklearn.model_selection import train_test_split

    from sktransformers.datasets import (
        load_long_reviews,
        load_movie_reviews_sample,
        make_long_texts,
    )

    common = dict(
        filler_words=args.filler_words, evidence_at=args.evidence_at, random_state=args.seed
    )
    try:
        X_train, y_train = load_long_reviews(
            "train", n_texts=args.train_size, data_dir=args.data_dir, **common
        )
        X_test, y_test = load_long_reviews("dev", data_dir=args.data_dir, **common)
        X_test, y_test = X_test[: args.test_size], y_test[: args.test_size]
        return "SST-2 sentences behind neutral filler", X_train, y_train, X_test, y_test
    except FileNotFoundError as error:
        print(
            f"{error}\n\n-> Building the long texts from the shipped movie-review sample instead.\n"
        )
    reviews = load_movie_reviews_sample()
    train, test = train_test_split(
        reviews, test_size=0.3, random_state=args.seed, stratify=reviews["label"]
    )
    X_train, y_train = make_long_texts(train["text"], train["label"], **common)
    X_test, y_test = make_long_texts(test["text"], test["label"], **common)
    return "synthetic reviews behind neutral filler", X_train, y_train, X_test, y_test


def main(argv=None):
    args = parse_args(argv)
    import numpy as np

    from sktransformers import TransformerClassifier

    name, X_train, y_train, X_test, y_test = load_data(args)
    words = np.mean([len(t.split()) for t in X_test])
    print(
        f"{name}: {len(X_train)} training and {len(X_test)} test texts, {words:.0f} words each "
        f"on average, the evidence at the {args.evidence_at}.\n"
    )
    print(X_test[0][:300] + " ... " + X_test[0][-200:] + f"\n(label {y_test[0]})\n")

    rows = []
    for mode in ("truncate", "chunk"):
        clf = TransformerClassifier(
            long_texts=mode,
            stride=args.stride,
            max_length=args.max_length,
            max_epochs=args.epochs,
            lr=args.lr,
            random_state=args.seed,
        )
        start = time.perf_counter()
        clf.fit(X_train, y_train)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        accuracy = clf.score(X_test, y_test)
        predict_s = time.perf_counter() - start
        rows.append((mode, accuracy, fit_s, predict_s))
        print(
            f"long_texts={mode!r}: accuracy {accuracy:.3f}, fit {fit_s:.0f} s, "
            f"predict {predict_s:.1f} s",
            flush=True,
        )

    (_, _, fit0, pred0), (_, _, fit1, pred1) = rows
    print(
        f"\n'chunk' cost {fit1 / fit0:.1f}x the training time and {pred1 / pred0:.1f}x the "
        "prediction time of 'truncate' (one pass per window)."
    )


if __name__ == "__main__":
    main()
