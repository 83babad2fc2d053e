"""The package's folders are layers, with no import cycle, and old import paths still work.

``lint-imports`` (``.ci/run``) checks the layering contract of
``pyproject.toml``; these tests check what it cannot: that no import cycle
exists at all (function-level imports included), that the contract really
fails on an upward import, and that the private module paths of earlier
versions, which old pickles name, still import.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sktransformers

grimp = pytest.importorskip("grimp")
ROOT = Path(sktransformers.__file__).resolve().parent.parent


def _cycles(graph):
    """Strongly connected groups of more than one module (Tarjan)."""
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return out


def test_no_import_cycle_anywhere():
    graph = grimp.build_graph("sktransformers", cache_dir=None)
    assert len(graph.modules) > 50
    assert _cycles(graph) == []


def test_the_layering_contract_fails_on_an_upward_import(tmp_path):
    lint = shutil.which("lint-imports", path=os.path.dirname(sys.executable))
    if lint is None:
        pytest.skip("import-linter is not installed (the lint extra)")
    if not (ROOT / "pyproject.toml").exists():
        pytest.skip("not a source checkout")
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "sktransformers", copy / "sktransformers")
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    env = {**os.environ, "PYTHONPATH": str(copy)}
    kept = subprocess.run([lint, "--no-cache"], cwd=copy, env=env, capture_output=True, text=True)
    assert kept.returncode == 0, kept.stdout[-2000:]
    # The engine reaching up into the estimators breaks the contract.
    budget = copy / "sktransformers" / "engine" / "_budget.py"
    budget.write_text(
        budget.read_text() + "\n\ndef _upward():\n    from ..estimators import _classifier\n"
    )
    broken = subprocess.run([lint, "--no-cache"], cwd=copy, env=env, capture_output=True, text=True)
    assert broken.returncode != 0
    assert "sktransformers.engine._budget -> sktransformers.estimators._classifier" in broken.stdout


def test_old_private_paths_import_and_old_pickles_load(tiny_model_dir):
    import importlib

    from sktransformers import TransformerClassifier

    old = importlib.import_module("sktransformers._classifier")
    assert old.TransformerClassifier is TransformerClassifier
    assert old.__spec__.name == "sktransformers.estimators._classifier"
    from sktransformers._tasks import ClassificationTask  # noqa: F401  (0.2's path)

    clf = TransformerClassifier(tiny_model_dir, max_epochs=1, device="cpu", random_state=0)
    clf.fit(["good", "bad", "fine", "awful"], [1, 0, 1, 0])
    # A pickle as 0.2 wrote it names the classes at their old module paths.
    data = pickle.dumps(clf, protocol=0)
    for new, was in [
        (b"sktransformers.estimators._classifier", b"sktransformers._classifier"),
        (b"sktransformers.engine._net", b"sktransformers._net"),
        (b"sktransformers.engine._modules", b"sktransformers._modules"),
        (b"sktransformers.tasks._classification", b"sktransformers._tasks"),
    ]:
        assert new in data
        data = data.replace(new, was)
    loaded = pickle.loads(data)
    assert (loaded.predict(["good", "bad"]) == clf.predict(["good", "bad"])).all()
