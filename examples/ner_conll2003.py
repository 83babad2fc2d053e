"""
Named-entity recognition on CoNLL-2003
======================================

Fine-tune the default model to tag every word of a sentence with an IOB2
entity tag (persons, organizations, locations, miscellaneous), then print
seqeval's per-entity report on the CoNLL-2003 dev set and the entities found
in a few raw sentences, with character offsets.

Run from the repository root::

    python examples/ner_conll2003.py                       # 2,000 sentences, 1 epoch
    python examples/ner_conll2003.py --train-size 0 --epochs 3 --dev-size 0   # all of it
    python examples/ner_conll2003.py --data-dir /path/to/data
    python examples/ner_conll2003.py --help

The CoNLL-2003 files (``conll2003/train.txt`` and ``dev.txt``, one
``WORD POS TAG`` line per word) are looked for in ``--data-dir``, else in
``$SKTRANSFORMERS_DATA_DIR``, ``../shared/data`` or ``shared/data``. Without
them the script says so and trains on the 200-sentence synthetic sample
shipped with the package (:func:`sktransformers.datasets.load_ner_sample`):
a smoke run that shows the workflow, whose scores say nothing about
CoNLL-2003.

The default options take a few minutes on a laptop CPU. The default model
(all-MiniLM-L6-v2) is uncased and has 6 layers: expect clearly lower F1 than
the published BERT-base cased (about 96.4 dev); see ``docs/token_classification.md``.
Needs ``seqeval`` for the report (``pip install seqeval``).
"""

from __future__ import annotations

import argparse
import time


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="ner_conll2003.py",
        description="Fine-tune the default model for NER on CoNLL-2003 and print a seqeval "
        "report on the dev set.",
        epilog="Without the CoNLL-2003 files the script trains on the synthetic NER sample "
        "shipped with the package and says so.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    from sktransformers.datasets import get_data_dir

    parser.add_argument(
        "--data-dir",
        default=str(get_data_dir()),
        help="data folder holding conll2003/ ($SKTRANSFORMERS_DATA_DIR sets the default)",
    )
    parser.add_argument(
        "--train-size",
        type=int,
        default=2000,
        help="training sentences, a seeded random subset (0: all 14,041)",
    )
    parser.add_argument(
        "--dev-size",
        type=int,
        default=1000,
        help="dev sentences scored, a seeded random subset (0: all 3,250)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="passes over the training set; None: 1 on CoNLL-2003, 8 on the small shipped sample",
    )
    parser.add_argument("--lr", type=float, default=1e-4, help="peak learning rate of AdamW")
    parser.add_argument("--batch-size", type=int, default=32, help="training batch size")
    parser.add_argument(
        "--max-length",
        type=int,
        default=128,
        help="sub-words per window; longer sentences are read in windows",
    )
    parser.add_argument(
        "--model", default=None, help="model id or directory; None: the package's all-MiniLM-L6-v2"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampling and the fit")
    return parser.parse_args(argv)


def subset(rows, size, seed):
    import numpy as np

    if not size or size >= len(rows):
        return list(rows)
    keep = np.sort(np.random.default_rng(seed).choice(len(rows), size, replace=False))
    return [rows[i] for i in keep]


def load_data(args):
    from sklearn.model_selection import train_test_split

    from sktransformers.datasets import load_conll2003, load_ner_sample

    try:
        train = list(zip(*load_conll2003("train", data_dir=args.data_dir)))
        dev = list(zip(*load_conll2003("dev", data_dir=args.data_dir)))
    except FileNotFoundError as error:
        print(
            f"{error}\n\n-> Using the 200-sentence synthetic sample shipped with the package "
            "instead (a demo: its scores say nothing about CoNLL-2003).\n"
        )
        sentences, tags = load_ner_sample()
        train, dev = train_test_split(
            list(zip(sentences, tags)), test_size=50, random_state=args.seed
        )
        return "synthetic NER sample", train, dev
    return (
        "CoNLL-2003",
        subset(train, args.train_size, args.seed),
        subset(dev, args.dev_size, args.seed),
    )


def main(argv=None):
    args = parse_args(argv)
    from seqeval.metrics import classification_report

    from sktransformers import TransformerTokenClassifier

    name, train, dev = load_data(args)
    epochs = args.epochs or (1 if name == "CoNLL-2003" else 8)
    X_train, y_train = [list(w) for w, _ in train], [list(t) for _, t in train]
    X_dev, y_dev = [list(w) for w, _ in dev], [list(t) for _, t in dev]
    print(f"{name}: {len(X_train):,} training sentences, {len(X_dev):,} dev sentences")
    print("example:", list(zip(X_train[0], y_train[0]))[:8])

    params = dict(
        max_epochs=epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        max_length=args.max_length,
        random_state=args.seed,
        verbose=1,
    )
    ner = (
        TransformerTokenClassifier(args.model, **params)
        if args.model
        else TransformerTokenClassifier(**params)
    )
    start = time.perf_counter()
    ner.fit(X_train, y_train)
    print(f"trained in {time.perf_counter() - start:.0f} s; tags: {', '.join(ner.classes_)}")

    start = time.perf_counter()
    y_pred = ner.predict(X_dev)  # one tag per input word, long sentences included
    print(f"tagged {len(X_dev):,} sentences in {time.perf_counter() - start:.1f} s\n")
    # seqeval's default (conlleval) mode reads an I-X without a B-X as the start of an entity;
    # ner.score counts strict IOB2 spans only, as seqeval's mode="strict", scheme=IOB2.
    print(classification_report(y_dev, y_pred, digits=3))
    print(f"entity micro F1, strict IOB2 spans (ner.score): {ner.score(X_dev, y_dev):.3f}\n")

    # Raw strings are split on whitespace; entities come back with character offsets.
    texts = [
        "Angela Merkel met Emmanuel Macron in Paris on Tuesday .",
        "Shares of Deutsche Bank rose 3 percent in Frankfurt after the European Central "
        "Bank decision .",
        "Ronaldo scored twice as Portugal beat Spain in the World Cup qualifier .",
    ]
    for text, entities in zip(texts, ner.predict_entities(texts)):
        print(text)
        for e in entities:
            print(
                f"    {e['entity']:<5} {e['text']!r:<28} [{e['start']}:{e['end']}] "
                f"score {e['score']:.2f}"
            )


if __name__ == "__main__":
    main()
