"""`hpo study create --warm-start/--no-warm-start`, and `hpo study show` saying so."""

from __future__ import annotations

import json

import optuna
import pytest
from click.testing import CliRunner

from hpo.cli import main


def invoke(*args: str, storage: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"HPO_STORAGE": storage})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.output


def first_fixed(name: str, storage: str) -> list[dict | None]:
    trials = optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)
    return [t.system_attrs.get("fixed_params") for t in trials]


@pytest.fixture
def storage(tmp_path) -> str:  # noqa: ANN001
    return f"sqlite:///{tmp_path / 'hpo.db'}"


def test_on_by_default_for_a_space_with_defaults(storage: str) -> None:
    code, out = invoke("study", "create", "w", "--space", "cnn", "--dataset", "synthetic", "--trials", "3", storage=storage)
    assert code == 0 and "3 trials x 9 epochs (trial 0: the space's defaults)" in out
    assert first_fixed("w", storage) == [{"n_layers": 2, "kernel": 3, "optimizer": "adam", "lr": 0.001}, None, None]
    code, out = invoke("study", "show", "w", storage=storage)
    assert code == 0 and "warm start (trial 0: the space's defaults)" in out
    code, out = invoke("study", "show", "w", "--json", storage=storage)
    assert json.loads(out)["config"]["warm_start"] is True


def test_no_warm_start(storage: str) -> None:
    code, out = invoke("study", "create", "c", "--space", "cnn", "--dataset", "synthetic", "--trials", "2",
                       "--no-warm-start", storage=storage)
    assert code == 0 and "defaults" not in out
    assert first_fixed("c", storage) == [None, None]
    assert "warm start" not in invoke("study", "show", "c", storage=storage)[1]


@pytest.mark.parametrize(
    ("args", "fixed"),
    [
        # grid: off; its slots carry grid cells instead (two distinct ones, neither the defaults)
        (["--space", "activation_optimizer", "--sampler", "grid", "--epochs", "3"], "cells"),
        (["--space", "sleep"], [None, None]),  # no defaults: off
    ],
)
def test_off_by_default_for_the_grid_and_spaces_without_defaults(storage: str, args: list[str], fixed: list) -> None:
    assert invoke("study", "create", "g", *args, "--dataset", "synthetic", "--trials", "2", storage=storage)[0] == 0
    found = first_fixed("g", storage)
    if fixed == "cells":
        assert len(found) == 2 and found[0] != found[1] and all(set(f) == {"activation", "optimizer"} for f in found)
    else:
        assert found == fixed


def test_asking_for_it_where_it_cannot_apply_is_a_usage_error(storage: str) -> None:
    code, out = invoke("study", "create", "x", "--space", "sleep", "--dataset", "synthetic", "--trials", "2",
                       "--warm-start", storage=storage)
    assert code == 2 and "space 'sleep' declares none" in out
