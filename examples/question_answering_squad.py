"""
Extractive question answering on SQuAD 2.0
==========================================

Fine-tune the default model to answer questions with a span of a paragraph,
or with "no answer" when the paragraph does not hold one (SQuAD 2.0). The
script trains on three Wikipedia articles of the SQuAD 2.0 subset in the
shared data folder and scores on the fourth (questions on one article are
related, so the split is by article), then prints SQuAD's exact match and F1
beside always answering "no answer", a few answers with their n-best lists,
and which words drove one answer.

Run from the repository root::

    python examples/question_answering_squad.py                  # Normans held out
    python examples/question_answering_squad.py --test-article Southern_California
    python examples/question_answering_squad.py --train-size 200 --epochs 1   # a quick look
    python examples/question_answering_squad.py --help

``squad2_subset/train.json`` (the official SQuAD JSON layout) is looked for
in ``--data-dir``, else in ``$SKTRANSFORMERS_DATA_DIR``, ``../shared/data``
or ``shared/data``; without it the script says where it looked and stops.
With all 1,197 questions and a 6-layer model expect far less than the
published BERT-base on the full 130,000-question training set (about 73-76
F1); see ``docs/question_answering.md`` for measured figures.
"""

from __future__ import annotations

import argparse
import sys
import time


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="question_answering_squad.py",
        description="Fine-tune the default model for extractive question answering on three "
        "SQuAD 2.0 articles and score it on the fourth.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    from sktransformers.datasets import get_data_dir

    parser.add_argument(
        "--data-dir",
        default=str(get_data_dir()),
        help="data folder holding squad2_subset/ ($SKTRANSFORMERS_DATA_DIR sets the default)",
    )
    parser.add_argument("--test-article", default="Normans", help="the held-out article")
    parser.add_argument(
        "--train-size", type=int, default=0, help="training questions, a seeded subset (0: all)"
    )
    parser.add_argument(
        "--epochs", type=int, default=None, help="passes over the training set; None: the default"
    )
    parser.add_argument(
        "--model", default=None, help="model id or directory; None: the package's all-MiniLM-L6-v2"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampling and the fit")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import numpy as np

    from sktransformers import TransformerQuestionAnswerer
    from sktransformers.datasets import load_squad2_subset
    from sktransformers.metrics import squad_exact_match, squad_f1

    try:
        data = load_squad2_subset(data_dir=args.data_dir)
    except FileNotFoundError as error:
        sys.exit(str(error))
    test = data.groups == args.test_article
    if not test.any():
        sys.exit(f"No article {args.test_article!r}; the articles are {sorted(set(data.groups))}.")
    train_rows = np.flatnonzero(~test)
    if args.train_size:
        rng = np.random.default_rng(args.seed)
        train_rows = np.sort(rng.choice(train_rows, args.train_size, replace=False))
    X_train, y_train = data.X.iloc[train_rows], [data.y[i] for i in train_rows]
    X_test, y_test = data.X[test], [a for a, t in zip(data.y, test) if t]
    answerable = sum(bool(a["text"]) for a in y_train)
    print(
        f"{len(X_train):,} training questions ({answerable:,} answerable) from "
        f"{len(set(data.groups[train_rows]))} articles; {len(X_test):,} test questions on "
        f"{args.test_article}"
    )

    params = {"random_state": args.seed, "verbose": 1}
    if args.epochs:
        params["max_epochs"] = args.epochs
    if args.model:
        params["model"] = args.model
    qa = TransformerQuestionAnswerer(**params)
    start = time.perf_counter()
    qa.fit(X_train, y_train)
    print(f"trained {qa.max_epochs_} epochs in {time.perf_counter() - start:.0f} s")

    start = time.perf_counter()
    y_pred = qa.predict(X_test)
    seconds = time.perf_counter() - start
    print(f"answered {len(X_test):,} questions in {seconds:.1f} s\n")
    nothing = [""] * len(y_test)
    print(f"{'':<22}{'exact match':>12}{'F1':>8}")
    for name, pred in (("fine-tuned", y_pred), ('always "no answer"', nothing)):
        em, f1 = squad_exact_match(y_test, pred), squad_f1(y_test, pred)
        print(f"{name:<22}{100 * em:>12.1f}{100 * f1:>8.1f}")
    print()

    for (_, row), answer, truth in zip(
        X_test.iloc[:3].iterrows(), qa.predict_answers(X_test.iloc[:3], n_best=3), y_test
    ):
        print(f"Q: {row['question']}")
        score, true = answer["score"], truth["text"][:1]
        print(f"   answer {answer['text']!r} (score {score:.2f}); true {true}")
        print(f"   n-best: {[(c['text'], round(c['score'], 2)) for c in answer['n_best']]}")

    explanation = qa.explain(X_test.iloc[:1], method="gradient_x_input")[0]
    print(f"\nWords behind the answer {explanation.prediction!r}: {explanation.top(5)}")


if __name__ == "__main__":
    main()
