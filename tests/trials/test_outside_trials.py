"""A trial made outside hpo (a plain `study.ask()`) never takes a budget slot.

Optuna's `ask()` pops the oldest WAITING trial, which in an hpo study is budget slot 0 (the
warm start). Real `hpo study create` and `hpo worker` processes on SQLite: the outside trial
does not count, and the worker trains the full budget, the warm start's defaults included.
"""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

from hpo.trials.budget import CLAIM_KEY, is_outside, progress
from tests.helpers import run_hpo

STORAGE = "sqlite:///hpo.db"


def test_a_plain_ask_takes_no_budget_slot() -> None:
    created = run_hpo("study", "create", "outside", "--space", "cnn", "--dataset", "synthetic", "--trials", "2",
                      "--epochs", "1", "--pruner", "none", "--warm-start")
    assert created.returncode == 0, created.stderr
    study = optuna.load_study(study_name="outside", storage=STORAGE)
    warm = study.get_trials(deepcopy=False)[0].system_attrs["fixed_params"]

    trial = study.ask()  # a user's own trial, in hpo's study
    assert trial.number == 0  # Optuna handed it hpo's first slot
    study.tell(trial, 0.5)
    assert progress(study, 2).complete == 0 and progress(study, 2).waiting == 1

    worked = run_hpo("worker", "outside")
    assert worked.returncode == 0, worked.stderr
    trials = study.get_trials(deepcopy=False)
    ours = [t for t in trials if not is_outside(t)]
    assert [t.number for t in trials if is_outside(t)] == [0]
    assert len(ours) == 2 and all(t.state == TrialState.COMPLETE and t.system_attrs[CLAIM_KEY] for t in ours)
    # The slot it took came back with the warm start's defaults, and hpo trained it.
    assert any(t.system_attrs.get("fixed_params") == warm for t in ours)
    state = progress(study, 2)
    assert (state.complete, state.waiting, state.running, state.done) == (2, 0, 0, True)
