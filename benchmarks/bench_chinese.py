"""Chinese benchmark: ChnSentiCorp sentiment and People's Daily NER.

Two tables, printed as markdown with the machine, date and command, and
written to ``benchmarks/results/chinese_cpu.md`` (``chinese_gpu.md`` on a
GPU) unless ``--no-write``:

Sentiment (ChnSentiCorp hotel reviews, 20 % of the 6,765 rows held out,
stratified, seed 0): accuracy, fit and predict seconds of

* character n-gram (1-3) TF-IDF + ``LogisticRegression``, the usual simple
  baseline;
* ``TransformerClassifier`` with the package's default model
  (all-MiniLM-L6-v2, an English vocabulary with 244 CJK characters: most
  characters read as ``[UNK]``; the table shows the share, ``unk_share_``);
* ``TransformerClassifier`` with the character-vocabulary stand-in of
  ``examples/chinese_text.py`` (a small random BERT whose vocabulary is the
  training texts' characters, trained from scratch; no Chinese checkpoint can
  be downloaded here).

NER (People's Daily, 20 % of the 2,318 sentences held out, seed 0): entity
F1 (seqeval, strict IOB2) of

* the majority tag of each character in the training sentences ("O" for an
  unseen character);
* a linear-chain CRF (``sklearn-crfsuite``, character and neighbour
  features) when it is installed;
* ``TransformerTokenClassifier`` with the default model and with the stand-in.

Designed to finish in about 10 minutes on 2 CPU cores with the defaults
(``max_length`` 128; 1 epoch for the default model; 4 epochs on the reviews
and 15 on the NER sentences for the stand-in, which learns from scratch: a
probe on 1,500 reviews reached 0.84 accuracy after 6 epochs at ``lr`` 1e-3,
and on 1,000 NER sentences 0.20 entity F1 after 10).

Usage
-----
On a quiet machine::

    flock /tmp/sktransformers-cpu.lock python benchmarks/bench_chinese.py

A smoke run (a few hundred rows; numbers meaningless)::

    python benchmarks/bench_chinese.py --quick --no-write

Data: ``../shared/data/chinese`` (or ``$SKTRANSFORMERS_DATA_DIR``). Needs
``seqeval`` and, for the CRF row, ``sklearn-crfsuite`` (the ``benchmark``
extra).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "examples"))

from bench_speed import machine  # noqa: E402  (shared helper of the benchmark scripts)
from chinese_text import build_char_model  # noqa: E402  (the example's stand-in model)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    from sktransformers.datasets import get_data_dir

    parser.add_argument(
        "--data-dir", default=str(get_data_dir()), help="data folder holding chinese/"
    )
    parser.add_argument("--max-length", type=int, default=128, help="tokens per text")
    parser.add_argument(
        "--epochs-default",
        type=int,
        default=1,
        help="epochs of the default (pretrained, English) model",
    )
    parser.add_argument(
        "--epochs-char",
        type=int,
        default=4,
        help="epochs of the character stand-in on the reviews (it learns from scratch)",
    )
    parser.add_argument(
        "--epochs-char-ner",
        type=int,
        default=15,
        help="epochs of the character stand-in on the NER sentences",
    )
    parser.add_argument("--lr-default", type=float, default=5e-5)
    parser.add_argument("--lr-char", type=float, default=1e-3)
    parser.add_argument("--hidden-size", type=int, default=128, help="stand-in width")
    parser.add_argument("--layers", type=int, default=2, help="stand-in layers")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--train-rows",
        type=int,
        default=0,
        help="training reviews / sentences kept (0: the whole 80 %% split)",
    )
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["default", "char", "crf", "sentiment", "ner"],
        help="arms or sections to leave out",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="300 training rows, 150 test rows, max_length 64: a smoke run",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if args.quick:
        args.train_rows = args.train_rows or 300
        args.max_length = min(args.max_length, 64)
    return args


def _split(n, seed=0, stratify=None):
    import numpy as np
    from sklearn.model_selection import train_test_split

    return train_test_split(np.arange(n), test_size=0.2, random_state=seed, stratify=stratify)


def _timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def _row(name, score, fit_s, predict_s, note=""):
    return f"| {name} | {score:.3f} | {fit_s:.1f} | {predict_s:.1f} | {note} |"


def sentiment(args, char_model):
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score
    from sklearn.pipeline import make_pipeline

    from sktransformers import TransformerClassifier
    from sktransformers.datasets import load_chnsenticorp

    reviews, labels = load_chnsenticorp(data_dir=args.data_dir)
    reviews, labels = reviews.tolist(), labels.to_numpy()
    train, test = _split(len(reviews), stratify=labels)
    if args.train_rows:
        train, test = train[: args.train_rows], test[: max(150, args.train_rows // 2)]
    X_train, y_train = [reviews[i] for i in train], labels[train]
    X_test, y_test = [reviews[i] for i in test], labels[test]
    rows = []
    tfidf = make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True),
        LogisticRegression(C=10, max_iter=2000),
    )
    _, fit_s = _timed(tfidf.fit, X_train, y_train)
    pred, predict_s = _timed(tfidf.predict, X_test)
    rows.append(
        _row(
            "char 1-3-gram TF-IDF + LogisticRegression",
            accuracy_score(y_test, pred),
            fit_s,
            predict_s,
        )
    )
    arms = [
        ("default", None, args.epochs_default, args.lr_default),
        ("char", char_model(X_train), args.epochs_char, args.lr_char),
    ]
    for arm, model, epochs, lr in arms:
        if arm in args.skip:
            continue
        params = dict(
            max_length=args.max_length,
            max_epochs=epochs,
            lr=lr,
            batch_size=args.batch_size,
            random_state=0,
        )
        clf = TransformerClassifier(model, **params) if model else TransformerClassifier(**params)
        _, fit_s = _timed(clf.fit, X_train, y_train)
        pred, predict_s = _timed(clf.predict, X_test)
        name = (
            "TransformerClassifier, default model (all-MiniLM-L6-v2)"
            if arm == "default"
            else f"TransformerClassifier, character stand-in ({args.layers}x"
            f"{args.hidden_size}, from scratch)"
        )
        rows.append(
            _row(
                name,
                accuracy_score(y_test, pred),
                fit_s,
                predict_s,
                f"{epochs} epoch(s); [UNK] {clf.unk_share_:.0%} of characters",
            )
        )
    majority = max(np.mean(y_test), 1 - np.mean(y_test))
    header = (
        f"ChnSentiCorp: {len(X_train):,} training / {len(X_test):,} held-out reviews "
        f"(majority class {majority:.3f}), max_length {args.max_length}\n\n"
        "| model | accuracy | fit s | predict s | notes |\n|---|---|---|---|---|"
    )
    return header + "\n" + "\n".join(rows)


def _char_features(chars, i):
    c = chars[i]
    feats = {"c": c, "digit": c.isdigit(), "ascii": c.isascii()}
    for k in (-2, -1, 1, 2):
        j = i + k
        feats[f"c{k}"] = chars[j] if 0 <= j < len(chars) else "<pad>"
    feats["b-1"] = feats["c-1"] + c
    feats["b+1"] = c + feats["c1"]
    return feats


def ner(args, char_model):
    from seqeval.metrics import f1_score

    from sktransformers import TransformerTokenClassifier
    from sktransformers.datasets import load_peoples_daily_ner

    sentences, tags = load_peoples_daily_ner(data_dir=args.data_dir)
    train, test = _split(len(sentences))
    if args.train_rows:
        train, test = train[: args.train_rows], test[: max(150, args.train_rows // 2)]
    S_train, T_train = [sentences[i] for i in train], [tags[i] for i in train]
    S_test, T_test = [sentences[i] for i in test], [tags[i] for i in test]

    def f1(pred):
        return f1_score(T_test, pred, mode="strict", scheme=_iob2())

    rows = []
    start = time.perf_counter()
    counts = defaultdict(Counter)
    for chars, row in zip(S_train, T_train):
        for c, t in zip(chars, row):
            counts[c][t] += 1
    majority = {c: n.most_common(1)[0][0] for c, n in counts.items()}
    fit_s = time.perf_counter() - start
    pred, predict_s = _timed(lambda: [[majority.get(c, "O") for c in s] for s in S_test])
    rows.append(_row("majority tag per character", f1(pred), fit_s, predict_s))
    if "crf" not in args.skip:
        try:
            import sklearn_crfsuite
        except ImportError:
            rows.append("| CRF (sklearn-crfsuite) | - | - | - | not installed |")
        else:
            crf = sklearn_crfsuite.CRF(algorithm="lbfgs", c1=0.1, c2=0.1, max_iterations=100)
            feats = [[_char_features(s, i) for i in range(len(s))] for s in S_train]
            _, fit_s = _timed(crf.fit, feats, T_train)
            test_feats = [[_char_features(s, i) for i in range(len(s))] for s in S_test]
            pred, predict_s = _timed(crf.predict, test_feats)
            rows.append(
                _row(
                    "CRF (sklearn-crfsuite, character window features)",
                    f1(pred),
                    fit_s,
                    predict_s,
                    "100 L-BFGS iterations",
                )
            )
    arms = [
        ("default", None, args.epochs_default, args.lr_default),
        ("char", char_model(["".join(s) for s in S_train]), args.epochs_char_ner, args.lr_char),
    ]
    for arm, model, epochs, lr in arms:
        if arm in args.skip:
            continue
        params = dict(
            max_length=args.max_length,
            max_epochs=epochs,
            lr=lr,
            batch_size=args.batch_size,
            random_state=0,
        )
        est = (
            TransformerTokenClassifier(model, **params)
            if model
            else TransformerTokenClassifier(**params)
        )
        _, fit_s = _timed(est.fit, S_train, T_train)
        pred, predict_s = _timed(est.predict, S_test)
        name = (
            "TransformerTokenClassifier, default model"
            if arm == "default"
            else "TransformerTokenClassifier, character stand-in"
        )
        rows.append(
            _row(
                name,
                f1(pred),
                fit_s,
                predict_s,
                f"{epochs} epoch(s); [UNK] {est.unk_share_:.0%} of characters",
            )
        )
    header = (
        f"People's Daily NER: {len(S_train):,} training / {len(S_test):,} held-out "
        f"sentences, entity F1 (seqeval strict IOB2), max_length {args.max_length}\n\n"
        "| model | entity F1 | fit s | predict s | notes |\n|---|---|---|---|---|"
    )
    return header + "\n" + "\n".join(rows)


def _iob2():
    from seqeval.scheme import IOB2

    return IOB2


def main(argv=None):
    args = parse_args(argv)
    workdir = tempfile.TemporaryDirectory(prefix="bench-chinese-")
    made = []

    def char_model(texts):
        if "char" in args.skip:
            return None
        made.append(1)
        return build_char_model(
            texts,
            Path(workdir.name) / f"char-{len(made)}",
            hidden_size=args.hidden_size,
            num_layers=args.layers,
            max_length=args.max_length,
        )

    info = machine()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Machine: {info['cpu']}, {info['cores']} cores, torch {info['torch']}, "
        f"transformers {info['transformers']}; {stamp}",
        f"Command: python benchmarks/bench_chinese.py {' '.join(sys.argv[1:])}".rstrip(),
    ]
    if "sentiment" not in args.skip:
        lines.append(sentiment(args, char_model))
        print(lines[-1], flush=True)
    if "ner" not in args.skip:
        lines.append(ner(args, char_model))
        print(lines[-1], flush=True)
    workdir.cleanup()
    text = "\n\n".join(lines) + "\n"
    if not args.no_write:
        name = "chinese_gpu.md" if info["gpu"] else "chinese_cpu.md"
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / name).write_text(text, encoding="utf-8")
        print(f"written to {RESULTS / name}")
    else:
        print("\n" + text)


if __name__ == "__main__":
    main()
