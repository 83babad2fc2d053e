"""scikit-learn estimators that fine-tune Hugging Face transformers.

The estimators are imported on first use (PEP 562 ``__getattr__``), so that
``sktransformers.onnx``, the ONNX runtime, imports neither torch nor
transformers.

The code lives in folders by layer, each importing only from those below it
(checked by ``lint-imports``, see ``setup.cfg``)::

    deploy/_serve, __main__     the server and the command line
    estimators/                 the estimators: thin front ends over the engine
    fewlabels/ explain/ integrations/ deploy/_export
                                few-shot and self-training; attributions and
                                plots; tracking and tuning; ONNX export
    engine/                     the shared core: base estimator, model, net,
                                data, persistence, checkpoints, distributed
    tasks/                      one class per kind of target (see tasks/)
    deploy/_onnx_runtime        the torch-free ONNX runtime
    utils/                      input checks, file schemas, extras, logging

Public modules keep their paths (``sktransformers.onnx``, ``.plot``,
``.tracking``, ``.tuning``, ``.datasets``), and the private modules of
earlier versions (``sktransformers._classifier``, ...) still import, as
aliases of their new places, so that pickles made by those versions load.
"""

import importlib
import importlib.abc
import importlib.util
import sys

from ._version import __version__

_LAZY = {
    "Explanation": ".explain",
    "Explanations": ".explain",
    "FewShotClassifier": ".fewlabels",
    "FittedBackbone": ".engine._transfer",
    "TextAugmenter": ".engine._augment",
    "TextSelfTrainingClassifier": ".fewlabels",
    "MultiTaskTransformer": ".estimators",
    "TransformerClassifier": ".estimators",
    "TransformerEmbedder": ".estimators",
    "TransformerQuestionAnswerer": ".estimators",
    "TransformerRegressor": ".estimators",
    "TransformerTokenClassifier": ".estimators",
    "export_onnx": ".deploy._export",
}

__all__ = [
    "Explanation",
    "Explanations",
    "FewShotClassifier",
    "FittedBackbone",
    "TextAugmenter",
    "TextSelfTrainingClassifier",
    "MultiTaskTransformer",
    "TransformerClassifier",
    "TransformerEmbedder",
    "TransformerQuestionAnswerer",
    "TransformerRegressor",
    "TransformerTokenClassifier",
    "__version__",
    "export_onnx",
]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value  # later lookups skip __getattr__
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


#: Where the private modules of versions up to 0.2 live now.
_MOVED_MODULES = {
    "_augment": "engine._augment",
    "_base": "engine._base",
    "_budget": "engine._budget",
    "_callbacks": "engine._callbacks",
    "_checkpoint": "engine._checkpoint",
    "_classifier": "estimators._classifier",
    "_coverage": "engine._coverage",
    "_data": "engine._data",
    "_distributed": "engine._distributed",
    "_embedder": "estimators._embedder",
    "_explain": "explain._attributions",
    "_extras": "utils._extras",
    "_fewshot": "fewlabels._fewshot",
    "_hub": "engine._hub",
    "_inference_linears": "engine._inference_linears",
    "_logging": "utils._logging",
    "_modules": "engine._modules",
    "_multitask": "estimators._multitask",
    "_net": "engine._net",
    "_onnx_export": "deploy._export",
    "_peft": "engine._peft",
    "_persistence": "engine._persistence",
    "_regressor": "estimators._regressor",
    "_rng": "engine._rng",
    "_runtime": "engine._runtime",
    "_schema": "utils._schema",
    "_self_training": "fewlabels._self_training",
    "_serve": "deploy._serve",
    "_synonym_table": "engine._synonym_table",
    "_tasks": "tasks",
    "_text_input": "utils._text_input",
    "_threads": "engine._threads",
    "_token_classifier": "estimators._token_classifier",
    "_transfer": "engine._transfer",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import ``sktransformers._classifier`` (and the rest of :data:`_MOVED_MODULES`) as
    the module at its new place: old imports and old pickles keep working."""

    def find_spec(self, fullname, path=None, target=None):
        prefix, _, name = fullname.partition(".")
        if prefix == __name__ and name in _MOVED_MODULES:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        name = spec.name.partition(".")[2]
        module = importlib.import_module(f".{_MOVED_MODULES[name]}", __name__)
        self._spec = module.__spec__
        return module

    def exec_module(self, module):
        module.__spec__ = self._spec  # the import system set the alias's spec; restore


sys.meta_path.append(_MovedModules())
