"""
Tuning a sentiment classifier on SST-2 with Optuna
==================================================

:func:`sktransformers.tuning.tune` searches the learning rate, epochs, batch
size, warmup and weight decay of a fine-tuning run. Each trial trains on 80%
of a small SST-2 sample and is scored on the other 20% after every epoch;
Optuna's median pruner stops trials that fall behind the median of earlier
trials at the same epoch, so poor settings cost one epoch instead of all.
The best settings are then refitted on the whole sample and scored on the
SST-2 dev set.

Runs in a few minutes on a CPU with the default model (all-MiniLM-L6-v2,
shipped with the package, no download)::

    python examples/optuna_sst2.py
    python examples/optuna_sst2.py --n-trials 20 --storage sqlite:///sst2.db --study-name sst2

Several processes or machines can work on one study: give them the same
``--storage`` (a PostgreSQL URL across machines) and ``--study-name``.

Needs the ``optuna`` extra (``pip install -e ".[optuna]"``). The SST-2 files
of the GLUE benchmark are read from ``DATA_DIR/glue/SST-2/``, where
``--data-dir DATA_DIR`` defaults to ``$SKTRANSFORMERS_DATA_DIR`` or else
``../shared/data`` beside the repository
(:func:`sktransformers.datasets.get_data_dir`); the script exits with a
message when they are missing.
``python examples/optuna_sst2.py --help`` lists the options.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def read_sst2(path, n, seed):
    import pandas as pd

    frame = pd.read_csv(path, sep="\t", quoting=csv.QUOTE_NONE, keep_default_na=False)
    frame = frame.sample(n=min(n, len(frame)), random_state=seed)
    return frame["sentence"].str.strip().tolist(), frame["label"].to_numpy()


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="optuna_sst2.py",
        description="Tune a sentiment classifier's training settings with Optuna on an "
        "SST-2 sample, then refit the best and score it on SST-2 dev.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    from sktransformers.datasets import find_data_file, get_data_dir

    parser.add_argument(
        "--data-dir",
        default=str(get_data_dir()),
        help="data folder holding glue/SST-2/{train,dev}.tsv; "
        "$SKTRANSFORMERS_DATA_DIR sets the default",
    )
    parser.add_argument(
        "--n-train",
        type=int,
        default=400,
        help="SST-2 training sentences to sample (80%% train, 20%% validation)",
    )
    parser.add_argument(
        "--n-dev", type=int, default=200, help="SST-2 dev sentences to score the refitted model on"
    )
    parser.add_argument("--n-trials", type=int, default=8, help="Optuna trials to run")
    parser.add_argument(
        "--storage",
        default=None,
        help="Optuna storage: none keeps the study in memory; "
        "sqlite:///file.db or a postgresql:// URL to share it",
    )
    parser.add_argument(
        "--study-name",
        default=None,
        help="name of the study; an existing study of that name is resumed",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampling and the search")
    args = parser.parse_args(argv)

    try:
        train_file = find_data_file("glue", "SST-2/train.tsv", args.data_dir)
        dev_file = find_data_file("glue", "SST-2/dev.tsv", args.data_dir)
    except FileNotFoundError:
        print(
            f"SST-2 not found in {args.data_dir}; pass --data-dir (or set "
            "SKTRANSFORMERS_DATA_DIR) to the folder holding glue/SST-2/. Skipping."
        )
        return 0

    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    from sktransformers import TransformerClassifier
    from sktransformers.tuning import default_search_space, tune

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    X, y = read_sst2(train_file, args.n_train, args.seed)
    X_dev, y_dev = read_sst2(dev_file, args.n_dev, args.seed)

    # The default space, narrowed so the example stays short on a CPU.
    space = {
        **default_search_space(),
        "lr": FloatDistribution(1e-5, 1e-3, log=True),
        "max_epochs": IntDistribution(1, 3),
        "batch_size": CategoricalDistribution([16, 32]),
        "max_length": 64,  # SST-2 sentences are short: fixed, not searched
    }
    clf = TransformerClassifier(device="cpu", random_state=args.seed)
    start = time.perf_counter()
    best, study = tune(
        clf,
        X,
        y,
        search_space=space,
        n_trials=args.n_trials,
        validation_fraction=0.2,
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0),
        storage=args.storage,
        study_name=args.study_name,
        load_if_exists=args.study_name is not None,
        random_state=args.seed,
    )
    elapsed = time.perf_counter() - start

    print(
        f"{'trial':>5} {'state':>9} {'epochs run':>10} {'valid acc':>9} "
        f"{'lr':>9} {'batch':>5} {'epochs':>6} {'warmup':>6} {'decay':>6}"
    )
    for t in study.trials:
        p = t.params
        value = "" if t.value is None else f"{t.value:.3f}"
        print(
            f"{t.number:>5} {t.state.name:>9} {len(t.intermediate_values):>10} {value:>9} "
            f"{p['lr']:>9.2e} {p['batch_size']:>5} {p['max_epochs']:>6} "
            f"{p['warmup_ratio']:>6.3f} {p['weight_decay']:>6.3f}"
        )
    states = [t.state.name for t in study.trials]
    print(
        f"{states.count('COMPLETE')} complete, {states.count('PRUNED')} pruned, "
        f"search + refit in {elapsed:.0f} s"
    )
    print(
        f"best trial {study.best_trial.number}: valid accuracy {study.best_value:.3f}, "
        f"params {study.best_params}"
    )
    print(
        f"refitted on {len(X)} texts: SST-2 dev accuracy {best.score(X_dev, y_dev):.3f} "
        f"({len(X_dev)} sentences)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
