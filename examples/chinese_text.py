"""
Chinese text: sentiment and named entities
==========================================

The same estimators on Chinese: :class:`~sktransformers.TransformerClassifier`
on ChnSentiCorp hotel reviews (positive / negative) and
:class:`~sktransformers.TransformerTokenClassifier` on People's Daily named
entities (one IOB2 tag per character), then the entities of a few raw
strings with character offsets, and a save / load round trip.

Run from the repository root::

    python examples/chinese_text.py --quick        # a smoke run on a few hundred rows
    python examples/chinese_text.py                # a few minutes on a laptop CPU
    python examples/chinese_text.py --model bert-base-chinese   # a real Chinese checkpoint
    python examples/chinese_text.py --help

Which model. A Chinese checkpoint such as ``bert-base-chinese`` or
``hfl/chinese-roberta-wwm-ext`` (``--model``) is what you would use; nothing
can be downloaded on the machines this package is tested on, so by default
the script builds a **stand-in**: a small BERT with random weights whose
vocabulary is the characters of the training texts (a ``vocab.txt`` of the
characters seen at least twice, plus Latin letters and digits, read by
``BertTokenizerFast`` with ``tokenize_chinese_chars=True``, which gives one
token per Chinese character as ``bert-base-chinese`` does). It learns
Chinese from scratch on a few thousand texts, so expect scores well below a
pretrained checkpoint; it shows the workflow, not what a Chinese BERT
reaches. ``--model default`` uses the package's English default model,
whose vocabulary holds 244 CJK characters: ``fit`` warns that it reads most
characters as ``[UNK]``.

The files (``chinese/chnsenticorp_htl/train.csv``,
``chinese/peoples_daily_ner/train.txt``) are looked for in ``--data-dir``,
else in ``$SKTRANSFORMERS_DATA_DIR``, ``../shared/data`` or ``shared/data``.
See ``docs/chinese.md``.
"""

from __future__ import annotations

import argparse
import string
import tempfile
import time
from collections import Counter
from pathlib import Path

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
LATIN = list("abcdefghijklmnopqrstuvwxyz0123456789")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="chinese_text.py",
        description="Chinese sentiment (ChnSentiCorp) and NER (People's Daily) with the same "
        "estimators; by default on a small character-vocabulary stand-in model trained from "
        "scratch.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    from sktransformers.datasets import get_data_dir

    parser.add_argument(
        "--data-dir",
        default=str(get_data_dir()),
        help="data folder holding chinese/ ($SKTRANSFORMERS_DATA_DIR sets the default)",
    )
    parser.add_argument(
        "--model",
        default=None,
        help="model id or directory (e.g. bert-base-chinese); 'default': the "
        "package's English default model; None: a character-vocabulary "
        "stand-in built from the training texts",
    )
    parser.add_argument(
        "--train-size",
        type=int,
        default=2000,
        help="training reviews, a seeded random subset of the 80 %% training split (0: all 5,412)",
    )
    parser.add_argument(
        "--ner-size",
        type=int,
        default=1000,
        help="training sentences for NER (0: all of the 80 %% split)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="passes over the reviews; None: 4 for the stand-in, 2 for a pretrained model",
    )
    parser.add_argument(
        "--ner-epochs",
        type=int,
        default=None,
        help="passes over the NER sentences; None: 10 for the stand-in (it "
        "learns from scratch), 3 for a pretrained model",
    )
    parser.add_argument(
        "--lr",
        type=float,
        default=None,
        help="peak learning rate; None: 1e-3 for the stand-in (trained from "
        "scratch), 5e-5 for a pretrained model",
    )
    parser.add_argument(
        "--max-length",
        type=int,
        default=128,
        help="tokens per text (one per Chinese character); longer reviews are truncated",
    )
    parser.add_argument("--hidden-size", type=int, default=128, help="stand-in width")
    parser.add_argument("--layers", type=int, default=2, help="stand-in layers")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="400 reviews, 200 sentences, 2 epochs, max_length 64: a smoke run "
        "(the stand-in learns nothing yet)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and the fit")
    args = parser.parse_args(argv)
    if args.quick:
        args.train_size, args.ner_size = 400, 200
        args.epochs, args.ner_epochs = args.epochs or 2, args.ner_epochs or 2
        args.max_length = min(args.max_length, 64)
    return args


def build_char_model(
    texts, directory, *, hidden_size=128, num_layers=2, max_length=128, min_count=2, seed=0
):
    """A random BERT with the characters of ``texts`` as vocabulary: a Chinese model stand-in.

    The vocabulary: the special tokens, every non-ASCII character seen at
    least ``min_count`` times, and the Latin letters and digits (also as
    ``##`` continuations, so "WiFi" or "2008" is spelled out, not unknown).
    The tokenizer is ``BertTokenizerFast`` with ``tokenize_chinese_chars``:
    one token per Chinese character, as ``bert-base-chinese`` reads text.

    Returns
    -------
    directory : str
        A model directory any estimator takes as ``model=``.
    """
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    counts = Counter(c for t in texts for c in t.lower() if not c.isspace() and not c.isascii())
    chars = sorted(c for c, n in counts.items() if n >= min_count)
    punctuation = list(string.punctuation)  # ASCII; full-width forms come from the texts
    vocab = SPECIAL + chars + punctuation + LATIN + ["##" + c for c in LATIN]
    tokenizer = BertTokenizerFast(
        vocab={token: i for i, token in enumerate(vocab)},
        do_lower_case=True,
        tokenize_chinese_chars=True,
    )
    tokenizer.model_max_length = max_length
    tokenizer.save_pretrained(directory)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=max(1, hidden_size // 32),
        intermediate_size=4 * hidden_size,
        max_position_embeddings=max_length + 2,
    )
    BertModel(config).save_pretrained(directory)
    return str(directory)


def split(n, seed, test_size=0.2, stratify=None):
    import numpy as np
    from sklearn.model_selection import train_test_split

    return train_test_split(np.arange(n), test_size=test_size, random_state=seed, stratify=stratify)


def subset(indices, size, seed):
    import numpy as np

    if not size or size >= len(indices):
        return indices
    return np.sort(np.random.default_rng(seed).choice(indices, size, replace=False))


def main(argv=None):
    args = parse_args(argv)
    from sktransformers import TransformerClassifier, TransformerTokenClassifier
    from sktransformers.datasets import load_chnsenticorp, load_peoples_daily_ner

    try:
        reviews, labels = load_chnsenticorp(data_dir=args.data_dir)
        sentences, tags = load_peoples_daily_ner(data_dir=args.data_dir)
    except FileNotFoundError as error:
        print(error)
        return 1
    reviews, labels = reviews.tolist(), labels.to_numpy()
    train, test = split(len(reviews), args.seed, stratify=labels)
    train = subset(train, args.train_size, args.seed)
    ner_train, ner_test = split(len(sentences), args.seed)
    ner_train = subset(ner_train, args.ner_size, args.seed)
    if args.quick:
        test, ner_test = test[:300], ner_test[:150]
    X_train, y_train = [reviews[i] for i in train], labels[train]
    X_test, y_test = [reviews[i] for i in test], labels[test]
    S_train, T_train = [sentences[i] for i in ner_train], [tags[i] for i in ner_train]
    S_test, T_test = [sentences[i] for i in ner_test], [tags[i] for i in ner_test]
    print(
        f"ChnSentiCorp: {len(X_train):,} training / {len(X_test):,} test reviews; "
        f"People's Daily: {len(S_train):,} / {len(S_test):,} sentences"
    )

    workdir = tempfile.TemporaryDirectory(prefix="sktransformers-chinese-")
    if args.model is None:
        # Characters of the training texts only: the test texts stay unseen.
        model = build_char_model(
            X_train + ["".join(s) for s in S_train],
            Path(workdir.name) / "char-bert",
            hidden_size=args.hidden_size,
            num_layers=args.layers,
            max_length=args.max_length,
            seed=args.seed,
        )
        print(
            f"model: a {args.layers}-layer, {args.hidden_size}-wide random BERT with a "
            "character vocabulary (a stand-in, trained from scratch)"
        )
        lr, epochs, ner_epochs = args.lr or 1e-3, args.epochs or 4, args.ner_epochs or 10
    else:
        model = None if args.model == "default" else args.model
        print(f"model: {args.model}")
        lr, epochs, ner_epochs = args.lr or 5e-5, args.epochs or 2, args.ner_epochs or 3
    params = dict(lr=lr, max_length=args.max_length, random_state=args.seed)
    if model is not None:
        params["model"] = model

    # --- Sentiment -----------------------------------------------------
    clf = TransformerClassifier(max_epochs=epochs, **params)
    start = time.perf_counter()
    clf.fit(X_train, y_train)
    print(
        f"\nsentiment: trained in {time.perf_counter() - start:.0f} s; the tokenizer reads "
        f"{clf.unk_share_:.0%} of the training characters as unknown"
    )
    start = time.perf_counter()
    accuracy = clf.score(X_test, y_test)
    print(
        f"accuracy on {len(X_test):,} held-out reviews: {accuracy:.3f} "
        f"(majority class: {max(y_test.mean(), 1 - y_test.mean()):.3f}; "
        f"{time.perf_counter() - start:.1f} s)"
    )
    for text in ["房间干净，服务热情，下次还会再来。", "隔音太差，空调也坏了，非常失望。"]:
        print(f"  {text} -> {clf.predict([text])[0]}")

    # --- Named entities --------------------------------------------------
    ner = TransformerTokenClassifier(max_epochs=ner_epochs, **params)
    start = time.perf_counter()
    ner.fit(S_train, T_train)  # lists of characters: one tag each
    print(f"\nNER: trained in {time.perf_counter() - start:.0f} s")
    print(
        f"entity F1 (strict IOB2) on {len(S_test):,} held-out sentences: "
        f"{ner.score(S_test, T_test):.3f}"
    )
    # Raw strings are split into characters (Latin runs and numbers stay whole);
    # offsets point into the strings.
    texts = ["江泽民主席在北京会见了美国总统克林顿。", "我在Google工作了3年，现在住在上海。"]
    for text, entities in zip(texts, ner.predict_entities(texts)):
        found = [(e["entity"], e["text"], e["start"], e["end"]) for e in entities]
        print(f"  {text} -> {found}")

    # --- Save and load ---------------------------------------------------
    saved = Path(workdir.name) / "sentiment"
    clf.save_pretrained(saved)  # the character tokenizer is saved with the weights
    again = TransformerClassifier.from_pretrained(saved)
    assert (again.predict(X_test[:20]) == clf.predict(X_test[:20])).all()
    print(f"\nsaved and reloaded from {saved}: same predictions")
    workdir.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
