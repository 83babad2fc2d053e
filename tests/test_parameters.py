"""Parameters: declared by the base estimator, re-listed by front ends only as scikit-learn needs.

scikit-learn reads an estimator's parameters from its own ``__init__``
signature (``get_params``, ``clone``, searches), so every front end lists the
engine's parameters it takes. What lives once is the rest: the constraints
(``_parameter_constraints``, inherited), the storing (``BaseTransformerEstimator.__init__``
or the same assignments) and the meaning. These tests keep the lists from drifting.
"""

from __future__ import annotations

import inspect

import pytest

import sktransformers
from sktransformers.engine._base import BaseTransformerEstimator

FRONT_ENDS = [
    "TransformerClassifier",
    "TransformerRegressor",
    "TransformerTokenClassifier",
    "TransformerQuestionAnswerer",
    "MultiTaskTransformer",
]
#: Defaults a front end sets on purpose (measured; see the docs' performance page).
OWN_DEFAULTS = {
    ("TransformerTokenClassifier", "lr"): 1e-4,
    ("TransformerQuestionAnswerer", "max_length"): 384,
}


def _params(cls):
    return {
        name: p for name, p in inspect.signature(cls.__init__).parameters.items() if name != "self"
    }


BASE = _params(BaseTransformerEstimator)


@pytest.mark.parametrize("name", FRONT_ENDS)
def test_engine_parameters_keep_the_base_defaults_and_annotations(name):
    cls = getattr(sktransformers, name)
    params = _params(cls)
    fixed = [p for p in BASE if p not in params]
    for p in fixed:  # a front end that drops a parameter fixes it as a class setting
        assert p in vars(cls) or any(p in vars(k) for k in cls.__mro__[1:-1]), (name, p)
    for p, param in params.items():
        if p not in BASE:
            continue
        expected = OWN_DEFAULTS.get((name, p), BASE[p].default)
        assert param.default == expected, f"{name}({p}=...) default drifted from the base's"
        assert param.annotation == BASE[p].annotation, f"{name}({p}) type drifted"
        assert param.kind == BASE[p].kind


@pytest.mark.parametrize("name", FRONT_ENDS)
def test_every_parameter_is_validated(name):
    cls = getattr(sktransformers, name)
    assert set(_params(cls)) <= set(cls._parameter_constraints), name
    est = cls()
    assert set(est.get_params()) == set(_params(cls))  # stored verbatim, as listed
