"""The real default model on real data: fine-tune on an SST-2 slice, check dev accuracy."""

import pytest
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

from sktransformers import TransformerClassifier
from sktransformers.datasets import load_glue


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_default_model_learns_sst2(glue_dir):
    X, y = load_glue("SST-2", "train", glue_dir)
    X, _, y, _ = train_test_split(X, y, train_size=2000, random_state=0, stratify=y)
    X_dev, y_dev = load_glue("SST-2", "dev", glue_dir)

    clf = TransformerClassifier(max_epochs=1, lr=1e-4, random_state=0).fit(X, y)

    accuracy = accuracy_score(y_dev, clf.predict(X_dev))
    # Chance is 0.51 on this dev set; one epoch on 2,000 sentences reaches about 0.8.
    assert accuracy > 0.75, accuracy
