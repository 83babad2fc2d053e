"""Sphinx configuration for the sktransformers documentation.

Build from the repository root (``.ci/docs`` runs the same, failing on any
warning)::

    pip install -e ".[docs]" --config-settings editable_mode=compat
    sphinx-build -n -W --keep-going docs docs/_build/html

The gallery (``docs/auto_examples``, from ``examples/``) runs the
``examples/plot_*.py`` scripts and renders their output and figures; the
other scripts are shown, not run. ``SKTRANSFORMERS_DOCS_RUN_EXAMPLES=0``
skips running them for a quick build of the text.

Links to other projects resolve offline, from the small inventories in
``docs/_inventories/`` (see its README); ``SKTRANSFORMERS_DOCS_INTERSPHINX=online``
tries the projects' own ``objects.inv`` first.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Building the docs imports the package; it must never reach the Hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import sktransformers  # noqa: E402


class _NoMystConfigDump(logging.Filter):
    """myst-parser logs its whole configuration at every build: keep the log to what matters."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "myst v" not in str(record.msg)


logging.getLogger("sphinx.myst_parser.sphinx_ext.main").addFilter(_NoMystConfigDump())

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
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "_inventories", "Thumbs.db", ".DS_Store"]

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
# Parameter types link to their documentation (str, DataFrame, torch.device,
# skorch callbacks, ...): only the names below (and numpydoc's defaults for
# Python and NumPy types) are linked, every other word stays plain text.
numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"
# numpydoc's defaults point some names at labels and glossary terms that the
# shipped inventories do not hold; names mapped to themselves need a role.
numpydoc_xref_aliases = {
    "bool": ":obj:`bool`",
    "boolean": ":obj:`boolean <bool>`",
    "iterable": ":obj:`iterable <collections.abc.Iterable>`",
    "sequence": ":obj:`sequence <collections.abc.Sequence>`",
    "array-like": ":term:`sklearn:array-like`",
    "array_like": ":term:`sklearn:array-like`",
    "path-like": ":obj:`path-like <os.PathLike>`",
    "Path": ":obj:`Path <pathlib.Path>`",
    "DataFrame": ":obj:`DataFrame <pandas.DataFrame>`",
    "pandas.DataFrame": ":obj:`pandas.DataFrame`",
    "Series": ":obj:`Series <pandas.Series>`",
    "pandas.Series": ":obj:`pandas.Series`",
    "numpy.ndarray": ":obj:`numpy.ndarray`",
    "torch.device": ":obj:`torch.device`",
    "torch.dtype": ":obj:`torch.dtype`",
    "torch.nn.Module": ":obj:`torch.nn.Module`",
    "torch.Tensor": ":obj:`torch.Tensor`",
    "History": ":obj:`History <skorch.history.History>`",
    "skorch.History": ":obj:`skorch.History <skorch.history.History>`",
    "Callback": ":obj:`Callback <skorch.callbacks.Callback>`",
    "skorch.callbacks.Callback": ":obj:`skorch.callbacks.Callback`",
    "PreTrainedTokenizerBase": (
        ":obj:`PreTrainedTokenizerBase <transformers.PreTrainedTokenizerBase>`"
    ),
    "transformers.PreTrainedTokenizerBase": ":obj:`transformers.PreTrainedTokenizerBase`",
    "transformers.PretrainedConfig": ":obj:`transformers.PretrainedConfig`",
    "transformers.PreTrainedModel": ":obj:`transformers.PreTrainedModel`",
    "estimator": ":term:`sklearn:estimator`",
}

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# Each project's real documentation site, with the inventory of the names
# these pages link to shipped in docs/_inventories/ (the build machines have
# no network; docs/_inventories/README.md says how the files are made).
_INTERSPHINX = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "pandas": "https://pandas.pydata.org/docs/",
    "sklearn": "https://scikit-learn.org/stable/",
    "skorch": "https://skorch.readthedocs.io/en/stable/",
    "torch": "https://docs.pytorch.org/docs/stable/",
    "transformers": "https://huggingface.co/docs/transformers/main/en/",
}
_ONLINE = os.environ.get("SKTRANSFORMERS_DOCS_INTERSPHINX") == "online"
intersphinx_mapping = {
    name: (url, (None, f"_inventories/{name}.inv") if _ONLINE else f"_inventories/{name}.inv")
    for name, url in _INTERSPHINX.items()
}
intersphinx_timeout = 5

# The gallery: examples/*.py rendered with their output; plot_*.py are run.
_RUN_EXAMPLES = os.environ.get("SKTRANSFORMERS_DOCS_RUN_EXAMPLES", "1") != "0"
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Run the plot_* scripts (seconds each on a CPU); show the others (the
    # SST-2 fine-tuning, the Optuna search) without running them.
    "filename_pattern": r"/plot_",
    "plot_gallery": str(_RUN_EXAMPLES),
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("sktransformers",),
    "backreferences_dir": "generated/backreferences",
    "image_scrapers": ("matplotlib",),
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_signature": False,
    "min_reported_time": 10,
    # An example that raises fails the build, as a warning would.
    "only_warn_on_example_error": False,
}
# Examples run with a plain matplotlib backend and never reach the Hub.
os.environ.setdefault("MPLBACKEND", "Agg")

# Guide pages: those listed in index.rst's table of contents, then, where it
# says "optional-guide-pages", every other page at the top of docs/ (in this
# order first, then alphabetically). A guide page added to docs/ so appears
# in the contents without editing index.rst; index.rst orders the main ones.
PREFERRED_PAGE_ORDER = [
    "token_classification",
    "question_answering",
    "multilabel",
    "long_texts",
    "few_labels",
    "explaining",
    "visibility",
    "reliability",
    "deploying",
]
_NOT_GUIDES = {"index", "api", "sg_execution_times"}


def _optional_guide_pages(app, docname, source):
    if docname != "index":
        return
    here = Path(app.srcdir)
    pages = {p.stem for suffix in source_suffix for p in here.glob(f"*{suffix}")}
    listed = set(re.findall(r"^   ([\w/-]+)$", source[0], flags=re.M))
    extra = sorted(
        pages - listed - _NOT_GUIDES,
        key=lambda page: (
            PREFERRED_PAGE_ORDER.index(page)
            if page in PREFERRED_PAGE_ORDER
            else len(PREFERRED_PAGE_ORDER),
            page,
        ),
    )
    source[0] = source[0].replace(
        "   optional-guide-pages\n", "".join(f"   {page}\n" for page in extra)
    )


def setup(app):
    app.connect("source-read", _optional_guide_pages)


html_theme = "pydata_sphinx_theme"
html_title = f"sktransformers {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
