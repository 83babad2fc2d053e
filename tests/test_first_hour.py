"""The first hour of a new user: the README's commands, the examples, the logs.

Each test here stands for something a newcomer ran into when following the
README on a fresh clone: an example that trained when asked for ``--help``,
colour codes and progress-bar debris in a log file, a script that imported
an empty namespace package instead of the installed one.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "MPLBACKEND": "Agg"}


def _bash_blocks(markdown):
    return re.findall(r"```bash\n(.*?)```", markdown, flags=re.S)


def _load_example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------
# Examples: --help prints usage and trains nothing; options are documented
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_help_prints_usage_and_exits(path, tmp_path):
    env = {**ENV, "SKTRANSFORMERS_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(path), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:"), result.stdout
    # Nothing was loaded or trained: no epoch table, no loading bar.
    output = result.stdout + result.stderr
    assert not re.search(r"epoch\s+train_loss", output), output
    assert "Loading weights" not in output
    # Every option but -h says what it does and shows its default.
    options = result.stdout.split("options:", 1)[1] if "options:" in result.stdout else ""
    options = options.split("\n\n")[0]
    entries = re.split(r"\n(?=  -)", "\n" + options)
    for entry in filter(str.strip, entries):
        if entry.strip().startswith("-h"):
            continue
        assert "(default:" in entry, f"{path.name}: option without help or default:\n{entry}"
        assert entry.count("(default:") == 1, f"{path.name}: default given twice:\n{entry}"
        # One data-folder convention: --data-dir is the folder holding glue/, conll2003/, ...
        # and $SKTRANSFORMERS_DATA_DIR sets its default.
        if entry.strip().startswith("--data-dir"):
            flat = "".join(entry.split())  # argparse wraps long paths at hyphens
            assert f"(default:{tmp_path})" in flat, entry
            assert "$SKTRANSFORMERS_DATA_DIR" in flat, flat


# ----------------------------------------------------------------------------
# One data-folder convention for examples, benchmarks and tests
# ----------------------------------------------------------------------------
def test_get_data_dir_reads_the_variable_then_the_legacy_one(tmp_path, monkeypatch):
    from sktransformers.datasets import get_data_dir

    monkeypatch.delenv("SKTRANSFORMERS_DATA_DIR", raising=False)
    monkeypatch.delenv("SKTRANSFORMERS_GLUE_DIR", raising=False)
    assert get_data_dir(tmp_path / "given") == tmp_path / "given"
    # The older variable named the glue folder itself: its parent is the data folder.
    (tmp_path / "old" / "glue").mkdir(parents=True)
    monkeypatch.setenv("SKTRANSFORMERS_GLUE_DIR", str(tmp_path / "old" / "glue"))
    assert get_data_dir() == tmp_path / "old"
    monkeypatch.setenv("SKTRANSFORMERS_DATA_DIR", str(tmp_path / "new"))
    (tmp_path / "new").mkdir()
    assert get_data_dir() == tmp_path / "new"


def test_legacy_glue_variable_still_finds_sst2(tmp_path, monkeypatch):
    from sktransformers.datasets import load_glue

    sst2 = tmp_path / "glue" / "SST-2"
    sst2.mkdir(parents=True)
    (sst2 / "dev.tsv").write_text("sentence\tlabel\na fine film\t1\n", encoding="utf-8")
    monkeypatch.delenv("SKTRANSFORMERS_DATA_DIR", raising=False)
    monkeypatch.setenv("SKTRANSFORMERS_GLUE_DIR", str(tmp_path / "glue"))
    X, y = load_glue("SST-2", "dev")
    assert list(X) == ["a fine film"] and list(y) == [1]


def test_no_script_reads_its_own_data_variable():
    """Examples, benchmarks and tests all go through ``get_data_dir`` / ``find_data_file``."""
    scripts = [
        *EXAMPLES,
        *sorted((ROOT / "benchmarks").glob("*.py")),
        *sorted((ROOT / "tests").glob("*.py")),
    ]
    for path in scripts:
        text = path.read_text(encoding="utf-8")
        if path.name == Path(__file__).name:
            continue
        assert not re.search(r"environ[^\n]*SKTRANSFORMERS_GLUE_DIR", text), path.name
        assert '"shared" / "data" / "glue"' not in text, path.name


def test_readme_names_every_data_set_the_tests_read():
    section = README.split("### Data the tests use", 1)[1].split("\n## ", 1)[0]
    for name in ("glue", "conll2003", "semeval2018_ec", "chinese"):
        assert f"`{name}/`" in section, name


def test_user_facing_text_has_no_insider_wording():
    texts = {"README.md": README}
    for path in [
        *EXAMPLES,
        *sorted((ROOT / "docs").glob("*.md")),
        *sorted((ROOT / "docs").glob("*.rst")),
    ]:
        texts[str(path.relative_to(ROOT))] = path.read_text(encoding="utf-8")
    for name, text in texts.items():
        for phrase in ("15-minute budget", "the two commands", "main job"):
            assert phrase not in text.lower(), f"{name} says {phrase!r}"


# ----------------------------------------------------------------------------
# The SST-2 example: only the core install, a clear notice without the data
# ----------------------------------------------------------------------------
def test_finetune_sst2_needs_no_extras():
    tree = ast.parse((ROOT / "examples" / "finetune_sst2.py").read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            roots.add(node.module.split(".")[0])
    core = {
        "__future__",
        "argparse",
        "os",
        "platform",
        "sys",
        "time",
        "pathlib",
        "torch",
        "sklearn",
        "sktransformers",
    }
    assert roots <= core, f"imports beyond the core install: {roots - core}"


def test_readme_sst2_command_installs_only_the_core():
    [command] = [b for b in _bash_blocks(README) if "finetune_sst2.py" in b and "pip" in b]
    assert "[all]" not in command and ".[" not in command, command
    assert re.search(r"pip install[^\n&]*-e \.", command), command


def test_finetune_sst2_says_when_it_falls_back_to_the_synthetic_sample(tmp_path, capsys):
    example = _load_example("finetune_sst2.py")
    assert example.parse_args(["--data-dir", str(tmp_path)]).data_dir == str(tmp_path)
    name, X, y, X_dev, y_dev = example.load_data(str(tmp_path), 100, 0)
    out = capsys.readouterr().out
    assert "NOTICE" in out and str(tmp_path) in out and "--data-dir" in out
    assert "synthetic" in out and "not SST-2" in name
    assert len(X) + len(X_dev) == 600


# ----------------------------------------------------------------------------
# Clean logs
# ----------------------------------------------------------------------------
_FIT = textwrap.dedent("""
    import sys, tempfile
    from sktransformers import TransformerClassifier, TransformerEmbedder
    X = ["a great film", "awful acting", "i loved it", "dull mess"] * 6
    y = [1, 0, 1, 0] * 6
    verbose = int(sys.argv[2])
    clf = TransformerClassifier(model=sys.argv[1], max_epochs=3, device="cpu",
                                validation_fraction=0.25, verbose=verbose).fit(X, y)
    clf.predict(X)
    with tempfile.TemporaryDirectory() as folder:
        clf.save_pretrained(folder)
        TransformerClassifier.from_pretrained(folder).predict_proba(X)
    if not verbose:
        TransformerEmbedder(model=sys.argv[1], device="cpu").fit_transform(X)
""")


def _run_to_file(tmp_path, model, verbose):
    script = tmp_path / "fit.py"
    script.write_text(_FIT)
    log = tmp_path / f"log{verbose}.txt"
    with open(log, "w") as out:  # stdout and stderr into one file, as `> log 2>&1`
        subprocess.run(
            [sys.executable, str(script), model, str(verbose)],
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=300,
            cwd=tmp_path,
            env=ENV,
            check=True,
        )
    return log.read_text(encoding="utf-8")


def test_verbose_log_written_to_a_file_is_plain(tmp_path, tiny_model_dir):
    log = _run_to_file(tmp_path, tiny_model_dir, verbose=1)
    assert "\x1b[" not in log, "ANSI colour codes in a log file"
    assert "\r" not in log, "progress-bar redraws (training, loading, saving) in a log file"
    rows = [line for line in log.split("\n") if re.match(r"\s+[123]\s+\d+\.\d+", line)]
    assert len(rows) == 3, log  # one row per epoch, each on a line of its own
    assert re.search(r"(?m)^\s+epoch\s+train_loss", log), log


def test_silent_at_verbose_0(tmp_path, tiny_model_dir):
    assert _run_to_file(tmp_path, tiny_model_dir, verbose=0) == ""


def test_print_log_colours_only_in_a_terminal(monkeypatch, capsys):
    from skorch.history import History

    from sktransformers.utils import _logging

    class Net:
        verbose = 1
        history = History()

    Net.history.new_epoch()
    Net.history.record("epoch", 1)
    Net.history.record("train_loss", 0.5)
    Net.history.record("train_loss_best", True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    for terminal in (False, True):
        monkeypatch.setattr(_logging, "is_terminal", lambda stream, t=terminal: t)
        _logging.PrintLog().initialize().on_epoch_end(Net())
        out = capsys.readouterr().out
        assert ("\x1b[" in out) is terminal, out
        assert "0.5000" in out


def test_progress_lines_end_their_line_outside_a_terminal(capsys):
    from skorch.history import History

    from sktransformers.utils import _logging

    class Net:
        history = History()

    Net.history.new_epoch()
    Net.history.new_batch()
    Net.history.record_batch("train_loss", 0.25)

    bar = _logging.ProgressBar(log_every=0, batches_per_epoch=4)
    bar.on_epoch_begin(Net())  # pytest's captured stderr is not a terminal
    for _ in range(2):
        bar.on_batch_end(Net())
    bar.on_epoch_end(Net())
    err = capsys.readouterr().err
    assert "\r" not in err
    assert err.splitlines()[-1].startswith("epoch 1: 2/4 batches")
    assert err.endswith("\n")


def test_print_callbacks():
    from sktransformers.utils import _logging

    assert _logging.print_callbacks(0) == []
    [(name, callback)] = _logging.print_callbacks(1)
    assert name == "progress" and isinstance(callback, _logging.ProgressBar)
    assert isinstance(_logging.net_print_params()["callbacks__print_log"], _logging.PrintLog)


# ----------------------------------------------------------------------------
# The clone's parent folder; the quickstart's output folder
# ----------------------------------------------------------------------------
def _readme_editable_flags():
    """The options the README gives ``pip install -e .`` (e.g. the editable mode)."""
    [command] = [b for b in _bash_blocks(README) if "finetune_sst2.py" in b and "pip" in b]
    match = re.search(r"pip install((?:\s+-q)?)\s+-e \.((?:\s+--config-settings[= ]\S+)*)", command)
    assert match, command
    return match.group(2).split()


def test_script_in_the_folder_holding_the_clone_imports_the_package(tmp_path):
    """``cd ..`` from the clone and run a script: the package, not the clone folder.

    Python puts a script's folder first on ``sys.path``; there the clone's
    folder, named ``sktransformers`` and without an ``__init__.py``, is a
    namespace package. An editable install through an import hook loses to
    it (``cannot import name 'TransformerClassifier' from 'sktransformers'
    (unknown location)``); one that puts the checkout on ``sys.path`` wins.
    """
    flags = _readme_editable_flags()
    assert "editable_mode=compat" in " ".join(flags), "README's install must avoid the trap"
    setuptools = pytest.importorskip("setuptools")
    if int(setuptools.__version__.split(".")[0]) < 64:
        pytest.skip("PEP 660 editable installs need setuptools >= 64")

    clone = tmp_path / "sktransformers"
    clone.mkdir()
    for name in ("pyproject.toml", "README.md", "setup.cfg", "LICENSE"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, clone / name)
    shutil.copytree(
        ROOT / "sktransformers",
        clone / "sktransformers",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60
    )
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    # The dependencies (torch, transformers, ...) come from this interpreter's
    # site-packages as a plain path: its .pth files, among them this checkout's
    # own editable install, are not run.
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-e",
            str(clone),
            *flags,
        ],
        check=True,
        timeout=120,
        cwd=clone,
        env={**ENV, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    script = tmp_path / "use_it.py"
    script.write_text(
        "import sktransformers\n"
        "from sktransformers import TransformerClassifier\n"
        "print(sktransformers.__file__)\n"
    )
    result = subprocess.run(
        [str(python), str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env=ENV,
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == clone / "sktransformers" / "__init__.py"


def test_quickstart_model_folder_is_git_ignored():
    [quickstart] = re.findall(r"## Quickstart\n.*?```python\n(.*?)```", README, flags=re.S)
    [folder] = re.findall(r"save_pretrained\(\"([^\"]+)\"\)", quickstart)
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    result = subprocess.run(
        ["git", "check-ignore", "-q", f"{folder}/model.safetensors"], cwd=ROOT, timeout=30
    )
    assert result.returncode == 0, f"the quickstart's {folder}/ is not in .gitignore"
