"""The package layers point down (docs/architecture.md), read from every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "hpo"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


MODULES = {
    ".".join(path.relative_to(ROOT.parent).with_suffix("").parts): _imports(path)
    for path in sorted(ROOT.rglob("*.py"))
}

# package -> packages it must never import
FORBIDDEN = {
    "hpo.report": ("hpo.worker", "hpo.cli"),
    "hpo.export": ("hpo.worker", "hpo.cli"),
    "hpo.dashboard": ("hpo.worker", "hpo.cli"),
    "hpo.studies": ("hpo.worker", "hpo.cli", "hpo.report", "hpo.export"),
    "hpo.trials": ("hpo.worker", "hpo.cli", "hpo.report", "hpo.export", "hpo.studies", "hpo.training"),
    "hpo.training": ("optuna", "hpo.worker", "hpo.trials", "hpo.studies", "hpo.cli"),
}


def _hits(imports: set[str], prefix: str) -> list[str]:
    return sorted(i for i in imports if i == prefix or i.startswith(prefix + "."))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_point_down(package: str) -> None:
    bad = {
        module: hits
        for module, imports in MODULES.items()
        if module == package or module.startswith(package + ".")
        for hits in [[h for prefix in FORBIDDEN[package] for h in _hits(imports, prefix)]]
        if hits
    }
    assert not bad


def test_optunas_private_api_is_reached_from_one_module() -> None:
    private = {
        module: sorted(i for i in imports if i.startswith("optuna") and any(p.startswith("_") for p in i.split(".")))
        for module, imports in MODULES.items()
    }
    assert {m for m, found in private.items() if found} == {"hpo.trials._optuna"}


def test_the_lifecycles_private_modules_stay_inside_it() -> None:
    outside = {
        module: [i for i in imports if i.startswith("hpo.trials._")]
        for module, imports in MODULES.items()
        if not module.startswith("hpo.trials")
    }
    assert not {m: found for m, found in outside.items() if found}
