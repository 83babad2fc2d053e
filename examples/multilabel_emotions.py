"""
Multi-label emotions in tweets (SemEval-2018 E-c)
=================================================

A tweet can carry several emotions at once (anger *and* disgust, joy *and*
optimism) or none. Give :class:`~sktransformers.TransformerClassifier` a
0/1 indicator matrix as ``y`` (one column per label) and it trains one
sigmoid output per label: ``predict`` returns the indicator matrix,
``predict_proba`` one probability per label. This script fine-tunes the
default model on SemEval-2018 Task 1 E-c (11 emotions) and prints
scikit-learn's per-label report and the task's official score, the Jaccard
index averaged over tweets.

Run from the repository root::

    python examples/multilabel_emotions.py                     # 2,000 tweets, 2 epochs
    python examples/multilabel_emotions.py --train-size 0 --epochs 3   # all 4,686
    python examples/multilabel_emotions.py --help

The file ``semeval2018_ec/train.tsv`` is looked for in ``--data-dir``, else
in ``$SKTRANSFORMERS_DATA_DIR``, ``../shared/data`` or ``shared/data``; 20 %
of its 5,858 tweets are held out (seed 0). Without it the script says so and
runs on a multi-label task made from the synthetic NER sample shipped with
the package (which entity types does a sentence mention?): a smoke run, not
an emotion benchmark.

The default options take a few minutes on a laptop CPU.
"""

from __future__ import annotations

import argparse
import time


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="multilabel_emotions.py",
        description="Fine-tune the default model on SemEval-2018 E-c (11 emotions per tweet, "
        "multi-label) and print a per-label report and the Jaccard score.",
        epilog="Without the SemEval file the script runs on a small multi-label task made "
        "from the shipped NER sample and says so.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    from sktransformers.datasets import get_data_dir

    parser.add_argument(
        "--data-dir",
        default=str(get_data_dir()),
        help="data folder holding semeval2018_ec/ ($SKTRANSFORMERS_DATA_DIR sets the default)",
    )
    parser.add_argument(
        "--train-size",
        type=int,
        default=2000,
        help="training tweets, a seeded subset of the 80%% split (0: all 4,686)",
    )
    parser.add_argument("--epochs", type=int, default=2, help="passes over the training set")
    parser.add_argument("--lr", type=float, default=1e-4, help="peak learning rate of AdamW")
    parser.add_argument("--batch-size", type=int, default=32, help="training batch size")
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="a label is predicted when its probability reaches this",
    )
    parser.add_argument(
        "--no-balanced",
        action="store_true",
        help="do not weight rare labels up (class_weight='balanced')",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampling and the fit")
    return parser.parse_args(argv)


def load_data(args):
    import pandas as pd
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import MultiLabelBinarizer

    from sktransformers.datasets import load_ner_sample, load_semeval2018_ec

    try:
        texts, labels = load_semeval2018_ec(data_dir=args.data_dir)
        name = "SemEval-2018 E-c"
    except FileNotFoundError as error:
        print(
            f"{error}\n\n-> Using a multi-label task made from the shipped NER sample instead "
            "(which entity types does each sentence mention?).\n"
        )
        sentences, tags = load_ner_sample()
        texts = pd.Series([" ".join(words) for words in sentences])
        kinds = [{t[2:] for t in row if t != "O"} for row in tags]
        # Any list of label sets becomes an indicator matrix with MultiLabelBinarizer.
        binarizer = MultiLabelBinarizer()
        labels = pd.DataFrame(binarizer.fit_transform(kinds), columns=binarizer.classes_)
        name = "synthetic NER sample (entity types)"
    X_train, X_test, Y_train, Y_test = train_test_split(
        texts, labels, test_size=0.2, random_state=0
    )
    if args.train_size and args.train_size < len(X_train):
        X_train, Y_train = X_train.iloc[: args.train_size], Y_train.iloc[: args.train_size]
    return name, X_train, X_test, Y_train, Y_test


def main(argv=None):
    args = parse_args(argv)
    from sklearn.metrics import classification_report, f1_score, jaccard_score

    from sktransformers import TransformerClassifier

    name, X_train, X_test, Y_train, Y_test = load_data(args)
    print(
        f"{name}: {len(X_train):,} training texts, {len(X_test):,} held out; "
        f"{Y_train.shape[1]} labels, {Y_train.to_numpy().sum(1).mean():.1f} per text on average"
    )

    clf = TransformerClassifier(
        max_epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        threshold=args.threshold,
        class_weight=None if args.no_balanced else "balanced",
        random_state=args.seed,
        verbose=1,
    )
    start = time.perf_counter()
    clf.fit(X_train, Y_train)  # a DataFrame of 0/1 columns: multi-label
    print(
        f"trained in {time.perf_counter() - start:.0f} s; multilabel_={clf.multilabel_}, "
        f"labels: {list(clf.label_names_)}"
    )

    Y_pred = clf.predict(X_test)  # (n_texts, n_labels) 0/1
    proba = clf.predict_proba(X_test)  # (n_texts, n_labels) per-label probabilities
    print(
        classification_report(
            Y_test, Y_pred, target_names=list(clf.label_names_), zero_division=0, digits=3
        )
    )
    # The task's official score; a text with no label, predicted with none, counts as a match.
    jaccard = jaccard_score(Y_test, Y_pred, average="samples", zero_division=1)
    micro = f1_score(Y_test, Y_pred, average="micro", zero_division=0)
    macro = f1_score(Y_test, Y_pred, average="macro", zero_division=0)
    print(f"Jaccard (samples): {jaccard:.3f}   micro-F1: {micro:.3f}   macro-F1: {macro:.3f}")
    if name.startswith("SemEval"):
        print(
            "SemEval-2018 best system (official test set): Jaccard 0.588, micro-F1 0.701, "
            "macro-F1 0.528"
        )

    for text, row in list(zip(X_test, proba))[:3]:
        top = sorted(zip(clf.label_names_, row), key=lambda kv: -kv[1])[:3]
        print(f"\n{text[:90]!r}\n    " + ", ".join(f"{k} {p:.2f}" for k, p in top))


if __name__ == "__main__":
    main()
