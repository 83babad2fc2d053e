"""Defaults against the Hugging Face Trainer recipe, cell by cell (data size x task).

Each cell is a task at a training-set size (rows drawn at random with the
seed); each arm is fitted once per seed in its own Python process, and
scored on the task's whole dev set. Tasks: the GLUE tasks; CoNLL-2003 NER
(``conll``, scored on its dev sentences with seqeval); SemEval-2018 E-c
(``semeval``, multi-label, scored on the 20 % of tweets held out with seed 0,
as in ``bench_tasks.py``); and a TREC-style 6-class task (``emotion6``: the
SemEval tweets with a single emotion among the six most frequent, see
:func:`emotion6_data`; accuracy, with macro-F1 beside). Arms:

``package``
    The estimator with its defaults (``TransformerClassifier``;
    ``TransformerRegressor`` for STS-B; ``TransformerTokenClassifier`` for
    CoNLL-2003; the 0/1 indicator matrix for SemEval), only
    ``random_state`` set.
``package:NAME=VALUE,...``
    The same with parameters changed (``package:max_epochs=10``), to compare
    a candidate default with the current one.
``trainer``
    The Hugging Face Trainer recipe at its defaults: the task's own head
    (``AutoModelForSequenceClassification``), 3 epochs, lr 5e-5, batch 32,
    random batches, linear decay without warmup, weight decay 0,
    ``DataCollatorWithPadding``, ``max_length`` 128 (the package's), the seed.
    For CoNLL-2003, ``AutoModelForTokenClassification`` with each word's
    first sub-word labelled (``run_ner.py``'s recipe, from ``bench_tasks.py``);
    for SemEval, ``problem_type="multi_label_classification"`` (BCE loss,
    sigmoid > 0.5).

Every arm starts from the same model (all-MiniLM-L6-v2 by default) in
float32. Train time includes tokenization and loading the model. The
metric is the task's GLUE metric (accuracy; F1 for MRPC; Matthews
correlation for CoLA; Pearson for STS-B); entity F1 for CoNLL-2003 and the
Jaccard index for SemEval, with the other usual scores beside. The table gives the mean and the
standard deviation over the seeds.

Usage
-----
On a quiet machine (nothing else running; the docs' numbers come from this)::

    python benchmarks/bench_defaults.py --cells sst2:100 sst2:1000 --seeds 0 1 2

A smoke run (a minute; numbers meaningless)::

    python benchmarks/bench_defaults.py --cells sst2:40 --seeds 0 --smoke --no-write

Data: the data folder's ``glue/``, ``conll2003/`` and ``semeval2018_ec/`` (``--data-dir``, else
``$SKTRANSFORMERS_DATA_DIR``, else ``../shared/data``). Results print as a
markdown table and are written to ``benchmarks/results/defaults_cpu.md``.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

TASK_NAMES = {
    "sst2": "SST-2",
    "cola": "CoLA",
    "mrpc": "MRPC",
    "rte": "RTE",
    "stsb": "STS-B",
    "conll": "CoNLL-2003",
    "semeval": "SemEval-2018 E-c",
    "emotion6": "SemEval-2018 single-emotion 6-class",
}
METRICS = {
    "sst2": "accuracy",
    "cola": "Matthews corr.",
    "mrpc": "F1",
    "rte": "accuracy",
    "stsb": "Pearson",
    "conll": "entity F1",
    "semeval": "Jaccard",
    "emotion6": "accuracy",
}
#: What a training row is called in the table.
UNITS = {"conll": "sentences", "semeval": "tweets", "emotion6": "tweets"}
#: Tasks read through bench_tasks.py's loaders (the others are GLUE tasks).
TASK_LOADERS = {"conll": "ner_data", "semeval": "multilabel_data"}


# ----------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------
#: The six classes of the ``emotion6`` cell: SemEval-2018 E-c's most frequent emotions.
EMOTIONS6 = ("joy", "sadness", "fear", "anger", "optimism", "anticipation")


def emotion6_data(cfg):
    """A TREC-style 6-class task from SemEval-2018 E-c (no 6-class set is in the data folder).

    The tweets with exactly one of the 11 emotions set, that emotion one of
    :data:`EMOTIONS6` (758 of 5,858 tweets), labelled with it; 20 % held out
    (stratified, seed 0) as the dev set, the training rows drawn from the
    rest with the seed.
    """
    import numpy as np
    from bench_glue import subset
    from sklearn.model_selection import train_test_split

    from sktransformers.datasets import load_semeval2018_ec

    tweets, labels = load_semeval2018_ec(data_dir=cfg.get("data_dir"))
    single = (labels.sum(axis=1) == 1).to_numpy()
    emotion = labels.idxmax(axis=1).to_numpy()
    keep = single & np.isin(emotion, EMOTIONS6)
    X, y = tweets.to_numpy()[keep].tolist(), emotion[keep]
    X_train, X_dev, y_train, y_dev = train_test_split(
        X, y, test_size=0.2, random_state=0, stratify=y
    )
    X_train, y_train = subset(X_train, y_train, cfg["size"], seed=cfg["seed"])
    return X_train, y_train, X_dev, y_dev


def cell_data(cfg):
    """(X_train, y_train, X_dev, y_dev) of one cell, the rows drawn with the seed."""
    if cfg["task"] == "emotion6":
        return emotion6_data(cfg)
    if cfg["task"] in TASK_LOADERS:  # CoNLL-2003 dev; SemEval's 20 % held out (seed 0)
        import bench_tasks

        load = getattr(bench_tasks, TASK_LOADERS[cfg["task"]])
        return load({**cfg, "train_size": cfg["size"], "dev_size": cfg.get("dev_size")})
    from bench_glue import load_task, subset

    from sktransformers.datasets import get_data_dir

    glue = get_data_dir(cfg.get("data_dir")) / "glue"
    X, y = load_task(glue, cfg["task"], "train")
    X, y = subset(X, y, cfg["size"], seed=cfg["seed"])
    X_dev, y_dev = load_task(glue, cfg["task"], "dev")
    if cfg.get("dev_size"):
        X_dev, y_dev = subset(X_dev, y_dev, cfg["dev_size"], seed=0)
    return X, y, X_dev, y_dev


def score(task, y_true, y_pred):
    """``(metric, other scores)``: the cell's metric, and the task's other usual scores."""
    if task == "conll":
        from bench_tasks import ner_scores

        scores = ner_scores(y_true, y_pred)
        return scores["f1"], {"strict F1": scores["f1_strict"]}
    if task == "semeval":
        from bench_tasks import multilabel_scores

        scores = multilabel_scores(y_true, y_pred)
        return scores["jaccard"], {"micro-F1": scores["micro_f1"], "macro-F1": scores["macro_f1"]}
    if task == "emotion6":
        from sklearn.metrics import accuracy_score, f1_score

        macro = f1_score(y_true, y_pred, average="macro")
        return float(accuracy_score(y_true, y_pred)), {"macro-F1": float(macro)}
    from bench_glue import metric

    return float(metric(task, y_true, y_pred)), {}


def arm_result(cfg, y_dev, pred, **fields):
    """One arm's result: the cell's metric and other scores of ``pred``, with ``fields``."""
    metric, others = score(cfg["task"], y_dev, pred)
    return {"metric": metric, "others": others, **fields}


# ----------------------------------------------------------------------
# Arms (each in a child process)
# ----------------------------------------------------------------------
def parse_arm(arm):
    """``"package:max_epochs=10,lr=1e-4"`` -> ``("package", {"max_epochs": 10, "lr": 1e-4})``."""
    name, _, spec = arm.partition(":")
    params = {}
    for item in filter(None, spec.split(",")):
        key, _, value = item.partition("=")
        try:
            params[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[key] = value  # a bare word: a string option ("auto")
    return name, params


def arm_package(cfg, data):
    from sktransformers import (
        TransformerClassifier,
        TransformerRegressor,
        TransformerTokenClassifier,
    )

    X, y, X_dev, y_dev = data
    _, params = parse_arm(cfg["arm"])
    if cfg["smoke"]:
        params.setdefault("max_epochs", 1)
    cls = {"stsb": TransformerRegressor, "conll": TransformerTokenClassifier}.get(
        cfg["task"], TransformerClassifier
    )
    est = cls(cfg["model"], random_state=cfg["seed"], **params)
    t0 = time.perf_counter()
    est.fit(X, y)
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pred = est.predict(X_dev)
    predict_s = time.perf_counter() - t0
    return arm_result(
        cfg,
        y_dev,
        pred,
        train_s=train_s,
        predict_s=predict_s,
        epochs=len(est.net_.history),
        steps=int(sum(len(e["batches"]) for e in est.net_.history)),
    )


def arm_trainer_ner(cfg, data):
    """The token-classification recipe of ``bench_tasks.py`` (``run_ner.py``'s labelling)."""
    import math

    from bench_tasks import arm_ner_trainer

    epochs = 1 if cfg["smoke"] else 3
    recipe = {**cfg, "train_size": cfg["size"], "device": "cpu", "bf16": False}
    recipe.update(max_length=128, batch_size=32, lr=5e-5, epochs=epochs)
    result = arm_ner_trainer(recipe)
    return {
        "metric": result["f1"],
        "others": {"strict F1": result["f1_strict"]},
        "train_s": result["train_s"],
        "predict_s": result["predict_s"],
        "epochs": epochs,
        "steps": epochs * math.ceil(len(data[0]) / 32),
    }


def arm_trainer(cfg, data):
    if cfg["task"] == "conll":
        return arm_trainer_ner(cfg, data)
    import numpy as np
    import pandas as pd
    import torch
    from bench_speed import trainer_arguments
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
    )

    X, y, X_dev, y_dev = data
    regression = cfg["task"] == "stsb"
    multilabel = cfg["task"] == "semeval"  # the indicator matrix; sigmoid > 0.5 (the head's)
    if multilabel:
        classes = np.arange(y.shape[1])
    else:
        classes = None if regression else np.unique(y)

    def encode(tok, X):
        if isinstance(X, pd.DataFrame):
            cols = X.columns
            return tok(X[cols[0]].tolist(), X[cols[1]].tolist(), truncation=True, max_length=128)
        return tok(list(X), truncation=True, max_length=128)

    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(cfg["model"])
    enc = encode(tok, X)
    if regression or multilabel:
        labels = np.asarray(y, dtype=np.float32).tolist()
    else:
        labels = np.searchsorted(classes, y).tolist()
    train = [{**{k: enc[k][i] for k in enc.keys()}, "labels": labels[i]} for i in range(len(y))]
    torch.manual_seed(cfg["seed"])
    model = AutoModelForSequenceClassification.from_pretrained(
        cfg["model"],
        num_labels=1 if regression else len(classes),
        problem_type="multi_label_classification" if multilabel else None,
        dtype=torch.float32,
    )
    with tempfile.TemporaryDirectory() as out:
        args = trainer_arguments(
            out, batch_size=32, lr=5e-5, epochs=1 if cfg["smoke"] else 3, seed=cfg["seed"]
        )
        trainer = Trainer(
            model=model, args=args, train_dataset=train, data_collator=DataCollatorWithPadding(tok)
        )
        result = trainer.train()
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.eval()
    dev = encode(tok, X_dev)
    collate = DataCollatorWithPadding(tok)
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(y_dev), 64):
            stop = min(start + 64, len(y_dev))
            rows = [{k: dev[k][i] for k in dev.keys()} for i in range(start, stop)]
            outputs.append(model(**collate(rows)).logits.float().numpy())
    logits = np.concatenate(outputs)
    if multilabel:
        pred = (logits > 0.0).astype(int)  # sigmoid(logit) > 0.5
    else:
        pred = logits[:, 0] if regression else classes[logits.argmax(1)]
    predict_s = time.perf_counter() - t0
    return arm_result(
        cfg,
        y_dev,
        pred,
        train_s=train_s,
        predict_s=predict_s,
        epochs=args.num_train_epochs,
        steps=int(result.global_step),
    )


def child(cfg):
    import torch

    torch.set_num_threads(cfg["threads"])
    data = cell_data(cfg)
    name, _ = parse_arm(cfg["arm"])
    run = {"package": arm_package, "trainer": arm_trainer}[name]
    print("RESULT " + json.dumps(run(cfg, data)), flush=True)


def run_arm(cfg):
    from bench_speed import run_child

    return run_child(__file__, cfg)


# ----------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------
def mean_sd(values):
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def table(rows, seeds):
    lines = [
        f"| cell | arm | metric (mean ± sd, {len(seeds)} seed(s)) | epochs | optimizer steps "
        "| train time (s) | vs Trainer time | predict time (s) | other scores (mean) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for (task, size), arms in rows.items():
        trainer = arms.get("trainer")
        ref = statistics.mean(r["train_s"] for r in trainer) if trainer else None
        rows_text = f"{size:,}" if isinstance(size, int) else size
        for arm, results in arms.items():
            train = statistics.mean(r["train_s"] for r in results)
            epochs = "/".join(map(str, sorted({r["epochs"] for r in results})))
            steps = "/".join(map(str, sorted({r["steps"] for r in results})))
            predict = statistics.mean(r["predict_s"] for r in results)
            versus = f"{train / ref:.2f}x" if ref else "–"
            others = ", ".join(
                f"{name} {statistics.mean(r['others'][name] for r in results):.3f}"
                for name in results[0].get("others", {})
            )
            lines.append(
                f"| {TASK_NAMES[task]} {rows_text} {UNITS.get(task, 'rows')} "
                f"({METRICS[task]}) | `{arm}` "
                f"| {mean_sd([r['metric'] for r in results])} | {epochs} | {steps} "
                f"| {train:.1f} | {versus} | {predict:.1f} | {others or '–'} |"
            )
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="The package's defaults against the Hugging Face Trainer recipe, per cell.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--cells",
        nargs="+",
        default=["sst2:100", "sst2:1000"],
        help=f"TASK:ROWS cells (tasks: {', '.join(TASK_NAMES)}; ROWS 'all': the whole "
        "training set)",
    )
    parser.add_argument("--arms", nargs="+", default=["package", "trainer"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--model", default=None, help="model id or folder (default: the package's)")
    parser.add_argument("--data-dir", default=None, help="the data folder holding glue/")
    parser.add_argument("--dev-size", type=int, default=None, help="score on a dev subset")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--smoke", action="store_true", help="one epoch per arm; a quick check")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--_child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def parse_cell(text):
    task, _, size = text.partition(":")
    if task not in TASK_NAMES:
        raise SystemExit(f"unknown task {task!r} in cell {text!r}; choose from {list(TASK_NAMES)}")
    return task, None if size in ("", "all") else int(size)


def main(argv=None):
    args = parse_args(argv)
    if args._child:
        child(json.loads(args._child))
        return
    from bench_speed import load, machine

    from sktransformers.engine._hub import DEFAULT_MODEL, resolve_model

    model = args.model or str(resolve_model(DEFAULT_MODEL))
    command = "python benchmarks/bench_defaults.py " + " ".join(sys.argv[1:])
    load_before = load()
    started = time.perf_counter()
    rows = {}
    for text in args.cells:
        task, size = parse_cell(text)
        for arm in args.arms:
            for seed in args.seeds:
                cfg = {
                    "task": task,
                    "size": size,
                    "arm": arm,
                    "seed": seed,
                    "model": model,
                    "data_dir": args.data_dir,
                    "dev_size": args.dev_size,
                    "threads": args.threads,
                    "smoke": args.smoke,
                }
                result = run_arm(cfg)
                print(f"{text} {arm} seed {seed}: {result}", flush=True)
                rows.setdefault((task, size or "all"), {}).setdefault(arm, []).append(result)
    info = machine()
    text = (
        f"Date: {datetime.date.today().isoformat()}. Machine: {info['cpu']}, {info['cores']} cores "
        f"({args.threads} torch threads), no GPU; torch {info['torch']}, transformers "
        f"{info['transformers']}.\nCommand: `{command}`. Load average (1/5/15 min) before: "
        f"{load_before}; after: {load()}. Wall time {time.perf_counter() - started:.0f} s.\n\n"
        + table(rows, args.seeds)
    )
    print(text)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "defaults_cpu.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
