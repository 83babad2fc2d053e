"""One worker of a shared Optuna study, launched by tests/test_postgres.py.

    python tests/scripts/optuna_worker.py MODEL_DIR STORAGE_URL STUDY_NAME N_TRIALS
"""

import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import optuna  # noqa: E402
from optuna.distributions import FloatDistribution  # noqa: E402

from sktransformers import TransformerClassifier  # noqa: E402
from sktransformers.tuning import tune  # noqa: E402


def main(model, storage, study_name, n_trials):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    X = ["a great film", "awful acting", "i loved it", "i hated it"] * 4
    y = [1, 0, 1, 0] * 4
    _, study = tune(
        TransformerClassifier(model, max_epochs=1, batch_size=8, device="cpu", random_state=0),
        X, y,
        search_space={"lr": FloatDistribution(1e-4, 1e-2, log=True)},
        n_trials=n_trials, validation_fraction=0.25, refit=False,
        storage=storage, study_name=study_name, load_if_exists=True,
    )
    print(f"worker {os.getpid()}: {len(study.trials)} trials in the study")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
