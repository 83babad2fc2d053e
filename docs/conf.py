"""Sphinx configuration for the sktransformers documentation.

Build from the repository root::

    pip install "sktransformers[docs]"
    sphinx-build -b html docs docs/_build/html
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Building the docs imports the package; it must never reach the Hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import sktransformers  # noqa: E402

project = "sktransformers"
author = "sktransformers developers"
copyright = "2026, sktransformers developers"
version = release = sktransformers.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# autosummary writes one page per public name (docs/generated/, not committed).
autosummary_generate = True
# scikit-learn adds set_*_request methods (metadata routing) to every
# estimator; their docstrings point into scikit-learn's own glossary.
_ROUTING = [
    f"set_{method}_request"
    for method in ("fit", "partial_fit", "predict", "predict_proba", "score", "transform")
]
autodoc_default_options = {
    "members": True,
    # the shared core's fit / save_pretrained / from_pretrained, not BaseEstimator's plumbing
    "inherited-members": "BaseEstimator",
    # inherited unchanged from scikit-learn's mixins, documented there
    "exclude-members": ", ".join([*_ROUTING, "get_metadata_routing", "set_output", "score"]),
}
autodoc_typehints = "none"

# numpydoc renders the Parameters / Attributes / Examples sections; the
# member tables come from the autosummary class template instead.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable/", None),
    "sklearn": ("https://scikit-learn.org/stable/", None),
    "skorch": ("https://skorch.readthedocs.io/en/stable/", None),
    "torch": ("https://pytorch.org/docs/stable/", None),
    "transformers": ("https://huggingface.co/docs/transformers/main/en/", None),
}
# Cross-links to other projects need their inventories from the network;
# off by default so offline builds neither fail nor wait.
intersphinx_timeout = 5
if os.environ.get("SKTRANSFORMERS_DOCS_INTERSPHINX") != "1":
    intersphinx_mapping = {}

html_theme = "pydata_sphinx_theme"
html_title = f"sktransformers {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
