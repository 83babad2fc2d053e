"""The estimator's parameters as loggable values, handed to the tracking callbacks."""

from __future__ import annotations

import json
from numbers import Number

# The attribute of the skorch net through which the estimator hands its
# parameters to the callbacks (set by the estimator when it builds the net).
NET_PARAMS_ATTRIBUTE = "estimator_params_"


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
