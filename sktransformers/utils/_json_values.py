"""Plain-JSON forms of labels and parameters, and back (numpy scalars, tuples, dicts)."""

from __future__ import annotations


def to_json_value(value):
    """Plain-JSON form of labels and parameters (numpy scalars, tuples, dicts)."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple, np.ndarray)):
        return [to_json_value(v) for v in value]
    if isinstance(value, dict):
        return {"__dict_items__": [[to_json_value(k), to_json_value(v)] for k, v in value.items()]}
    return value


def from_json_value(value):
    if isinstance(value, dict) and "__dict_items__" in value:
        return {_hashable(k): from_json_value(v) for k, v in value["__dict_items__"]}
    return value


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value
