"""
Sentence embeddings as scikit-learn features
============================================

:class:`~sktransformers.TransformerEmbedder` turns texts into fixed-size
vectors with a pretrained model, without training it: a scikit-learn
transformer like :class:`~sklearn.feature_extraction.text.TfidfVectorizer`.
Its output goes into any scikit-learn model, here a
:class:`~sklearn.linear_model.LogisticRegression` in a
:class:`~sklearn.pipeline.Pipeline` scored by
:func:`~sklearn.model_selection.cross_val_score`, a 2-D
:class:`~sklearn.decomposition.PCA` picture, and a nearest-neighbour search.

Runs on the synthetic movie-review sample shipped with the package and the
default model, all-MiniLM-L6-v2 (installed with the package, no download).
"""

# sphinx_gallery_start_ignore
# `python examples/plot_embeddings.py --help` prints this and exits instead of running.
import argparse

_ = argparse.ArgumentParser(
    prog="plot_embeddings.py",
    description="Embed the shipped movie-review sample with TransformerEmbedder, score a "
    "logistic regression on the embeddings, plot them in 2-D and search neighbours. No options.",
).parse_args()
# sphinx_gallery_end_ignore

# %%
# Embed the texts
# ---------------
# ``fit`` only loads the model; ``transform`` returns one row per text (384
# numbers for all-MiniLM-L6-v2). With ``normalize=True`` the rows have unit
# length, so dot products are cosine similarities.
from sktransformers import TransformerEmbedder
from sktransformers.datasets import load_movie_reviews_sample

reviews = load_movie_reviews_sample()
embedder = TransformerEmbedder(normalize=True)
embeddings = embedder.fit_transform(reviews["text"])
print(embeddings.shape)

# %%
# A classifier on top
# -------------------
# In a pipeline, the embedder is refitted on each training fold like any
# other step (it learns nothing, so this only reloads the model).
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

pipe = make_pipeline(TransformerEmbedder(normalize=True), LogisticRegression(max_iter=1000))
scores = cross_val_score(pipe, reviews["text"], reviews["label"], cv=3)
print(f"accuracy over 3 folds: {scores.mean():.3f} (+/- {scores.std():.3f})")

# %%
# The embeddings in two dimensions
# --------------------------------
# Positive and negative reviews already fall apart along the first principal
# components, before any training on labels.
import matplotlib.pyplot as plt
from sklearn.decomposition import PCA

points = PCA(n_components=2, random_state=0).fit_transform(embeddings)
fig, ax = plt.subplots(figsize=(6, 4.5))
for label, name, color in [(0, "negative", "tab:red"), (1, "positive", "tab:blue")]:
    mask = (reviews["label"] == label).to_numpy()
    ax.scatter(points[mask, 0], points[mask, 1], s=12, alpha=0.6, label=name, color=color)
ax.set(
    xlabel="first principal component",
    ylabel="second principal component",
    title="all-MiniLM-L6-v2 embeddings of 600 reviews",
)
ax.legend()
plt.show()

# %%
# Nearest neighbours
# ------------------
# The reviews closest in meaning to a new sentence, by cosine similarity.
import numpy as np

query = embedder.transform(["The film was a complete waste of time."])[0]
similarity = embeddings @ query
for i in np.argsort(-similarity)[:3]:
    print(f"{similarity[i]:.2f}  {reviews['text'][i]}")
