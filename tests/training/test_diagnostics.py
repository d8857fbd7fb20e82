"""What a run records besides metrics: first-epoch gradient norms per layer, and loss curves."""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F

from hpo import data
from hpo.models import build_model
from hpo.training import GRAD_NORMS, LOSS_CURVES, TrainConfig, TrainState, train
from hpo.training.diagnostics import loss_curves
from hpo.training.simulate import KEY as SIMULATE


@pytest.fixture(scope="module")
def splits() -> data.Splits:
    return data.make_splits(data.load("synthetic"), val_fraction=0.25, seed=0, train_subset=128)


MODEL = {"arch": "cnn", "n_layers": 3, "channels": 4, "attention": "se", "pool": "gated"}


def test_grad_norms_are_per_layer_input_first_and_json(splits: data.Splits) -> None:
    result = train(TrainConfig(model=MODEL, batch_size=32, epochs=2), splits)
    norms = result.diagnostics[GRAD_NORMS]
    # Every module owning weight matrices or kernels, in the model's order; no biases or BN scales.
    assert list(norms) == ["0 (Conv2d)", "3.gate (Conv2d)", "4 (Conv2d)", "7.gate (Conv2d)", "8 (Conv2d)",
                           "11.gate (Conv2d)", "12.fc1 (Conv2d)", "12.fc2 (Conv2d)", "15 (Linear)"]
    assert all(math.isfinite(v) and v >= 0 for v in norms.values())
    assert json.loads(json.dumps(result.diagnostics)) == result.diagnostics  # stored as user attrs as it is


def test_grad_norm_of_a_one_step_epoch_is_that_steps_gradient_norm(splits: data.Splits) -> None:
    """One full batch per epoch: the mean over the epoch is the norm of that one gradient."""
    n = len(splits.train)
    # fp32, as the reference below computes: a CPU with bf16 hardware would otherwise train in bf16.
    config = TrainConfig(model={"arch": "cnn", "n_layers": 2, "channels": 4}, optimizer="sgd", lr=0.1, batch_size=n, epochs=1,
                         precision="fp32")
    norms = train(config, splits).diagnostics[GRAD_NORMS]
    torch.manual_seed(config.seed)  # what train() does before building the model
    model = build_model(config.model, splits.input_shape, splits.num_classes)
    model.train()
    F.cross_entropy(model(splits.train.x), splits.train.y).backward()
    expected = {"0 (Conv2d)": model[0].weight.grad.norm(), "4 (Conv2d)": model[4].weight.grad.norm(),
                "10 (Linear)": model[10].weight.grad.norm()}
    assert norms == pytest.approx({k: float(v) for k, v in expected.items()}, rel=1e-4)


def test_a_deep_plain_sigmoid_cnn_shows_vanishing_gradients(splits: data.Splits) -> None:
    """Report 001's claim, as the recorded norms show it: the first layer gets far less than the last."""
    config = TrainConfig(model={"arch": "cnn", "n_layers": 8, "channels": 4, "batch_norm": False, "activation": "sigmoid"},
                         optimizer="sgd", lr=0.01, batch_size=32, epochs=1)
    norms = list(train(config, splits).diagnostics[GRAD_NORMS].values())
    assert norms[0] < norms[-2] / 10  # the first conv against the last conv


def test_callbacks_see_diagnostics_after_the_first_epoch(splits: data.Splits) -> None:
    """A pruned trial stops in a callback: it must be able to record what it has by then."""
    seen: list[dict] = []

    class Recorder:
        def on_epoch_end(self, state: TrainState, metrics: dict) -> None:
            seen.append(state.diagnostics())

    train(TrainConfig(model=MODEL, batch_size=32, epochs=2), splits, callbacks=[Recorder()])
    assert GRAD_NORMS in seen[0] and seen[0][GRAD_NORMS] == seen[1][GRAD_NORMS]  # measured in epoch 1 only
    assert [len(d[LOSS_CURVES]["epoch"]) for d in seen] == [1, 2]


def test_loss_curves_pair_training_and_validation_loss_per_epoch(splits: data.Splits) -> None:
    result = train(TrainConfig(model=MODEL, batch_size=32, epochs=3), splits)
    curves = result.diagnostics[LOSS_CURVES]
    assert curves["epoch"] == [1, 2, 3]
    assert curves["train_loss"] == [h["train_loss"] for h in result.history]
    assert curves["val_loss"] == [h["val_loss"] for h in result.history]
    assert curves["val_loss"][-1] == result.metrics["val_loss"]


def test_loss_curves_turn_non_finite_values_into_none() -> None:
    history = [{"epoch": 1, "train_loss": float("nan"), "val_loss": 1.0}, {"epoch": 2, "train_loss": 0.5}]
    assert loss_curves(history) == {"epoch": [1, 2], "train_loss": [None, 0.5], "val_loss": [1.0, None]}


def test_fp16_gradients_are_measured_unscaled(splits: data.Splits, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a GradScaler the raw gradients are the loss scale (65536) times too large."""
    config = TrainConfig(model={"arch": "cnn", "n_layers": 2, "channels": 4}, batch_size=32, epochs=1)
    fp32 = train(config, splits).diagnostics[GRAD_NORMS]
    fp16 = train(config.replace(precision="fp16"), splits).diagnostics[GRAD_NORMS]
    assert list(fp16) == list(fp32)
    assert fp16 == pytest.approx(fp32, rel=0.2)


def test_simulated_runs_record_loss_curves_but_no_gradients(splits: data.Splits) -> None:
    config = TrainConfig(model={"arch": "mlp", "hidden": []}, epochs=2, extra={SIMULATE: {"seconds": 0.0, "score": 0.9}})
    diagnostics = train(config, splits).diagnostics
    assert GRAD_NORMS not in diagnostics and diagnostics[LOSS_CURVES]["epoch"] == [1, 2]
