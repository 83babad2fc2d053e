"""Faithfulness of the token attributions on SST-2 dev (ERASER comprehensiveness).

Fine-tunes the default model (all-MiniLM-L6-v2) on a random subset of the
SST-2 training set, explains its prediction for each SST-2 dev sentence, then
for k = 1..5 deletes the k highest-scored words of each sentence, and
separately k words drawn at random (same seed for every run), and reports the
mean drop of the predicted-class probability. Attributions are faithful to the
model when the top-k curve lies well above the random one. Prints a markdown
table (with machine, date and command); a full run (no ``--n-texts``) also
writes it to ``benchmarks/results/faithfulness_<cpu|gpu>.md``::

    python benchmarks/bench_faithfulness.py                                # full dev set, IG
    python benchmarks/bench_faithfulness.py --n-texts 20 --train-size 200  # a quick check
    python benchmarks/bench_faithfulness.py --method occlusion

Cost: Integrated Gradients runs ``n_steps`` (50) forward and backward passes
per sentence; on 2 shared CPU cores that is seconds per sentence, so the full
872-sentence dev set takes tens of minutes there (a GPU: about a minute).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_speed  # noqa: E402  (shared helpers of the benchmark scripts)


def _read(path):
    return pd.read_csv(
        path, sep="\t", quoting=csv.QUOTE_NONE, encoding="utf-8-sig", keep_default_na=False
    )


def machine():
    """One line: the CPU (or GPU) and torch, from the benchmarks' shared ``bench_speed.machine``."""
    info = bench_speed.machine()
    where = info["gpu"] or f"{info['cpu']}, {info['cores']} cores, no GPU"
    return f"{where}; torch {info['torch']}"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    from sktransformers.datasets import get_data_dir

    parser.add_argument(
        "--data-dir",
        type=Path,
        default=get_data_dir(),
        help="data folder holding glue/SST-2/{train,dev}.tsv "
        "($SKTRANSFORMERS_DATA_DIR sets the default)",
    )
    parser.add_argument(
        "--train-size",
        type=int,
        default=2000,
        help="training sentences sampled (seed 0) for the 1-epoch fine-tuning",
    )
    parser.add_argument(
        "--n-texts",
        type=int,
        default=None,
        help="dev sentences explained (the first N); default: all 872",
    )
    parser.add_argument(
        "--method",
        default="integrated_gradients",
        choices=["integrated_gradients", "gradient_x_input", "occlusion"],
        help="attribution method",
    )
    parser.add_argument("--n-steps", type=int, default=50, help="Integrated Gradients steps")
    parser.add_argument("--max-k", type=int, default=5, help="largest number of words deleted")
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the training subset, the model and the random deletions",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write the table (default benchmarks/results/...)",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from sktransformers import TransformerClassifier
    from sktransformers.datasets import find_data_file
    from sktransformers.explain._attributions import comprehensiveness, explain

    try:
        train_path = find_data_file("glue", "SST-2/train.tsv", args.data_dir)
        dev_path = find_data_file("glue", "SST-2/dev.tsv", args.data_dir)
    except FileNotFoundError as exc:
        sys.exit(str(exc))
    train = _read(train_path).sample(args.train_size, random_state=args.seed)
    dev = _read(dev_path)
    n_dev = len(dev)
    if args.n_texts is not None:
        dev = dev.head(args.n_texts)

    start = time.perf_counter()
    clf = TransformerClassifier(max_epochs=1, lr=1e-4, random_state=args.seed).fit(
        train["sentence"].tolist(), train["label"].to_numpy()
    )
    fit_s = time.perf_counter() - start
    texts = dev["sentence"].tolist()
    accuracy = float((clf.predict(texts) == dev["label"].to_numpy()).mean())

    start = time.perf_counter()
    explanations = explain(clf, texts, method=args.method, n_steps=args.n_steps)
    explain_s = time.perf_counter() - start
    ks = tuple(range(1, args.max_k + 1))
    result = comprehensiveness(clf, explanations, ks=ks, random_state=args.seed)
    deltas = [abs(e.delta) for e in explanations if e.delta is not None]

    subset = "" if len(dev) == n_dev else f" (first {len(dev)} of {n_dev}: a subset)"
    command = "python benchmarks/bench_faithfulness.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    lines = [
        f"### Faithfulness on SST-2 dev{subset}: comprehensiveness",
        "",
        f"Mean drop of the predicted-class probability after deleting k words, over "
        f"{len(dev)} dev sentences. Model: all-MiniLM-L6-v2 fine-tuned for 1 epoch on "
        f"{args.train_size} SST-2 training sentences (seed {args.seed}, lr 1e-4); dev accuracy "
        f"{accuracy:.3f} on these sentences. Attributions: `{args.method}`"
        + (f", n_steps={args.n_steps}" if args.method == "integrated_gradients" else "")
        + ", baseline [PAD].",
        "",
        "| k | top-k attributed words deleted | k random words deleted |",
        "|---|---|---|",
    ]
    for k, top, rand in zip(result["k"], result["top"], result["random"]):
        lines.append(f"| {k} | {top:.3f} | {rand:.3f} |")
    where = machine()
    lines += [
        "",
        f"Machine: {where}. Date: {datetime.date.today().isoformat()}. "
        f"Fit {fit_s:.0f} s; explaining {len(dev)} sentences {explain_s:.0f} s"
        + (
            f"; IG convergence |delta| median {np.median(deltas):.1e}, max {max(deltas):.1e}"
            if deltas
            else ""
        )
        + ".",
        "",
        f"Command: `{command.strip()}`",
    ]
    table = "\n".join(lines)
    print(table)
    device = "cpu" if "no GPU" in where else "gpu"
    out = args.out or ROOT / "benchmarks" / "results" / f"faithfulness_{device}.md"
    # A quick subset run prints only; the full run (or --out) keeps its table.
    if args.n_texts is None or args.out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(table + "\n")
        print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
