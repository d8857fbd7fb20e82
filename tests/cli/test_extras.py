"""One install for every documented command; a missing optional piece is one line naming its extra."""

from __future__ import annotations

import os
import re
import sys
import tomllib
from pathlib import Path

import pytest

from hpo.extras import EXTRAS
from tests.helpers import run_hpo

ROOT = Path(__file__).resolve().parents[2]


def demo_extras() -> list[str]:
    """The extras the README's first command (scripts/demo.sh) installs."""
    match = re.search(r"HPO_EXTRAS=\$\{HPO_EXTRAS:-([a-z0-9_,]+)\}", (ROOT / "scripts" / "demo.sh").read_text())
    assert match, "scripts/demo.sh no longer names its default extras"
    return match.group(1).split(",")


def test_the_demo_installs_what_every_readme_command_needs() -> None:
    assert "bash scripts/demo.sh" in (ROOT / "README.md").read_text()
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    installed = {re.split(r"[<>=\[ ]", req, maxsplit=1)[0].lower() for name in demo_extras() for req in extras[name]}
    # hpo report (plotly, matplotlib), evaluate --plot (matplotlib), Optuna's trials_dataframe (pandas),
    # export --onnx (onnx, onnxruntime, onnxscript).
    assert {"plotly", "matplotlib", "pandas", "onnx", "onnxruntime", "onnxscript"} <= installed
    for name in ("onnx", "report"):  # hpo.extras names the modules each extra brings
        assert set(EXTRAS[name]) <= {m.lower() for m in installed}


def without(tmp_path: Path, *modules: str) -> dict[str, str]:
    """An environment whose Python cannot import ``modules`` (a package that refuses to load)."""
    blocked = tmp_path / "blocked"
    for module in modules:
        (blocked / module).mkdir(parents=True)
        (blocked / module / "__init__.py").write_text(f"raise ModuleNotFoundError({module!r} + ' is not installed', name={module!r})\n")
    return {"PYTHONPATH": os.pathsep.join([str(blocked), os.environ.get("PYTHONPATH", "")])}


def one_line_naming_the_extra(stderr: str, extra: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr[-2000:]
    assert f"pip install 'hpo[{extra}]'" in lines[0]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX paths")
def test_report_without_plotly_is_one_line_naming_the_extra(tmp_path: Path) -> None:
    created = run_hpo("study", "create", "s", "--space", "cnn", "--dataset", "synthetic", "--trials", "1")
    assert created.returncode == 0, created.stderr
    result = run_hpo("report", "s", "--no-screenshot", env=without(tmp_path, "plotly"))
    assert result.returncode == 1
    one_line_naming_the_extra(result.stderr, "report")
    assert "plotly" in result.stderr


def test_evaluate_plot_without_matplotlib_is_one_line_naming_the_extra(tmp_path: Path) -> None:
    result = run_hpo("evaluate", str(tmp_path / "best.pt"), "--plot", "cm.png", env=without(tmp_path, "matplotlib"))
    assert result.returncode == 1
    one_line_naming_the_extra(result.stderr, "report")
    assert "--plot needs matplotlib" in result.stderr
