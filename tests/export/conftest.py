"""One real study on scikit-learn's digits, trained by a real worker and exported once.

The digits set (1,797 8x8 images, offline) is small enough to train in seconds and hard
enough that accuracy is not trivially 1.0, so reproduction and parity checks mean something.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import run_hpo

TINY_SPACE = str(Path(__file__).with_name("tiny_space.py"))


@dataclass(frozen=True)
class Exported:
    folder: Path
    env: dict[str, str]
    study: str
    pt: Path
    onnx: Path
    stdout: str  # what `hpo export --onnx` printed


def study_env(folder: Path) -> dict[str, str]:
    # Session fixtures run outside the per-test environment, so set everything explicitly.
    return {"HPO_STORAGE": f"sqlite:///{folder / 'hpo.db'}", "HPO_ARTIFACTS": str(folder / "artifacts"),
            "HPO_NUM_THREADS": "1", "HPO_DATA_DIR": str(folder / "data")}


def hpo_ok(*args: str, env: dict[str, str]) -> str:
    result = run_hpo(*args, env=env, timeout=300)
    assert result.returncode == 0, f"hpo {' '.join(args)} failed:\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the trained study is `slow`: a worker trains it."""
    for item in items:
        if "exported" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    """`hpo study create` -> `hpo worker` -> `hpo export --out best.pt --onnx best.onnx`."""
    folder = tmp_path_factory.mktemp("export-study")
    env = study_env(folder)
    hpo_ok("study", "create", "digits", "--space", TINY_SPACE, "--dataset", "digits", "--trials", "3",
           "--epochs", "3", "--pruner", "none", env=env)
    hpo_ok("worker", "digits", env=env)
    pt, onnx_file = folder / "best.pt", folder / "best.onnx"
    stdout = hpo_ok("export", "digits", "--out", str(pt), "--onnx", str(onnx_file), "--latency-repeats", "10", env=env)
    return Exported(folder, env, "digits", pt, onnx_file, stdout)

