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
    budget: int
    complete: int
    pruned: int
    failed: int
    running: int
    waiting: int
    retried: int  # attempts that died and were handed to a retry (not counted in the budget)

    @property
    def finished(self) -> int:
        return self.complete + self.pruned + self.failed

    @property
    def done(self) -> bool:
        return self.running == 0 and self.waiting == 0

    def to_dict(self) -> dict[str, int]:
        return {**self.__dict__, "finished": self.finished}


def progress(study: optuna.Study, budget: int) -> Progress:
    trials = study.get_trials(deepcopy=False)
    counts = Counter(t.state for t in logical_trials(trials))
    return Progress(
        budget=budget,
        complete=counts[TrialState.COMPLETE],
        pruned=counts[TrialState.PRUNED],
        failed=counts[TrialState.FAIL],
        running=counts[TrialState.RUNNING],
        waiting=counts[TrialState.WAITING],
        retried=len(superseded_numbers(trials)),
    )


def original_number(trial: FrozenTrial) -> int:
    """The number of the first attempt of this logical trial (itself, if not a retry)."""
    history = trial.system_attrs.get("retry_history") or []
    return int(history[0]) if history else trial.number
