"""Property tests of every estimator's input checking (``hypothesis``).

The property: whatever a user passes as ``X`` and ``y``, the estimator
raises a clear ``ValueError`` or ``TypeError``, or accepts the input and
gives a correct result; never another exception, never a hang.

Most examples stop where the model would load: the loaders of
``sktransformers.engine._hub`` are replaced by one that raises ``ModelLoaded``, so
an example either fails validation (cheaply) or reaches the model with
checked input ("accepted"). A few properties run the tiny model for real
(``predict`` on arbitrary texts after one short ``fit``). Examples are
derandomized (the same every run) and bounded in size and number, so the
whole file takes well under a minute. Failing examples found here are fixed
and pinned as named tests in ``tests/test_trust_inputs.py``.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from unittest import mock

import numpy as np
import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from conftest import tiny_model_path  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sktransformers import (  # noqa: E402
    FewShotClassifier,
    MultiTaskTransformer,
    TextAugmenter,
    TransformerClassifier,
    TransformerEmbedder,
    TransformerQuestionAnswerer,
    TransformerRegressor,
    TransformerTokenClassifier,
)
from sktransformers.engine import _hub  # noqa: E402
from sktransformers.utils._text_input import check_texts, check_words  # noqa: E402

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=5000,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(FUZZ, max_examples=15, deadline=20000)

# Messages of errors raised deep inside numpy/Python, not written for users.
UNCLEAR = (
    "inhomogeneous",
    "not supported between",
    "Unknown label type: unknown",
    "invalid literal",
    "could not convert",
    "unhashable",
    "not subscriptable",
    "has no len",
    "object of type",
    "object is not",
    "setting an array element",
    "argument must be",
    "index out of",
    "list index",
    "cannot be interpreted",
)


class ModelLoaded(Exception):
    """Raised where a model would load: the input passed every check."""


@contextmanager
def no_model():
    def loaded(*args, **kwargs):
        raise ModelLoaded

    names = ("load_config", "load_tokenizer", "load_backbone", "load_parts")
    with mock.patch.multiple(_hub, **{n: loaded for n in names if hasattr(_hub, n)}):
        yield


def outcome(call):
    """'accepted', 'refused' (a clear ValueError/TypeError), or the property fails."""
    try:
        with no_model():
            call()
    except ModelLoaded:
        return "accepted"
    except (ValueError, TypeError) as exc:
        message = str(exc)
        assert message, f"{type(exc).__name__} without a message"
        unclear = [m for m in UNCLEAR if m in message]
        assert not unclear, f"unclear {type(exc).__name__}: {message}"
        return "refused"
    return "returned"


# ----------------------------------------------------------------------
# Strategies
# ----------------------------------------------------------------------
# Any code point, lone surrogates included.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
odd_scalar = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 5),
    st.booleans(),
    st.binary(max_size=4),
    st.complex_numbers(),
    st.just(pd.NA),
    st.builds(np.str_, st.text(max_size=4)),
)
text_item = st.one_of(any_text, any_text, odd_scalar)
nested = st.recursive(text_item, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
row_item = st.one_of(text_item, st.tuples(text_item, text_item), nested)


@st.composite
def text_inputs(draw):
    """X in the forms users pass (and some they should not)."""
    n = draw(st.integers(0, 5))
    kind = draw(
        st.sampled_from(
            [
                "list",
                "tuple",
                "array",
                "series",
                "frame1",
                "frame2",
                "frame3",
                "pairs",
                "mixed",
                "2d",
                "3d",
                "scalar",
                "string",
                "none",
                "dict",
            ]
        )
    )
    items = draw(st.lists(text_item, min_size=n, max_size=n))
    seconds = draw(st.lists(text_item, min_size=n, max_size=n))
    if kind == "list":
        return items
    if kind == "tuple":
        return tuple(items)
    if kind == "array":
        arr = np.empty(n, dtype=object)
        arr[:] = items
        return arr
    if kind == "series":
        return pd.Series(items, dtype=object)
    if kind.startswith("frame"):
        width = int(kind[-1])
        return pd.DataFrame({f"c{j}": items if j % 2 == 0 else seconds for j in range(width)})
    if kind == "pairs":
        return list(zip(items, seconds))
    if kind == "mixed":
        return draw(st.lists(row_item, min_size=n, max_size=n))
    if kind == "2d":
        return np.array([[a, b] for a, b in zip(items, seconds)] or np.empty((0, 2)), dtype=object)
    if kind == "3d":
        return np.empty((n, 2, 2), dtype=object)
    if kind == "scalar":
        return draw(odd_scalar)
    if kind == "string":
        return draw(any_text)
    if kind == "none":
        return None
    return {"a": items}


label = st.one_of(
    st.sampled_from(["pos", "neg", "mid"]),
    st.integers(0, 2),
    st.floats(allow_nan=True, allow_infinity=True),
    st.complex_numbers(max_magnitude=3),
    st.none(),
    st.booleans(),
    st.binary(max_size=2),
    st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
    st.frozensets(st.sampled_from(["a", "b"]), max_size=2),
)


@st.composite
def targets(draw, n):
    """y of every kind, usually of the right length (sometimes not)."""
    length = draw(st.sampled_from([n, n, n, n + 1, max(n - 1, 0), 0]))
    kind = draw(
        st.sampled_from(
            [
                "labels",
                "uniform",
                "floats",
                "array",
                "2d01",
                "2dany",
                "3d",
                "series",
                "frame",
                "scalar",
                "none",
                "label_sets",
            ]
        )
    )
    if kind == "labels":
        return draw(st.lists(label, min_size=length, max_size=length))
    if kind == "uniform":
        pool = draw(st.sampled_from([["x", "y"], [0, 1], [0.5, 1.5], [True, False]]))
        return draw(st.lists(st.sampled_from(pool), min_size=length, max_size=length))
    if kind == "floats":
        return draw(
            st.lists(
                st.floats(allow_nan=True, allow_infinity=True, width=32),
                min_size=length,
                max_size=length,
            )
        )
    if kind == "array":
        values = draw(st.lists(label, min_size=length, max_size=length))
        arr = np.empty(length, dtype=object)
        arr[:] = values
        return arr
    if kind == "2d01":
        k = draw(st.integers(1, 3))
        return np.asarray(
            draw(
                st.lists(
                    st.lists(st.integers(0, 1), min_size=k, max_size=k),
                    min_size=length,
                    max_size=length,
                )
            )
        ).reshape(length, k)
    if kind == "2dany":
        k = draw(st.integers(1, 3))
        return np.asarray(
            draw(
                st.lists(
                    st.lists(
                        st.one_of(st.floats(-3, 3), st.just(math.nan)), min_size=k, max_size=k
                    ),
                    min_size=length,
                    max_size=length,
                )
            )
        ).reshape(length, k)
    if kind == "3d":
        return np.zeros((length, 2, 2))
    if kind == "series":
        return pd.Series(draw(st.lists(label, min_size=length, max_size=length)), dtype=object)
    if kind == "frame":
        a = draw(st.lists(st.sampled_from(["x", "y", None]), min_size=length, max_size=length))
        b = draw(
            st.lists(
                st.one_of(st.floats(-2, 2), st.just(math.nan)), min_size=length, max_size=length
            )
        )
        return pd.DataFrame({"cls": a, "num": b})
    if kind == "scalar":
        return draw(label)
    if kind == "none":
        return None
    return draw(
        st.lists(
            st.lists(st.sampled_from(["a", "b", 1, None]), max_size=3),
            min_size=length,
            max_size=length,
        )
    )


# ----------------------------------------------------------------------
# The checkers, directly (fast)
# ----------------------------------------------------------------------
@FUZZ
@given(X=text_inputs(), allow_mixed=st.booleans())
def test_check_texts(X, allow_mixed):
    result = {}

    def call():
        result["texts"] = check_texts(X, allow_mixed=allow_mixed)

    if outcome(call) == "returned":
        texts = result["texts"]
        assert len(texts) > 0
        for column in (texts.first, texts.second or []):
            for text in column:
                assert text is None or (type(text) is str and text.encode("utf-8") is not None)


words_row = st.one_of(
    any_text,
    st.lists(st.one_of(any_text, odd_scalar), max_size=4),
    odd_scalar,
)


@FUZZ
@given(X=st.one_of(st.lists(words_row, max_size=4), text_inputs()))
def test_check_words(X):
    result = {}

    def call():
        result["words"] = check_words(X)

    if outcome(call) == "returned":
        words = result["words"]
        assert len(words.words) == len(words.offsets) == len(words.texts) > 0
        for row, spans, text in zip(words.words, words.offsets, words.texts):
            assert row and all(type(w) is str and w.strip() for w in row)
            assert [text[a:b] for a, b in spans] == row


# ----------------------------------------------------------------------
# Every estimator up to the model (fit's checks, no model)
# ----------------------------------------------------------------------
def _model():
    return tiny_model_path()


@pytest.fixture(scope="module", autouse=True)
def _warm():
    """Build the tiny model and import the lazy modules before any timed example."""
    outcome(lambda: TransformerClassifier(_model()).fit(["a", "b"], [0, 1]))
    outcome(lambda: TransformerTokenClassifier(_model()).fit([["a"]], [["O"]]))
    outcome(lambda: FewShotClassifier(_model()).fit(["a", "b", "c", "d"], [0, 1, 0, 1]))
    outcome(lambda: MultiTaskTransformer(_model()).fit(["a", "b"], [[0, 1.5], [1, 2.5]]))


GOOD_TEXTS = ["a good film", "a bad film", "great", "awful", "fine", "dull"]


@FUZZ
@given(data=st.data())
def test_classifier_fit_checks(data):
    X = data.draw(st.one_of(st.just(GOOD_TEXTS), text_inputs()), label="X")
    n = len(X) if hasattr(X, "__len__") and not isinstance(X, (str, bytes, dict)) else 3
    y = data.draw(targets(n), label="y")
    class_weight = data.draw(st.sampled_from([None, "balanced"]), label="class_weight")
    clf = TransformerClassifier(_model(), class_weight=class_weight, max_epochs=1)
    outcome(lambda: clf.fit(X, y))


@FUZZ
@given(y=targets(6))
def test_classifier_targets(y):
    clf = TransformerClassifier(_model(), max_epochs=1)
    if outcome(lambda: clf.fit(GOOD_TEXTS, y)) == "accepted":
        # Accepted targets are labels of one kind, an indicator matrix, or label sets.
        from sktransformers.estimators._classifier import is_label_sets
        from sktransformers.tasks import is_multilabel

        assert (
            is_multilabel(y)
            or is_label_sets(y)
            or np.ndim(np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y, dtype=object))
            in (1, 2)
        )


@FUZZ
@given(y=targets(6), X=st.one_of(st.just(GOOD_TEXTS), text_inputs()))
def test_regressor_fit_checks(y, X):
    reg = TransformerRegressor(_model(), max_epochs=1)
    if outcome(lambda: reg.fit(X, y)) == "accepted" and X is GOOD_TEXTS:
        values = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
        assert values.dtype.kind in "biuf"  # real numbers only
        assert np.isfinite(values.astype(np.float64)).all()


@st.composite
def word_targets(draw, n):
    length = draw(st.sampled_from([n, n, n, n + 1]))
    tag = st.one_of(
        st.sampled_from(["O", "B-PER", "I-PER"]),
        st.none(),
        st.integers(0, 2),
        st.floats(allow_nan=True),
        st.lists(st.just("O"), max_size=2),
    )
    kind = draw(st.sampled_from(["right", "rows", "string", "none", "array"]))
    if kind == "right":
        return [
            draw(st.lists(st.sampled_from(["O", "B-PER", "I-PER"]), min_size=k, max_size=k))
            for k in (2, 1, 3)
        ][:length]
    if kind == "rows":
        return draw(
            st.lists(
                st.one_of(st.lists(tag, max_size=4), tag, any_text),
                min_size=length,
                max_size=length,
            )
        )
    if kind == "string":
        return draw(any_text)
    if kind == "none":
        return None
    return np.zeros((length, 3))


TOKEN_WORDS = [["John", "lives"], ["Paris"], ["a", "b", "c"]]


@FUZZ
@given(
    X=st.one_of(
        st.just(TOKEN_WORDS),
        st.just(["John lives", "Paris", "a b c"]),
        st.lists(words_row, max_size=3),
        text_inputs(),
    ),
    y=word_targets(3),
)
def test_token_classifier_fit_checks(X, y):
    tok = TransformerTokenClassifier(_model(), max_length=32, max_epochs=1)
    outcome(lambda: tok.fit(X, y))


@FUZZ
@given(
    X=st.one_of(st.just(GOOD_TEXTS), text_inputs()),
    Y=targets(6),
    tasks=st.sampled_from([None, {"cls": "classification"}, {"num": "regression"}]),
)
def test_multitask_fit_checks(X, Y, tasks):
    mt = MultiTaskTransformer(_model(), tasks=tasks, max_epochs=1)
    outcome(lambda: mt.fit(X, Y))


QA_X = pd.DataFrame({"question": ["Who?", "Where?"], "context": ["Ada wrote it.", "In Rome."]})
answer_value = st.one_of(
    text_item, st.lists(text_item, max_size=2), st.integers(-3, 20), st.lists(st.integers(-3, 20))
)
answer = st.one_of(
    st.just({"text": "Ada", "answer_start": 0}),
    st.just({"text": [], "answer_start": []}),
    st.fixed_dictionaries({"text": answer_value, "answer_start": answer_value}),
    st.dictionaries(st.sampled_from(["text", "answer_start", "answer"]), answer_value, max_size=3),
    st.tuples(text_item, st.one_of(st.integers(-3, 20), text_item)),
    text_item,
    nested,
)


@FUZZ
@given(
    X=st.one_of(st.just(QA_X), text_inputs()),
    y=st.one_of(st.lists(answer, min_size=0, max_size=3), targets(2)),
)
def test_question_answerer_fit_checks(X, y):
    qa = TransformerQuestionAnswerer(_model(), max_length=32, max_epochs=1)
    outcome(lambda: qa.fit(X, y))


json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 50), st.floats(), st.text(max_size=8)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "data",
                    "title",
                    "paragraphs",
                    "context",
                    "qas",
                    "question",
                    "answers",
                    "text",
                    "answer_start",
                    "is_impossible",
                    "id",
                ]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


@FUZZ
@given(document=json_value)
def test_read_squad_takes_any_json(document, tmp_path_factory):
    import json

    from sktransformers.datasets import read_squad

    path = tmp_path_factory.mktemp("squad") / "f.json"
    path.write_text(json.dumps(document))
    outcome(lambda: read_squad(path))


@FUZZ
@given(X=text_inputs())
def test_embedder_fit_checks(X):
    outcome(lambda: TransformerEmbedder(_model()).fit(X))


@FUZZ
@given(X=st.one_of(st.just(GOOD_TEXTS), text_inputs()), y=targets(6))
def test_fewshot_fit_checks(X, y):
    outcome(lambda: FewShotClassifier(_model(), max_epochs=1).fit(X, y))


@FUZZ
@given(
    X=st.one_of(st.just(["a good film", "a bad one", "fine"]), text_inputs()),
    y=targets(3),
    strategy=st.sampled_from([None, "auto", "all"]),
)
def test_augmenter_checks(X, y, strategy):
    aug = TextAugmenter(sampling_strategy=strategy, methods=("swap", "delete"), random_state=0)
    result = {}

    def call():
        result["out"] = aug.fit_resample(X, y)

    if outcome(call) == "returned":
        X_res, y_res = result["out"]
        assert len(X_res) == len(y_res) >= len(X)


# ----------------------------------------------------------------------
# The real model on arbitrary texts (a short fit once, then predict)
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted_classifier():
    return TransformerClassifier(
        _model(), max_epochs=1, batch_size=4, max_length=16, long_texts="chunk", random_state=0
    ).fit(GOOD_TEXTS, ["pos", "neg", "pos", "neg", "pos", "neg"])


@pytest.fixture(scope="module")
def fitted_tagger():
    return TransformerTokenClassifier(
        _model(), max_length=16, max_epochs=1, batch_size=4, random_state=0
    ).fit(TOKEN_WORDS, [["B-PER", "O"], ["B-LOC"], ["O", "O", "O"]])


# Texts the tokenizer must survive: any code point (surrogates are refused),
# long words, whitespace and control characters only.
hard_text = st.one_of(
    any_text,
    st.text(st.sampled_from(" \t\n\r\x00\u200b\u00a0\u3000\ufeff"), max_size=6),
    st.text(st.characters(codec="utf-8"), min_size=30, max_size=80),
    st.builds(lambda c, k: c * k, st.characters(codec="utf-8"), st.integers(40, 120)),
)


@settings(FEW, max_examples=25)
@given(texts=st.lists(hard_text, min_size=1, max_size=4))
def test_classifier_predicts_any_text(fitted_classifier, texts):
    result = {}

    def call():
        result["pred"] = fitted_classifier.predict(texts)
        result["proba"] = fitted_classifier.predict_proba(texts)

    if outcome(call) == "returned":
        assert result["pred"].shape == (len(texts),)
        assert set(result["pred"]) <= {"pos", "neg"}
        proba = result["proba"]
        assert proba.shape == (len(texts), 2) and np.allclose(proba.sum(axis=1), 1.0)
    else:  # only lone surrogates are refused
        assert any(not _encodable(t) for t in texts)


@settings(FEW, max_examples=25)
@given(
    X=st.lists(
        st.one_of(hard_text, st.lists(hard_text, min_size=1, max_size=5)), min_size=1, max_size=3
    )
)
def test_tagger_predicts_any_words(fitted_tagger, X):
    result = {}

    def call():
        result["tags"] = fitted_tagger.predict(X)

    if outcome(call) == "returned":
        expected = check_words(X).words
        assert [len(row) for row in result["tags"]] == [len(row) for row in expected]
        assert all(set(row) <= set(fitted_tagger.classes_) for row in result["tags"])


def _encodable(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@pytest.mark.parametrize(
    "X, y, shape",
    [
        (GOOD_TEXTS, [["a"], ["a", "b"], [], ["b"], ["a"], ["b"]], (6, 2)),  # label lists
        (
            ["😀 👍🏽", "\u200b", "東京は雨", "ﷺ ‮abc", "x" * 300, "A\u0301"],
            [True, False, True, False, True, False],
            (6,),
        ),
    ],
    ids=["label-lists", "odd-texts-bool-labels"],
)
def test_a_few_real_fits(X, y, shape):
    """Accepted input trains for real (one epoch) and predicts in the right shape."""
    clf = TransformerClassifier(_model(), max_epochs=1, batch_size=4, max_length=16, random_state=0)
    pred = clf.fit(X, y).predict(X)
    assert pred.shape == shape
