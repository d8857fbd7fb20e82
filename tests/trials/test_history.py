"""The sampler's and pruner's view of a study: no WAITING slots, fresh states, bounded history."""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState, create_trial

from hpo.config import StudyConfig
from hpo.trials.storage import open_storage
from hpo.studies.create import create
from hpo.trials.history import HISTORIES, HistoryPruner, HistorySampler, TrialHistory, bounded, rdb_backend
from hpo.studies.samplers import make_pruner, make_sampler
from hpo.spaces import get_space
from tests.helpers import claim


def _study(url: str, budget: int = 6) -> optuna.Study:
    config = StudyConfig(space="sleep", dataset="synthetic", budget=budget, epochs=3)
    study, _ = create("s", config, open_storage(url))
    return optuna.load_study(
        study_name="s", storage=open_storage(url),
        sampler=make_sampler(config, get_space("sleep"), 0), pruner=make_pruner(config),
    )


def test_history_hides_waiting_slots_and_follows_state_changes(storage_url: str) -> None:
    study = _study(storage_url)
    history = TrialHistory(study, rdb_backend(study))
    assert history.refresh() == []  # six WAITING slots, none visible
    first, second = claim(study), claim(study)
    assert [t.state for t in history.refresh()] == [TrialState.RUNNING, TrialState.RUNNING]
    study.tell(second, 0.5)
    study.tell(first, state=TrialState.PRUNED)
    trials = history.refresh()
    assert [(t.number, t.state) for t in trials] == [(first.number, TrialState.PRUNED), (second.number, TrialState.COMPLETE)]
    assert trials[1].value == 0.5


def test_sampler_and_pruner_run_through_the_view(storage_url: str) -> None:
    study = _study(storage_url, budget=12)
    assert isinstance(study.sampler, HistorySampler) and isinstance(study.pruner, HistoryPruner)
    for i in range(12):
        trial = claim(study)
        x = trial.suggest_float("x", 0.0, 1.0)
        trial.suggest_categorical("variant", ["wide", "narrow"])
        for step in (1, 2, 3):
            trial.report(x * step, step)
            if trial.should_prune():
                study.tell(trial, state=TrialState.PRUNED)
                break
        else:
            study.tell(trial, x)
    states = [t.state for t in study.get_trials()]
    assert TrialState.WAITING not in states and TrialState.COMPLETE in states
    assert len(HISTORIES.trials(study)) == 12


def _finished(number: int, value: float | None, state: TrialState = TrialState.COMPLETE) -> optuna.trial.FrozenTrial:
    trial = create_trial(state=state, value=value if state == TrialState.COMPLETE else None,
                         intermediate_values={1: 0.0} if state == TrialState.PRUNED else None)
    trial.number, trial._trial_id = number, number
    return trial


@pytest.mark.parametrize("direction", [optuna.study.StudyDirection.MAXIMIZE, optuna.study.StudyDirection.MINIMIZE])
def test_bounded_keeps_the_best_the_most_recent_and_all_running(direction: optuna.study.StudyDirection) -> None:
    trials = [_finished(i, float(i % 50)) for i in range(200)]
    trials.append(_finished(200, None, TrialState.PRUNED))
    running = create_trial(state=TrialState.RUNNING)
    running.number, running._trial_id = 201, 201
    trials.append(running)
    kept = bounded(trials, 50, direction)
    numbers = {t.number for t in kept}
    assert len([t for t in kept if t.state.is_finished()]) == 50
    assert 201 in numbers and 200 in numbers  # running, and the most recent finished
    best_value = 49.0 if direction == optuna.study.StudyDirection.MAXIMIZE else 0.0
    assert {t.number for t in trials if t.value == best_value} <= numbers
    assert bounded(trials[:40], 50, direction) == trials[:40]  # under the bound: untouched
