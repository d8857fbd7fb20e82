"""The auto space: its profiles per device, what each offers, and a warm start that learns."""

from __future__ import annotations

from typing import Any

import optuna
import pytest
import torch
import torchinfo
from click.testing import CliRunner

from hpo.cli import main
from hpo.errors import UsageError
from hpo.models import build_model
from hpo.spaces import get_space
from search_spaces import auto

PROFILES = [auto.CPU, auto.GPU]
# Multiply-adds per 28x28 image of the largest CPU configuration: ~75 s per Fashion-MNIST
# epoch on one core (search_spaces/auto.py); a new CPU choice above it breaks the minute.
CPU_MAX_MULT_ADDS = 6.0e6


def sampled(space: Any, n: int, seed: int = 0) -> list[dict[str, Any]]:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    found = []
    for _ in range(n):
        trial = study.ask()
        found.append(space.suggest(trial))
        study.tell(trial, 0.5)
    return found


def mult_adds(model_spec: dict[str, Any], shape: tuple[int, int, int]) -> int:
    model = build_model(model_spec, shape, 10)
    return int(torchinfo.summary(model, input_size=(1, *shape), verbose=0, device="cpu").total_mult_adds)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_every_configuration_validates_builds_and_runs_on_28_and_32_px(profile: auto.Profile) -> None:
    space = auto.make_space(profile)
    for params in [dict(space.defaults or {}), *sampled(space, 6)]:
        assert space.validate(params) == params
        config = space.build(params, profile.epochs)
        assert config.model["arch"] == "small_resnet" and config.optimizer in ("sgd", "adamw")
        assert config.schedule in ("onecycle", "cosine") and config.augment in ("flip+crop", "crop")
        for shape in [(1, 28, 28), (3, 32, 32)]:
            with torch.device("meta"):  # shapes only: GPU-sized networks are slow to run on a CPU
                model = build_model(config.model, shape, 10)
                assert model(torch.randn(2, *shape)).shape == (2, 10)


def test_cpu_configurations_stay_within_a_minute_per_epoch_on_one_core() -> None:
    space = auto.make_space(auto.CPU)
    specs = {str(space.build(p, 1).model): space.build(p, 1).model for p in sampled(space, 40, seed=1)}
    assert len(specs) == 4  # width 16 with one or two blocks per stage, 20 and 24 with one
    for spec in specs.values():
        assert spec["stem_pool"] == 2
        assert mult_adds(spec, (1, 28, 28)) <= CPU_MAX_MULT_ADDS, spec
    # The reason for the pooled stem: a full-resolution ResNet of width 16 costs more than any of them.
    assert mult_adds({"arch": "resnet", "width": 16, "stages": [1, 1, 1]}, (1, 28, 28)) > CPU_MAX_MULT_ADDS


def test_the_gpu_profile_offers_larger_networks_and_longer_trials() -> None:
    assert auto.GPU.width.high > auto.CPU.width.high and auto.GPU.blocks.high > auto.CPU.blocks.high
    assert auto.GPU.epochs == 27 and auto.CPU.epochs == 9  # promotion rungs 1, 3, 9, 27 and 1, 3, 9
    assert auto.GPU.stem_pool.low == 1  # full-resolution stages are affordable there


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_the_warm_start_is_the_strong_recipe(profile: auto.Profile) -> None:
    config = auto.make_space(profile).build(auto.defaults(profile), profile.epochs)
    assert (config.optimizer, config.lr, config.weight_decay) == ("sgd", 0.1, 5e-4)  # Nesterov momentum 0.9 (hpo.optim)
    assert (config.schedule, config.label_smoothing, config.augment, config.batch_size) == ("onecycle", 0.1, "flip+crop", 128)
    assert config.model["arch"] == "small_resnet"


@pytest.mark.parametrize(("device", "profile"), [("cpu", auto.CPU), ("cuda", auto.GPU), ("cuda:1", auto.GPU),
                                                 ("cuda:auto", auto.GPU)])
def test_the_profile_follows_the_device(device: str, profile: auto.Profile) -> None:
    assert auto.device_profile(device) is profile


def test_auto_device_means_cuda_when_visible_and_a_bad_device_is_named() -> None:
    assert auto.device_profile("auto") is (auto.GPU if torch.cuda.is_available() else auto.CPU)
    with pytest.raises(UsageError, match="device 'tpu' is not one of auto, cpu, cuda"):
        auto.device_profile("tpu")


def test_the_registered_space_is_this_machines_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    def listed(space: Any) -> list[tuple[str, str]]:
        return [(p.name, p.describe()) for p in space.params]

    assert listed(get_space("auto")) == listed(auto.make_space(auto.device_profile()))
    monkeypatch.setenv("HPO_DEVICE", "cuda:0")
    assert auto.device_profile() is auto.GPU


def test_cpu_and_gpu_workers_can_share_one_study() -> None:
    """Numeric ranges differ between the profiles, never categorical choices: Optuna accepts both."""
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=2))
    for i, profile in enumerate([auto.GPU, auto.CPU, auto.GPU, auto.CPU, auto.CPU]):
        trial = study.ask()
        params = auto.make_space(profile).suggest(trial)
        study.tell(trial, 0.8 + 0.01 * i)
        assert params["width"] in range(profile.width.low, profile.width.high + 1, profile.width.step)


def test_model_summary_shows_the_pooled_stem() -> None:
    params = '{"width": 16, "blocks": 2, "stem_pool": 2, "optimizer": "adamw", "adamw_lr": 0.002, ' \
             '"adamw_weight_decay": 0.05, "schedule": "cosine", "label_smoothing": 0.0, "augment": "crop", "batch_size": 256}'
    if auto.PROFILE is auto.GPU:
        pytest.skip("the GPU profile is loaded here; the params above are the CPU profile's")
    result = CliRunner().invoke(main, ["model-summary", "auto", "--params", params, "--depth", "1"])
    assert result.exit_code == 0, result.output
    assert "MaxPool2d" in result.output and "[1, 16, 14, 14]" in result.output
    assert "Total params: 174,970" in result.output


def test_the_stem_pool_is_checked_by_name() -> None:
    with pytest.raises(UsageError, match="stem_pool is 3, but must be one of 1, 2"):
        build_model({"arch": "small_resnet", "stem_pool": 3}, (1, 28, 28), 10)
