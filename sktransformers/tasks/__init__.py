"""Task objects: what differs between kinds of targets, in one place per kind.

A task owns the checking and encoding of its targets, the size and level
(one output per text, or one per token) of its head, its loss, the decoding
of the head's outputs, its validation score and the JSON it saves. The
engine (:mod:`sktransformers.engine._base`) trains any list of tasks on one
backbone; the estimators are thin front ends that build their tasks from
``y``:

============================  ===========================  =====================
task                          estimator(s)                 head output
============================  ===========================  =====================
:class:`ClassificationTask`   TransformerClassifier,       one logit per class
                              MultiTaskTransformer
:class:`MultiLabelTask`       TransformerClassifier        one logit per label
                              (2-D indicator ``y``)
:class:`RegressionTask`       TransformerRegressor,        one value per output
                              MultiTaskTransformer
:class:`TaggingTask`          TransformerTokenClassifier   one logit per tag, per
                                                           token
:class:`SpanTask`             TransformerQuestionAnswerer  a start and an end
                                                           logit per token
============================  ===========================  =====================

A task also decides every kind-specific step after training: the name of
its validation score (plots), the ``task`` entry of an ONNX export and the
deployed kind the torch-free runtime and the server load it as, what the
server answers for a text, and what an explanation targets and reports.
Export (:mod:`._onnx_export`), the server (:mod:`._serve`), explanations
(:mod:`._explain`) and plots (:mod:`.plot`) find an estimator's task with
:func:`single_task` and ask it; none of them names an estimator class.
:func:`register_task` adds a kind to :data:`TASK_KINDS`.

``TransformerEmbedder`` holds an :class:`EmbeddingTask` (no loss: it trains
nothing) so that export and serving treat it like any other kind.

Encoded targets: a text-level task encodes ``y`` as an array with one row
per text (int64 class indices with -1 where a label is missing;
float32 values with NaN where missing); the tagging task as one int64 array
of tag indices per text, one entry per word. :meth:`Task.row_targets` maps
them to the rows the model sees (windows of long texts, and sub-word
positions for tags, -100 where a position carries no label).
"""

from __future__ import annotations

from ._base import (
    IGNORE,
    TEXT,
    TOKEN,
    Task,
)
from ._classification import (
    ClassificationTask,
    check_labels,
    softmax,
)
from ._embedding import (
    EmbeddingTask,
)
from ._multilabel import (
    MultiLabelTask,
    check_indicator,
    is_multilabel,
    label_thresholds,
)
from ._registry import (
    TASK_KINDS,
    register_task,
    single_task,
    task_class_of_export,
    task_from_json,
)
from ._regression import (
    RegressionTask,
    check_numeric,
)
from ._span import (
    SpanTask,
    check_answers,
    reference_texts,
    squad_exact_match,
    squad_f1,
)
from ._tagging import (
    TaggingTask,
    check_tags,
    word_reads,
)

__all__ = [
    "ClassificationTask",
    "EmbeddingTask",
    "IGNORE",
    "MultiLabelTask",
    "RegressionTask",
    "SpanTask",
    "TASK_KINDS",
    "TEXT",
    "TOKEN",
    "TaggingTask",
    "Task",
    "check_answers",
    "check_indicator",
    "check_labels",
    "check_numeric",
    "check_tags",
    "is_multilabel",
    "label_thresholds",
    "reference_texts",
    "register_task",
    "single_task",
    "softmax",
    "squad_exact_match",
    "squad_f1",
    "task_class_of_export",
    "task_from_json",
    "word_reads",
]
