"""Budgeted training: the schedule follows the clock, and the run ends where the budget does.

The clock here is a counter that moves a fixed amount each time it is read, so what is checked
(the rate at a given share of the budget, where the run stops) is exact and machine-independent.
"""

from __future__ import annotations

import math

import pytest
import torch

from hpo import data
from hpo.training import TrainConfig, TrainState, train
from hpo.training.budget import SHAPES, TimeBudget, TimedSchedule
from hpo.training.schedules import SCHEDULES


class StepClock:
    """A clock that advances ``tick`` seconds every time it is read."""

    def __init__(self, tick: float) -> None:
        self.now, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


class FixedClock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def splits() -> data.Splits:
    return data.make_splits(data.load("synthetic"), val_fraction=0.25, seed=0)


CONFIG = TrainConfig(model={"arch": "cnn", "n_layers": 2, "channels": 8}, optimizer="sgd", lr=0.05,
                     batch_size=32, epochs=2, schedule="cosine")


def test_every_named_schedule_has_a_time_shape() -> None:
    assert set(SHAPES) == set(SCHEDULES)


@pytest.mark.parametrize(("shape", "progress", "factor"), [
    ("none", 0.0, 1.0), ("none", 1.0, 1.0),
    ("cosine", 0.0, 1.0), ("cosine", 0.5, 0.5), ("cosine", 1.0, 0.0),
    ("linear", 0.0, 1.0), ("linear", 0.25, 0.75), ("linear", 1.0, 0.0),
    ("step", 0.0, 1.0), ("step", 0.4, 0.1), ("step", 0.7, 0.01), ("step", 1.0, 0.01),
    ("onecycle", 0.0, 1 / 25), ("onecycle", 0.3, 1.0), ("onecycle", 1.0, 1 / 25 / 1e4),
])
def test_shapes_as_a_function_of_the_budget_spent(shape: str, progress: float, factor: float) -> None:
    assert SHAPES[shape](progress) == pytest.approx(factor, abs=1e-9)


@pytest.mark.parametrize(("now", "progress"), [(-5.0, 0.0), (0.0, 0.0), (25.0, 0.25), (100.0, 1.0), (150.0, 1.0)])
def test_progress_is_the_share_of_the_wall_clock_budget_spent(now: float, progress: float) -> None:
    budget = TimeBudget(0.0, 100.0, FixedClock(now))
    assert budget.progress() == progress
    assert budget.spent() is (progress >= 1.0)


def test_a_budget_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError, match="must end after it starts"):
        TimeBudget(10.0, 10.0)


def test_the_schedule_sets_the_rate_from_the_clock_and_survives_a_state_dict_round_trip() -> None:
    clock = FixedClock(0.0)
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.2)
    schedule = TimedSchedule("cosine", optimizer, TimeBudget(0.0, 10.0, clock))
    assert schedule.get_last_lr() == [pytest.approx(0.2)]
    clock.now = 5.0
    schedule.step()
    assert schedule.get_last_lr() == [pytest.approx(0.1)]
    # A resumed run builds a fresh optimizer (at the base rate), then loads the saved state.
    again = TimedSchedule("cosine", torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=99.0),
                          TimeBudget(0.0, 10.0, clock))
    again.load_state_dict(schedule.state_dict())
    assert again.get_last_lr() == [pytest.approx(0.1)]


def test_a_budgeted_run_trains_past_its_epoch_estimate_and_stops_mid_epoch_when_the_time_is_spent(splits: data.Splits) -> None:
    steps_per_epoch = len(splits.train) // CONFIG.batch_size
    rates: list[float] = []

    class Recorder:
        def on_epoch_end(self, state: TrainState, metrics: dict) -> None:
            rates.append(state.optimizer.param_groups[0]["lr"])

    # Each batch reads the clock twice (the stop check and the schedule's step): with a budget
    # of 2.5 epochs' worth of reads, the run outlasts its 2-epoch estimate and ends in epoch 3.
    tick = 1.0
    reads_per_epoch = 2 * steps_per_epoch
    budget = TimeBudget(0.0, 2.5 * reads_per_epoch * tick, StepClock(tick))
    result = train(CONFIG, splits, callbacks=[Recorder()], budget=budget)
    assert [h["epoch"] for h in result.history] == [1, 2, 3]
    assert budget.spent()
    assert all(math.isfinite(h["train_loss"]) for h in result.history)
    # Cosine over the budget: falling epoch by epoch, and near zero where the run stopped.
    assert rates[0] > rates[1] > rates[2]
    assert rates[-1] == pytest.approx(0.0, abs=0.05 * CONFIG.lr)


def test_a_budget_already_spent_trains_nothing(splits: data.Splits) -> None:
    result = train(CONFIG, splits, budget=TimeBudget(0.0, 1.0, FixedClock(5.0)))
    assert result.history == []


def test_a_resumed_budgeted_run_continues_on_the_same_timeline(splits: data.Splits) -> None:
    saved: dict = {}

    class Interrupt(Exception):
        pass

    class StopAfterOne:
        def on_epoch_end(self, state: TrainState, metrics: dict) -> None:
            saved.update(state.state_dict())
            raise Interrupt()

    clock = FixedClock(0.0)
    budget = TimeBudget(0.0, 100.0, clock)
    with pytest.raises(Interrupt):
        # The clock stands still during epoch 1, then a new worker resumes at 60 % of the budget.
        train(CONFIG, splits, callbacks=[StopAfterOne()], budget=budget)
    clock.now = 60.0
    rates: list[float] = []

    class Recorder:
        def on_epoch_end(self, state: TrainState, metrics: dict) -> None:
            rates.append(state.optimizer.param_groups[0]["lr"])
            clock.now = 100.0  # the budget runs out during epoch 2

    result = train(CONFIG, splits, resume=saved, callbacks=[Recorder()], budget=budget)
    assert [h["epoch"] for h in result.history] == [1, 2]
    assert rates == [pytest.approx(CONFIG.lr * SHAPES["cosine"](0.6))]
