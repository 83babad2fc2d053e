"""Speed benchmark: sktransformers against the Hugging Face Trainer and skorch's documented recipe.

Every arm fine-tunes the same model on the same SST-2 sentences with the same
learning rate, batch size, epochs and truncation length, then predicts the
full dev set. Each arm runs in its own Python process, so peak memory (RSS on
CPU, ``torch.cuda.max_memory_allocated`` on GPU) is that arm's alone.

Arms
----
sktransformers
    ``TransformerClassifier`` with its defaults (mean pooling, warmup 0.06,
    weight decay 0.01, length-grouped batches with dynamic padding).
trainer
    ``AutoModelForSequenceClassification`` + ``Trainer`` with
    ``DataCollatorWithPadding`` (dynamic padding, random batches), no
    evaluation during training, ``report_to=[]``, Trainer defaults otherwise
    (fused AdamW, linear decay, no warmup, no weight decay). Prediction:
    ``pipeline("text-classification")`` over the dev texts, at its default
    batch size (1) and at 32, 64 and 4 x the training batch size; the table
    compares with the fastest of these, timed again so that it gets as many
    passes as every other arm (``--predict-repeats``, the fastest pass
    counts; every arm's first pass also pays one-time set-up).
skorch
    skorch's documented Hugging Face recipe: a Pipeline of
    ``skorch.hf.HuggingfacePretrainedTokenizer`` (pads every text to
    ``max_length``) and a ``NeuralNetClassifier`` over a module wrapping
    ``AutoModelForSequenceClassification``, AdamW, linear decay stepped per
    batch; ``train_split=False`` (no evaluation during training, as for the
    Trainer).

Usage
-----
CPU (2,000 training sentences, 1 epoch, full dev; run under the shared lock)::

    flock /tmp/sktransformers-cpu.lock python benchmarks/bench_speed.py --cpu

Engine steps, one at a time (sktransformers arm only)::

    flock /tmp/sktransformers-cpu.lock python benchmarks/bench_speed.py --cpu --steps

GPU (full SST-2, 3 epochs, bf16, then BERT-base-sized throughput)::

    python benchmarks/bench_speed.py --gpu
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _glue_dir():
    """``glue/`` in the data folder: ``--data-dir``, else ``$SKTRANSFORMERS_DATA_DIR``, else
    ``../shared/data`` (``sktransformers.datasets.get_data_dir``)."""
    from sktransformers.datasets import get_data_dir

    return get_data_dir() / "glue"


GLUE = _glue_dir()
RESULTS = HERE / "results"
BF16_PEAK_TFLOPS = 790.0  # H200 dense bf16
ARMS = ("sktransformers", "trainer", "skorch")


# ----------------------------------------------------------------------
# Data and measurements
# ----------------------------------------------------------------------
def load_sst2(n_train, seed):
    import numpy as np
    import pandas as pd

    def read(name):
        return pd.read_csv(GLUE / "SST-2" / f"{name}.tsv", sep="\t", quoting=csv.QUOTE_NONE)

    train, dev = read("train"), read("dev")
    if n_train and n_train < len(train):
        rows = np.random.default_rng(seed).choice(len(train), n_train, replace=False)
        train = train.iloc[np.sort(rows)]
    return (
        train["sentence"].astype(str).tolist(),
        train["label"].to_numpy(),
        dev["sentence"].astype(str).tolist(),
        dev["label"].to_numpy(),
    )


def peak_memory_mb(device):
    import torch

    if str(device).startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def warm_imports():
    """Import what every arm needs before its clock starts (Python imports are not training)."""
    import transformers
    import transformers.models.bert.modeling_bert  # noqa: F401

    transformers.AutoModel, transformers.AutoTokenizer  # noqa: B018 (resolve lazy modules)


def cpu_seconds():
    """User + system CPU time of this process, all threads."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def sync(device):
    import torch

    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def accuracy(pred, y):
    import numpy as np

    return float(np.mean(np.asarray(pred) == np.asarray(y)))


# ----------------------------------------------------------------------
# Arms (each runs in a child process)
# ----------------------------------------------------------------------
def _random_batches(dataset, batch_size, *, shuffle, seed):
    """skorch's default batching: random batches, still padded per batch."""
    import torch

    from sktransformers.engine._data import LengthGroupedBatchSampler

    if not shuffle:  # prediction keeps the sorted order the estimator expects
        return LengthGroupedBatchSampler(dataset.lengths, batch_size, shuffle=False)
    gen = torch.Generator().manual_seed(seed)
    return torch.utils.data.BatchSampler(
        torch.utils.data.RandomSampler(range(len(dataset)), generator=gen), batch_size, False
    )


def _sync_each_batch():
    from skorch.callbacks import Callback

    class SyncEachBatch(Callback):
        """What skorch's stock epoch loop does: ``loss.item()`` after every batch."""

        def on_batch_end(self, net, loss=None, **kwargs):
            loss.item()

    return SyncEachBatch()


def best_time(fn, repeats, device):
    """(fastest wall seconds of ``repeats`` calls of ``fn``, the last call's result)."""
    times = []
    for _ in range(repeats):
        sync(device)
        t0 = time.perf_counter()
        out = fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return min(times), out


def time_fit_predict(estimator, cfg, data):
    """Wall and CPU seconds of ``fit`` on the training set, ``predict`` on dev, dev accuracy."""
    Xtr, ytr, Xdev, ydev = data
    warm_imports()
    sync(cfg["device"])
    t0, c0 = time.perf_counter(), cpu_seconds()
    estimator.fit(Xtr, ytr)
    sync(cfg["device"])
    t_train, c_train = time.perf_counter() - t0, cpu_seconds() - c0
    t_pred, pred = best_time(lambda: estimator.predict(Xdev), cfg["predict_repeats"], cfg["device"])
    return {
        "train_s": t_train,
        "train_cpu_s": c_train,
        "predict_s": t_pred,
        "dev_acc": accuracy(pred, ydev),
    }


def arm_sktransformers(cfg, data):
    from sktransformers import TransformerClassifier

    Xtr, ytr, Xdev, ydev = data
    variant = cfg.get("variant") or {}
    if "onednn" in variant:  # False: plain MKL linear layers in prediction; True: packed on any CPU
        os.environ["SKTRANSFORMERS_ONEDNN"] = "1" if variant["onednn"] else "0"

    class Bench(TransformerClassifier):
        def _batch_sampler(self):
            return None if variant.get("grouping", True) else _random_batches

        def _build_net(self, module, pad_token_id):
            net = super()._build_net(module, pad_token_id)
            if "fused" in variant:  # re-initializes the optimizer only
                net.set_params(optimizer__fused=variant["fused"])
            return net

    params = dict(
        max_epochs=cfg["epochs"],
        batch_size=cfg["batch_size"],
        lr=cfg["lr"],
        max_length=cfg["max_length"],
        random_state=cfg["seed"],
        device=cfg["device"],
        precision="bf16" if cfg["bf16"] else "fp32",
    )
    params.update(variant.get("params", {}))
    callbacks = [("sync_each_batch", _sync_each_batch())] if variant.get("sync") else None
    est = Bench(cfg["model"], callbacks=callbacks, **params)
    result = time_fit_predict(est, cfg, data)
    return {**result, "note": f"predict_batch_size={est.net_.predict_batch_size}"}


def trainer_arguments(out, *, batch_size, lr, epochs, seed, cpu=True, bf16=False, **extra):
    """The Trainer recipe's ``TrainingArguments``: no evaluation, saving, logging or reports."""
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=out,
        per_device_train_batch_size=batch_size,
        learning_rate=lr,
        num_train_epochs=epochs,
        eval_strategy="no",
        save_strategy="no",
        logging_strategy="no",
        report_to=[],
        use_cpu=cpu,
        bf16=bf16,
        seed=seed,
        disable_tqdm=True,
        **extra,
    )


def arm_trainer(cfg, data):
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        pipeline,
    )

    Xtr, ytr, Xdev, ydev = data
    cpu = not str(cfg["device"]).startswith("cuda")
    t0, c0 = time.perf_counter(), cpu_seconds()
    tok = AutoTokenizer.from_pretrained(cfg["model"])
    enc = tok(Xtr, truncation=True, max_length=cfg["max_length"])
    train = [{**{k: enc[k][i] for k in enc.keys()}, "labels": int(ytr[i])} for i in range(len(Xtr))]
    t_tok, c_tok = time.perf_counter() - t0, cpu_seconds() - c0
    torch.manual_seed(cfg["seed"])
    model = AutoModelForSequenceClassification.from_pretrained(
        cfg["model"], num_labels=2, dtype=torch.float32
    )
    with tempfile.TemporaryDirectory() as out:
        args = trainer_arguments(
            out,
            batch_size=cfg["batch_size"],
            lr=cfg["lr"],
            epochs=cfg["epochs"],
            seed=cfg["seed"],
            cpu=cpu,
            bf16=cfg["bf16"],
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=train,
            data_collator=DataCollatorWithPadding(tok),
        )
        sync(cfg["device"])
        t0, c0 = time.perf_counter(), cpu_seconds()
        trainer.train()
        sync(cfg["device"])
        t_train = time.perf_counter() - t0 + t_tok
        c_train = cpu_seconds() - c0 + c_tok
    model.eval()
    if cfg["bf16"]:
        model.to(torch.bfloat16)  # bf16 weights for inference on the GPU
    clf = pipeline("text-classification", model=model, tokenizer=tok, device=cfg["device"])

    def run(bs):
        return clf(Xdev, batch_size=bs, truncation=True, max_length=cfg["max_length"])

    timings = {}
    for bs in sorted({1, 32, 64, cfg["predict_batch_size"]}):
        timings[bs], out = best_time(lambda bs=bs: run(bs), 1, cfg["device"])
        pred = [int(o["label"].rsplit("_", 1)[-1]) for o in out]
    best_bs = min(timings, key=timings.get)
    if cfg["predict_repeats"] > 1:  # the fastest batch size gets as many passes as the others
        again, _ = best_time(lambda: run(best_bs), cfg["predict_repeats"] - 1, cfg["device"])
        timings[best_bs] = min(timings[best_bs], again)
    return {
        "train_s": t_train,
        "train_cpu_s": c_train,
        "predict_s": timings[best_bs],
        "dev_acc": accuracy(pred, ydev),
        "pipeline": {str(bs): len(Xdev) / t for bs, t in timings.items()},
        "note": f"pipeline batch_size={best_bs} (fastest of {sorted(timings)})",
    }


def arm_skorch(cfg, data):
    import torch
    from sklearn.pipeline import Pipeline
    from skorch import NeuralNetClassifier
    from skorch.callbacks import LRScheduler
    from skorch.hf import HuggingfacePretrainedTokenizer
    from torch import nn
    from torch.optim.lr_scheduler import LambdaLR
    from transformers import AutoModelForSequenceClassification

    Xtr, ytr, Xdev, ydev = data
    name = cfg["model"]

    class BertModule(nn.Module):
        def __init__(self, name, num_labels):
            super().__init__()
            self.name = name
            self.num_labels = num_labels
            self.reset_weights()

        def reset_weights(self):
            self.bert = AutoModelForSequenceClassification.from_pretrained(
                self.name, num_labels=self.num_labels, dtype=torch.float32
            )

        def forward(self, **kwargs):
            return self.bert(**kwargs).logits

    num_training_steps = cfg["epochs"] * (len(Xtr) // cfg["batch_size"] + 1)

    def lr_schedule(current_step):
        return max(0.0, (num_training_steps - current_step) / max(1, num_training_steps))

    torch.manual_seed(cfg["seed"])
    tokenizer = HuggingfacePretrainedTokenizer(name, max_length=cfg["skorch_max_length"])
    pipe = Pipeline(
        [
            ("tokenizer", tokenizer),
            (
                "net",
                NeuralNetClassifier(
                    BertModule,
                    module__name=name,
                    module__num_labels=2,
                    optimizer=torch.optim.AdamW,
                    lr=cfg["lr"],
                    max_epochs=cfg["epochs"],
                    criterion=nn.CrossEntropyLoss,
                    batch_size=cfg["batch_size"],
                    iterator_train__shuffle=True,
                    train_split=False,
                    device=cfg["device"],
                    callbacks=[LRScheduler(LambdaLR, lr_lambda=lr_schedule, step_every="batch")],
                    verbose=0,
                ),
            ),
        ]
    )
    result = time_fit_predict(pipe, cfg, data)
    return {**result, "note": f"pads to max_length={cfg['skorch_max_length']}"}


def arm_throughput(cfg, data):
    """BERT-base-sized random model, every text exactly max_length tokens (steady state)."""
    import numpy as np
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from sktransformers import TransformerClassifier

    with tempfile.TemporaryDirectory() as path:
        tok = AutoTokenizer.from_pretrained(cfg["model"])
        tok.save_pretrained(path)
        torch.manual_seed(0)
        bert = BertModel(BertConfig(vocab_size=tok.vocab_size))  # BERT-base sizes
        n_params = sum(p.numel() for p in bert.parameters())
        bert.save_pretrained(path)
        del bert
        rng = np.random.default_rng(0)
        words = list(tok.get_vocab())
        words = [w for w in words if w.isalpha()][:5000]
        n = cfg["throughput_samples"]
        X = [" ".join(rng.choice(words, cfg["max_length"] * 2)) for _ in range(n)]
        y = rng.integers(0, 2, n)
        est = TransformerClassifier(
            path,
            max_epochs=1,
            batch_size=cfg["batch_size"],
            max_length=cfg["max_length"],
            device=cfg["device"],
            precision="bf16" if cfg["bf16"] else "fp32",
            random_state=0,
        )
        # Build the model and warm the kernels on a few batches, then time one
        # epoch of steady-state training (partial_fit continues the weights).
        est.partial_fit(X[: 4 * cfg["batch_size"]], y[: 4 * cfg["batch_size"]])
        sync(cfg["device"])
        t0 = time.perf_counter()
        est.partial_fit(X, y)
        sync(cfg["device"])
        t_train = time.perf_counter() - t0
        t0 = time.perf_counter()
        est.predict_proba(X)
        sync(cfg["device"])
        t_pred = time.perf_counter() - t0
    tokens = n * cfg["max_length"]
    tflops = 6 * n_params * tokens / t_train / 1e12
    return {
        "train_s": t_train,
        "predict_s": t_pred,
        "n_train": n,
        "n_predict": n,
        "params": n_params,
        "tflops": tflops,
        "pct_peak": 100 * tflops / BF16_PEAK_TFLOPS,
        "dev_acc": float("nan"),
        "note": f"{n_params / 1e6:.0f}M params, seq {cfg['max_length']}",
    }


ARM_FUNCS = {
    "sktransformers": arm_sktransformers,
    "trainer": arm_trainer,
    "skorch": arm_skorch,
    "throughput": arm_throughput,
}


def child(cfg):
    import torch

    data = None if cfg["arm"] == "throughput" else load_sst2(cfg["n_train"], cfg["seed"])
    if str(cfg["device"]).startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    result = ARM_FUNCS[cfg["arm"]](cfg, data)
    result.setdefault("n_train", len(data[0]) * cfg["epochs"] if data else 0)
    result.setdefault("n_predict", len(data[2]) if data else 0)
    result["peak_mb"] = peak_memory_mb(cfg["device"])
    print("RESULT " + json.dumps(result), flush=True)


def run_child(script, cfg):
    """Run ``script --_child CFG`` in a fresh Python process; its ``RESULT`` line, parsed.

    Every arm of the benchmark scripts runs this way, so its time and peak
    memory are its own.
    """
    proc = subprocess.run(
        [sys.executable, str(script), "--_child", json.dumps(cfg)],
        capture_output=True,
        text=True,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-6000:])
    raise RuntimeError(f"arm {cfg['arm']} failed (exit {proc.returncode})")


def run_arm(cfg):
    return run_child(__file__, cfg)


# ----------------------------------------------------------------------
# Reporting
# ----------------------------------------------------------------------
def machine():
    import torch
    import transformers

    model = platform.processor() or "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        found = re.search(r"Model name:\s*(.+)", out)
        model = found.group(1).strip() if found else model
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": gpu,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }


def load():
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


LABELS = {
    "sktransformers": "sktransformers",
    "trainer": "HF Trainer + pipeline",
    "skorch": "skorch docs recipe (skorch.hf tokenizer)",
}


def main_table(results):
    ref = results.get("trainer")
    lines = [
        "| arm | train samples/s | vs Trainer | train samples per CPU-second | predict "
        "sentences/s | vs pipeline | peak memory (MiB) | dev accuracy | note |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for arm, r in results.items():
        tr = r["n_train"] / r["train_s"]
        pr = r["n_predict"] / r["predict_s"]
        tr_ratio = pr_ratio = "–"
        if ref:
            tr_ratio = f"{tr / (ref['n_train'] / ref['train_s']):.2f}x"
            pr_ratio = f"{pr / (ref['n_predict'] / ref['predict_s']):.2f}x"
        per_cpu = f"{r['n_train'] / r['train_cpu_s']:.1f}" if r.get("train_cpu_s") else "–"
        lines.append(
            f"| {LABELS.get(arm, arm)} | {tr:.1f} | {tr_ratio} | {per_cpu} | {pr:.1f} | {pr_ratio} "
            f"| {r['peak_mb']:.0f} | {r['dev_acc']:.3f} | {r.get('note', '')} |"
        )
    if ref and "pipeline" in ref:
        per_bs = ", ".join(f"batch_size={bs}: {v:.1f}/s" for bs, v in ref["pipeline"].items())
        lines.append("")
        lines.append(f"HF pipeline sentences/s by batch size: {per_bs}.")
    return "\n".join(lines)


def steps_table(rows):
    lines = [
        "| engine step | train samples/s | vs previous | train samples per CPU-second "
        "| predict sentences/s | dev accuracy |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    prev = None
    for name, r in rows:
        tr = r["n_train"] / r["train_s"]
        ratio = "–" if prev is None else f"{tr / prev:.2f}x"
        prev = tr
        lines.append(
            f"| {name} | {tr:.1f} | {ratio} | {r['n_train'] / r['train_cpu_s']:.1f} "
            f"| {r['n_predict'] / r['predict_s']:.1f} "
            f"| {r['dev_acc']:.3f} |"
        )
    return "\n".join(lines)


def throughput_table(r):
    return (
        "| model | train samples/s | train tokens/s | TFLOP/s (6·params·tokens) "
        "| % of bf16 peak (790) | predict samples/s | peak memory (MiB) |\n"
        "|---|---:|---:|---:|---:|---:|---:|\n"
        f"| BERT-base random ({r['params'] / 1e6:.0f}M params), seq 128 "
        f"| {r['n_train'] / r['train_s']:.0f} | {r['n_train'] * 128 / r['train_s']:.0f} "
        f"| {r['tflops']:.1f} | {r['pct_peak']:.1f}% | {r['n_predict'] / r['predict_s']:.0f} "
        f"| {r['peak_mb']:.0f} |"
    )


def write_section(path, name, text):
    """Replace (or append) one marked section of a results file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    begin, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    block = f"{begin}\n{text.rstrip()}\n{end}"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        new = head + block + rest.split(end, 1)[1]
    else:
        new = (old.rstrip() + "\n\n" if old.strip() else "") + block + "\n"
    path.write_text(new, encoding="utf-8")


# Engine steps for --steps: each row adds one thing to the previous one.
STEPS = [
    (
        "random batches, dynamic padding, loss.item() per batch, foreach AdamW (skorch's loop)",
        {"grouping": False, "sync": True, "fused": False, "onednn": False},
    ),
    ("+ no per-batch host sync", {"grouping": False, "fused": False, "onednn": False}),
    ("+ length-grouped batches", {"fused": False, "onednn": False}),
    ("+ fused AdamW", {"onednn": False}),
    # Packing is the default only on AVX-512 CPUs: forced, so the row means the same everywhere.
    (
        "+ packed oneDNN linear weights in prediction (= the defaults on AVX-512 CPUs)",
        {"onednn": True},
    ),
    ("+ compile=True (not a default)", {"onednn": True, "params": {"compile": True}}),
]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--cpu", action="store_true", help="CPU mode (SST-2 subset, 1 epoch)")
    mode.add_argument("--gpu", action="store_true", help="GPU mode (full SST-2, 3 epochs, bf16)")
    p.add_argument("--arms", default=",".join(ARMS), help=f"comma list of {ARMS}")
    p.add_argument("--steps", action="store_true", help="engine steps, sktransformers arm only")
    p.add_argument("--n-train", type=int, default=None)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument(
        "--skorch-max-length",
        type=int,
        default=None,
        help="padding length of the skorch arm (default: --max-length)",
    )
    p.add_argument("--throughput-samples", type=int, default=8192)
    p.add_argument("--no-throughput", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--predict-repeats",
        type=int,
        default=3,
        help="prediction passes per arm; the table keeps the fastest",
    )
    p.add_argument("--no-write", action="store_true", help="print only")
    p.add_argument("--_child", help=argparse.SUPPRESS)
    p.add_argument(
        "--data-dir",
        default=None,
        help="data folder holding glue/SST-2/ (default: $SKTRANSFORMERS_DATA_DIR, "
        "else ../shared/data)",
    )
    args = p.parse_args(argv)
    if args.data_dir:
        global GLUE
        os.environ["SKTRANSFORMERS_DATA_DIR"] = str(Path(args.data_dir).resolve())  # children too
        GLUE = _glue_dir()
    if args._child:
        return child(json.loads(args._child))

    import torch

    from sktransformers.engine._hub import DEFAULT_MODEL, resolve_model

    gpu = args.gpu or (not args.cpu and torch.cuda.is_available())
    cfg = {
        "model": resolve_model(DEFAULT_MODEL),
        "device": "cuda" if gpu else "cpu",
        "bf16": gpu,
        "n_train": args.n_train if args.n_train is not None else (0 if gpu else 2000),
        "epochs": args.epochs or (3 if gpu else 1),
        "batch_size": args.batch_size,
        "predict_batch_size": 4 * args.batch_size,
        "predict_repeats": args.predict_repeats,
        "lr": args.lr,
        "max_length": args.max_length,
        "skorch_max_length": args.skorch_max_length or args.max_length,
        "seed": args.seed,
        "throughput_samples": args.throughput_samples,
    }
    command = "python benchmarks/bench_speed.py " + " ".join(sys.argv[1:] if argv is None else argv)
    info = machine()
    load_before = load()
    print(f"# {command}\n# {info}\n# load before: {load_before}", flush=True)
    results, step_rows = {}, []
    if args.steps:
        for name, variant in STEPS:
            r = run_arm({**cfg, "arm": "sktransformers", "variant": variant})
            step_rows.append((name, r))
            print(f"{name}: {r}", flush=True)
    else:
        for arm in [a.strip() for a in args.arms.split(",") if a.strip()]:
            results[arm] = run_arm({**cfg, "arm": arm})
            print(f"{arm}: {results[arm]}", flush=True)
    throughput = None
    if gpu and not args.steps and not args.no_throughput:
        throughput = run_arm({**cfg, "arm": "throughput", "max_length": 128})
    load_after = load()
    n_train = cfg["n_train"] or "all 67,349"
    header = (
        f"Date: {datetime.date.today().isoformat()}. Machine: {info['cpu']}, "
        f"{info['cores']} cores ({info['torch_threads']} torch threads)"
        + (f", GPU {info['gpu']}" if gpu else "")
        + f"; torch {info['torch']}, transformers {info['transformers']}.\n"
        f"Command: `{command}`. Load average (1/5/15 min) before: {load_before}; "
        f"after: {load_after}.\n"
        f"Setting: all-MiniLM-L6-v2 (float32 weights{', bf16 autocast' if gpu else ''}), "
        f"SST-2 train ({n_train} sentences, seed {cfg['seed']}), {cfg['epochs']} epoch(s), "
        f"batch {cfg['batch_size']}, lr {cfg['lr']}, max_length {cfg['max_length']}; full dev "
        "(872 sentences). Training time includes tokenization (and, for sktransformers and "
        "skorch, loading the model); prediction time includes tokenization and is the fastest "
        f"of {cfg['predict_repeats']} passes over dev (for the pipeline: at its fastest batch "
        "size).\n"
    )
    text = header
    if results:
        text += "\n" + main_table(results) + "\n"
    if step_rows:
        text += "\n" + steps_table(step_rows) + "\n"
    if throughput:
        text += "\n" + throughput_table(throughput) + "\n"
    print("\n" + text)
    if not args.no_write and (results or step_rows):
        name = "steps" if args.steps else "main"
        if not args.steps and tuple(results) != ARMS:  # a subset keeps its own section
            name += "_" + "_".join(results)
        name += "_gpu" if gpu else ""
        out = RESULTS / ("speed_gpu.md" if gpu else "speed_cpu.md")
        write_section(out, name, text)
        print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
