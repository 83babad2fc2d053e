"""
Classify movie reviews in a few lines
=====================================

The quickstart of the README, step by step: fine-tune the default model,
all-MiniLM-L6-v2, on short movie reviews, evaluate it with scikit-learn's
metrics, then save it and load it back.

The reviews are the 600-text synthetic sample shipped with the package, so
this runs anywhere without a download, in well under a minute on a laptop
CPU. (The sample is easy; its scores say nothing about real data. See
:doc:`finetune_sst2` for a real benchmark.)
"""

# sphinx_gallery_start_ignore
# `python examples/plot_quickstart.py --help` prints this and exits instead of training.
import argparse

_ = argparse.ArgumentParser(
    prog="plot_quickstart.py",
    description="Fine-tune the default model on the shipped movie-review sample, show a "
    "classification report and a confusion matrix, save and reload the model. No options.",
).parse_args()
# sphinx_gallery_end_ignore

# %%
# The data
# --------
# A DataFrame with a ``text`` and a ``label`` column (0 negative, 1 positive).
# Any list, array or Series of strings works as ``X``.
from sklearn.model_selection import train_test_split

from sktransformers.datasets import load_movie_reviews_sample

reviews = load_movie_reviews_sample()
print(reviews.head())

X_train, X_test, y_train, y_test = train_test_split(
    reviews["text"], reviews["label"], test_size=0.25, random_state=0, stratify=reviews["label"]
)
print(f"{len(X_train)} reviews to train on, {len(X_test)} to test on")

# %%
# Fine-tune
# ---------
# ``fit`` tokenizes the texts once, then fine-tunes the whole model. One
# epoch is enough here; ``verbose=1`` prints a row per epoch (and a progress
# bar in a terminal).
from sktransformers import TransformerClassifier

clf = TransformerClassifier(max_epochs=1, lr=1e-4, random_state=0, verbose=1)
clf.fit(X_train, y_train)

# %%
# Evaluate
# --------
# ``predict`` and ``predict_proba`` behave as in any scikit-learn classifier,
# so scikit-learn's metrics and displays work unchanged.
import matplotlib.pyplot as plt
from sklearn.metrics import ConfusionMatrixDisplay, classification_report

y_pred = clf.predict(X_test)
print(classification_report(y_test, y_pred, target_names=["negative", "positive"]))

ConfusionMatrixDisplay.from_predictions(
    y_test, y_pred, display_labels=["negative", "positive"], colorbar=False
)
plt.title("Held-out reviews")
plt.show()

# %%
# New texts get a class and a probability per class:
texts = ["An absolute delight from start to finish.", "Two hours I will never get back."]
for text, proba in zip(texts, clf.predict_proba(texts)):
    print(f"P(positive) = {proba[1]:.2f}  {text}")

# %%
# Save and load
# -------------
# ``save_pretrained`` writes safetensors weights and JSON, no pickle; the
# folder loads back with ``from_pretrained`` (and is also a Hugging Face
# model directory). Here it goes to a temporary folder.
import tempfile

with tempfile.TemporaryDirectory() as folder:
    clf.save_pretrained(folder)
    reloaded = TransformerClassifier.from_pretrained(folder)
    print("same predictions after reloading:", (reloaded.predict(X_test) == y_pred).all())
