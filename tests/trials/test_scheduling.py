"""Every scheduling policy's decisions as tables: inputs in, a Decision out; no worker, no database."""

from __future__ import annotations

import optuna
import pytest

from hpo.config import StudyConfig
from hpo.errors import UsageError
from hpo.trials import Idle, Progress, Source
from hpo.trials.promotion import RungRecord, Rungs
from hpo.trials.scheduling import (
    CONTINUE, FINAL_RUN_REASON, SCHEDULERS, STANDBY_REASON, STOP_REASON, EpochEnd, check, end, final_share_default, hand_back,
    make_scheduler, pause, prune,
)
from hpo.trials.scheduling.none import NoScheduler
from hpo.trials.scheduling.promote import Promotion
from hpo.trials.scheduling.stop import OptunaStop
from hpo.trials.scheduling.time_budget import TimeBudget
from tests.trials.boards import Board


def _config(**changes: object) -> StudyConfig:
    return StudyConfig(space="sleep", dataset="synthetic", **{"budget": 10, "epochs": 9, **changes})  # type: ignore[arg-type]


ASHA = OptunaStop("asha", optuna.pruners.SuccessiveHalvingPruner())
PROMOTION = Promotion(Rungs.geometric(9), maximize=True)  # rungs 1, 3, 9
TIMED = TimeBudget(ASHA, final_run=True, new_slots=True)


def _at(epoch: int, *, epochs: int = 9, number: int = 5, final: bool = False, stop: bool = False,
        value: float | None = 0.5, warm: bool = False) -> EpochEnd:
    return EpochEnd(number, epoch, epochs, value, final_run=final, stop_requested=stop, warm_start=warm)


def _rung(number: int, **values: float) -> RungRecord:
    return RungRecord(number, {int(k[1:]): v for k, v in values.items()})


# Three other trials reached epoch 1; with ours, four: the top 4 // 3 = 1 is promotable, and
# ours goes on only if it is that one.
PEERS = [_rung(1, e1=0.6), _rung(2, e1=0.5), _rung(3, e1=0.4)]


@pytest.mark.parametrize(("scheduler", "epoch_end", "board", "decision"), [
    # Every policy: the last epoch is never interrupted; a stop signal hands the trial back.
    (ASHA, _at(9, stop=True), Board(pruner_says=True), CONTINUE),
    (ASHA, _at(4, stop=True), Board(pruner_says=True), hand_back(4, STOP_REASON)),
    (PROMOTION, _at(1, stop=True), Board(), hand_back(1, STOP_REASON)),
    (TIMED, _at(2, stop=True), Board(time_is_up=True), hand_back(2, STOP_REASON)),
    # none: always on.
    (NoScheduler(), _at(1), Board(pruner_says=True, time_is_up=True), CONTINUE),
    # stop (Optuna's pruner): prune when it says so.
    (ASHA, _at(3), Board(pruner_says=True), prune(3)),
    (ASHA, _at(3), Board(pruner_says=False), CONTINUE),
    # promotion: only at a rung below the top; goes on if it would be promoted first, else pauses.
    (PROMOTION, _at(2), Board(others=PEERS, mine={1: 0.1, 2: 0.1}), CONTINUE),
    (PROMOTION, _at(1), Board(others=PEERS, mine={1: 0.1}), pause(1)),
    (PROMOTION, _at(1), Board(others=PEERS, mine={1: 0.9}), CONTINUE),
    (PROMOTION, _at(1), Board(others=PEERS[:1], mine={1: 0.9}), pause(1)),  # 2 reached it: quota 0
    (PROMOTION, _at(1), Board(others=[*PEERS, RungRecord(5, {1: 0.1})], mine={1: 0.9}), CONTINUE),  # its stale row
    # time budget over any policy: the deadline ends it; the final run trains on; a search trial
    # makes room for a waiting final run; otherwise the inner policy decides.
    (TIMED, _at(3), Board(time_is_up=True, pruner_says=True), end(3)),
    (TIMED, _at(3, final=True), Board(final_waiting=True, pruner_says=True), CONTINUE),
    (TIMED, _at(3, final=True), Board(time_is_up=True), end(3)),
    (TIMED, _at(3), Board(final_waiting=True, pruner_says=True), hand_back(3, FINAL_RUN_REASON)),
    (TIMED, _at(3), Board(pruner_says=True), prune(3)),
    (TimeBudget(ASHA, final_run=False, new_slots=True), _at(3), Board(final_waiting=True), CONTINUE),
    # the final run trains on this host: search trials make room; the run itself trains on
    (TIMED, _at(3), Board(final_here=True), hand_back(3, STANDBY_REASON)),
    (TIMED, _at(3, final=True), Board(final_here=True), CONTINUE),
    (TIMED, _at(9), Board(final_here=True), CONTINUE),  # its last epoch: nothing to hand back
    (TimeBudget(PROMOTION, final_run=True, new_slots=True), _at(1), Board(others=PEERS, mine={1: 0.1}), pause(1)),
    # the warm start trains to the study's epochs: never paused or pruned, but the deadline, a
    # final run and a stop still interrupt it
    (PROMOTION, _at(1, warm=True), Board(others=PEERS, mine={1: 0.1}), CONTINUE),
    (PROMOTION, _at(3, warm=True), Board(others=[_rung(1, e3=0.9), _rung(2, e3=0.8), _rung(3, e3=0.7)],
                                         mine={1: 0.1, 3: 0.1}), CONTINUE),
    (ASHA, _at(3, warm=True), Board(pruner_says=True), CONTINUE),
    (PROMOTION, _at(1, warm=True, stop=True), Board(others=PEERS, mine={1: 0.1}), hand_back(1, STOP_REASON)),
    (TimeBudget(PROMOTION, final_run=True, new_slots=True), _at(1, warm=True), Board(others=PEERS, mine={1: 0.1}),
     CONTINUE),
    (TIMED, _at(3, warm=True), Board(time_is_up=True, pruner_says=True), end(3)),
    (TIMED, _at(3, warm=True), Board(final_waiting=True), hand_back(3, FINAL_RUN_REASON)),
    (TIMED, _at(3, warm=True), Board(final_here=True), hand_back(3, STANDBY_REASON)),
])
def test_decisions(scheduler, epoch_end, board, decision) -> None:  # noqa: ANN001
    assert scheduler.decide(epoch_end, board) == decision


@pytest.mark.parametrize(("config", "kind", "sources"), [
    (_config(), OptunaStop, (Source.OLDEST_SLOT,)),
    (_config(pruner="none"), NoScheduler, (Source.OLDEST_SLOT,)),
    (_config(pruner="asha", objectives=("accuracy", "params")), NoScheduler, (Source.OLDEST_SLOT,)),
    (_config(pruner="promote"), Promotion, (Source.PROMOTED, Source.OLDEST_SLOT)),
    (_config(pruner="median", time_budget_s=60.0), TimeBudget, (Source.OLDEST_SLOT,)),
    (_config(pruner="promote", budget=None, time_budget_s=60.0, final_share=0.5), TimeBudget,
     (Source.FINAL_RUN, Source.PROMOTED, Source.OLDEST_SLOT, Source.NEW_SLOT)),
])
def test_what_runs_next(config: StudyConfig, kind: type, sources: tuple[Source, ...]) -> None:
    scheduler = make_scheduler(config)
    assert isinstance(scheduler, kind) and scheduler.sources() == sources


def test_the_optuna_pruner_is_the_policys() -> None:
    assert isinstance(make_scheduler(_config(pruner="promote")).optuna_pruner(), optuna.pruners.NopPruner)
    assert not isinstance(make_scheduler(_config(pruner="hyperband")).optuna_pruner(), optuna.pruners.NopPruner)


def _progress(**counts: int | bool) -> Progress:
    base = {"budget": 10, "complete": 0, "pruned": 0, "failed": 0, "running": 0, "waiting": 0, "retried": 0}
    return Progress(**{**base, **counts})  # type: ignore[arg-type]


@pytest.mark.parametrize(("progress", "promotable", "idle"), [
    (_progress(complete=10), False, Idle.DONE),
    (_progress(running=1, waiting=2), False, Idle.WAIT),
    (_progress(waiting=2, paused=2), False, Idle.RETIRE_PAUSED),
    (_progress(waiting=2, paused=2), True, Idle.WAIT),
    (_progress(running=1, waiting=2, paused=2), False, Idle.WAIT),
    (_progress(waiting=2, paused=2, time_up=True), False, Idle.DONE),
])
def test_when_idle(progress: Progress, promotable: bool, idle: Idle) -> None:
    for scheduler in (PROMOTION, TIMED):
        assert scheduler.when_idle(progress, lambda: promotable) is idle


@pytest.mark.parametrize(("pruner", "time_budget_s", "objectives", "share"), [
    ("promote", 60.0, 1, 0.5),  # with --trials or without: a trial budget caps the search, not the run
    ("promote", None, 1, 0.0),
    ("promote", 60.0, 2, 0.0),
    ("asha", 60.0, 1, 0.0),
])
def test_final_share_defaults(pruner: str, time_budget_s: float | None, objectives: int, share: float) -> None:
    assert final_share_default(pruner, time_budget_s, objectives) == share


def test_each_policy_checks_its_config() -> None:
    with pytest.raises(UsageError, match="--pruner promote ranks trials by one objective"):
        check(_config(pruner="promote", objectives=("accuracy", "params")))
    check(_config(pruner="asha", objectives=("accuracy", "params")))
    with pytest.raises(UsageError, match="unknown pruner 'nope'"):
        make_scheduler(_config(pruner="nope"))
    assert set(SCHEDULERS) >= {"asha", "hyperband", "median", "none", "promote"}
