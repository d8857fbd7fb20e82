"""Budget accounting: how many logical trials have ended, run, wait.

A trial that died with its worker is failed and re-queued as a retry (Optuna's
RetryHeartbeatStaleTrialCallback records ``retry_history``). The budget counts logical
trials, so a failed trial that has a retry does not count; its retry does.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import optuna
from optuna.trial import FrozenTrial, TrialState

from hpo.trials.promotion import PAUSED_KEY

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


def superseded_numbers(trials: list[FrozenTrial]) -> set[int]:
    """Numbers of trials that were failed and handed on to a retry."""
    return {t.system_attrs["retry_history"][-1] for t in trials if t.system_attrs.get("retry_history")}


def logical_trials(trials: list[FrozenTrial]) -> list[FrozenTrial]:
    """Trials that count toward the budget (everything but superseded attempts)."""
    gone = superseded_numbers(trials)
    return [t for t in trials if t.number not in gone]


@dataclass(frozen=True)
class Progress:
    budget: int | None  # None: a time budget alone
    complete: int
    pruned: int
    failed: int
    running: int
    waiting: int  # fresh slots and paused trials
    retried: int  # attempts that died and were handed to a retry (not counted in the budget)
    paused: int = 0  # trials waiting at a rung for a promotion (hpo.trials.promotion)
    time_up: bool = False  # the study's time budget has run out

    @property
    def finished(self) -> int:
        return self.complete + self.pruned + self.failed

    @property
    def done(self) -> bool:
        """Nothing runs and nothing more will: every slot is used, or the time is up."""
        return self.running == 0 and (self.waiting == 0 or self.time_up)

    def to_dict(self) -> dict[str, int]:
        return {**self.__dict__, "finished": self.finished}


def progress(study: optuna.Study, budget: int | None, time_up: bool = False) -> Progress:
    trials = study.get_trials(deepcopy=False)
    logical = logical_trials(trials)
    counts = Counter(t.state for t in logical)
    return Progress(
        budget=budget,
        complete=counts[TrialState.COMPLETE],
        pruned=counts[TrialState.PRUNED],
        failed=counts[TrialState.FAIL],
        running=counts[TrialState.RUNNING],
        waiting=counts[TrialState.WAITING],
        retried=len(superseded_numbers(trials)),
        paused=sum(t.state == TrialState.WAITING and t.user_attrs.get(PAUSED_KEY) is not None for t in logical),
        time_up=time_up,
    )


def original_number(trial: FrozenTrial) -> int:
    """The number of the first attempt of this logical trial (itself, if not a retry)."""
    history = trial.system_attrs.get("retry_history") or []
    return int(history[0]) if history else trial.number
