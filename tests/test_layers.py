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
    moves = {
        "sktransformers.estimators._classifier": "sktransformers._classifier",
        "sktransformers.engine._net": "sktransformers._net",
        "sktransformers.tasks._classification": "sktransformers._tasks",
    }  # (the torch modules are inside skorch's torch.save blob, written by torch)
    data, renamed = _with_module_paths(pickle.dumps(clf, protocol=2), moves)
    assert renamed >= set(moves)
    loaded = pickle.loads(data)
    assert (loaded.predict(["good", "bad"]) == clf.predict(["good", "bad"])).all()


def _with_module_paths(data, moves):
    """``data`` with the class references (GLOBAL opcodes) of ``moves``' modules renamed."""
    import pickletools

    parts, last, renamed = [], 0, set()
    for op, arg, pos in pickletools.genops(data):
        if op.name != "GLOBAL":
            continue
        module, _, name = arg.partition(" ")
        if module in moves:
            parts += [data[last:pos], f"c{moves[module]}\n{name}\n".encode()]
            last = pos + len(f"c{module}\n{name}\n".encode())
            renamed.add(module)
    return b"".join(parts + [data[last:]]), renamed
