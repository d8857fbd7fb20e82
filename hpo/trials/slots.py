"""Budget slots: a study's exact budget, made as WAITING trials that workers claim.

At create time, ``study.add_trials`` would commit each trial on its own (~35 ms each on
PostgreSQL, 6 minutes for a budget of 10,000); :func:`add_waiting_slots` makes them in one
transaction, numbered from a count, which is safe only while nothing else numbers trials (no
worker uses a study before its marker is set). Slots may carry fixed params (a grid's cells,
one per slot), as ``study.enqueue_trial`` stores them.

While workers run (a time budget without a trial budget), :func:`add_slot` adds one slot the
way Optuna adds any trial, numbered by the storage itself: workers counting trials at once
gave several trials the same number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import optuna
from optuna.trial import TrialState, create_trial

from hpo.trials import _optuna
from hpo.trials.budget import claims_marked, is_outside
from hpo.trials.final_run import Plan
from hpo.trials.records import TrialKeys


def add_waiting_slots(study: optuna.Study, n: int, fixed_params: Sequence[Mapping[str, Any]] | None = None,
                      user_attrs: Sequence[Mapping[str, Any]] | None = None) -> None:
    """``n`` WAITING trials (or one per ``fixed_params`` entry), in one transaction.

    ``user_attrs``, one mapping per slot beside ``fixed_params``, go on the slots as they are
    (a seeded grid's ``TrialKeys.REPLICATE``).
    """
    backend = _optuna.rdb_backend(study)
    if backend is None:
        cells = list(fixed_params) if fixed_params is not None else [None] * n
        attrs = list(user_attrs) if user_attrs is not None else [None] * len(cells)
        study.add_trials([create_trial(state=TrialState.WAITING, system_attrs={"fixed_params": dict(c)} if c else {},
                                       user_attrs=dict(a) if a else {})
                          for c, a in zip(cells, attrs)])
        return
    _optuna.insert_waiting_trials(backend, _optuna.study_id(study), len(study.get_trials(deepcopy=False)), n,
                                  fixed_params, user_attrs)


def add_slot(backend: optuna.storages.RDBStorage, study_id: int) -> int:
    """One more WAITING trial, while other workers may be adding theirs; returns its id.

    The storage's own ``create_new_trial``, as ``study.add_trial`` calls it, but keeping the
    id, so that the worker that added the slot can claim that very slot.
    """
    return backend.create_new_trial(study_id, template_trial=create_trial(state=TrialState.WAITING))


def replace_taken_slots(study: optuna.Study, backend: optuna.storages.RDBStorage, budget: int) -> int:
    """Give back the budget slots that trials run outside hpo took; returns how many were added.

    A plain ``study.ask()`` pops the oldest WAITING trial: a create-time slot (numbered below
    ``budget``) or a retry. Each such finished trial gets one replacement slot, with the same
    fixed params (a warm start's defaults, a grid cell); a once-only study attr per trial
    makes that exactly one when several workers notice at once.
    """
    if not claims_marked(study):
        return 0
    sid, added = _optuna.study_id(study), 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)):
        took_slot = trial.number < budget or bool(trial.system_attrs.get("retry_history"))
        if not (is_outside(trial) and took_slot):
            continue
        if _optuna.set_study_attr_once(backend, sid, f"hpo_slot_given_back:{trial.number}", True):
            fixed = trial.system_attrs.get("fixed_params")
            study.add_trial(create_trial(state=TrialState.WAITING, system_attrs={"fixed_params": fixed} if fixed else {}))
            added += 1
    return added


def final_run_attrs(plan: Plan, lane: str = "") -> dict[str, Any]:
    """The user attrs that make a trial a final run (FINAL_EPOCHS marks it; an estimate: it
    trains until FINAL_ENDS, at least 1)."""
    return {TrialKeys.FINAL_EPOCHS: max(1, plan.epochs), TrialKeys.FINAL_OF: plan.source,
            TrialKeys.FINAL_ENDS: plan.ends, TrialKeys.FINAL_LANE: lane}


def add_final_run_slot(backend: optuna.storages.RDBStorage, study_id: int, plan: Plan, lane: str = "") -> int:
    """A WAITING trial for the final run: ``plan``'s params fixed, its epochs and end in its user attrs.

    Returns its trial id, for the starting worker to claim it at once.
    """
    template = create_trial(state=TrialState.WAITING, system_attrs={"fixed_params": dict(plan.params)},
                            user_attrs=final_run_attrs(plan, lane))
    return backend.create_new_trial(study_id, template_trial=template)
