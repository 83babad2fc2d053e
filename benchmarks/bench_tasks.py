"""Task benchmarks: token classification (NER), multi-label classification, long texts.

Every arm runs in its own Python process (as in ``bench_speed.py``), so its
time and peak memory are its own. Results print as markdown tables with the
machine, date and command, and are written to
``benchmarks/results/tasks_cpu.md`` (``tasks_gpu.md`` on a GPU), one marked
section per table.

Sections (choose with flags; none given runs ``--ner --multilabel --long``)
--------------------------------------------------------------------------
``--ner``
    CoNLL-2003 English NER. ``TransformerTokenClassifier`` with its defaults
    beside the Hugging Face token-classification recipe
    (``AutoModelForTokenClassification`` + ``DataCollatorForTokenClassification``
    + ``Trainer``, only each word's first sub-word labelled, as in the
    transformers ``run_ner.py`` example) on the same training sentences
    (``--train-size``, seed 0), epochs, batch size, learning rate and
    ``max_length``: dev entity F1 (``seqeval.metrics.f1_score``, and its strict
    IOB2 mode) and training samples/s. Words the Trainer recipe truncates
    away (sentences over ``max_length`` sub-words) are predicted ``O``.
``--full``
    The default model alone on all 14,041 training sentences with its
    defaults: training time and dev F1.
``--multilabel``
    SemEval-2018 E-c, a held-out 20 % of the 5,858 tweets (seed 0):
    Jaccard (samples average), micro-F1 and macro-F1 of
    ``TransformerClassifier`` given the 0/1 indicator matrix (plain, with
    ``class_weight="balanced"``, and with ``--thresholds`` also with
    ``threshold="auto"``, per-label thresholds chosen on 20 % of the training
    tweets), against TF-IDF + ``OneVsRestClassifier(LogisticRegression)``
    (plain and with ``class_weight="balanced"``), beside the shared task's
    best system.
``--long``
    Long texts (``sktransformers.datasets.load_long_reviews``: SST-2
    sentences behind ~200 words of neutral filler, so the evidence sits past
    ``max_length``): ``long_texts="truncate"`` against ``"chunk"``, accuracy
    and the time each costs in training and prediction.

Usage
-----
On a quiet machine (the CPU numbers in the docs come from this)::

    flock /tmp/sktransformers-cpu.lock python benchmarks/bench_tasks.py
    flock /tmp/sktransformers-cpu.lock python benchmarks/bench_tasks.py --full

A smoke run of every section (minutes; numbers meaningless)::

    python benchmarks/bench_tasks.py --ner --multilabel --long --smoke --no-write

Data: ``../shared/data`` (or ``$SKTRANSFORMERS_DATA_DIR``): ``conll2003/``,
``semeval2018_ec/`` and ``glue/SST-2/``. Needs ``seqeval`` (the
``benchmark`` extra).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

from bench_speed import (  # noqa: E402  (shared helpers of the benchmark scripts)
    best_time,
    cpu_seconds,
    load,
    machine,
    peak_memory_mb,
    run_child,
    sync,
    trainer_arguments,
    warm_imports,
    write_section,
)

#: Best system of the SemEval-2018 Task 1 E-c shared task (English, official test set).
SEMEVAL_BEST = {"jaccard": 0.588, "micro_f1": 0.701, "macro_f1": 0.528}
#: Published BERT-base (cased) CoNLL-2003 F1 (Devlin et al., 2019).
BERT_BASE_CONLL = {"dev": 0.964, "test": 0.924}
#: The estimators' defaults, used when the estimators cannot be imported yet.
FALLBACK_DEFAULTS = {"max_epochs": 3, "batch_size": 32, "lr": 5e-5, "max_length": 128, "stride": 32}


# ----------------------------------------------------------------------
# Data (read in each child; every read is deterministic)
# ----------------------------------------------------------------------
def subsample(n_rows, size, seed):
    """Sorted row indices of a seeded random subset (all rows when ``size`` is falsy)."""
    import numpy as np

    if not size or size >= n_rows:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size, replace=False))


def ner_data(cfg):
    from sktransformers.datasets import load_conll2003

    train_x, train_y = load_conll2003("train", data_dir=cfg["data_dir"])
    dev_x, dev_y = load_conll2003("dev", data_dir=cfg["data_dir"])
    rows = subsample(len(train_x), cfg["train_size"], cfg["seed"])
    dev_rows = subsample(len(dev_x), cfg["dev_size"], cfg["seed"])
    return (
        [train_x[i] for i in rows],
        [train_y[i] for i in rows],
        [dev_x[i] for i in dev_rows],
        [dev_y[i] for i in dev_rows],
    )


def multilabel_data(cfg):
    from sklearn.model_selection import train_test_split

    from sktransformers.datasets import load_semeval2018_ec

    tweets, labels = load_semeval2018_ec(data_dir=cfg["data_dir"])
    X_train, X_test, Y_train, Y_test = train_test_split(
        tweets.tolist(), labels, test_size=0.2, random_state=0
    )
    rows = subsample(len(X_train), cfg["train_size"], cfg["seed"])
    test_rows = subsample(len(X_test), cfg["dev_size"], cfg["seed"])
    return (
        [X_train[i] for i in rows],
        Y_train.iloc[rows].reset_index(drop=True),
        [X_test[i] for i in test_rows],
        Y_test.iloc[test_rows].reset_index(drop=True),
    )


def long_data(cfg):
    from sktransformers.datasets import load_long_reviews

    common = dict(
        evidence_at=cfg["evidence_at"],
        filler_words=cfg["filler_words"],
        random_state=cfg["seed"],
        data_dir=cfg["data_dir"],
    )
    X_train, y_train = load_long_reviews("train", n_texts=cfg["train_size"], **common)
    X_dev, y_dev = load_long_reviews("dev", **common)
    rows = subsample(len(X_dev), cfg["dev_size"], cfg["seed"])
    return X_train, y_train, [X_dev[i] for i in rows], y_dev[rows]


# ----------------------------------------------------------------------
# Metrics
# ----------------------------------------------------------------------
def ner_scores(y_true, y_pred):
    from seqeval.metrics import f1_score
    from seqeval.scheme import IOB2

    return {
        "f1": float(f1_score(y_true, y_pred)),
        "f1_strict": float(f1_score(y_true, y_pred, mode="strict", scheme=IOB2)),
    }


def multilabel_scores(Y_true, Y_pred):
    import numpy as np
    from sklearn.metrics import f1_score, jaccard_score

    Y_true, Y_pred = np.asarray(Y_true), np.asarray(Y_pred)
    return {
        # A tweet with no emotion, predicted with none, is a match.
        "jaccard": float(jaccard_score(Y_true, Y_pred, average="samples", zero_division=1.0)),
        "micro_f1": float(f1_score(Y_true, Y_pred, average="micro", zero_division=0.0)),
        "macro_f1": float(f1_score(Y_true, Y_pred, average="macro", zero_division=0.0)),
    }


def first_subword_labels(word_ids, tags, tag_id):
    """Token labels of the HF recipe: each word's tag on its first sub-word, -100 elsewhere."""
    labels, previous = [], None
    for word in word_ids:
        labels.append(-100 if word is None or word == previous else tag_id[tags[word]])
        previous = word
    return labels


def tags_from_first_subwords(word_ids, token_tags, n_words, missing="O"):
    """One tag per word, from its first sub-word; words cut off by truncation get ``missing``."""
    tagged, previous = {}, None
    for pos, word in enumerate(word_ids):
        if word is not None and word != previous:
            tagged[word] = token_tags[pos]
        previous = word
    return [tagged.get(w, missing) for w in range(n_words)], n_words - len(tagged)


# ----------------------------------------------------------------------
# Arms (each runs in a child process)
# ----------------------------------------------------------------------
def estimator_params(cfg, text=False):
    """The estimator's parameters; ``text``: a text estimator's learning rate (not NER's)."""
    params = dict(
        max_epochs=cfg["epochs"],
        batch_size=cfg["batch_size"],
        lr=cfg["text_lr"] if text else cfg["lr"],
        max_length=cfg["max_length"],
        random_state=cfg["seed"],
        device=cfg["device"],
    )
    if cfg["bf16"]:
        params["precision"] = "bf16"
    return params


def timed_fit(estimator, X, y, cfg):
    warm_imports()
    sync(cfg["device"])
    t0, c0 = time.perf_counter(), cpu_seconds()
    estimator.fit(X, y)
    sync(cfg["device"])
    return time.perf_counter() - t0, cpu_seconds() - c0


def arm_ner_sktransformers(cfg):
    from sktransformers import TransformerTokenClassifier

    X, y, X_dev, y_dev = ner_data(cfg)
    params = estimator_params(cfg)
    notes = [f"max_epochs={cfg['epochs']}, the Trainer's"]
    if cfg.get("auto_epochs"):
        params["max_epochs"] = "auto"
        notes = ['max_epochs="auto"']
    cls = TransformerTokenClassifier
    factor = cfg.get("group_factor")
    if factor:  # length grouping within chunks of `factor` batches (the engine's: 50)
        from sktransformers.engine._data import LengthGroupedBatchSampler

        def grouped(dataset, batch_size, *, shuffle, seed):
            return LengthGroupedBatchSampler(
                dataset.lengths, batch_size, shuffle=shuffle, seed=seed, group_factor=factor
            )

        class Grouped(TransformerTokenClassifier):
            def _batch_sampler(self):
                return grouped

        cls = Grouped
        notes.append(f"length groups of {factor} batches")
    est = cls(cfg["model"], **params)
    t_train, c_train = timed_fit(est, X, y, cfg)
    t_pred, pred = best_time(lambda: est.predict(X_dev), 1, cfg["device"])
    assert all(len(p) == len(w) for p, w in zip(pred, X_dev)), "a word without a tag"
    return {
        **ner_scores(y_dev, pred),
        "train_s": t_train,
        "train_cpu_s": c_train,
        "predict_s": t_pred,
        "n_train": len(X) * est.max_epochs_,
        "n_rows": len(X),
        "n_predict": len(X_dev),
        "note": ", ".join(notes),
    }


def arm_ner_trainer(cfg):
    import numpy as np
    import torch
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        Trainer,
    )

    X, y, X_dev, y_dev = ner_data(cfg)
    tags = sorted({t for row in y for t in row})
    tag_id = {t: i for i, t in enumerate(tags)}
    cpu = not str(cfg["device"]).startswith("cuda")

    warm_imports()
    t0, c0 = time.perf_counter(), cpu_seconds()
    tok = AutoTokenizer.from_pretrained(cfg["model"])

    def encode(words, labels=None):
        enc = tok(words, is_split_into_words=True, truncation=True, max_length=cfg["max_length"])
        rows = []
        for i in range(len(words)):
            row = {k: enc[k][i] for k in enc.keys()}
            if labels is not None:
                row["labels"] = first_subword_labels(enc.word_ids(i), labels[i], tag_id)
            rows.append(row)
        return enc, rows

    _, train = encode(X, y)
    t_tok, c_tok = time.perf_counter() - t0, cpu_seconds() - c0
    torch.manual_seed(cfg["seed"])
    model = AutoModelForTokenClassification.from_pretrained(
        cfg["model"],
        num_labels=len(tags),
        id2label=dict(enumerate(tags)),
        label2id=tag_id,
        dtype=torch.float32,
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
            per_device_eval_batch_size=4 * cfg["batch_size"],
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=train,
            data_collator=DataCollatorForTokenClassification(tok),
        )
        sync(cfg["device"])
        t0, c0 = time.perf_counter(), cpu_seconds()
        trainer.train()
        sync(cfg["device"])
        t_train, c_train = time.perf_counter() - t0 + t_tok, cpu_seconds() - c0 + c_tok

        def predict():
            enc, rows = encode(X_dev)
            logits = trainer.predict(rows).predictions  # padded with -100 across batches
            pred, lost = [], 0
            for i, words in enumerate(X_dev):
                token_tags = [tags[k] for k in np.argmax(logits[i], axis=-1)]
                row, cut = tags_from_first_subwords(enc.word_ids(i), token_tags, len(words))
                pred.append(row)
                lost += cut
            return pred, lost

        t_pred, (pred, lost) = best_time(predict, 1, cfg["device"])
    return {
        **ner_scores(y_dev, pred),
        "train_s": t_train,
        "train_cpu_s": c_train,
        "predict_s": t_pred,
        "n_train": len(X) * cfg["epochs"],
        "n_rows": len(X),
        "n_predict": len(X_dev),
        "note": f"first sub-word labelled; {lost} dev words past max_length predicted O",
    }


def arm_ml_sktransformers(cfg):
    X, Y, X_test, Y_test = multilabel_data(cfg)
    from sktransformers import TransformerClassifier

    params = estimator_params(cfg, text=True)
    if cfg.get("class_weight"):
        params["class_weight"] = cfg["class_weight"]
    if cfg.get("threshold") == "auto":  # per-label thresholds chosen on 20 % held out
        params.update(threshold="auto", validation_fraction=0.2)
    est = TransformerClassifier(cfg["model"], **params)
    t_train, c_train = timed_fit(est, X, Y, cfg)
    t_pred, P = best_time(lambda: est.predict(X_test), 1, cfg["device"])
    assert getattr(est, "multilabel_", True) and P.shape == Y_test.shape
    note = "indicator matrix y, threshold 0.5"
    if cfg.get("threshold") == "auto":
        note = (
            "indicator matrix y, threshold='auto' (validation_fraction=0.2: "
            "thresholds " + ", ".join(f"{t:.2f}" for t in est.thresholds_) + ")"
        )
    if cfg.get("class_weight"):
        note += f", class_weight={cfg['class_weight']!r}"
    return {
        **multilabel_scores(Y_test, P),
        "train_s": t_train,
        "train_cpu_s": c_train,
        "predict_s": t_pred,
        "n_train": len(X) * cfg["epochs"],
        "n_rows": len(X),
        "n_predict": len(X_test),
        "note": note,
    }


def arm_ml_tfidf(cfg):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline

    X, Y, X_test, Y_test = multilabel_data(cfg)
    weight = cfg.get("class_weight")
    pipe = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        OneVsRestClassifier(LogisticRegression(max_iter=1000, class_weight=weight)),
    )
    t0, c0 = time.perf_counter(), cpu_seconds()
    pipe.fit(X, Y.to_numpy())
    t_train, c_train = time.perf_counter() - t0, cpu_seconds() - c0
    t_pred, P = best_time(lambda: pipe.predict(X_test), 1, "cpu")
    return {
        **multilabel_scores(Y_test, P),
        "train_s": t_train,
        "train_cpu_s": c_train,
        "predict_s": t_pred,
        "n_train": len(X),
        "n_rows": len(X),
        "n_predict": len(X_test),
        "note": "word 1-2-grams, sublinear tf, min_df=2; LogisticRegression(C=1"
        + (f", class_weight={weight!r})" if weight else ")"),
    }


def arm_long(cfg):
    import numpy as np
    from transformers import AutoTokenizer

    from sktransformers import TransformerClassifier

    X, y, X_dev, y_dev = long_data(cfg)
    est = TransformerClassifier(
        cfg["model"],
        long_texts=cfg["long_texts"],
        stride=cfg["stride"],
        **estimator_params(cfg, text=True),
    )
    t_train, c_train = timed_fit(est, X, y, cfg)
    t_pred, pred = best_time(lambda: est.predict(X_dev), 1, cfg["device"])
    tok = AutoTokenizer.from_pretrained(cfg["model"])
    lengths = [len(ids) - 2 for ids in tok(X_dev, verbose=False)["input_ids"]]
    # The windows the tokenizer makes of each text (what "chunk" reads).
    windows = np.bincount(
        tok(
            X_dev,
            truncation=True,
            max_length=cfg["max_length"],
            stride=cfg["stride"],
            return_overflowing_tokens=True,
        )["overflow_to_sample_mapping"]
    )
    if cfg["long_texts"] == "truncate":
        windows = np.ones(len(X_dev))
    return {
        "accuracy": float(np.mean(np.asarray(pred) == y_dev)),
        "train_s": t_train,
        "train_cpu_s": c_train,
        "predict_s": t_pred,
        "n_train": len(X) * cfg["epochs"],
        "n_rows": len(X),
        "n_predict": len(X_dev),
        "tokens": float(np.mean(lengths)),
        "windows": float(np.mean(windows)),
    }


ARM_FUNCS = {
    "ner_sktransformers": arm_ner_sktransformers,
    "ner_trainer": arm_ner_trainer,
    "ml_sktransformers": arm_ml_sktransformers,
    "ml_tfidf": arm_ml_tfidf,
    "long": arm_long,
}


def child(cfg):
    import torch

    if str(cfg["device"]).startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    result = ARM_FUNCS[cfg["arm"]](cfg)
    result["peak_mb"] = peak_memory_mb(cfg["device"])
    print("RESULT " + json.dumps(result), flush=True)


def run_arm(cfg):
    return run_child(__file__, cfg)


# ----------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------
def rate(r, key="n_train", time_key="train_s"):
    return r[key] / r[time_key] if r.get(time_key) else float("nan")


def ner_table(results):
    ref = results.get("trainer")
    lines = [
        "| arm | train sentences x epochs | train samples/s | vs Trainer | train time (s) "
        "| dev F1 (seqeval) | dev F1 (strict IOB2) | predict sentences/s | peak memory (MiB) "
        "| note |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    names = {"sktransformers": "TransformerTokenClassifier", "trainer": "HF Trainer recipe"}
    for arm, r in results.items():
        ratio = f"{rate(r) / rate(ref):.2f}x" if ref else "–"
        epochs = r["n_train"] // max(1, r["n_rows"])
        lines.append(
            f"| {names.get(arm, arm)} | {r['n_rows']:,} x {epochs} | {rate(r):.1f} | {ratio} "
            f"| {r['train_s']:.0f} | {r['f1']:.4f} | {r['f1_strict']:.4f} "
            f"| {rate(r, 'n_predict', 'predict_s'):.1f} | {r['peak_mb']:.0f} | {r['note']} |"
        )
    return "\n".join(lines)


def ner_full_table(r):
    return (
        "| model | train sentences x epochs | train time | train samples/s | dev F1 (seqeval) "
        "| dev F1 (strict IOB2) | predict sentences/s |\n"
        "|---|---:|---:|---:|---:|---:|---:|\n"
        f"| all-MiniLM-L6-v2 (6 layers, uncased), TransformerTokenClassifier defaults "
        f"| {r['n_rows']:,} x {r['n_train'] // max(1, r['n_rows'])} "
        f"| {r['train_s'] / 60:.1f} min | {rate(r):.1f} | {r['f1']:.4f} | {r['f1_strict']:.4f} "
        f"| {rate(r, 'n_predict', 'predict_s'):.1f} |\n"
        f"| BERT-base cased (published; 12 layers) | 14,041 x 4 | – | – "
        f"| {BERT_BASE_CONLL['dev']:.3f} | – | – |"
    )


def multilabel_table(results):
    lines = [
        "| system | Jaccard (samples) | micro-F1 | macro-F1 | train time (s) | predict time (s) "
        "| note |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    names = {
        "sktransformers": "TransformerClassifier (all-MiniLM-L6-v2)",
        "sktransformers_balanced": "TransformerClassifier, class_weight='balanced'",
        "sktransformers_thresholds": "TransformerClassifier, threshold='auto'",
        "sktransformers_balanced_thresholds": (
            "TransformerClassifier, class_weight='balanced', threshold='auto'"
        ),
        "tfidf": "TF-IDF + OneVsRest(LogisticRegression)",
        "tfidf_balanced": "TF-IDF + OneVsRest(LogisticRegression, balanced)",
    }
    for arm, r in results.items():
        lines.append(
            f"| {names.get(arm, arm)} | {r['jaccard']:.3f} | {r['micro_f1']:.3f} "
            f"| {r['macro_f1']:.3f} | {r['train_s']:.1f} | {r['predict_s']:.1f} | {r['note']} |"
        )
    best = SEMEVAL_BEST
    lines.append(
        f"| SemEval-2018 E-c best system (official test set, not this split) "
        f"| {best['jaccard']:.3f} | {best['micro_f1']:.3f} | {best['macro_f1']:.3f} | – | – "
        "| published |"
    )
    return "\n".join(lines)


def long_table(results, cfg):
    ref = results.get("truncate")
    lines = [
        "| long_texts | dev accuracy | train time (s) | vs truncate | predict time (s) "
        "| vs truncate | windows per text (mean) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for mode, r in results.items():
        tr = f"{r['train_s'] / ref['train_s']:.2f}x" if ref else "–"
        pr = f"{r['predict_s'] / ref['predict_s']:.2f}x" if ref else "–"
        lines.append(
            f"| `{mode}` | {r['accuracy']:.3f} | {r['train_s']:.0f} | {tr} "
            f"| {r['predict_s']:.1f} | {pr} | {r['windows']:.2f} |"
        )
    any_r = next(iter(results.values()))
    lines.append("")
    lines.append(
        f"Texts: {any_r['n_rows']:,} training, {any_r['n_predict']} dev; "
        f"{any_r['tokens']:.0f} tokens per dev text on average, the evidence at the "
        f"{cfg['evidence_at']} (`load_long_reviews(filler_words={cfg['filler_words']}, "
        f"evidence_at={cfg['evidence_at']!r})`); max_length {cfg['max_length']}, stride "
        f"{cfg['stride']}. Chance is 0.5."
    )
    return "\n".join(lines)


# ----------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------
def estimator_defaults(name="TransformerTokenClassifier"):
    """The defaults of estimator ``name`` (else of the classifier, else constants)."""
    try:
        import sktransformers

        cls = getattr(sktransformers, name, None) or sktransformers.TransformerClassifier
        params = cls().get_params()
        return {k: params.get(k, v) for k, v in FALLBACK_DEFAULTS.items()}
    except Exception:  # noqa: BLE001  (the engine may be mid-rewrite)
        return dict(FALLBACK_DEFAULTS)


def header(info, cfg, command, load_before, load_after, gpu):
    return (
        f"Date: {datetime.date.today().isoformat()}. Machine: {info['cpu']}, "
        f"{info['cores']} cores ({info['torch_threads']} torch threads)"
        + (f", GPU {info['gpu']}" if gpu else "")
        + f"; torch {info['torch']}, transformers {info['transformers']}.\n"
        f"Command: `{command}`. Load average (1/5/15 min) before: {load_before}; "
        f"after: {load_after}.\n"
        f"Model: all-MiniLM-L6-v2 (float32 weights{', bf16 autocast' if gpu else ''}); "
        f"{cfg['epochs']} epoch(s), batch {cfg['batch_size']}, lr {cfg['lr']}, "
        f"max_length {cfg['max_length']}, seed {cfg['seed']}. Training time includes "
        "tokenization (and, for sktransformers, loading the model); prediction time includes "
        "tokenization, one pass.\n"
    )


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--ner", action="store_true", help="NER: sktransformers vs the HF Trainer")
    p.add_argument("--full", action="store_true", help="NER on all 14,041 sentences, ours only")
    p.add_argument("--multilabel", action="store_true", help="SemEval-2018 E-c vs TF-IDF")
    p.add_argument("--long", action="store_true", help="long_texts='chunk' vs 'truncate'")
    p.add_argument(
        "--arms",
        default="sktransformers,trainer,tfidf",
        help="arms to run: sktransformers (every section), trainer (NER), tfidf (multi-label)",
    )
    p.add_argument(
        "--train-size",
        type=int,
        default=2000,
        help="NER training sentences (seeded subset; 0 = all)",
    )
    p.add_argument(
        "--ml-train-size",
        type=int,
        default=0,
        help="multi-label training tweets from the 80%% split (0 = all 4,686)",
    )
    p.add_argument("--long-train-size", type=int, default=1000, help="long training texts")
    p.add_argument(
        "--dev-size",
        type=int,
        default=0,
        help="cap on dev / held-out rows of every section (0 = all)",
    )
    p.add_argument("--epochs", type=int, default=None, help="default: 3, the Trainer's")
    p.add_argument("--batch-size", type=int, default=None, help="default: the estimator's")
    p.add_argument("--lr", type=float, default=None, help="default: the estimator's")
    p.add_argument("--max-length", type=int, default=None, help="default: the estimator's")
    p.add_argument("--stride", type=int, default=None, help="default: the estimator's")
    p.add_argument("--filler-words", type=int, default=200, help="long texts: filler words")
    p.add_argument("--evidence-at", default="end", choices=["end", "start", "scattered"])
    p.add_argument(
        "--group-factors",
        type=int,
        nargs="*",
        default=[],
        help="NER: extra rows with length groups of this many batches (the engine uses 50)",
    )
    p.add_argument(
        "--auto-epochs",
        action="store_true",
        help='NER: an extra row with max_epochs="auto"',
    )
    p.add_argument(
        "--thresholds",
        action="store_true",
        help="multi-label: add rows with threshold='auto' (per-label thresholds)",
    )
    p.add_argument(
        "--no-balanced",
        action="store_true",
        help="multi-label: skip the class_weight='balanced' sktransformers row",
    )
    p.add_argument(
        "--smoke", action="store_true", help="tiny sizes and 1 epoch, to check that every arm runs"
    )
    p.add_argument("--model", default=None, help="model id or directory (default: the package's)")
    p.add_argument("--data-dir", default=None, help="data folder (default: as the loaders find it)")
    p.add_argument("--cpu", action="store_true", help="stay on the CPU even with a GPU")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-write", action="store_true", help="print only")
    p.add_argument("--_child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._child:
        return child(json.loads(args._child))

    import torch

    from sktransformers.engine._hub import DEFAULT_MODEL, resolve_model

    if not (args.ner or args.full or args.multilabel or args.long):
        args.ner = args.multilabel = args.long = True
    if args.smoke:
        args.train_size, args.ml_train_size, args.long_train_size = 64, 64, 32
        args.dev_size = args.dev_size or 48
        args.epochs = args.epochs or 1
    defaults = estimator_defaults()
    gpu = not args.cpu and torch.cuda.is_available()
    cfg = {
        "model": args.model or resolve_model(DEFAULT_MODEL),
        "device": "cuda" if gpu else "cpu",
        "bf16": gpu,
        # Both arms train the same epochs: the Trainer's 3 unless --epochs says otherwise
        # (the estimator's own "auto" budget is the --auto-epochs row).
        "epochs": args.epochs or 3,
        "batch_size": args.batch_size or defaults["batch_size"],
        "lr": args.lr or defaults["lr"],  # NER's (both arms)
        "text_lr": args.lr or estimator_defaults("TransformerClassifier")["lr"],
        "max_length": args.max_length or defaults["max_length"],
        "stride": args.stride or defaults["stride"],
        "seed": args.seed,
        "dev_size": args.dev_size,
        "data_dir": args.data_dir,
    }
    command = "python benchmarks/bench_tasks.py " + " ".join(sys.argv[1:] if argv is None else argv)
    info = machine()
    load_before = load()
    print(f"# {command}\n# {info}\n# load before: {load_before}\n# {cfg}", flush=True)
    sections = {}

    def arm(name, **extra):
        r = run_arm({**cfg, "arm": name, **extra})
        print(f"{name} {extra}: {r}", flush=True)
        return r

    arms = {a.strip() for a in args.arms.split(",") if a.strip()}
    if args.ner:
        ner = {}
        for which in ("sktransformers", "trainer"):
            if which in arms:
                ner[which] = arm(f"ner_{which}", train_size=args.train_size)
        if "sktransformers" in arms:
            for factor in args.group_factors:
                ner[f"sktransformers, groups of {factor}"] = arm(
                    "ner_sktransformers", train_size=args.train_size, group_factor=factor
                )
            if args.auto_epochs:
                ner["sktransformers, auto epochs"] = arm(
                    "ner_sktransformers", train_size=args.train_size, auto_epochs=True
                )
        sections["ner"] = (
            f"CoNLL-2003 English NER: {args.train_size or 14041:,} training sentences "
            f"(seed {args.seed}), dev {'all 3,250' if not args.dev_size else args.dev_size} "
            "sentences.\n\n" + ner_table(ner)
        )
    if args.full and "sktransformers" in arms:
        r = arm("ner_sktransformers", train_size=0)
        sections["ner_full"] = (
            "CoNLL-2003 English NER, all training sentences, TransformerTokenClassifier "
            "defaults.\n\n" + ner_full_table(r)
        )
    if args.multilabel:
        ml = {}
        if "sktransformers" in arms:
            ml["sktransformers"] = arm("ml_sktransformers", train_size=args.ml_train_size)
            if not args.no_balanced:
                ml["sktransformers_balanced"] = arm(
                    "ml_sktransformers", train_size=args.ml_train_size, class_weight="balanced"
                )
            if args.thresholds:
                ml["sktransformers_thresholds"] = arm(
                    "ml_sktransformers", train_size=args.ml_train_size, threshold="auto"
                )
                if not args.no_balanced:
                    ml["sktransformers_balanced_thresholds"] = arm(
                        "ml_sktransformers",
                        train_size=args.ml_train_size,
                        class_weight="balanced",
                        threshold="auto",
                    )
        if "tfidf" in arms:
            ml["tfidf"] = arm("ml_tfidf", train_size=args.ml_train_size)
            ml["tfidf_balanced"] = arm(
                "ml_tfidf", train_size=args.ml_train_size, class_weight="balanced"
            )
        r = next(iter(ml.values()))
        sections["multilabel"] = (
            f"SemEval-2018 E-c: {r['n_rows']:,} training tweets, {r['n_predict']:,} held out "
            "(`train_test_split(test_size=0.2, random_state=0)` of the 5,858 in the task's "
            "training file). Jaccard counts a tweet with no emotion, predicted with none, "
            "as a match.\n\n" + multilabel_table(ml)
        )
    if args.long and "sktransformers" in arms:
        long_cfg = dict(
            train_size=args.long_train_size,
            evidence_at=args.evidence_at,
            filler_words=args.filler_words,
        )
        results = {mode: arm("long", long_texts=mode, **long_cfg) for mode in ("truncate", "chunk")}
        sections["long"] = long_table(results, {**cfg, **long_cfg})

    load_after = load()
    head = header(info, cfg, command, load_before, load_after, gpu)
    out = RESULTS / ("tasks_gpu.md" if gpu else "tasks_cpu.md")
    for name, text in sections.items():
        block = head + "\n" + text + "\n"
        print("\n" + block)
        if not args.no_write:
            write_section(out, name + ("_smoke" if args.smoke else ""), block)
    if sections and not args.no_write:
        print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
