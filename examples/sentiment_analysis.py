"""
Sentiment analysis of movie reviews, end to end
===============================================

A DataFrame of reviews with ``text`` and ``label`` columns, a train/test split,
a fine-tuned :class:`~sktransformers.TransformerClassifier` and scikit-learn's
:func:`~sklearn.metrics.classification_report`: the same steps as with a
TF-IDF model, with a transformer doing the work.

Data: 2,500 sentences drawn from the SST-2 training set (movie-review
phrases labelled negative/positive) when the GLUE benchmark's SST-2 files
are in ``DATA_DIR/glue/SST-2/`` (``--data-dir DATA_DIR``, by default
``$SKTRANSFORMERS_DATA_DIR`` or else ``../shared/data`` beside the
repository); otherwise the small
synthetic review sample shipped with the package, with a notice (a demo:
its scores say nothing about real accuracy). Nothing is downloaded: the
default model, all-MiniLM-L6-v2, is installed as a Python package.

Run from the repository root (about 2-3 minutes on a laptop CPU)::

    python examples/sentiment_analysis.py
    python examples/sentiment_analysis.py --help
"""

from __future__ import annotations

import argparse
import sys
import time

LABEL_NAMES = {0: "negative", 1: "positive"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="sentiment_analysis.py",
        description="Fine-tune a sentiment classifier on movie reviews and print a "
        "classification report on held-out reviews.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    from sktransformers.datasets import get_data_dir

    parser.add_argument(
        "--data-dir",
        default=str(get_data_dir()),
        help="data folder holding glue/SST-2/train.tsv "
        "($SKTRANSFORMERS_DATA_DIR sets the default); without it the shipped "
        "synthetic sample is used",
    )
    parser.add_argument(
        "--n-reviews",
        type=int,
        default=2500,
        help="SST-2 sentences to sample (80%% to train on, 20%% to test on)",
    )
    parser.add_argument("--epochs", type=int, default=1, help="passes over the training set")
    return parser.parse_args(argv)


def load_reviews(data_dir, n_reviews):
    """A DataFrame with a ``text`` and a ``label`` column, and where it came from."""
    import pandas as pd

    from sktransformers.datasets import load_glue, load_movie_reviews_sample

    try:
        X, y = load_glue("SST-2", "train", data_dir)
    except FileNotFoundError:
        pass
    else:
        reviews = pd.DataFrame({"text": X.to_numpy(), "label": y.to_numpy()})
        reviews = reviews.sample(n=min(n_reviews, len(reviews)), random_state=0)
        return reviews.reset_index(drop=True), "SST-2 training sentences (GLUE)"
    print(
        f"NOTICE: no glue/SST-2/train.tsv in {data_dir}: using the synthetic review sample "
        "shipped with the package (a demo; its scores say nothing about real accuracy)."
    )
    return load_movie_reviews_sample(), "the synthetic review sample shipped with the package"


def main(argv=None):
    args = parse_args(argv)

    from sklearn.metrics import classification_report
    from sklearn.model_selection import train_test_split

    from sktransformers import TransformerClassifier

    reviews, source = load_reviews(args.data_dir, args.n_reviews)
    reviews["label"] = reviews["label"].map(LABEL_NAMES)  # labels can be any type
    print(f"{len(reviews)} reviews from {source}")
    print(reviews.head(), end="\n\n")

    train, test = train_test_split(
        reviews, test_size=0.2, random_state=0, stratify=reviews["label"]
    )
    clf = TransformerClassifier(
        max_epochs=args.epochs,
        lr=1e-4,  # one short epoch: a higher rate than the 5e-5 default
        max_length=64,  # reviews here are sentences; shorter batches train faster
        random_state=0,
        verbose=1,
    )
    start = time.perf_counter()
    clf.fit(train["text"], train["label"])
    print(
        f"\nfine-tuned on {len(train)} reviews in {time.perf_counter() - start:.0f} s "
        f"on {clf.device_}\n"
    )

    predicted = clf.predict(test["text"])
    print(classification_report(test["label"], predicted, digits=3))

    examples = ["An absolute delight from start to finish.", "Two hours I will never get back."]
    for text, label in zip(examples, clf.predict(examples), strict=True):
        print(f"{label:>8}: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
