"""Reading files a user got from someone else: bounded, inside the folder, checked.

Every file of a saved estimator directory or an exported ONNX directory is
treated as hostile. The helpers here never run code, never read more than
a fixed number of bytes, never follow a path out of the model folder, and
fail with a :class:`ValueError` naming the file and the problem:

* :func:`model_file` and :func:`read_json` / :func:`read_bytes` check that a
  file is a regular file (not ``/dev/zero``, a FIFO or a directory) inside
  the folder (a symbolic link must resolve inside it too) and not larger
  than a limit, then read at most that many bytes;
* :func:`safe_name` refuses absolute names, ``..`` and empty parts in a
  file name read from a JSON file;
* :func:`safetensors_shapes` checks a safetensors file's header against the
  file's size before any tensor is read;
* :func:`check_model_config` bounds the sizes in a ``config.json`` (layers,
  widths, heads, vocabulary, positions) before any weight is allocated;
* :func:`check_estimator_meta` and :func:`check_onnx_config` validate the
  package's own JSON files field by field.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path, PurePosixPath

MiB = 1 << 20
JSON_LIMIT = 1 * MiB  # config.json, sktransformers.json, tokenizer_config.json, ...
TOKENIZER_LIMIT = 64 * MiB  # tokenizer.json, vocab.txt, sentencepiece models
GRAPH_LIMIT = 2048 * MiB  # an ONNX graph (protobuf's own limit is 2 GiB)
SAFETENSORS_HEADER_LIMIT = 100 * MiB  # the safetensors library's own limit

# Bounds on the sizes of a transformer in config.json, by field and its aliases.
# Generous (the largest public encoders are far inside them) yet small enough
# that building the model never hangs or exhausts memory before a weight is read.
CONFIG_BOUNDS = {
    "num_hidden_layers": (("num_hidden_layers", "n_layers", "n_layer", "num_layers"), 1, 256),
    "hidden_size": (("hidden_size", "dim", "d_model", "n_embd"), 1, 32768),
    "num_attention_heads": (("num_attention_heads", "n_heads", "n_head"), 1, 512),
    "vocab_size": (("vocab_size",), 1, 4_000_000),
    "max_position_embeddings": (("max_position_embeddings", "n_positions"), 1, 1_048_576),
    "intermediate_size": (("intermediate_size", "hidden_dim", "d_ff", "n_inner"), 1, 262_144),
    "type_vocab_size": (("type_vocab_size",), 1, 1024),
    "embedding_size": (("embedding_size",), 1, 32768),
}
# A model must not describe more weights than its files hold: at least this
# many bytes per weight of the layers (int8 storage would be 1).
_BYTES_PER_WEIGHT = 1

SAFETENSORS_DTYPES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}
FLOAT_DTYPES = ("F16", "BF16", "F32", "F64")


def fail(path, problem):
    """The one error of this module: ``ValueError("<file>: <problem>")``."""
    raise ValueError(f"{os.fspath(path)}: {problem}")


# ----------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------
def safe_name(directory, name, field):
    """``name`` (read from a JSON file) as a relative path inside ``directory``.

    Refuses non-strings, absolute paths, ``..``, empty parts and NUL bytes.
    """
    if not isinstance(name, str) or not name or "\x00" in name or "\\" in name:
        fail(directory, f"{field} should be a file name inside the folder, got {name!r}.")
    parts = PurePosixPath(name).parts
    if PurePosixPath(name).is_absolute() or any(p in ("..", ".", "") for p in parts):
        fail(
            directory,
            f"{field}={name!r} points outside the model folder; only plain "
            "relative names inside it are read.",
        )
    return name


def model_file(directory, name, *, limit, required=True, what="file", inside=True):
    """The path of ``directory/name`` after checking it is safe to read; None if absent.

    The file must be a regular file of at most ``limit`` bytes; with
    ``inside=True`` a symbolic link is followed only when it ends inside
    ``directory`` (``inside=False`` for a Hugging Face cache snapshot, whose
    files are links to its blobs).
    """
    directory = Path(directory)
    path = directory / name
    if not os.path.lexists(path):
        if required:
            fail(path, f"is missing; this {what} is needed to load the model.")
        return None
    try:
        real = path.resolve(strict=True)
        root = directory.resolve(strict=True)
    except (OSError, RuntimeError):  # a dangling link or a loop of links
        fail(path, "is a broken symbolic link.")
    if inside and real != root and root not in real.parents:
        fail(
            path,
            f"is a link to {str(real)!r}, outside the model folder; files outside "
            "the folder are never read.",
        )
    info = os.stat(real)
    if not stat.S_ISREG(info.st_mode):
        fail(path, "is not a regular file (a device, pipe or directory); refusing to read it.")
    if info.st_size > limit:
        fail(
            path,
            f"is {info.st_size} bytes, more than the {limit} bytes such a file may "
            "have; refusing to read it.",
        )
    return path


def read_bytes(path, limit):
    """At most ``limit`` bytes of ``path``; an error when it holds more."""
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        fail(path, f"is larger than {limit} bytes; refusing to read it.")
    return data


def parse_json(path, data):
    """``data`` (bytes) as JSON; an error naming ``path`` when it is not."""
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        fail(path, f"is corrupt (not valid JSON: {str(exc)[:200]}).")


def read_json(directory, name, *, limit=JSON_LIMIT, required=True, kind=dict, inside=True):
    """The parsed JSON file ``directory/name`` (a ``kind``), read within ``limit`` bytes."""
    path = model_file(directory, name, limit=limit, required=required, inside=inside)
    if path is None:
        return None
    value = parse_json(path, read_bytes(path, limit))
    if not isinstance(value, kind):
        fail(
            path,
            f"is corrupt: expected a JSON {'object' if kind is dict else 'array'}, got "
            f"{type(value).__name__}.",
        )
    return value


# ----------------------------------------------------------------------
# Field checks
# ----------------------------------------------------------------------
_KIND_NAMES = {
    list: "a list",
    dict: "an object",
    str: "a string",
    int: "an integer",
    bool: "true or false",
    float: "a number",
}


def want(path, obj, key, kinds, field=None, *, required=True, nullable=False):
    """``obj[key]`` after checking its JSON type; ``field`` names it in errors."""
    field = field or key
    if key not in obj:
        if required:
            fail(path, f"{field!r} is missing.")
        return None
    value = obj[key]
    if value is None and nullable:
        return None
    if isinstance(value, bool) and bool not in kinds:
        ok = False
    else:
        ok = isinstance(value, kinds)
    if not ok:
        names = " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)
        names += " or null" if nullable else ""
        fail(path, f"{field!r} should be {names}, got {value!r:.80}.")
    return value


def want_int(path, obj, key, lo, hi, field=None, *, required=True, nullable=False):
    value = want(path, obj, key, (int,), field, required=required, nullable=nullable)
    if value is not None and not lo <= value <= hi:
        fail(path, f"{field or key!r} should be between {lo} and {hi}, got {value!r:.80}.")
    return value


def want_number(path, value, field, *, positive=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        fail(path, f"{field!r} should be a number, got {value!r:.80}.")
    if not math.isfinite(float(value)) or (positive and not value > 0):
        fail(
            path,
            f"{field!r} should be a finite {'positive ' if positive else ''}number, "
            f"got {value!r:.80}.",
        )
    return value


def want_numbers(path, value, field, *, length=None, positive=False):
    """A non-empty list of finite numbers (of ``length`` when given)."""
    if not isinstance(value, list) or not value:
        fail(path, f"{field!r} should be a non-empty list of numbers, got {value!r:.80}.")
    for i, v in enumerate(value):
        want_number(path, v, f"{field}[{i}]", positive=positive)
    if length is not None and len(value) != length:
        fail(path, f"{field!r} has {len(value)} values; expected {length}.")
    return value


def want_thresholds(path, value, field, length):
    """One decision threshold in [0, 1] per label."""
    want_numbers(path, value, field, length=length)
    if not all(0 <= v <= 1 for v in value):
        fail(path, f"{field!r} should hold numbers between 0 and 1, got {value!r:.80}.")
    return value


def want_labels(path, values, dtype, field, *, minimum=1):
    """Class labels and their numpy dtype string, checked and converted."""
    import numpy as np

    if not isinstance(values, list) or len(values) < minimum:
        fail(path, f"{field!r} should be a list of at least {minimum} labels, got {values!r:.80}.")
    if any(not isinstance(v, (str, int, float, bool)) for v in values):
        fail(path, f"{field!r} should hold strings, numbers or booleans only.")
    if not isinstance(dtype, str):
        fail(path, f"the dtype of {field!r} should be a string, got {dtype!r:.80}.")
    if dtype != "object":
        try:
            parsed = np.dtype(dtype)
        except (TypeError, ValueError):
            fail(path, f"the dtype of {field!r}, {dtype!r:.80}, is not a numpy dtype.")
        if parsed.kind not in "biufU":
            fail(
                path,
                f"the dtype of {field!r}, {dtype!r}, is not a label dtype (bool, int, "
                "float, str or 'object').",
            )
    try:
        labels = np.asarray(values, dtype=object if dtype == "object" else np.dtype(dtype))
    except (TypeError, ValueError, OverflowError):
        fail(path, f"{field!r} cannot be read as {dtype!r} labels.")
    if labels.ndim != 1 or len(np.unique(labels.astype(str))) != len(labels):
        fail(path, f"{field!r} should list distinct labels.")
    return labels


# ----------------------------------------------------------------------
# safetensors
# ----------------------------------------------------------------------
def safetensors_shapes(path):
    """``{name: (dtype, shape)}`` of a safetensors file whose header matches its size.

    Reads the 8-byte header length and the JSON header only (bounded), and
    checks that the tensors' byte ranges tile the rest of the file exactly,
    so that a truncated or random file fails here, naming the file.
    """
    size = os.stat(path).st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            fail(path, "is truncated or not a safetensors file (shorter than its header).")
        n = int.from_bytes(head, "little")
        if n > min(size - 8, SAFETENSORS_HEADER_LIMIT):
            fail(
                path,
                "is truncated or not a safetensors file (its header length does not fit the file).",
            )
        raw = f.read(n)
    header = parse_json(path, raw)
    if not isinstance(header, dict):
        fail(path, "is not a safetensors file (its header is not a JSON object).")
    shapes, spans = {}, []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict):
            fail(path, f"tensor {name!r:.80} has a malformed header entry.")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if dtype not in SAFETENSORS_DTYPES:
            fail(path, f"tensor {name!r:.80} has an unknown dtype {dtype!r:.40}.")
        if (
            not isinstance(shape, list)
            or len(shape) > 8
            or any(isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in shape)
        ):
            fail(path, f"tensor {name!r:.80} has a malformed shape {shape!r:.80}.")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or any(isinstance(o, bool) or not isinstance(o, int) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1]
        ):
            fail(path, f"tensor {name!r:.80} has malformed data offsets {offsets!r:.80}.")
        if offsets[1] - offsets[0] != math.prod(shape) * SAFETENSORS_DTYPES[dtype]:
            fail(path, f"tensor {name!r:.80}: its byte range does not match its shape.")
        shapes[name] = (dtype, tuple(shape))
        spans.append(tuple(offsets))
    end = 0
    for begin, stop in sorted(spans):
        if begin != end:
            fail(path, "is corrupt: its tensors overlap or leave gaps.")
        end = stop
    if end != size - 8 - n:
        fail(
            path,
            f"is truncated or padded: its header describes {end} bytes of tensors, the "
            f"file holds {size - 8 - n}.",
        )
    return shapes


def check_safetensors(directory, name, *, required=True, inside=True):
    """:func:`safetensors_shapes` of ``directory/name`` after :func:`model_file`."""
    path = model_file(
        directory, name, limit=1 << 46, required=required, what="weights file", inside=inside
    )
    return None if path is None else safetensors_shapes(path)


# ----------------------------------------------------------------------
# config.json
# ----------------------------------------------------------------------
def _config_value(config, names):
    for name in names:
        if name in config:
            return name, config[name]
    return None, None


def check_model_config(path, config, weights_bytes=None, activations=None):
    """Bound the sizes in a parsed ``config.json`` before the model is built.

    ``weights_bytes``, when known, is the size of the model's weight files:
    a config describing far more weights than they hold is refused too.
    ``activations``, when given, are the activation names ``hidden_act``
    may take (transformers' ``ACT2FN``: the caller passes them, so that this
    module imports no model library).
    Returns ``{field: value}`` of the sizes found.
    """
    if not isinstance(config, dict):
        fail(path, "is corrupt: expected a JSON object.")
    sizes = {}
    for field, (names, lo, hi) in CONFIG_BOUNDS.items():
        key, value = _config_value(config, names)
        if key is None or value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            fail(path, f"{key!r} should be an integer between {lo} and {hi}, got {value!r:.80}.")
        sizes[field] = value
    hidden, heads = sizes.get("hidden_size"), sizes.get("num_attention_heads")
    if hidden is not None and heads is not None and hidden % heads:
        fail(path, f"hidden size {hidden} is not divisible by the {heads} attention heads.")
    for key in ("pad_token_id",):
        value = config.get(key)
        vocab = sizes.get("vocab_size")
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < 0
            or (vocab is not None and value >= vocab)
        ):
            fail(path, f"{key!r} should be null or a token id below vocab_size, got {value!r:.80}.")
    act = config.get("hidden_act")
    if act is not None and activations is not None:
        if not isinstance(act, str) or act not in activations:
            fail(path, f"'hidden_act' should name an activation, got {act!r:.80}.")
    if weights_bytes is not None and hidden is not None:
        layers = sizes.get("num_hidden_layers", 1)
        inter = sizes.get("intermediate_size", 4 * hidden)
        weights = layers * (4 * hidden * hidden + 2 * hidden * inter)
        weights += sizes.get("vocab_size", 0) * sizes.get("embedding_size", hidden)
        if weights * _BYTES_PER_WEIGHT > weights_bytes:
            fail(
                path,
                f"describes a model of about {weights} weights, but its weight files "
                f"hold only {weights_bytes} bytes.",
            )
    return sizes


# ----------------------------------------------------------------------
# sktransformers.json
# ----------------------------------------------------------------------
MAX_LABELS = 1_000_000


def _check_task(path, task, i, task_kinds=None):
    where = f"tasks[{i}]"
    if not isinstance(task, dict):
        fail(path, f"{where!r} should be an object, got {task!r:.80}.")
    kind = want(path, task, "kind", (str,), f"{where}.kind")
    name = task.get("name", "default")
    if isinstance(name, list):
        name = tuple(name)
    if not isinstance(name, (str, int, float, bool, tuple)):
        fail(path, f"'{where}.name' should be a string or number, got {name!r:.80}.")
    if kind in (task_kinds or {}):  # each kind checks its own entry
        size = task_kinds[kind].check_json(path, task, where)
    else:
        fail(path, f"'{where}.kind' is an unknown task kind {kind!r:.80}.")
    return str(name), kind, size


def check_regression_json(path, task, where):
    """The saved entry of a regression task (also read for format-1 directories)."""
    mean = task.get("y_mean")
    mean = [mean] if isinstance(mean, (int, float)) and not isinstance(mean, bool) else mean
    want_numbers(path, mean, f"{where}.y_mean")
    scale = task.get("y_scale")
    scale = [scale] if isinstance(scale, (int, float)) and not isinstance(scale, bool) else scale
    want_numbers(path, scale, f"{where}.y_scale", length=len(mean), positive=True)
    return len(mean)


def check_estimator_meta(
    path, meta, task_kinds=None, estimator_kinds=None, several_tasks=False, check_fitted=None
):
    """Validate a parsed ``sktransformers.json`` field by field.

    Returns the head size of each task by head name (empty when the
    estimator has no heads file), so the heads file can be checked against it.
    The estimator's class says what its file may hold (the engine passes it,
    from the class the file names): ``task_kinds`` maps each task kind to its
    class, whose ``check_json(path, task, where)`` validates a saved entry and
    returns its head size; ``estimator_kinds`` lists the kinds the estimator
    holds (its ``_task_kinds``; None: nothing is checked here), ``several_tasks``
    whether it holds more than one, and ``check_fitted(path, fitted, tasks,
    heads)`` validates its ``fitted`` entry.
    """
    name = meta["estimator"]
    want(path, meta, "is_pair", (bool,), required=name == "FewShotClassifier")
    if meta["format"] < 1:
        fail(path, f"'format' should be at least 1, got {meta['format']!r}.")
    fitted = meta.get("fitted")
    if name == "FewShotClassifier":
        return _check_fewshot(path, meta)
    if name == "TransformerEmbedder":
        return {}
    allowed = estimator_kinds
    if allowed is None:
        return {}  # estimator_class reports an unknown name
    if meta["format"] >= 2:
        tasks = want(path, meta, "tasks", (list,))
        if fitted is not None and not isinstance(fitted, dict):
            fail(path, f"'fitted' should be an object, got {fitted!r:.80}.")
        fitted = fitted or {}
        if not tasks:
            fail(path, "'tasks' is empty: a fitted estimator has at least one task.")
        if not several_tasks and len(tasks) != 1:
            fail(path, f"'tasks' should hold one task for a {name}, got {len(tasks)}.")
        heads = {}
        for i, task in enumerate(tasks):
            key, kind, size = _check_task(path, task, i, task_kinds)
            if kind not in allowed:
                fail(
                    path,
                    f"'tasks[{i}].kind' is {kind!r}; a {name} has tasks of kind "
                    f"{' or '.join(allowed)}.",
                )
            if key in heads:
                fail(path, f"'tasks[{i}].name' repeats the task name {key!r}.")
            heads[key] = size
        if check_fitted is not None:
            check_fitted(path, fitted, tasks, heads)
        want_int(path, fitted, "max_epochs", 1, 10**6, "fitted.max_epochs", required=False)
        return heads
    fitted = want(path, meta, "fitted", (dict,))
    return _check_legacy(path, name, fitted)


def _check_legacy(path, name, fitted):
    """Format 1 (sktransformers 0.1): the fitted metadata of one estimator."""
    if name == "TransformerClassifier":
        labels = want_labels(
            path, fitted.get("classes"), fitted.get("classes_dtype"), "fitted.classes", minimum=2
        )
        if fitted.get("class_weight") is not None:
            want_numbers(path, fitted["class_weight"], "fitted.class_weight", length=len(labels))
        return {"default": len(labels)}
    if name == "TransformerRegressor":
        size = check_regression_json(path, fitted, "tasks[0]")
        want(path, fitted, "y_1d", (bool,), "fitted.y_1d")
        return {"default": size}
    if name == "MultiTaskTransformer":
        names = want(path, fitted, "tasks", (list,), "fitted.tasks")
        kinds = want(path, fitted, "kinds", (list,), "fitted.kinds")
        if not names or len(kinds) != len(names):
            fail(path, "'fitted.tasks' and 'fitted.kinds' should be lists of the same length.")
        want(path, fitted, "y_frame", (bool,), "fitted.y_frame")
        want_numbers(
            path,
            want(path, fitted, "task_weights", (list,), "fitted.task_weights"),
            "fitted.task_weights",
            length=len(names),
        )
        heads = {}
        for i, (task_name, kind) in enumerate(zip(names, kinds)):
            if not isinstance(task_name, (str, int)) or isinstance(task_name, bool):
                fail(path, f"'fitted.tasks[{i}]' should be a string or an integer.")
            key = str(task_name)
            if kind == "classification":
                entry = want(
                    path,
                    want(path, fitted, "classes", (dict,), "fitted.classes"),
                    key,
                    (dict,),
                    f"fitted.classes.{key}",
                )
                labels = want_labels(
                    path,
                    entry.get("values"),
                    entry.get("dtype"),
                    f"fitted.classes.{key}.values",
                    minimum=2,
                )
                heads[key] = len(labels)
            elif kind == "regression":
                for field in ("y_mean", "y_scale"):
                    values = want(path, fitted, field, (dict,), f"fitted.{field}")
                    want_number(
                        path, values.get(key), f"fitted.{field}.{key}", positive=field == "y_scale"
                    )
                heads[key] = 1
            else:
                fail(path, f"'fitted.kinds[{i}]' is an unknown task kind {kind!r:.80}.")
        return heads
    fail(path, f"a {name} has no format-1 directories.")


def _check_fewshot(path, meta):
    fitted = want(path, meta, "fitted", (dict,))
    want(path, fitted, "head", (str,), "fitted.head")
    want(path, fitted, "head_params", (dict,), "fitted.head_params")
    want_labels(
        path, fitted.get("classes"), fitted.get("classes_dtype"), "fitted.classes", minimum=2
    )
    shape = fitted.get("intercept_shape", [-1])
    if (
        not isinstance(shape, list)
        or len(shape) > 2
        or shape.count(-1) > 1
        or any(isinstance(d, bool) or not isinstance(d, int) or d < -1 for d in shape)
    ):
        fail(path, f"'fitted.intercept_shape' should be a short list of sizes, got {shape!r:.80}.")
    return {}


def check_heads(path, shapes, heads, hidden):
    """The heads file holds one ``Linear(hidden, size)`` per task, nothing else."""
    expected = {}
    for key, size in heads.items():
        expected[f"{key}.weight"] = (size, hidden)
        expected[f"{key}.bias"] = (size,)
    if set(shapes) != set(expected):
        missing = sorted(set(expected) - set(shapes))
        extra = sorted(set(shapes) - set(expected))
        fail(
            path,
            f"holds the wrong tensors for the saved tasks (missing {missing[:5]}, "
            f"unexpected {extra[:5]}).",
        )
    for name, want_shape in expected.items():
        dtype, shape = shapes[name]
        if dtype not in FLOAT_DTYPES:
            fail(path, f"tensor {name!r} has dtype {dtype}; expected floats.")
        if want_shape[-1] is None:
            want_shape = (*want_shape[:-1], shape[-1] if shape else None)
        if shape != want_shape:
            fail(
                path,
                f"tensor {name!r} has shape {list(shape)}, but sktransformers.json and "
                f"config.json describe {list(want_shape)} (the number of classes or "
                "outputs does not match the head).",
            )


# ----------------------------------------------------------------------
# sktransformers_onnx.json
# ----------------------------------------------------------------------
ONNX_KINDS = ("classifier", "regressor", "embedder", "token_classifier")
ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
MAX_TOKENS = 1_000_000


def check_onnx_config(path, config, format_version, runtimes=None):
    """Validate a parsed ``sktransformers_onnx.json``; returns the task's output size.

    ``runtimes`` maps further kinds (a registered task kind's ONNX runtime
    class) to a class whose ``check_task(path, task)`` validates the
    ``task`` entry and returns the output size.
    """
    runtimes = runtimes or {}
    version = want(path, config, "format_version", (int,))
    if not 1 <= version <= format_version:
        fail(
            path,
            f"has format_version {version!r}; this sktransformers reads 1 to "
            f"{format_version}. Upgrade sktransformers to load it.",
        )
    kind = want(path, config, "kind", (str,))
    if kind not in ONNX_KINDS and kind not in runtimes:
        known = sorted(set(ONNX_KINDS) | set(runtimes))
        fail(path, f"'kind' is an unknown model kind {kind!r:.80}; expected one of {known}.")
    want(path, config, "estimator", (str,))
    want(path, config, "task_kind", (str,), required=False, nullable=True)
    want(path, config, "sktransformers_version", (str,), required=False, nullable=True)
    files = want(path, config, "model_files", (dict,))
    if not files or not set(files) <= {"fp32", "int8"}:
        fail(
            path,
            f"'model_files' should map 'fp32' and/or 'int8' to file names, got "
            f"{sorted(files)!r:.80}.",
        )
    for key, name in files.items():
        safe_name(path, name, f"'model_files.{key}'")
    safe_name(path, want(path, config, "tokenizer_file", (str,)), "'tokenizer_file'")
    max_length = want_int(path, config, "max_length", 1, MAX_TOKENS)
    want_int(path, config, "pad_token_id", 0, 2**31 - 1, required=False, nullable=True)
    want_int(path, config, "batch_size", 1, 1_000_000, required=False, nullable=True)
    want(path, config, "is_pair", (bool,), required=False, nullable=True)
    long_texts = want(path, config, "long_texts", (str,), required=False, nullable=True)
    if long_texts not in (None, "truncate", "chunk"):
        fail(path, f"'long_texts' should be 'truncate' or 'chunk', got {long_texts!r:.80}.")
    stride = want_int(path, config, "stride", 0, MAX_TOKENS, required=False, nullable=True)
    windows = long_texts == "chunk" or kind == "token_classifier"
    if windows and stride is not None and stride >= max(1, max_length // 2):
        fail(path, f"'stride' ({stride}) should be less than half of 'max_length' ({max_length}).")
    task = want(path, config, "task", (dict,))
    if kind not in ONNX_KINDS:
        return runtimes[kind].check_task(path, task)
    if kind in ("classifier", "token_classifier"):
        multilabel = (
            want(
                path, task, "multilabel", (bool,), "task.multilabel", required=False, nullable=True
            )
            if kind == "classifier"
            else False
        )
        labels = want_labels(
            path,
            task.get("classes"),
            task.get("classes_dtype"),
            "task.classes",
            minimum=1 if multilabel or kind != "classifier" else 2,
        )
        if kind == "classifier":
            threshold = task.get("threshold", 0.5)
            if isinstance(threshold, list):  # one per label (threshold="auto")
                want_thresholds(path, threshold, "task.threshold", len(labels))
            elif threshold is not None:
                want_number(path, threshold, "task.threshold")
            names = task.get("label_names")
            if names is not None and (
                not isinstance(names, list)
                or len(names) != len(labels)
                or not all(isinstance(n, str) for n in names)
            ):
                fail(path, f"'task.label_names' should be null or a list of {len(labels)} strings.")
        return len(labels)
    if kind == "regressor":
        n = want_int(path, task, "n_outputs", 1, MAX_LABELS, "task.n_outputs")
        want_numbers(path, task.get("y_mean"), "task.y_mean", length=n)
        want_numbers(path, task.get("y_scale"), "task.y_scale", length=n)
        y_1d = want(path, task, "y_1d", (bool,), "task.y_1d")
        if y_1d and n != 1:
            fail(path, "'task.y_1d' is true but 'task.n_outputs' is not 1.")
        return n
    pooling = want(path, task, "pooling", (str,), "task.pooling")
    if pooling not in ("mean", "cls"):
        fail(path, f"'task.pooling' should be 'mean' or 'cls', got {pooling!r:.80}.")
    want(path, task, "normalize", (bool,), "task.normalize")
    return want_int(path, task, "n_features_out", 1, 1_000_000, "task.n_features_out")
