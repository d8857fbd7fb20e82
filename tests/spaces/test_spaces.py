"""Search spaces: the registry, parameter declarations, and every built-in space's builds."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import torch
from click.testing import CliRunner
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from hpo.cli import main
from hpo.errors import UsageError
from hpo.models import build_model
from hpo.spaces import Param, SearchSpace, get_space
from hpo.spaces.registry import builtin_spaces, canonical_spec
from hpo.training import TrainConfig

REFERENCE = ["activation_optimizer", "architecture", "resnet_optimizer", "regularization", "cnn", "auto"]


def test_every_reference_space_is_registered_and_states_its_question() -> None:
    spaces = builtin_spaces()
    assert set(REFERENCE) <= set(spaces)
    for name in REFERENCE:
        assert spaces[name].summary().endswith("?") or "?" in spaces[name].summary(), name


@pytest.mark.parametrize("name", REFERENCE)
def test_sampled_params_validate_build_and_run_on_28px(name: str) -> None:
    """Six random trials per space: params pass validation, the model runs on Fashion-MNIST shapes."""
    space = get_space(name)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(6):
        trial = study.ask()
        params = space.suggest(trial)
        assert space.validate(params) == params
        config = space.build(params, space.default_epochs)
        assert isinstance(config, TrainConfig) and config.epochs == space.default_epochs
        model = build_model(config.model, (1, 28, 28), 10)
        assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)
        study.tell(trial, 0.5)


def test_activation_optimizer_is_the_full_report_grid() -> None:
    grid = get_space("activation_optimizer").grid()
    assert len(grid["activation"]) * len(grid["optimizer"]) == 54
    assert {"parelu", "dynamic_swish", "adaptive_gelu_mish"} <= set(grid["activation"])
    assert {"sophia", "lamb", "sgd+adam", "adamw+radam", "sgd+adam+radam"} <= set(grid["optimizer"])
    config = get_space("activation_optimizer").build({"activation": "swish", "optimizer": "sgd+adam"}, 10)
    assert config.model == {"arch": "mlp", "hidden": [512], "activation": "swish", "init": "xavier"}
    assert config.batch_size == 64 and config.lr is None  # each optimizer's own rate


def test_check_epochs_refuses_combinations_that_cannot_fit() -> None:
    get_space("activation_optimizer").check_epochs(3)
    get_space("cnn").check_epochs(1)
    with pytest.raises(UsageError, match="'sgd\\+adam' has 2 phases but the run has only 1 epochs"):
        get_space("activation_optimizer").check_epochs(1)


def test_spaces_with_continuous_params_refuse_the_grid() -> None:
    with pytest.raises(ValueError, match="parameter 'lr' is .* log, which a grid cannot enumerate"):
        get_space("cnn").grid()


def test_conditional_params_are_asked_only_when_their_condition_holds() -> None:
    space = get_space("architecture")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    seen = {}
    for _ in range(30):
        params = space.suggest(study.ask())
        seen.setdefault(params["arch"], params)
        if params["arch"] != "resnet":
            assert "block" not in params and "blocks_per_stage" not in params
        if params["arch"] != "cnn":
            assert "kernel" not in params and "pool" not in params
        if params["arch"] == "mlp":
            assert "attention" not in params
    assert set(seen) == {"mlp", "cnn", "resnet"}
    assert {"block", "blocks_per_stage", "attention"} <= set(seen["resnet"])


def test_only_if_reads_as_its_condition() -> None:
    param = Param("block", CategoricalDistribution(["basic", "wide"])).only_if("arch", "resnet")
    assert param.describe() == "{basic, wide}  if arch == resnet"
    assert param.when is not None and param.when({"arch": "resnet"}) and not param.when({"arch": "cnn"})
    assert Param("n", IntDistribution(1, 5)).describe() == "[1, 5]"
    assert Param("lr", FloatDistribution(1e-4, 1e-1, log=True)).describe() == "[0.0001, 0.1] log"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"arch": "cnn", "kernel": "3", "attention": False, "lr": 0.01}, "needs parameter 'cnn_layers'"),
        ({"arch": "cnn", "cnn_layers": 2, "kernel": "4", "attention": False, "lr": 0.01}, "'kernel' is '4', outside"),
        ({"arch": "mlp", "mlp_layers": 1, "lr": 0.5}, r"'lr' is 0.5, outside \[0.0001, 0.01\] log"),
        ({"arch": "mlp", "mlp_layers": 1, "lr": 0.01, "block": "basic"}, "does not use parameter.*block"),
    ],
)
def test_validate_names_the_problem(params: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        get_space("architecture").validate(params)


def test_unknown_space_lists_choices() -> None:
    with pytest.raises(UsageError, match="unknown search space 'nope'; choose one of: activation_optimizer, architecture, auto"):
        get_space("nope")


def docs_example() -> str:
    """The example space from docs/search_spaces.md, so the documentation cannot go stale."""
    text = (Path(__file__).parents[2] / "docs" / "search_spaces.md").read_text()
    return text.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_documented_example_is_a_working_space(tmp_path: Path) -> None:
    path = tmp_path / "my_space.py"
    path.write_text(docs_example())
    space = get_space(str(path))
    assert space.name == "tiny" and canonical_spec(str(path)) == str(path.resolve())
    assert space.summary() == "How wide should an MLP be, and with which activation?"
    params = space.validate({"width": 256, "lr": 0.01, "activation": "parelu"})
    config = space.build(params, 2)
    assert build_model(config.model, (1, 8, 8), 4)(torch.randn(1, 1, 8, 8)).shape == (1, 4)
    with pytest.raises(UsageError, match="does not use parameter.*activation"):
        space.validate({"width": 64, "lr": 0.01, "activation": "parelu"})


def test_a_file_without_space_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text("X = 1\n")
    with pytest.raises(UsageError, match="defines no SPACE"):
        get_space(str(tmp_path / "empty.py"))


def test_a_package_adds_spaces_through_the_entry_point_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real installed distribution (a .dist-info on the path) publishing ``hpo.search_spaces``."""
    (tmp_path / "tiny_plugin.py").write_text(docs_example())
    info = tmp_path / "tiny_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[hpo.search_spaces]\ntiny = tiny_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    listed = CliRunner().invoke(main, ["spaces"])
    assert listed.exit_code == 0, listed.output
    assert "tiny: How wide should an MLP be, and with which activation?" in listed.output
    assert "activation       {relu, parelu}  if width == 256" in listed.output
    assert get_space("tiny").name == "tiny"


WITH_DEFAULTS = [name for name, space in builtin_spaces().items() if space.defaults is not None]


def test_textbook_spaces_have_defaults_and_sleep_has_none() -> None:
    assert {"cnn", "architecture", "auto", "regularization", "activation_optimizer"} <= set(WITH_DEFAULTS)
    assert get_space("sleep").defaults is None  # its benchmarks must not change
    assert get_space("cnn").defaults == {"n_layers": 2, "kernel": 3, "optimizer": "adam", "lr": 1e-3}


@pytest.mark.parametrize("name", WITH_DEFAULTS)
def test_defaults_are_complete_valid_params_that_build(name: str) -> None:
    space = get_space(name)
    assert space.defaults is not None and space.validate(dict(space.defaults)) == space.defaults
    config = space.build(dict(space.defaults), 1)
    assert build_model(config.model, (1, 28, 28), 10)(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def tiny_space(defaults: dict) -> SearchSpace:
    return SearchSpace(name="tiny", description="?", defaults=defaults,
                       params=(Param("n", IntDistribution(1, 5)), Param("act", CategoricalDistribution(["relu", "gelu"]))),
                       build=lambda p, epochs: TrainConfig(model={"arch": "mlp", "hidden": [p["n"]]}, epochs=epochs))


@pytest.mark.parametrize(
    ("defaults", "message"),
    [
        ({"n": 9, "act": "relu"}, r"defaults of space 'tiny': parameter 'n' is 9, outside \[1, 5\]"),
        ({"n": 2, "act": "tanh"}, "defaults of space 'tiny': parameter 'act' is 'tanh', outside"),
        ({"n": 2}, "defaults of space 'tiny': space 'tiny' needs parameter 'act'"),
        ({"n": 2, "act": "relu", "lr": 0.1}, "defaults of space 'tiny': .*does not use parameter.*lr"),
    ],
)
def test_bad_defaults_are_refused_when_the_space_is_built(defaults: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        tiny_space(defaults)
    assert tiny_space({"n": 2, "act": "relu"}).defaults == {"n": 2, "act": "relu"}


def test_a_space_file_with_bad_defaults_fails_to_load_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.py"
    path.write_text(docs_example().replace("build=build,", "build=build, defaults={'width': 7},"))
    with pytest.raises(UsageError, match="failed to import: UsageError: defaults of space 'tiny': parameter 'width' is 7"):
        get_space(str(path))
