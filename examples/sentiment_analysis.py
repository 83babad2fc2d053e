"""Sentiment analysis of movie reviews, the classic workflow end to end.

A DataFrame of reviews with ``text`` and ``label`` columns, a train/test split,
a fine-tuned :class:`~sktransformers.TransformerClassifier` and scikit-learn's
``classification_report`` — the same steps as with a TF-IDF model, with a
transformer doing the work.

Data: 2,500 sentences drawn from the SST-2 training set (movie-review
phrases labelled negative/positive) when the GLUE files sit in
``../shared/data/glue`` beside the repository; otherwise the small synthetic
review sample shipped with the package (a demo: its scores say nothing
about real accuracy). Nothing is downloaded: the default model,
all-MiniLM-L6-v2, is installed as a Python package.

Run from the repository root (about 2-3 minutes on a laptop CPU)::

    python examples/sentiment_analysis.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd
from sklearn.metrics import classification_report
from sklearn.model_selection import train_test_split

from sktransformers import TransformerClassifier

GLUE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "glue"
N_REVIEWS = 2500  # 2,000 to train on, 500 to test on
LABEL_NAMES = {0: "negative", 1: "positive"}


def load_reviews():
    """A DataFrame with a ``text`` and a ``label`` column, and where it came from."""
    try:
        from sktransformers.datasets import load_glue, load_movie_reviews_sample
    except ImportError:  # an older package without the data sets module
        load_glue = load_movie_reviews_sample = None
    if load_glue is not None and (GLUE / "SST-2" / "train.tsv").is_file():
        X, y = load_glue("SST-2", "train", GLUE)
        reviews = pd.DataFrame({"text": X.to_numpy(), "label": y.to_numpy()})
        reviews = reviews.sample(n=N_REVIEWS, random_state=0).reset_index(drop=True)
        return reviews, "SST-2 training sentences (GLUE)"
    if load_movie_reviews_sample is not None:
        return load_movie_reviews_sample(), "the synthetic review sample shipped with the package"
    return None, None


def main():
    reviews, source = load_reviews()
    if reviews is None:
        print(f"No data: neither {GLUE / 'SST-2'} nor sktransformers.datasets is available.")
        return 0
    reviews["label"] = reviews["label"].map(LABEL_NAMES)  # labels can be any type
    print(f"{len(reviews)} reviews from {source}")
    print(reviews.head(), end="\n\n")

    train, test = train_test_split(
        reviews, test_size=0.2, random_state=0, stratify=reviews["label"]
    )
    clf = TransformerClassifier(
        max_epochs=1,
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
