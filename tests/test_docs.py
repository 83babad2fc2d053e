"""Cheap checks on the documentation sources; `.ci/docs` builds the site itself.

The full build (nitpicky, warnings as errors, the gallery examples run)
takes minutes; these catch in a second what would otherwise only show up
there, or not at all (a link to a package index the project is not on).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
INVENTORIES = DOCS / "_inventories"


def _inventory_body(data):
    """The object lines of an objects.inv (its four header lines dropped)."""
    header_end = 0
    for _ in range(4):
        header_end = data.index(b"\n", header_end) + 1
    return zlib.decompress(data[header_end:]).decode()


def test_shipped_inventories_match_their_generator(tmp_path, monkeypatch):
    """docs/_inventories/*.inv are what make_inventories.py writes from the installed packages."""
    pytest.importorskip("skorch")
    spec = importlib.util.spec_from_file_location(
        "make_inventories", INVENTORIES / "make_inventories.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "HERE", tmp_path)
    module.main()
    for stem in module.PROJECTS:
        shipped = (INVENTORIES / f"{stem}.inv").read_bytes()
        fresh = (tmp_path / f"{stem}.inv").read_bytes()
        assert _inventory_body(shipped) == _inventory_body(fresh), (
            f"docs/_inventories/{stem}.inv is stale: run "
            "python docs/_inventories/make_inventories.py"
        )


def test_intersphinx_points_at_the_real_sites():
    conf = (DOCS / "conf.py").read_text(encoding="utf-8")
    tree = ast.parse(conf)
    [urls] = [
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_INTERSPHINX"
    ]
    assert set(urls) >= {"python", "numpy", "pandas", "sklearn", "skorch", "torch", "transformers"}
    for name, url in urls.items():
        assert url.startswith("https://") and url.endswith("/"), (name, url)
        assert (INVENTORIES / f"{name}.inv").is_file(), name


def test_install_lines_name_no_package_index():
    """The project is installed from a checkout: no `pip install sktransformers[...]`."""
    pages = [ROOT / "README.md", *DOCS.glob("*.md"), *DOCS.glob("*.rst")]
    wrong = re.compile(r"pip install\s+(?:-[-\w]+\s+)*[\"']?sktransformers\b")
    for page in pages:
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            assert not wrong.search(line), f"{page.name}:{number}: {line.strip()}"


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name)
def test_example_docstring_is_a_gallery_title(path):
    """sphinx-gallery needs a reST title first in each example's docstring."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")), clean=False)
    assert doc, f"{path.name} has no docstring"
    lines = doc.strip("\n").splitlines()
    assert len(lines) >= 2 and re.fullmatch(r"=+", lines[1].strip()), (
        f"{path.name}: the docstring must start with a title underlined with '='"
    )
    assert len(lines[1].strip()) >= len(lines[0].strip()), f"{path.name}: underline too short"


@pytest.mark.parametrize(
    "module_name",
    [
        "sktransformers",
        "sktransformers.onnx",
        "sktransformers.tuning",
        "sktransformers.plot",
        "sktransformers.tracking",
        "sktransformers.datasets",
    ],
)
def test_every_public_name_is_on_the_api_page(module_name):
    """A name in a public module's ``__all__`` gets an API page (data constants aside)."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:  # an optional module whose extra is missing
        pytest.skip(f"{module_name}: {exc}")
    api = (DOCS / "api.rst").read_text(encoding="utf-8")
    sections = re.split(r"^\.\. currentmodule:: ", api, flags=re.M)
    listed = set()
    for section in sections[1:]:
        current, body = section.split("\n", 1)
        listed |= {
            f"{current.strip()}.{name}" for name in re.findall(r"^   (\w+)$", body, flags=re.M)
        }
    public = [
        name
        for name in getattr(module, "__all__", [])
        if not name.startswith("_") and callable(getattr(module, name))
    ]
    missing = [name for name in public if f"{module_name}.{name}" not in listed]
    assert not missing, f"not in docs/api.rst: {module_name}.{', '.join(missing)}"
