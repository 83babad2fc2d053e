"""Scores of the package's tasks that scikit-learn does not have.

- :func:`squad_exact_match` and :func:`squad_f1`: SQuAD's exact match and
  token F1 for extractive question answering (``TransformerQuestionAnswerer``).
- :data:`squad_exact_match_scorer` and :data:`squad_f1_scorer`: the same as
  scikit-learn scorers, for ``cross_val_score``, ``GridSearchCV`` and
  ``cross_validate(scoring={"exact_match": ..., "f1": ...})``.

Entity F1 for token classification is ``TransformerTokenClassifier.score``
(seqeval's strict IOB2 ``f1_score``).
"""

from __future__ import annotations

from sklearn.metrics import make_scorer

from .tasks._span import squad_exact_match, squad_f1

squad_exact_match_scorer = make_scorer(squad_exact_match)
squad_f1_scorer = make_scorer(squad_f1)

__all__ = ["squad_exact_match", "squad_exact_match_scorer", "squad_f1", "squad_f1_scorer"]
