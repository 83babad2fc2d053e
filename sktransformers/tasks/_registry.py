"""The registry of task kinds, and finding an estimator's task."""

from __future__ import annotations

from ._base import Task
from ._classification import ClassificationTask
from ._embedding import EmbeddingTask
from ._multilabel import MultiLabelTask
from ._regression import RegressionTask
from ._span import SpanTask
from ._tagging import TaggingTask

# ----------------------------------------------------------------------
# The registry
# ----------------------------------------------------------------------
#: Every task kind, by :attr:`Task.kind`.
TASK_KINDS: dict[str, type[Task]] = {}


def register_task(cls):
    """Add a task class to :data:`TASK_KINDS` (usable as a class decorator).

    Saved models, ONNX exports and the server find a kind here by its
    :attr:`Task.kind`; registering a second class under a kind replaces the
    first.
    """
    if not (isinstance(cls, type) and issubclass(cls, Task)) or not isinstance(cls.kind, str):
        raise TypeError(f"register_task takes a Task subclass with a str kind, got {cls!r}.")
    TASK_KINDS[cls.kind] = cls
    return cls


for _cls in (
    ClassificationTask,
    MultiLabelTask,
    RegressionTask,
    TaggingTask,
    EmbeddingTask,
    SpanTask,
):
    register_task(_cls)


def single_task(estimator, action):
    """The one task of a fitted estimator, for ``action`` (e.g. ``"export_onnx"``).

    Raises TypeError for an object that holds no task of sktransformers or
    several, and NotFittedError (from the estimator) before ``fit``.
    """
    fitted_tasks = getattr(estimator, "_fitted_tasks", None)
    if not callable(fitted_tasks):
        raise TypeError(
            f"{action} works with the estimators of sktransformers that hold one task "
            "(TransformerClassifier, TransformerRegressor, TransformerTokenClassifier, "
            f"TransformerQuestionAnswerer, TransformerEmbedder), not a {type(estimator).__name__}."
        )
    tasks = fitted_tasks()
    if len(tasks) != 1 or hasattr(estimator, "tasks_"):  # tasks_: a table of per-task outputs
        raise TypeError(
            f"{action} works with an estimator of one task; this {type(estimator).__name__} "
            f"has {len(tasks)} ({', '.join(task.key for task in tasks)})."
        )
    return tasks[0]


def task_class_of_export(config):
    """The task class of an ONNX export's JSON (``task_kind``; older exports: ``kind``).

    Raises ValueError when the kind is unknown or does not match the
    deployed ``kind``.
    """
    task_kind = config.get("task_kind")
    if task_kind is None:  # written before task_kind existed: derive it as they did
        deployed = config.get("kind")
        multilabel = bool((config.get("task") or {}).get("multilabel", False))
        built_in = (ClassificationTask, MultiLabelTask, RegressionTask, TaggingTask, EmbeddingTask)
        matches = [
            cls
            for cls in built_in
            if cls.deploy_kind == deployed and (cls is MultiLabelTask) == multilabel
        ]
        if len(matches) != 1:
            raise ValueError(f"An ONNX export of an unknown kind {deployed!r:.80}.")
        return matches[0]
    cls = TASK_KINDS.get(task_kind) if isinstance(task_kind, str) else None
    if cls is None or cls.deploy_kind != config.get("kind"):
        raise ValueError(
            f"An ONNX export with task_kind {task_kind!r:.80} and kind "
            f"{config.get('kind')!r:.80}: not a pair this sktransformers knows."
        )
    return cls


def task_from_json(data):
    """Rebuild a task from its :meth:`Task.to_json`."""
    try:
        kind = TASK_KINDS[data["kind"]]
    except KeyError:
        raise ValueError(f"Unknown task kind {data.get('kind')!r} in a saved model.") from None
    return kind.from_json(data)
