"""A missing optional dependency names the extra and the README's install command."""

import sys

import pytest

from sktransformers.utils._extras import install_hint

README_FLAG = "--config-settings editable_mode=compat"


def _importer(module, function):
    def call():
        mod = __import__(f"sktransformers.{module}", fromlist=[function])
        return getattr(mod, function)()

    return call


@pytest.mark.parametrize(
    "hidden, module, function, extra",
    [
        ("matplotlib", "explain._plot", "_import_pyplot", "plot"),
        ("onnxruntime", "deploy._onnx_runtime", "_import_onnxruntime", "onnx"),
        ("onnx", "deploy._export", "_import_onnx_tools", "onnx"),
        ("optuna", "integrations._tuning", "_import_optuna", "optuna"),
        ("peft", "engine._peft", "import_peft", "peft"),
        ("fastapi", "deploy._serve", "_import_serving", "serve"),
    ],
)
def test_missing_extra_gives_the_readme_install_command(
    monkeypatch, hidden, module, function, extra
):
    # None in sys.modules makes ``import hidden`` raise ImportError.
    for name in list(sys.modules):
        if name == hidden or name.startswith(hidden + "."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, hidden, None)
    if hidden == "matplotlib":
        monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError) as info:
        _importer(module, function)()
    message = str(info.value)
    assert install_hint(extra) in message
    assert README_FLAG in message


def test_tracking_hint(monkeypatch):
    from sktransformers.integrations import _tracking as tracking

    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(ImportError, match=r"\[tracking\]") as info:
        tracking._import("mlflow", "MLflow")
    assert README_FLAG in str(info.value)


def test_every_extra_in_a_hint_exists_in_pyproject():
    import re
    from pathlib import Path

    import tomllib

    root = Path(__file__).resolve().parents[1]
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    package = root / "sktransformers"
    named = set()
    for path in package.rglob("*.py"):
        named.update(re.findall(r"install_hint\(['\"](\w+)['\"]\)", path.read_text()))
    assert named, "no module uses install_hint"
    assert named <= set(extras), named - set(extras)
    assert "lint" in extras and set(extras["all"][0].split("[")[1].rstrip("]").split(",")) >= named


@pytest.mark.parametrize("page", ["README.md", "docs/index.rst"])
def test_install_pages_name_every_extra(page):
    from pathlib import Path

    import tomllib

    root = Path(__file__).resolve().parents[1]
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    text = (root / page).read_text()
    missing = [name for name in extras if name != "benchmark" and f"[{name}" not in text]
    assert not missing, f"{page} does not name the extras {missing}"
