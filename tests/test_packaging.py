"""The package as users get it: build a wheel and an sdist, install the wheel into a
fresh virtual environment outside the checkout, and fit, predict, save and load there.

The editable install of the development environment hides a package-data file
that the build leaves out, or an import of a module that is not shipped; this
test imports ``sktransformers`` only from the installed wheel (it checks
``sktransformers.__file__``). The fresh environment reuses the dependencies
of the running one (torch, transformers, ...) through a ``.pth`` line naming
its site-packages: a path listed in a ``.pth`` file is added to ``sys.path``
without running the ``.pth`` files inside it, so the editable finder of the
development install stays out.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Every data file of the package in the checkout: the typing marker and the data sets.
PACKAGE_DATA = ["sktransformers/py.typed"] + sorted(
    p.relative_to(REPO).as_posix() for p in (REPO / "sktransformers").rglob("*.tsv")
)

SMOKE = textwrap.dedent(
    """
    import pickle
    import sys
    from pathlib import Path

    import numpy as np

    import sktransformers
    from sktransformers import TransformerClassifier
    from sktransformers.datasets import load_movie_reviews_sample

    venv, model, out = (Path(a).resolve() for a in sys.argv[1:4])
    where = Path(sktransformers.__file__).resolve()
    assert venv in where.parents, f"sktransformers imported from {where}, not from {venv}"
    assert (where.parent / "py.typed").is_file()

    df = load_movie_reviews_sample()  # package data
    assert df.shape == (600, 2), df.shape
    X = df.text.tolist()[:24]
    y = df.label.tolist()[:24]
    assert len(set(y)) == 2
    clf = TransformerClassifier(
        str(model), max_epochs=1, batch_size=8, device="cpu", random_state=0
    ).fit(X, y)
    pred = clf.predict(X[:6])
    proba = clf.predict_proba(X[:6])
    clf.save_pretrained(out)
    loaded = TransformerClassifier.from_pretrained(out)
    assert loaded.predict(X[:6]).tolist() == pred.tolist()
    np.testing.assert_allclose(loaded.predict_proba(X[:6]), proba, atol=1e-5)
    again = pickle.loads(pickle.dumps(clf))
    assert again.predict(X[:6]).tolist() == pred.tolist()
    print("smoke ok:", sktransformers.__version__, where)
    """
)


def _run(cmd, cwd, env=None, timeout=300):
    result = subprocess.run(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{result.stdout[-4000:]}"
    return result.stdout


def _isolation_args():
    """Build with the running environment's setuptools when it can make wheels by itself.

    setuptools >= 70.1 has ``bdist_wheel`` built in: no isolated build
    environment, no download. Older ones (the one Python 3.11's ``venv``
    bundles) build in an isolated environment fetched from PyPI.
    """
    from importlib.metadata import PackageNotFoundError, version

    from packaging.version import Version

    try:
        if Version(version("setuptools")) >= Version("70.1"):
            return ["--no-isolation", "--skip-dependency-check"]
    except PackageNotFoundError:
        pass
    return []


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """sdist and wheel built as ``python -m build`` does: the wheel from the sdist."""
    pytest.importorskip("build", reason="python -m build needs the `build` package ([test])")
    out = tmp_path_factory.mktemp("dist")
    _run(
        [sys.executable, "-m", "build", *_isolation_args(), "--outdir", str(out), str(REPO)],
        cwd=out,
    )
    sdists = list(out.glob("sktransformers-*.tar.gz"))
    wheels = list(out.glob("sktransformers-*.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, sorted(p.name for p in out.iterdir())
    return sdists[0], wheels[0]


def test_sdist_and_wheel_hold_the_package_data(dist):
    sdist, wheel = dist
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for required in (*PACKAGE_DATA, "pyproject.toml", "README.md"):
        assert required in names, f"{required} missing from {sdist.name}"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    for required in PACKAGE_DATA:
        assert required in names, f"{required} missing from {wheel.name}"
    # Only the package: no tests, benchmarks or examples installed as top-level modules.
    assert {n.split("/")[0] for n in names} <= {
        "sktransformers",
        wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info",
    }


@pytest.mark.timeout(600)
def test_wheel_works_in_a_fresh_venv_outside_the_checkout(dist, tiny_model_dir, tmp_path):
    _, wheel = dist
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # No PYTHONPATH (a checkout on it holds sktransformers.egg-info after the build).
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    purelib = _run(
        [str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        cwd=tmp_path,
    ).strip()
    # Installed before the dependencies are visible: pip must not find the
    # development install and call the requirement satisfied.
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            "-q",
            str(wheel),
        ],
        cwd=tmp_path,
        env=env,
    )
    assert (Path(purelib) / "sktransformers" / "__init__.py").is_file()
    # Dependencies from the running environment, appended after the venv's own
    # site-packages (the wheel wins); the .pth files there, the editable
    # finder among them, are not run.
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(purelib) / "_sktransformers_test_deps.pth").write_text("\n".join(deps) + "\n")

    model = shutil.copytree(tiny_model_dir, tmp_path / "model")
    script = tmp_path / "smoke.py"
    script.write_text(SMOKE)
    work = tmp_path / "cwd"
    work.mkdir()
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_NUM_THREADS="1")
    # -I: no PYTHONPATH, no user site, not the script's folder on sys.path.
    out = _run(
        [str(python), "-I", str(script), str(venv), str(model), str(tmp_path / "saved")],
        cwd=work,
        env=env,
    )
    assert "smoke ok" in out
    assert REPO not in Path(out.split()[-1]).parents


def test_repository_root_holds_only_the_project_layout():
    """No wheels, build outputs or stray files committed at the top level."""
    root = Path(__file__).resolve().parents[1]
    if shutil.which("git") is None or not (root / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()
    top = {name.split("/", 1)[0] for name in tracked}
    allowed = {
        "pyproject.toml",
        "setup.cfg",
        "sktransformers",
        "docs",
        "tests",
        "examples",
        "benchmarks",
        "README.md",
        ".ci",
        "LICENSE",
        ".gitignore",
    }
    assert top <= allowed, sorted(top - allowed)
