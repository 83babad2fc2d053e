"""The install hint printed when an optional dependency is missing.

One wording for every extra, matching the README's install command: from a
checkout, ``pip install -e ".[EXTRA]" --config-settings editable_mode=compat``.
"""

from __future__ import annotations


def install_hint(extra: str) -> str:
    """The command that installs ``extra``, as the README gives it.

    Parameters
    ----------
    extra : str
        The extra's name, e.g. ``"onnx"``.

    Returns
    -------
    hint : str

    Examples
    --------
    >>> from sktransformers.utils._extras import install_hint
    >>> install_hint("onnx")
    'pip install -e ".[onnx]" --config-settings editable_mode=compat (from a checkout)'
    """
    return f'pip install -e ".[{extra}]" --config-settings editable_mode=compat (from a checkout)'
