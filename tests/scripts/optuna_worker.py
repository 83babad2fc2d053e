"""One worker of a shared Optuna study, launched by tests/test_postgres.py and
tests/test_tuning_faults.py.

    python tests/scripts/optuna_worker.py MODEL_DIR STORAGE_URL STUDY_NAME N_TRIALS
        [--heartbeat-interval S] [--grace-period S] [--hang-in-trial MARKER]

``--hang-in-trial MARKER`` stops the worker after the first training batch
of its first trial: it writes MARKER and sleeps, so that a test can kill it
with SIGKILL while the trial is RUNNING in the storage.
"""

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import optuna  # noqa: E402
from optuna.distributions import FloatDistribution  # noqa: E402
from skorch.callbacks import Callback  # noqa: E402

from sktransformers import TransformerClassifier  # noqa: E402
from sktransformers.tuning import tune  # noqa: E402


class HangAfterFirstBatch(Callback):
    def __init__(self, marker):
        self.marker = marker

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            Path(self.marker).write_text(str(os.getpid()))
            time.sleep(3600)  # killed here by the test


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("storage")
    parser.add_argument("study_name")
    parser.add_argument("n_trials", type=int)
    parser.add_argument("--heartbeat-interval", type=int, default=60)
    parser.add_argument("--grace-period", type=int, default=None)
    parser.add_argument("--hang-in-trial", default=None)
    args = parser.parse_args(argv)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    X = ["a great film", "awful acting", "i loved it", "i hated it"] * 4
    y = [1, 0, 1, 0] * 4
    callbacks = [HangAfterFirstBatch(args.hang_in_trial)] if args.hang_in_trial else None
    _, study = tune(
        TransformerClassifier(
            args.model,
            max_epochs=1,
            batch_size=8,
            device="cpu",
            random_state=0,
            callbacks=callbacks,
        ),
        X,
        y,
        search_space={"lr": FloatDistribution(1e-4, 1e-2, log=True)},
        n_trials=args.n_trials,
        validation_fraction=0.25,
        refit=False,
        storage=args.storage,
        study_name=args.study_name,
        load_if_exists=True,
        heartbeat_interval=args.heartbeat_interval,
        grace_period=args.grace_period,
    )
    print(f"worker {os.getpid()}: {len(study.trials)} trials in the study")


if __name__ == "__main__":
    main()
