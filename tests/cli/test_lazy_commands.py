"""hpo/cli/__init__.py: the command map is whole, and commands load torch only when they compute."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import click
import optuna
import pytest

import hpo.cli
from hpo.cli import COMMANDS, load_command

# Runs the real `hpo` entry point, then records at exit (after the command's sys.exit) whether
# torch was imported, so a test sees it without parsing import traces.
_PROBE = """
import atexit, json, sys
record = sys.argv.pop(1)
atexit.register(lambda: open(record, "w").write(json.dumps({"torch": "torch" in sys.modules})))
sys.argv[0] = "hpo"
from hpo.launch import run
run()
"""


def _run(folder: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], bool]:
    record = folder / "record.json"
    result = subprocess.run([sys.executable, "-c", _PROBE, str(record), *args], capture_output=True, text=True,
                            timeout=120, cwd=folder, env={**os.environ, "HPO_STORAGE": f"sqlite:///{folder / 'hpo.db'}"})
    return result, json.loads(record.read_text())["torch"]


def test_every_command_of_the_package_is_in_the_map_under_its_own_name() -> None:
    defined = set()
    for info in pkgutil.iter_modules(hpo.cli.__path__):
        module = importlib.import_module(f"hpo.cli.{info.name}")
        for attribute, value in vars(module).items():
            if isinstance(value, click.Command) and value.callback.__module__ == module.__name__ and not _is_subcommand(value):
                defined.add(f"{module.__name__}:{attribute}")
    assert defined == set(COMMANDS.values())
    for name in COMMANDS:
        assert load_command(name).name == name


def _is_subcommand(command: click.Command) -> bool:
    groups = (load_command(n) for n in COMMANDS if COMMANDS[n].split(":")[0] == command.callback.__module__)
    return any(isinstance(g, click.Group) and command in g.commands.values() for g in groups)


def test_a_stale_line_in_the_map_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(COMMANDS, "export", "hpo.cli.retrain:retrain_cmd")
    with pytest.raises(RuntimeError, match="COMMANDS\\['export'\\]"):
        load_command("export")


@pytest.mark.parametrize(("args", "code", "says"), [
    (("--help",), 0, "study"),
    (("study", "create", "--help"), 0, "--if-exists"),
    (("study", "list"), 0, "other"),
    (("study", "show", "nope"), 1, "study 'nope' does not exist"),
    (("export", "nope", "--out", "best.pt"), 1, "study 'nope' does not exist"),
    (("retrain", "nope"), 1, "study 'nope' does not exist"),
    (("evaluate", "best.pt", "--split", "train"), 2, "'train' is not one of 'test', 'val'"),
    (("study", "create", "s", "--space", "auto", "--dataset", "fashion-mnist", "--trials", "0"), 2, "--trials"),
], ids=["help", "create-help", "list", "show-missing", "export-missing", "retrain-missing", "evaluate-split", "create-usage"])
def test_answers_that_need_no_model_do_not_import_torch(tmp_path: Path, args: tuple[str, ...], code: int, says: str) -> None:
    optuna.create_study(study_name="other", storage=f"sqlite:///{tmp_path / 'hpo.db'}")  # a storage without 'nope'
    result, torch_loaded = _run(tmp_path, *args)
    assert result.returncode == code, result.stderr[-2000:]
    assert says in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert not torch_loaded


def test_a_command_that_computes_still_loads_torch(tmp_path: Path) -> None:
    result, torch_loaded = _run(tmp_path, "blocks", "--json")
    assert result.returncode == 0 and "architectures" in json.loads(result.stdout)
    assert torch_loaded
