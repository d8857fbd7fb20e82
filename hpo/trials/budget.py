"""Budget accounting: how many logical trials have ended, run, wait.

A trial that died with its worker is failed and re-queued as a retry (Optuna's
RetryHeartbeatStaleTrialCallback records ``retry_history``). The budget counts logical
trials, so a failed trial that has a retry does not count; its retry does.

Trials run outside hpo (a plain ``study.ask()``, which pops the oldest WAITING trial, so
takes a budget slot) never count: every claim by hpo marks its trial (:func:`mark_claimed`),
and a finished trial without that mark is outside (:func:`is_outside`); hpo.trials.slots
gives the slot it took back. Studies created before claims were marked (no
:data:`CLAIMS_MARKED` study attr) count every trial, as they always did.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import optuna
from optuna.trial import FrozenTrial, TrialState

from hpo.trials import _optuna
from hpo.trials.promotion import PAUSED_KEY

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
# Trial system attr: the id of the trial hpo claimed. The id, not True: a retry copies its
# attempt's system attrs, and a retry popped by a plain study.ask() must not pass for hpo's.
CLAIM_KEY = "hpo_claimed_trial_id"
CLAIMS_MARKED = "hpo_claims_marked"  # study user attr, set at create: this study's claims carry CLAIM_KEY


def mark_claimed(trial: optuna.Trial) -> None:
    """Mark ``trial`` as claimed by an hpo worker (right after the claim)."""
    tid = _optuna.trial_id(trial)
    trial.storage.set_trial_system_attr(tid, CLAIM_KEY, tid)


def claims_marked(study: optuna.Study) -> bool:
    return bool(study.user_attrs.get(CLAIMS_MARKED))


def is_outside(trial: FrozenTrial) -> bool:
    """A finished trial that no hpo worker claimed (a plain ``study.ask()``)."""
    return trial.state in FINISHED and trial.system_attrs.get(CLAIM_KEY) != _optuna.trial_id(trial)


def outside_numbers(study: optuna.Study, trials: list[FrozenTrial]) -> set[int]:
    """Numbers of ``trials`` run outside hpo; none for studies made before claims were marked."""
    return {t.number for t in trials if is_outside(t)} if claims_marked(study) else set()


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


def progress(study: optuna.Study, budget: int | None, time_up: bool = False,
             trials: list[FrozenTrial] | None = None) -> Progress:
    """``trials``: the study's trials, where the caller has just read them (else read here)."""
    trials = study.get_trials(deepcopy=False) if trials is None else trials
    outside = outside_numbers(study, trials)
    logical = [t for t in logical_trials(trials) if t.number not in outside]
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
