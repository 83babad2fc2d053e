"""Parameters: declared once (``engine/_parameters.py``), as scikit-learn reads them.

Every front end's ``__init__`` is generated from the declarations, so these
tests check what users rely on: the signature scikit-learn reads
(``get_params``, ``clone``, searches), the defaults, validation in ``fit``
before any model loads, and the docs (every parameter documented once, with
the default it has).
"""

from __future__ import annotations

import inspect
from numbers import Integral

import pytest
from sklearn.base import clone
from sklearn.utils._param_validation import Interval, InvalidParameterError

import sktransformers
from sktransformers.engine._parameters import (
    EngineParameters,
    WholeTextParameters,
    estimator_parameters,
    parameter,
)

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
#: Estimators off the engine's base that take some engine parameters by name.
OFF_BASE = ["TransformerEmbedder", "FewShotClassifier"]
ALL = FRONT_ENDS + OFF_BASE
#: The front ends that read whole texts (the others fix these settings).
WHOLE_TEXTS = {"TransformerClassifier", "TransformerRegressor", "MultiTaskTransformer"}


def _params(cls):
    return {
        name: p for name, p in inspect.signature(cls.__init__).parameters.items() if name != "self"
    }


def _documented(cls):
    """``{name: header}`` of the docstring's Parameters section."""
    section = cls.__doc__.split("Parameters\n----------\n")[1].split("\n\n")[0]
    headers = [line for line in section.splitlines() if line and not line.startswith(" ")]
    return {h.split(" : ")[0]: h for h in headers}


ENGINE = _params(EngineParameters)
WHOLE = _params(WholeTextParameters)


@pytest.mark.parametrize("name", FRONT_ENDS)
def test_front_ends_take_the_engine_parameters_with_its_defaults(name):
    cls = getattr(sktransformers, name)
    params = _params(cls)
    assert set(ENGINE) <= set(params)
    assert (set(WHOLE) <= set(params)) == (name in WHOLE_TEXTS)
    assert not set(WHOLE) & set(params) or name in WHOLE_TEXTS
    for p, engine in {**ENGINE, **WHOLE}.items():
        if p not in params:
            assert p in vars(cls)  # a setting the front end fixes
            continue
        expected = OWN_DEFAULTS.get((name, p), engine.default)
        assert params[p].default == expected, f"{name}({p}=...) default"
        assert cls()._parameter_constraints[p] == EngineParameters._parameter_constraints.get(
            p, WholeTextParameters._parameter_constraints.get(p)
        )


@pytest.mark.parametrize("name", OFF_BASE)
def test_estimators_off_the_base_validate_engine_parameters_as_the_engine(name):
    cls = getattr(sktransformers, name)
    engine = {
        **EngineParameters._parameter_constraints,
        **WholeTextParameters._parameter_constraints,
    }
    own = {"FewShotClassifier": {"predict_batch_size"}}.get(name, set())  # None not allowed
    for p, constraints in cls._parameter_constraints.items():
        if p in engine and p not in own:
            assert constraints == engine[p], (name, p)


@pytest.mark.parametrize("name", ALL)
def test_model_is_positional_and_the_rest_keyword_only(name, tiny_model_dir):
    cls = getattr(sktransformers, name)
    kinds = {p: param.kind for p, param in _params(cls).items()}
    assert list(kinds)[0] == "model"
    assert kinds.pop("model") is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert set(kinds.values()) == {inspect.Parameter.KEYWORD_ONLY}
    assert cls(str(tiny_model_dir)).model == str(tiny_model_dir)
    with pytest.raises(TypeError):
        cls(str(tiny_model_dir), 64)


@pytest.mark.parametrize("name", ALL)
def test_every_parameter_is_stored_verbatim_validated_and_cloned(name):
    cls = getattr(sktransformers, name)
    est = cls()
    assert set(est.get_params()) == set(_params(cls)) == set(cls._parameter_constraints)
    assert all(c for c in cls._parameter_constraints.values())
    lora = {"r": 4}
    est.set_params(max_length=64, **({"lora": lora} if "lora" in _params(cls) else {}))
    copy = clone(est)
    assert copy.get_params()["max_length"] == 64 and copy is not est
    assert "lora" not in _params(cls) or est.lora is lora  # verbatim, not copied
    assert vars(cls()) == {p: param.default for p, param in _params(cls).items()}


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("TransformerClassifier", {"threshold": 2.0}),
        ("TransformerRegressor", {"lr": -1.0}),
        ("TransformerTokenClassifier", {"max_length": 1}),
        ("TransformerQuestionAnswerer", {"n_best": 0}),
        ("MultiTaskTransformer", {"sampling": "often"}),
        ("TransformerEmbedder", {"batch_size": 0}),
        ("FewShotClassifier", {"predict_batch_size": None}),
    ],
)
def test_bad_values_fail_in_fit_before_any_model_loads(name, bad):
    cls = getattr(sktransformers, name)
    est = cls(model="/nonexistent/model/dir", **bad)
    with pytest.raises(InvalidParameterError, match=next(iter(bad))):
        est.fit(["a b"], ["x"])


@pytest.mark.parametrize("name", sorted(set(FRONT_ENDS) - WHOLE_TEXTS))
def test_settings_a_front_end_fixes_are_not_parameters(name):
    cls = getattr(sktransformers, name)
    with pytest.raises(TypeError, match="pooling"):
        cls(pooling="cls")
    with pytest.raises(ValueError, match="Invalid parameter"):
        cls().set_params(long_texts="truncate")


@pytest.mark.parametrize("name", ALL)
def test_every_parameter_is_documented_once_with_its_default(name):
    cls = getattr(sktransformers, name)
    documented = _documented(cls)
    params = _params(cls)
    assert list(documented)[0] == "model"
    last = [p for p in ("callbacks", "random_state", "verbose") if p in params]
    assert list(documented)[len(documented) - len(last) :] == last
    assert set(documented) == set(params)
    for p, header in documented.items():
        default = params[p].default
        shown = f'"{default}"' if isinstance(default, str) else repr(default)
        assert header.endswith(f"default={shown}"), header


def test_a_front_end_declares_only_its_own_parameters():
    @estimator_parameters
    class Toy(WholeTextParameters, EngineParameters):
        """A toy front end.

        Parameters
        ----------
        depth : int, default=3
            How deep.
        """

        depth: int = parameter(default=3, constraints=[Interval(Integral, 1, None, closed="left")])
        lr: float = parameter(default=1e-3)

    toy = Toy("m", depth=4)
    assert (toy.model, toy.depth, toy.lr, toy.pooling) == ("m", 4, 1e-3, "mean")
    assert Toy._parameter_constraints["lr"] == EngineParameters._parameter_constraints["lr"]
    assert "lr : float, default=0.001\n    Peak learning rate of AdamW." in Toy.__doc__
    assert "depth : int, default=3\n    How deep." in Toy.__doc__


def test_an_unchecked_or_undocumented_parameter_stops_the_class():
    with pytest.raises(TypeError, match="without constraints"):

        @estimator_parameters
        class Unchecked:
            """Unchecked.

            Parameters
            ----------
            """

            depth: int = parameter(default=3, doc_type="int", doc="How deep.")

    with pytest.raises(TypeError, match="documented nowhere"):

        @estimator_parameters
        class Undocumented(EngineParameters):
            """Undocumented.

            Parameters
            ----------
            """

            depth: int = parameter(default=3, constraints=[int])

    with pytest.raises(TypeError, match="not its parameters"):

        @estimator_parameters
        class Stale(EngineParameters):
            """Stale.

            Parameters
            ----------
            depth : int, default=3
                Gone.
            """
