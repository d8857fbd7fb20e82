"""The training loop alone: no Optuna, no storage."""

from __future__ import annotations

import math

import pytest
import torch

from hpo import data
from hpo.training import NonFiniteLoss, TrainConfig, TrainState, train


@pytest.fixture(scope="module")
def splits() -> data.Splits:
    return data.make_splits(data.load("synthetic"), val_fraction=0.25, seed=0)


CONFIG = TrainConfig(model={"arch": "cnn", "n_layers": 2, "channels": 8}, optimizer="sgd+adam", lr=3e-3,
                     batch_size=32, epochs=4, schedule="cosine", augment="flip")


def test_learns_and_reports_every_epoch(splits: data.Splits) -> None:
    seen: list[int] = []

    class Recorder:
        def on_epoch_end(self, state: TrainState, metrics: dict) -> None:
            seen.append(state.epoch)

    # No flips here: mirroring swaps the synthetic classes (left and right quadrants).
    result = train(CONFIG.replace(optimizer="adam", lr=1e-2, augment="none"), splits, callbacks=[Recorder()])
    assert seen == [1, 2, 3, 4]
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4]
    assert all(math.isfinite(h["train_loss"]) for h in result.history)
    assert result.metrics["val_accuracy"] > 0.5  # 4 classes: well above chance
    assert set(result.metrics) >= {"val_loss", "val_precision", "val_recall", "val_f1", "val_mcc", "val_roc_auc"}


class _Interrupt(Exception):
    pass


def test_resume_continues_exactly_where_it_stopped(splits: data.Splits) -> None:
    torch.set_num_threads(1)
    uninterrupted = train(CONFIG, splits)
    saved: dict = {}

    class StopAfterTwo:
        def on_epoch_end(self, state: TrainState, metrics: dict) -> None:
            if state.epoch == 2:
                saved.update(state.state_dict())
                raise _Interrupt()

    with pytest.raises(_Interrupt):
        train(CONFIG, splits, callbacks=[StopAfterTwo()])
    # The snapshot goes through a real file, loaded the way the worker loads it.
    path = "resume.pt"
    torch.save(saved, path)
    resumed = train(CONFIG, splits, resume=torch.load(path, weights_only=True))
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3, 4]
    for a, b in zip(uninterrupted.history, resumed.history):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)
        assert a["val_accuracy"] == pytest.approx(b["val_accuracy"], abs=1e-6)
    # The first epoch's gradient norms travel with the snapshot.
    assert resumed.diagnostics["grad_norms_epoch1"] == pytest.approx(uninterrupted.diagnostics["grad_norms_epoch1"])


def test_non_finite_loss_is_reported(splits: data.Splits) -> None:
    config = CONFIG.replace(optimizer="sgd", lr=1e12, schedule="none")
    with pytest.raises(NonFiniteLoss, match="loss became"):
        train(config, splits)


@pytest.mark.parametrize(("optimizer", "user_setting", "in_training"), [
    ("sophia", True, False),  # a double backward trains without oneDNN (it aborted on a Zen 3)
    ("sgd", True, True),  # other optimizers keep it
    ("sgd", False, False),  # and a user's own setting is left as it is
])
def test_onednn_is_off_only_while_a_double_backward_trains(splits: data.Splits, optimizer: str, user_setting: bool,
                                                          in_training: bool) -> None:
    """What the training forwards see of torch.backends.mkldnn, read by a real global forward hook."""
    seen: set[bool] = set()

    def record(module: torch.nn.Module, args: object, output: object) -> None:
        if module.training:
            seen.add(bool(torch.backends.mkldnn.enabled))

    config = TrainConfig(model={"arch": "cnn", "n_layers": 1, "channels": 4}, optimizer=optimizer, lr=None,
                         batch_size=32, epochs=1)
    before = bool(torch.backends.mkldnn.enabled)
    torch.backends.mkldnn.enabled = user_setting
    handle = torch.nn.modules.module.register_module_forward_hook(record)
    try:
        train(config, splits, "cpu")
        after = bool(torch.backends.mkldnn.enabled)
    finally:
        handle.remove()
        torch.backends.mkldnn.enabled = before
    assert seen == {in_training}
    assert after is user_setting  # restored when the epoch ends
