"""Every optimizer and combination trains: real training steps in every phase, on tiny CPU batches."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from hpo import optim
from hpo.data.registry import load
from hpo.data.splits import Splits, make_splits
from hpo.errors import UsageError
from hpo.models import architecture_names
from hpo.training import TrainConfig, TrainState, train
from tests.models.test_architectures import VARIANTS

BATCH = 16
# Batch norm and a learnable activation: every parameter gets a gradient from the first step.
MODEL = {"arch": "cnn", "n_layers": 2, "channels": 4, "activation": "parelu"}


@pytest.fixture(scope="module")
def splits() -> Splits:
    return make_splits(load("synthetic"), val_fraction=0.1, seed=0, train_subset=BATCH, val_subset=BATCH)


class ParamWatcher:
    """Records, after each epoch, whether every parameter tensor moved during that epoch."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.last = [p.detach().clone() for p in model.parameters()]
        self.moved: list[bool] = []

    def on_epoch_end(self, state: TrainState, metrics: dict[str, float | None]) -> None:
        now = [p.detach().clone() for p in state.model.parameters()]
        self.moved.append(all(not torch.equal(a, b) for a, b in zip(self.last, now, strict=True)))
        self.last = now


@pytest.mark.parametrize("name", optim.optimizer_names())
def test_one_step_per_phase_changes_every_parameter(name: str, splits: Splits) -> None:
    n_phases = len(optim.parts(name))
    # One batch per epoch and one epoch per phase: each optimizer of a combination takes one step.
    config = TrainConfig(model=MODEL, optimizer=name, lr=None, batch_size=BATCH, epochs=n_phases)  # type: ignore[arg-type]
    from hpo.models import build_model

    torch.manual_seed(config.seed)  # what train() does, so the watcher sees the same initial weights
    watcher = ParamWatcher(build_model(MODEL, splits.input_shape, splits.num_classes))
    result = train(config, splits, "cpu", callbacks=[watcher])
    assert len(result.history) == n_phases
    assert all(math.isfinite(h["train_loss"]) for h in result.history)  # type: ignore[arg-type]
    assert watcher.moved == [True] * n_phases


CREATE_GRAPH = [name for name in optim.OPTIMIZERS if optim.needs_create_graph(name)]


@pytest.mark.parametrize("name", CREATE_GRAPH)
@pytest.mark.parametrize("spec", [pytest.param({"arch": a, **v}, id=f"{a}-{i}") for a in architecture_names()
                                  for i, v in enumerate(VARIANTS.get(a, [{}]))])
@pytest.mark.parametrize("activation", ["relu", "parelu", "dynamic_swish", "adaptive_gelu_mish"])
def test_create_graph_optimizers_train_every_architecture(name: str, spec: dict[str, Any], activation: str,
                                                          splits: Splits) -> None:
    """Sophia differentiates the gradient again: every block (attention too) must allow that."""
    config = TrainConfig(model={**spec, "activation": activation}, optimizer=name, lr=None, batch_size=BATCH, epochs=1)  # type: ignore[arg-type]
    result = train(config, splits, "cpu")
    assert math.isfinite(result.history[0]["train_loss"])  # type: ignore[arg-type]


def test_phases_split_epochs_evenly() -> None:
    assert optim.phases("sgd+adam+radam", 6) == [("sgd", 0), ("adam", 2), ("radam", 4)]
    assert optim.phases("adamw+radam", 3) == [("adamw", 0), ("radam", 1)]
    assert [optim.phase_at("sgd+adam", 4, e) for e in range(4)] == [(0, "sgd"), (0, "sgd"), (1, "adam"), (1, "adam")]


def test_registry_lists_torch_package_and_report_combinations() -> None:
    names = optim.optimizer_names()
    assert {"sgd", "adam", "adamw", "radam", "nadam", "adamax", "rmsprop", "adagrad", "sophia", "lamb"} <= set(names)
    assert {"sgd+adam", "adamw+radam", "sgd+adam+radam"} <= set(names)
    assert optim.needs_create_graph("sgd+sophia") and not optim.needs_create_graph("sgd+adam")


def test_pytorch_optimizer_package_provides_sophia_and_lamb() -> None:
    import pytorch_optimizer

    params = [torch.nn.Parameter(torch.zeros(2))]
    assert isinstance(optim.make_optimizer("sophia", params, None, 0.0), pytorch_optimizer.SophiaH)
    assert isinstance(optim.make_optimizer("lamb", params, None, 0.0), pytorch_optimizer.Lamb)


def test_lr_none_means_each_optimizers_default() -> None:
    params = [torch.nn.Parameter(torch.zeros(2))]
    for name in optim.OPTIMIZERS:
        made = optim.make_optimizer(name, params, None, 0.0)
        assert made.param_groups[0]["lr"] == optim.default_lr(name)
    assert optim.make_optimizer("sgd", params, 0.5, 0.0).param_groups[0]["lr"] == 0.5


@pytest.mark.parametrize(
    ("name", "epochs", "message"),
    [
        ("adam+nope", 2, "unknown optimizer 'nope'; choose one of: adadelta|adagrad"),
        ("sgd+adam+radam", 2, "has 3 phases but the run has only 2 epochs"),
    ],
)
def test_bad_names_are_usage_errors(name: str, epochs: int, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        optim.phases(name, epochs)


def test_register_refuses_duplicates_and_plus() -> None:
    entry = optim.OPTIMIZERS["adam"]
    with pytest.raises(ValueError, match="taken"):
        optim.register_optimizer("adam", entry)
    with pytest.raises(ValueError, match="contains"):
        optim.register_optimizer("my+adam", entry)
