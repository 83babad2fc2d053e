"""Write the intersphinx inventories in this folder (``<project>.inv``).

The docs link to scikit-learn, skorch, PyTorch, transformers, NumPy, pandas
and Python. Sphinx resolves such links from each project's ``objects.inv``,
normally downloaded at build time; the machines that build these docs have
no network, and transformers' docs (not built with Sphinx) publish none. So
the inventories are made here, offline, from two things:

* the names the docs refer to, listed below by project: each one is imported
  from the installed package, so a misspelt or removed name fails this
  script instead of becoming a dead link;
* each site's URL scheme (checked by hand against the live sites), which
  turns a name into the page and anchor the project's own inventory gives.

The links therefore point at the real online pages. Run from the repository
root after adding a name (a nitpicky build names the ones missing)::

    python docs/_inventories/make_inventories.py

With network access, ``SKTRANSFORMERS_DOCS_INTERSPHINX=online sphinx-build ...``
uses the projects' own inventories first and these as the fallback.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import zlib
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> URI; "$" stands for the name, as in Sphinx inventories.
PYTHON = {
    **{
        n: "library/functions.html#$"
        for n in (
            "int",
            "float",
            "bool",
            "len",
            "isinstance",
            "print",
            "zip",
            "open",
            "object",
            "type",
            "callable",
            "iter",
        )
    },
    **{
        n: "library/stdtypes.html#$"
        for n in ("str", "list", "dict", "tuple", "set", "bytes", "range")
    },
    **{n: "library/constants.html#$" for n in ("None", "True", "False")},
    **{
        n: "library/exceptions.html#$"
        for n in (
            "ValueError",
            "TypeError",
            "RuntimeError",
            "ImportError",
            "FileNotFoundError",
            "KeyError",
            "NotImplementedError",
            "Warning",
            "UserWarning",
            "DeprecationWarning",
            "FutureWarning",
        )
    },
    "pickle": "library/pickle.html#module-pickle",
    "pathlib.Path": "library/pathlib.html#$",
    "os.PathLike": "library/os.html#$",
    "os.environ": "library/os.html#$",
    "sys.stdout": "library/sys.html#$",
    "sys.stderr": "library/sys.html#$",
    "tempfile.TemporaryDirectory": "library/tempfile.html#$",
    "logging.Logger": "library/logging.html#$",
    "collections.abc.Iterable": "library/collections.abc.html#$",
    "collections.abc.Sequence": "library/collections.abc.html#$",
    "argparse.ArgumentDefaultsHelpFormatter": "library/argparse.html#$",
}

NUMPY = {
    "numpy.ndarray": "reference/generated/$.html#$",
    "numpy.array": "reference/generated/$.html#$",
    "numpy.asarray": "reference/generated/$.html#$",
    "numpy.argsort": "reference/generated/$.html#$",
    "numpy.nan": "reference/constants.html#$",
    "numpy.random.RandomState": "reference/random/legacy.html#$",
    "numpy.random.Generator": "reference/random/generator.html#$",
}

PANDAS = {
    n: "reference/api/$.html#$"
    for n in (
        "pandas.DataFrame",
        "pandas.Series",
        "pandas.read_csv",
        "pandas.DataFrame.sample",
        "pandas.DataFrame.head",
    )
}

SKLEARN = {
    **{
        n: "modules/generated/$.html#$"
        for n in (
            "sklearn.base.BaseEstimator",
            "sklearn.base.ClassifierMixin",
            "sklearn.base.RegressorMixin",
            "sklearn.base.TransformerMixin",
            "sklearn.base.clone",
            "sklearn.pipeline.Pipeline",
            "sklearn.pipeline.make_pipeline",
            "sklearn.compose.ColumnTransformer",
            "sklearn.compose.make_column_transformer",
            "sklearn.model_selection.GridSearchCV",
            "sklearn.model_selection.RandomizedSearchCV",
            "sklearn.model_selection.cross_val_score",
            "sklearn.model_selection.cross_validate",
            "sklearn.model_selection.train_test_split",
            "sklearn.model_selection.StratifiedKFold",
            "sklearn.ensemble.StackingClassifier",
            "sklearn.ensemble.StackingRegressor",
            "sklearn.linear_model.LogisticRegression",
            "sklearn.linear_model.Ridge",
            "sklearn.feature_extraction.text.TfidfVectorizer",
            "sklearn.decomposition.PCA",
            "sklearn.neighbors.NearestNeighbors",
            "sklearn.preprocessing.LabelEncoder",
            "sklearn.preprocessing.StandardScaler",
            "sklearn.preprocessing.MultiLabelBinarizer",
            "sklearn.metrics.accuracy_score",
            "sklearn.metrics.jaccard_score",
            "sklearn.metrics.classification_report",
            "sklearn.metrics.f1_score",
            "sklearn.metrics.matthews_corrcoef",
            "sklearn.metrics.r2_score",
            "sklearn.metrics.confusion_matrix",
            "sklearn.metrics.ConfusionMatrixDisplay",
            "sklearn.model_selection.LearningCurveDisplay",
            "sklearn.utils.estimator_checks.parametrize_with_checks",
            "sklearn.semi_supervised.SelfTrainingClassifier",
            "sklearn.multioutput.MultiOutputClassifier",
        )
    },
    # methods live on their class's page
    **{
        f"sklearn.metrics.ConfusionMatrixDisplay.{m}": (
            "modules/generated/sklearn.metrics.ConfusionMatrixDisplay.html#$"
        )
        for m in ("from_predictions", "from_estimator", "plot")
    },
}

SKORCH = {
    "skorch.net.NeuralNet": "net.html#$",
    "skorch.NeuralNet": "net.html#skorch.net.NeuralNet",  # re-exported, documented in skorch.net
    "skorch.classifier.NeuralNetClassifier": "classifier.html#$",
    "skorch.regressor.NeuralNetRegressor": "regressor.html#$",
    "skorch.history.History": "history.html#$",
    "skorch.helper.predefined_split": "helper.html#$",
    **{
        f"skorch.callbacks.{n}": "callbacks.html#$"
        for n in (
            "Callback",
            "PrintLog",
            "ProgressBar",
            "EarlyStopping",
            "EpochScoring",
            "BatchScoring",
            "Checkpoint",
            "LRScheduler",
            "GradientNormClipping",
            "TensorBoard",
            "MlflowLogger",
            "WandbLogger",
            "NeptuneLogger",
            "Freezer",
        )
    },
}

TORCH = {
    **{
        n: "generated/$.html#$"
        for n in (
            "torch.nn.Module",
            "torch.nn.Linear",
            "torch.nn.CrossEntropyLoss",
            "torch.nn.MSELoss",
            "torch.optim.AdamW",
            "torch.compile",
            "torch.set_num_threads",
            "torch.manual_seed",
            "torch.nn.parallel.DistributedDataParallel",
        )
    },
    "torch.autocast": "amp.html#$",
    "torch.Tensor": "tensors.html#$",
    "torch.device": "tensor_attributes.html#$",
    "torch.dtype": "tensor_attributes.html#$",
    "torch.bfloat16": "tensor_attributes.html#torch.dtype",
    "torch.utils.data.Dataset": "data.html#$",
    "torch.utils.data.DataLoader": "data.html#$",
    "torch.distributed": "distributed.html#module-$",
}

TRANSFORMERS = {
    **{
        f"transformers.{n}": "model_doc/auto#$"
        for n in ("AutoModel", "AutoTokenizer", "AutoConfig", "AutoModelForSequenceClassification")
    },
    "transformers.PreTrainedModel": "main_classes/model#$",
    "transformers.PreTrainedTokenizerBase": "internal/tokenization_utils#$",
    "transformers.PretrainedConfig": "main_classes/configuration#$",
    "transformers.PreTrainedTokenizerFast": "main_classes/tokenizer#$",
    "transformers.Trainer": "main_classes/trainer#$",
    "transformers.TrainingArguments": "main_classes/trainer#$",
    "transformers.pipeline": "main_classes/pipelines#$",
}

# Glossary terms (``:term:`sklearn:array-like```): name -> URI, not imported.
TERMS = {
    "sklearn": {
        "array-like": "glossary.html#term-array-like",
        "estimator": "glossary.html#term-estimator",
        "estimators": "glossary.html#term-estimators",
        "random_state": "glossary.html#term-random_state",
        "n_jobs": "glossary.html#term-n_jobs",
        "fit": "glossary.html#term-fit",
        "partial_fit": "glossary.html#term-partial_fit",
        "predict_proba": "glossary.html#term-predict_proba",
        "cross-validation splitter": "glossary.html#term-cross-validation-splitter",
        "meta-estimator": "glossary.html#term-meta-estimator",
    },
    "python": {
        "iterable": "glossary.html#term-iterable",
        "sequence": "glossary.html#term-sequence",
        "generator": "glossary.html#term-generator",
        "path-like object": "glossary.html#term-path-like-object",
    },
}

PROJECTS = {
    # file stem: (project name, distribution for the version, names)
    "python": ("Python", None, PYTHON),
    "numpy": ("NumPy", "numpy", NUMPY),
    "pandas": ("pandas", "pandas", PANDAS),
    "sklearn": ("scikit-learn", "scikit-learn", SKLEARN),
    "skorch": ("skorch", "skorch", SKORCH),
    "torch": ("PyTorch", "torch", TORCH),
    "transformers": ("transformers", "transformers", TRANSFORMERS),
}


def resolve(name):
    """Import ``name`` (a module, or an attribute path within one)."""
    if hasattr(builtins, name):
        return getattr(builtins, name)
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)  # AttributeError: the name is wrong
        return obj
    raise ImportError(f"cannot import {name}")


def role(name, obj):
    if inspect.ismodule(obj):
        return "py:module"
    if inspect.isclass(obj):
        return "py:exception" if issubclass(obj, BaseException) else "py:class"
    owner = name.rsplit(".", 1)[0]
    if inspect.isroutine(obj) or callable(obj) and not isinstance(obj, type):
        if owner and inspect.isclass(_safe_resolve(owner)):
            return "py:method"
        return "py:function"
    return "py:data"


def _safe_resolve(name):
    try:
        return resolve(name)
    except (ImportError, AttributeError):
        return None


def lines_for(names):
    out = []
    for name, uri in sorted(names.items()):
        obj = resolve(name)
        kind = role(name, obj)
        if name in ("None", "True", "False"):
            kind = "py:data"
        out.append(f"{name} {kind} 1 {uri.replace('$', name)} -")
    return out


def write(stem, project, dist, names):
    ver = version(dist) if dist else "3"
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {ver}\n"
        "# The remainder of this file is compressed using zlib.\n"
    ).encode()
    lines = lines_for(names)
    lines += [f"{term} std:term -1 {uri} -" for term, uri in sorted(TERMS.get(stem, {}).items())]
    body = ("\n".join(lines) + "\n").encode()
    (HERE / f"{stem}.inv").write_bytes(header + zlib.compress(body, 9))
    return len(names)


def main():
    for stem, (project, dist, names) in PROJECTS.items():
        n = write(stem, project, dist, names)
        print(f"{stem}.inv: {n} names ({project})")


if __name__ == "__main__":
    main()
