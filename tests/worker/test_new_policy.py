"""Adding a scheduling policy is one new module plus its registration (issue 24).

The policy below ("stop any trial below the median at epoch 2") is written against
hpo.trials.scheduling alone: its decisions are a table, and a real worker (in this process,
so it sees the registration) on real SQLite applies them without knowing the policy.
"""

from __future__ import annotations

import signal
import statistics
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from hpo.config import StudyConfig
from hpo.settings import Settings
from hpo.studies.create import create
from hpo.trials import SCHEDULERS, EpochEnd, Scheduler, StudyView, open_storage, register
from hpo.trials.promotion import RungRecord
from hpo.trials.scheduling import CONTINUE, Decision, prune
from hpo.worker.loop import WorkerOptions, run_worker
from tests.trials.boards import Board

NAME = "median-at-2"


class BelowMedianAtTwo(Scheduler):
    """Prune, at epoch 2, a trial whose value is below the median of the others' at epoch 2."""

    name = NAME

    def on_epoch(self, end: EpochEnd, view: StudyView) -> Decision:
        if end.epoch != 2 or end.value is None:
            return CONTINUE
        others = [r.values[2] for r in view.curves() if r.number != end.number and 2 in r.values]
        return prune(2) if others and end.value < statistics.median(others) else CONTINUE


@pytest.fixture
def registered() -> Iterator[None]:
    register(NAME, BelowMedianAtTwo)(lambda config: BelowMedianAtTwo())
    yield
    del SCHEDULERS[NAME]


def _curve(number: int, value: float) -> RungRecord:
    return RungRecord(number, {1: value / 2, 2: value})


@pytest.mark.parametrize(("epoch", "value", "others", "decision"), [
    (1, 0.1, [_curve(1, 0.5)], CONTINUE),
    (2, 0.1, [], CONTINUE),
    (2, 0.4, [_curve(1, 0.5), _curve(2, 0.3), _curve(3, 0.6)], prune(2)),
    (2, 0.5, [_curve(1, 0.5), _curve(2, 0.3), _curve(3, 0.6)], CONTINUE),
    (3, 0.1, [_curve(1, 0.5)], CONTINUE),
])
def test_its_decisions(epoch: int, value: float, others: list[RungRecord], decision: Decision) -> None:
    assert BelowMedianAtTwo().decide(EpochEnd(9, epoch, 4, value), Board(others=others)) == decision


def test_a_worker_runs_it_unchanged(registered: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPO_SLEEP_SECONDS", "0")
    url = f"sqlite:///{tmp_path / 'hpo.db'}"
    # Each worker samples from a seed of its own (hpo.trials.identity), so the values differ run to
    # run; with 16 trials the chance that none falls below the median before it is about 2**-15
    # (with 8 it was about 1 %, and a run of the full tier met it).
    config = StudyConfig(space="sleep", dataset="synthetic", budget=16, epochs=4, pruner=NAME, seed=0)
    create("s", config, open_storage(url))
    settings = Settings.from_env().replace(storage=url, device="cpu", artifacts=str(tmp_path / "artifacts"))
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        assert run_worker(WorkerOptions("s", settings)) == 16
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    trials = optuna.load_study(study_name="s", storage=url).trials
    seen: list[float] = []  # epoch-2 values of the trials before, pruned ones included
    for trial in trials:  # one worker: trial n decided against trials 0..n-1
        at_two = trial.intermediate_values[2]
        below = bool(seen) and at_two < statistics.median(seen)
        assert trial.state == (TrialState.PRUNED if below else TrialState.COMPLETE), trial.number
        assert max(trial.intermediate_values) == (2 if below else 4)
        seen.append(at_two)
    assert any(t.state == TrialState.PRUNED for t in trials)
