"""Explanations (word attributions) and training curves.

Imported lazily by the package: ``from sktransformers import Explanation``;
the curves are public as :mod:`sktransformers.plot`.
"""

from ._attributions import Explanation, Explanations, explain

__all__ = ["Explanation", "Explanations", "explain"]
