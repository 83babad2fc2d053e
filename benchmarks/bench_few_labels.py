"""Learning from few labels on SST-2: few-shot, augmentation, self-training.

Prints markdown tables (mean ± standard deviation over seeds of the SST-2 dev
accuracy, and the mean fit time), with the machine, the date and the command:

* ``fewshot``: 8/16/32/64 labelled sentences per class drawn from SST-2
  train: plain fine-tuning (``TransformerClassifier`` defaults),
  ``FewShotClassifier`` defaults, TF-IDF + logistic regression, and frozen
  ``TransformerEmbedder`` + logistic regression;
* ``augment``: 100 and 500 labelled sentences, ``TransformerClassifier``
  with and without ``TextAugmenter`` copies;
* ``selftrain``: 100 labelled + 5,000 unlabelled sentences, self-training
  against the 100 alone (with ``TransformerClassifier`` and with
  ``FewShotClassifier``).

SST-2's train split holds every phrase of the treebank (median 7 words; the
dev set is full sentences, median 19). SetFit's SST-2 figures are on the
sentence-level set, so by default the labelled examples are drawn from
train rows of at least ``--min-words 10`` words (``--min-words 0``: all rows).

Examples::

    python benchmarks/bench_few_labels.py           # everything (hours on 2 CPU cores)
    python benchmarks/bench_few_labels.py --parts fewshot --shots 8 --seeds 1 --arms fewshot
    python benchmarks/bench_few_labels.py --parts augment --aug-sizes 100 --seeds 3
    python benchmarks/bench_few_labels.py --parts selftrain --st-unlabeled 2000
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# SetFit's published figures, for reference (the Hugging Face blog post "SetFit: Efficient
# Few-Shot Learning Without Prompts", RAFT leaderboard table).
SETFIT_NOTE = (
    "Published SetFit figures (RAFT benchmark, the SetFit blog post): SetFit with MPNet "
    "(110M parameters) 66.9, with RoBERTa-Large (355M) 71.3; GPT-3 (175B) 62.7."
)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_sst2(data_dir):
    from sktransformers.datasets import find_data_file

    read = dict(sep="\t", quoting=3, keep_default_na=False)
    train = pd.read_csv(find_data_file("glue", "SST-2/train.tsv", data_dir), **read)
    dev = pd.read_csv(find_data_file("glue", "SST-2/dev.tsv", data_dir), **read)
    return train, dev


def draw(train, per_class=None, total=None, seed=0, min_words=0, exclude=None):
    """Indices of a labelled sample: ``per_class`` per label, or ``total`` stratified."""
    rng = np.random.RandomState(seed)
    ok = train.sentence.str.split().str.len().to_numpy() >= min_words
    if exclude is not None:
        ok[exclude] = False
    labels = train.label.to_numpy()
    if per_class is not None:
        counts = {c: per_class for c in (0, 1)}
    else:
        share = np.bincount(labels[ok], minlength=2) / ok.sum()
        counts = {0: int(round(total * share[0]))}
        counts[1] = total - counts[0]
    idx = [
        rng.choice(np.flatnonzero(ok & (labels == c)), n, replace=False) for c, n in counts.items()
    ]
    return rng.permutation(np.concatenate(idx))


def machine():
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{cpu}, {os.cpu_count()} cores, {gpu}; Python {platform.python_version()}, "
        f"torch {torch.__version__}"
    )


# ----------------------------------------------------------------------
# Arms: each returns a fitted object with .predict(texts)
# ----------------------------------------------------------------------
def arm_plain(X, y, seed, args):
    from sktransformers import TransformerClassifier

    return TransformerClassifier(args.model, random_state=seed).fit(X, y)


def arm_fewshot(X, y, seed, args):
    from sktransformers.fewlabels._fewshot import FewShotClassifier

    return FewShotClassifier(args.model, random_state=seed).fit(X, y)


def arm_tfidf(X, y, seed, args):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LogisticRegression(max_iter=1000)
    ).fit(X, y)


def arm_embed(X, y, seed, args):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sktransformers import TransformerEmbedder

    return make_pipeline(
        TransformerEmbedder(args.model, normalize=True), LogisticRegression(max_iter=1000)
    ).fit(X, y)


ARMS = {
    "plain": ("plain fine-tuning (TransformerClassifier defaults)", arm_plain),
    "fewshot": ("FewShotClassifier (defaults)", arm_fewshot),
    "tfidf": ("TF-IDF + LogisticRegression", arm_tfidf),
    "embed": ("TransformerEmbedder (frozen) + LogisticRegression", arm_embed),
}


def evaluate(fit, X, y, dev, seed, args):
    t0 = time.perf_counter()
    model = fit(X, y, seed, args)
    fit_s = time.perf_counter() - t0
    acc = float(np.mean(model.predict(dev.sentence.tolist()) == dev.label.to_numpy()))
    return acc, fit_s


def fmt(values):
    values = np.asarray(values, dtype=float)
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{values.mean():.3f} ± {values.std(ddof=1):.3f}"


def part_fewshot(train, dev, args):
    rows = []
    for name in args.arms:
        label, fit = ARMS[name]
        cells = [label]
        for k in args.shots:
            accs, times = [], []
            for seed in range(args.seeds):
                idx = draw(train, per_class=k, seed=seed, min_words=args.min_words)
                acc, fit_s = evaluate(
                    fit,
                    train.sentence.iloc[idx].tolist(),
                    train.label.iloc[idx].to_numpy(),
                    dev,
                    seed,
                    args,
                )
                log(f"fewshot {name} k={k} seed={seed}: acc={acc:.4f} fit={fit_s:.1f}s")
                accs.append(acc)
                times.append(fit_s)
            cells.append(f"{fmt(accs)} ({np.mean(times):.0f} s)")
        rows.append(cells)
    header = ["arm"] + [f"{k} per class" for k in args.shots]
    return "SST-2 dev accuracy from few labels (mean ± std over seeds; mean fit time)", header, rows


def part_augment(train, dev, args):
    from sktransformers import TransformerClassifier
    from sktransformers.engine._augment import TextAugmenter

    # A fixed budget, so the augmented arm and the "as many steps" arm are comparable
    # (the default max_epochs="auto" would itself train longer on few labels).
    epochs = 3
    variants = {
        # name: (row label, augment?, max_epochs)
        "plain": ("TransformerClassifier(max_epochs=3)", False, epochs),
        "augment": (
            f"TransformerClassifier(augment=TextAugmenter(n_aug={args.n_aug}))",
            True,
            epochs,
        ),
        # Augmented copies multiply the optimizer steps by n_aug + 1; this row
        # takes as many steps on the original texts, to tell the two apart.
        "steps": (
            f"TransformerClassifier(max_epochs={epochs * (args.n_aug + 1)}) (as many "
            "steps as augmentation, no augmentation)",
            False,
            epochs * (args.n_aug + 1),
        ),
    }
    rows = []
    for variant in args.aug_variants:
        label, use, max_epochs = variants[variant]
        cells = [label]
        for n in args.aug_sizes:
            accs, times = [], []
            for seed in range(args.seeds):
                idx = draw(train, total=n, seed=seed, min_words=args.min_words)
                X, y = train.sentence.iloc[idx].tolist(), train.label.iloc[idx].to_numpy()
                t0 = time.perf_counter()
                # augment= edits the training split only (after the validation split).
                augment = TextAugmenter(n_aug=args.n_aug, random_state=seed) if use else None
                clf = TransformerClassifier(
                    args.model, augment=augment, max_epochs=max_epochs, random_state=seed
                ).fit(X, y)
                fit_s = time.perf_counter() - t0
                acc = float(np.mean(clf.predict(dev.sentence.tolist()) == dev.label.to_numpy()))
                log(f"augment {variant} n={n} seed={seed}: acc={acc:.4f} fit={fit_s:.1f}s")
                accs.append(acc)
                times.append(fit_s)
            cells.append(f"{fmt(accs)} ({np.mean(times):.0f} s)")
        rows.append(cells)
    header = ["arm"] + [f"{n} labelled" for n in args.aug_sizes]
    return "Augmentation: SST-2 dev accuracy with and without TextAugmenter", header, rows


def part_selftrain(train, dev, args):
    from sktransformers import TransformerClassifier
    from sktransformers.fewlabels._fewshot import FewShotClassifier
    from sktransformers.fewlabels._self_training import TextSelfTrainingClassifier

    bases = {
        "TransformerClassifier": lambda seed: TransformerClassifier(args.model, random_state=seed),
        "FewShotClassifier": lambda seed: FewShotClassifier(args.model, random_state=seed),
    }
    rows = []
    for name, make in bases.items():
        for use in (False, True):
            accs, times, added = [], [], []
            for seed in range(args.seeds):
                lab = draw(train, total=args.st_labeled, seed=seed, min_words=args.min_words)
                unl = draw(
                    train,
                    total=args.st_unlabeled,
                    seed=seed + 1000,
                    min_words=args.min_words,
                    exclude=lab,
                )
                X = train.sentence.iloc[np.concatenate([lab, unl])].tolist()
                y = np.concatenate([train.label.iloc[lab].to_numpy(), np.full(len(unl), -1)])
                t0 = time.perf_counter()
                if use:
                    model = TextSelfTrainingClassifier(
                        make(seed), threshold=args.st_threshold, max_iter=args.st_max_iter
                    ).fit(X, y)
                    added.append(int((model.labeled_iter_ > 0).sum()))
                else:
                    model = make(seed).fit(X[: len(lab)], y[: len(lab)])
                fit_s = time.perf_counter() - t0
                acc = float(np.mean(model.predict(dev.sentence.tolist()) == dev.label.to_numpy()))
                log(f"selftrain {name} use={use} seed={seed}: acc={acc:.4f} fit={fit_s:.1f}s")
                accs.append(acc)
                times.append(fit_s)
            label = (
                f"{name}, self-training (threshold={args.st_threshold}, "
                f"max_iter={args.st_max_iter}; {np.mean(added):.0f} texts pseudo-labelled)"
                if use
                else f"{name}, labelled only"
            )
            rows.append([label, f"{fmt(accs)} ({np.mean(times):.0f} s)"])
    header = ["arm", f"{args.st_labeled} labelled + {args.st_unlabeled} unlabelled"]
    return "Self-training: SST-2 dev accuracy", header, rows


def table(title, header, rows):
    out = [
        f"### {title}",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--parts", default="fewshot,augment,selftrain")
    p.add_argument(
        "--arms",
        default="plain,fewshot,tfidf,embed",
        help="arms of the few-shot part: " + ",".join(ARMS),
    )
    p.add_argument("--shots", default="8,16,32,64", help="labelled examples per class")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--aug-sizes", default="100,500")
    p.add_argument("--n-aug", type=int, default=4, help="augmented copies per text")
    p.add_argument(
        "--aug-variants",
        default="plain,augment,steps",
        help="rows of the augmentation part: plain, augment, steps (no "
        "augmentation, as many optimizer steps)",
    )
    p.add_argument("--st-labeled", type=int, default=100)
    p.add_argument("--st-unlabeled", type=int, default=5000)
    p.add_argument("--st-threshold", type=float, default=0.9)
    p.add_argument("--st-max-iter", type=int, default=3)
    p.add_argument(
        "--min-words",
        type=int,
        default=10,
        help="draw labelled examples from train rows with at least this many words",
    )
    p.add_argument("--dev-size", type=int, default=0, help="0: the full 872-sentence dev set")
    p.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    p.add_argument(
        "--data-dir",
        default=None,
        help="data folder holding glue/SST-2/ (default: $SKTRANSFORMERS_DATA_DIR, "
        "else ../shared/data)",
    )
    args = p.parse_args(argv)
    args.parts = args.parts.split(",")
    args.arms = args.arms.split(",")
    args.aug_variants = args.aug_variants.split(",")
    args.shots = [int(v) for v in args.shots.split(",")]
    args.aug_sizes = [int(v) for v in args.aug_sizes.split(",")]
    unknown = [a for a in args.arms if a not in ARMS]
    if unknown:
        p.error(f"unknown arms {unknown}; choose among {list(ARMS)}")
    return args


def main(argv=None):
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    train, dev = load_sst2(args.data_dir)
    if args.dev_size:
        dev = dev.sample(args.dev_size, random_state=0)
    started = time.perf_counter()
    tables = []
    parts = {"fewshot": part_fewshot, "augment": part_augment, "selftrain": part_selftrain}
    for part in args.parts:
        tables.append(table(*parts[part](train, dev, args)))
    print(f"Machine: {machine()}")
    print(
        f"Date: {datetime.date.today().isoformat()}; total time "
        f"{time.perf_counter() - started:.0f} s"
    )
    command = " ".join(sys.argv[1:] if argv is None else argv)
    print(f"Command: python benchmarks/bench_few_labels.py {command}")
    print(
        f"Model: {args.model}; dev: {len(dev)} sentences; labelled examples drawn from SST-2 "
        f"train rows of >= {args.min_words} words; {args.seeds} seed(s)"
    )
    print()
    print("\n\n".join(tables))
    print()
    print(SETFIT_NOTE)


if __name__ == "__main__":
    main()
