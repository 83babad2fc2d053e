"""GLUE benchmark of multi-task training, transfer, PEFT and embeddings.

One command; prints a markdown table and writes it to
``benchmarks/results/glue_cpu.md`` (``glue_full.md`` with ``--full``)::

    python benchmarks/bench_glue.py                   # CPU subsets (~15 min on 2 cores)
    python benchmarks/bench_glue.py --full            # full GLUE train/dev sets (GPU)

Arms (the default backbone, all-MiniLM-L6-v2, everywhere; equal epochs):

a. one MultiTaskTransformer on SST-2, CoLA, MRPC, STS-B and RTE stacked vs
   five single-task models: dev score per task, parameters, wall time;
b. transfer: RTE fine-tuned from the MRPC model's and from the multi-task
   model's backbone (``model=est.backbone()``) vs from the plain backbone;
c. SST-2: LoRA and a frozen-backbone linear probe vs full fine-tuning:
   trainable parameters, peak memory (each arm in its own process), dev
   accuracy, time;
d. SST-2: TransformerEmbedder + LogisticRegression vs TF-IDF + LogisticRegression.

Subsets are random (seed 0) and their sizes are printed. Scores come from a
single seed: on subsets of a few hundred rows, differences of a few points
are within noise.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
TASKS = ["sst2", "cola", "mrpc", "stsb", "rte"]
METRIC_NAMES = {
    "sst2": "accuracy",
    "cola": "Matthews corr.",
    "mrpc": "F1",
    "stsb": "Pearson",
    "rte": "accuracy",
}


# ----------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------
def _read(path, **kwargs):
    return pd.read_csv(
        path,
        sep="\t",
        quoting=csv.QUOTE_NONE,
        encoding="utf-8-sig",
        on_bad_lines="skip",
        keep_default_na=False,
        **kwargs,
    )


def load_task(data_dir, task, split):
    """(X, y) of one GLUE split: X a list of texts or a 2-column DataFrame of pairs."""
    if task == "sst2":
        df = _read(data_dir / "SST-2" / f"{split}.tsv")
        return df["sentence"].astype(str).tolist(), df["label"].astype(int).to_numpy()
    if task == "cola":
        df = _read(data_dir / "CoLA" / f"{split}.tsv", header=None)
        return df[3].astype(str).tolist(), df[1].astype(int).to_numpy()
    if task == "mrpc":
        df = _read(data_dir / "MRPC" / f"{split}.tsv")
        X = df[["#1 String", "#2 String"]].astype(str).reset_index(drop=True)
        return X, df["Quality"].astype(int).to_numpy()
    if task == "stsb":
        df = _read(data_dir / "STS-B" / f"{split}.tsv")
        df = df[pd.to_numeric(df["score"], errors="coerce").notna()]
        X = df[["sentence1", "sentence2"]].astype(str).reset_index(drop=True)
        return X, df["score"].astype(float).to_numpy()
    if task == "rte":
        df = _read(data_dir / "RTE" / f"{split}.tsv")
        X = df[["sentence1", "sentence2"]].astype(str).reset_index(drop=True)
        return X, df["label"].astype(str).to_numpy()
    raise ValueError(task)


def subset(X, y, n, seed=0):
    if n is None or n >= len(y):
        return X, y
    idx = np.sort(np.random.default_rng(seed).choice(len(y), size=n, replace=False))
    if isinstance(X, pd.DataFrame):
        return X.iloc[idx].reset_index(drop=True), y[idx]
    return [X[i] for i in idx], y[idx]


def load_all(args):
    data = {}
    for task in TASKS:
        train = subset(*load_task(args.data, task, "train"), args.train_size)
        dev = subset(*load_task(args.data, task, "dev"), args.dev_size)
        data[task] = {"train": train, "dev": dev}
    return data


def as_pairs(X):
    """A 2-column frame; single texts get a missing second text."""
    if isinstance(X, pd.DataFrame):
        return pd.DataFrame({"text": X.iloc[:, 0].tolist(), "text_pair": X.iloc[:, 1].tolist()})
    return pd.DataFrame({"text": list(X), "text_pair": [None] * len(X)})


def stack(data):
    """One X (single texts and pairs mixed) and one Y (NaN where a task has no label)."""
    parts_X, parts_Y = [], []
    for task in TASKS:
        X, y = data[task]["train"]
        parts_X.append(as_pairs(X))
        parts_Y.append(pd.DataFrame({task: pd.Series(y, dtype=object)}))
    Y = pd.concat(parts_Y, ignore_index=True).reindex(columns=TASKS)
    return pd.concat(parts_X, ignore_index=True), Y


# ----------------------------------------------------------------------
# Metrics and helpers
# ----------------------------------------------------------------------
def metric(task, y_true, y_pred):
    from scipy.stats import pearsonr
    from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

    if task == "cola":
        return matthews_corrcoef(y_true, y_pred)
    if task == "mrpc":
        return f1_score(np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int))
    if task == "stsb":
        return pearsonr(np.asarray(y_true, float), np.asarray(y_pred, float))[0]
    return accuracy_score(y_true, y_pred)


def n_params(estimator, trainable=False):
    module = estimator.net_.module_
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable)


def rss_mb(field="VmHWM"):
    """Peak (VmHWM) or current (VmRSS) resident memory of this process, in MiB.

    /proc/self/status is read rather than ru_maxrss: ru_maxrss survives
    fork + exec, so a child would report its parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def common_params(args):
    return dict(
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        max_length=args.max_length,
        random_state=0,
    )


def single_estimator(task, args, model=None, **extra):
    from sktransformers import TransformerClassifier, TransformerRegressor

    cls = TransformerRegressor if task == "stsb" else TransformerClassifier
    params = {**common_params(args), **extra}
    if model is not None:
        params["model"] = model
    return cls(**params)


# ----------------------------------------------------------------------
# Arms
# ----------------------------------------------------------------------
def arm_multitask(data, args):
    from sktransformers import MultiTaskTransformer

    X, Y = stack(data)
    log(f"(a) multi-task on {len(X)} stacked rows")
    mt = MultiTaskTransformer(
        tasks={t: ("regression" if t == "stsb" else "classification") for t in TASKS},
        sampling="proportional",
        **common_params(args),
    )
    start = time.perf_counter()
    mt.fit(X, Y)
    fit_time = time.perf_counter() - start
    scores = {}
    for task in TASKS:
        X_dev, y_dev = data[task]["dev"]
        scores[task] = metric(task, y_dev, mt.predict(as_pairs(X_dev))[task].to_numpy())
    return mt, {"scores": scores, "params": n_params(mt), "time": fit_time}


def arm_single(data, args):
    models, scores, params, total = {}, {}, 0, 0.0
    for task in TASKS:
        X, y = data[task]["train"]
        log(f"(a) single-task {task} on {len(y)} rows")
        est = single_estimator(task, args)
        start = time.perf_counter()
        est.fit(X, y)
        total += time.perf_counter() - start
        X_dev, y_dev = data[task]["dev"]
        scores[task] = metric(task, y_dev, est.predict(X_dev))
        params += n_params(est)
        models[task] = est
    return models, {"scores": scores, "params": params, "time": total}


def arm_transfer(data, args, singles, mt):
    X, y = data["rte"]["train"]
    X_dev, y_dev = data["rte"]["dev"]
    results = [("plain backbone", metric("rte", y_dev, singles["rte"].predict(X_dev)), None)]
    for name, source in [
        ("MRPC-fine-tuned backbone", singles["mrpc"]),
        ("multi-task backbone (5 tasks)", mt),
    ]:
        log(f"(b) RTE from the {name}")
        est = single_estimator("rte", args, model=source.backbone())
        start = time.perf_counter()
        est.fit(X, y)
        elapsed = time.perf_counter() - start
        results.append((name, metric("rte", y_dev, est.predict(X_dev)), elapsed))
    return results


PEFT_ARMS = {
    # name: (estimator parameters, learning rate)
    "full fine-tuning": ({}, None),
    "LoRA (r=8, query/value)": ({"lora": True}, 5e-4),
    "frozen backbone (linear probe)": ({"freeze": "backbone"}, 2e-3),
}


def run_peft_arm(name, args):
    """One arm of (c), in this (child) process; returns a dict."""
    import torch

    extra, lr = PEFT_ARMS[name]
    X, y = subset(*load_task(args.data, "sst2", "train"), args.train_size)
    X_dev, y_dev = subset(*load_task(args.data, "sst2", "dev"), args.dev_size)
    params = {**extra}
    if lr is not None:
        params["lr"] = lr
    est = single_estimator("sst2", args, **params)
    before = rss_mb("VmRSS")
    start = time.perf_counter()
    est.fit(X, y)
    elapsed = time.perf_counter() - start
    out = {
        "trainable": n_params(est, trainable=True),
        "total": n_params(est),
        "accuracy": metric("sst2", y_dev, est.predict(X_dev)),
        "time": elapsed,
        "lr": est.lr,
        "peak_rss_mb": rss_mb("VmHWM"),
        "rss_before_mb": before,
    }
    if torch.cuda.is_available():
        out["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def arm_peft(args):
    results = {}
    for name in PEFT_ARMS:
        log(f"(c) SST-2 {name} (own process)")
        cmd = [sys.executable, __file__, "--peft-arm", name, *args.passthrough]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-3000:])
            raise RuntimeError(f"arm {name!r} failed")
        results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
    return results


def arm_embeddings(data, args):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sktransformers import TransformerEmbedder

    X, y = data["sst2"]["train"]
    X_dev, y_dev = data["sst2"]["dev"]
    arms = {
        "TransformerEmbedder (mean, L2) + LogisticRegression": make_pipeline(
            TransformerEmbedder(normalize=True, max_length=args.max_length),
            LogisticRegression(C=10.0, max_iter=2000),
        ),
        "TF-IDF (1-2 grams) + LogisticRegression": make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            LogisticRegression(C=10.0, max_iter=2000),
        ),
    }
    results = {}
    for name, pipe in arms.items():
        log(f"(d) {name}")
        start = time.perf_counter()
        pipe.fit(X, y)
        fit_time = time.perf_counter() - start
        start = time.perf_counter()
        pred = pipe.predict(X_dev)
        results[name] = {
            "accuracy": metric("sst2", y_dev, pred),
            "fit": fit_time,
            "predict": time.perf_counter() - start,
        }
    return results


# ----------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------
def machine():
    import torch

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores, {device}; "
        f"Python {platform.python_version()}, torch {torch.__version__}"
    )


def fmt(value, digits=3):
    return "n/a" if value is None else f"{value:.{digits}f}"


def report(args, data, mt_res, single_res, transfer_res, peft_res, emb_res, total_time):
    lines = []
    lines.append(f"# GLUE benchmark ({'full data' if args.full else 'CPU subsets'})")
    lines.append("")
    lines.append(f"- date: {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}")
    lines.append(f"- machine: {machine()}")
    command = " ".join(["python benchmarks/bench_glue.py", *sys.argv[1:]])
    lines.append(f"- command: `{command}`")
    lines.append(
        f"- backbone: sentence-transformers/all-MiniLM-L6-v2; epochs: {args.epochs} for every arm, "
        f"batch {args.batch_size}, lr {args.lr} (full fine-tuning), max_length {args.max_length}, "
        "random_state=0 (one seed: differences of a few points are noise at these sizes)"
    )
    lines.append(f"- total wall time of the benchmark: {total_time / 60:.1f} min")
    lines.append("")
    lines.append("Rows used (random subsets, seed 0):")
    lines.append("")
    lines.append("| task | train rows | dev rows | input | dev metric |")
    lines.append("|---|---|---|---|---|")
    for task in TASKS:
        X, y = data[task]["train"]
        kind = "pair" if isinstance(X, pd.DataFrame) else "single text"
        lines.append(
            f"| {task} | {len(y)} | {len(data[task]['dev'][1])} | {kind} | {METRIC_NAMES[task]} |"
        )
    lines.append("")
    lines.append("## (a) One multi-task model vs five single-task models")
    lines.append("")
    header = " | ".join(f"{t} ({METRIC_NAMES[t]})" for t in TASKS)
    lines.append(f"| arm | {header} | mean | parameters | fit wall time (s) |")
    lines.append("|---|" + "---|" * (len(TASKS) + 3))
    for name, res in [
        ("multi-task (1 backbone, 5 heads)", mt_res),
        ("5 single-task models", single_res),
    ]:
        scores = " | ".join(fmt(res["scores"][t]) for t in TASKS)
        mean = np.mean(list(res["scores"].values()))
        lines.append(f"| {name} | {scores} | {fmt(mean)} | {res['params']:,} | {res['time']:.0f} |")
    lines.append("")
    lines.append("## (b) Transfer to RTE (new head, full fine-tuning, same settings)")
    lines.append("")
    lines.append("| RTE started from | RTE dev accuracy | fit wall time (s) |")
    lines.append("|---|---|---|")
    for name, score, elapsed in transfer_res:
        shown = "see (a)" if elapsed is None else f"{elapsed:.0f}"
        lines.append(f"| {name} | {fmt(score)} | {shown} |")
    lines.append("")
    lines.append(
        "## (c) SST-2: LoRA and linear probe vs full fine-tuning (each in its own process)"
    )
    lines.append("")
    gpu = any("peak_gpu_mb" in r for r in peft_res.values())
    extra = " peak GPU memory (MiB) |" if gpu else ""
    lines.append(
        f"| method | lr | trainable parameters | share | peak RSS (MiB) | RSS before "
        f"fit, model not loaded (MiB) |{extra} dev accuracy | fit wall time (s) |"
    )
    lines.append("|---|---|---|---|---|---|" + ("---|" if gpu else "") + "---|---|")
    for name, r in peft_res.items():
        gpu_cell = f" {r.get('peak_gpu_mb', 0):.0f} |" if gpu else ""
        lines.append(
            f"| {name} | {r['lr']:g} | {r['trainable']:,} "
            f"| {100 * r['trainable'] / r['total']:.2f}% "
            f"| {r['peak_rss_mb']:.0f} | {r['rss_before_mb']:.0f} |{gpu_cell} "
            f"{fmt(r['accuracy'])} | {r['time']:.0f} |"
        )
    lines.append("")
    lines.append("## (d) SST-2: frozen embeddings vs TF-IDF, each + LogisticRegression")
    lines.append("")
    lines.append("| pipeline | dev accuracy | fit wall time (s) | predict wall time (s) |")
    lines.append("|---|---|---|---|")
    for name, r in emb_res.items():
        lines.append(f"| {name} | {fmt(r['accuracy'])} | {r['fit']:.1f} | {r['predict']:.1f} |")
    lines.append("")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data-dir",
        "--data",
        dest="data",
        type=Path,
        default=None,
        help="data folder holding glue/ (or the glue folder itself; default: "
        "$SKTRANSFORMERS_DATA_DIR, else ../shared/data)",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="full train/dev sets, 3 epochs, batch 32, lr 5e-5 (for a GPU)",
    )
    parser.add_argument("--train-size", type=int, default=400, help="training rows per task")
    parser.add_argument("--dev-size", type=int, default=400, help="dev rows per task at most")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--peft-arm", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    raw = list(sys.argv[1:] if argv is None else argv)
    if "--peft-arm" in raw:
        i = raw.index("--peft-arm")
        raw = raw[:i] + raw[i + 2 :]
    args.passthrough = raw
    if args.full:
        args.train_size = args.dev_size = None
    defaults = (3, 32, 5e-5) if args.full else (2, 16, 1e-4)
    for key, value in zip(("epochs", "batch_size", "lr"), defaults):
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.output is None:
        name = "glue_full.md" if args.full else "glue_cpu.md"
        args.output = ROOT / "benchmarks" / "results" / name
    from sktransformers.datasets import find_data_file

    try:
        args.data = find_data_file("glue", "SST-2/dev.tsv", args.data).parents[1]
    except FileNotFoundError as exc:
        parser.error(str(exc))
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.peft_arm is not None:
        print(json.dumps(run_peft_arm(args.peft_arm, args)))
        return
    start = time.perf_counter()
    data = load_all(args)
    mt, mt_res = arm_multitask(data, args)
    singles, single_res = arm_single(data, args)
    transfer_res = arm_transfer(data, args, singles, mt)
    del mt, singles
    peft_res = arm_peft(args)
    emb_res = arm_embeddings(data, args)
    table = report(
        args, data, mt_res, single_res, transfer_res, peft_res, emb_res, time.perf_counter() - start
    )
    print(table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(table + "\n", encoding="utf-8")
    log(f"written to {args.output}")


if __name__ == "__main__":
    main()
