"""Type aliases of the public API (annotations only; nothing here is checked at run time).

The estimators take what scikit-learn takes: lists, arrays, Series and
DataFrames, checked at run time with clear errors. pandas ships no type
information, so texts and targets are ``Any`` to a type checker; the aliases
name what each argument means.
"""

from __future__ import annotations

import os
from typing import Any, Literal, TypeAlias

import numpy as np

#: Texts: single texts (a list, array, Series or one-column DataFrame of str)
#: or pairs (a two-column DataFrame, an (n, 2) array or a list of 2-tuples).
Texts: TypeAlias = Any
#: Targets: labels, numbers, tag lists, answers or an indicator matrix.
Targets: TypeAlias = Any
#: A file or folder path.
PathLike: TypeAlias = str | os.PathLike[str]
#: A Hugging Face model id, a model folder, or a fitted backbone (``est.backbone()``).
ModelSource: TypeAlias = str | os.PathLike[str] | Any
#: ``random_state`` as scikit-learn takes it.
RandomState: TypeAlias = int | np.random.RandomState | None
MaxEpochs: TypeAlias = int | Literal["auto"]
Freeze: TypeAlias = Literal["embeddings", "backbone"] | int | None
LongTexts: TypeAlias = Literal["truncate", "chunk"]
Pooling: TypeAlias = Literal["mean", "cls"]
Precision: TypeAlias = Literal["auto", "fp32", "bf16", "fp16"]
#: How ``explain`` attributes (``explain.METHODS`` at run time).
ExplainMethod: TypeAlias = Literal["integrated_gradients", "gradient_x_input", "occlusion"]
#: The reference input of Integrated Gradients and occlusion.
Baseline: TypeAlias = Literal["pad", "mask"]
