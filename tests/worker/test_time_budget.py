"""A time budget shared by several workers, with promotions, a SIGKILL and a hand-back.

Real worker processes on SQLite and PostgreSQL. The study's clock starts with its first
trial; after the deadline no trial starts, running ones stop at their next epoch and keep
what they reached, and trials that trained but were waiting at the deadline (paused at a rung,
or the retry of a handed-back or killed attempt) are ended from their checkpoints, with the
epochs they reached and a stored model, without training further.
"""

from __future__ import annotations

import datetime
import os
import signal
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from hpo.trials.budget import logical_trials
from hpo.trials.diagnostics import study_store, trial_diagnostics
from tests.helpers import run_hpo, start_hpo, wait_all, wait_for

pytestmark = pytest.mark.slow  # worker processes against a wall-clock budget

BUDGET_S = 25
EPOCH_S = 0.4  # the sleep space's epochs: an overshoot bound for the deadline
SLOW_EPOCH_S = 1.5  # the epochs of the worker that is stopped by a signal


def test_time_budget_with_promotions_a_kill_and_a_hand_back(storage_url: str, tmp_path: Path) -> None:
    env = {"HPO_STORAGE": storage_url, "HPO_ARTIFACTS": str(tmp_path / "artifacts"),
           "HPO_SLEEP_SECONDS": str(EPOCH_S * 9), "HPO_CHECKPOINT_RATIO": "0"}
    created = run_hpo("study", "create", "tb", "--space", "sleep", "--dataset", "synthetic", "--time-budget",
                      f"{BUDGET_S}s", "--epochs", "9", "--pruner", "promote", "--heartbeat-interval", "1",
                      "--grace-period", "4", "--final-share", "0", env=env)
    assert created.returncode == 0, created.stderr
    # No final run (the next test's subject): the search runs to the deadline. With the default
    # share of 0.5, the run fell due at 12.5 s and stood worker 1 by, handing its trial back as
    # a standby before the SIGTERM could land on a search epoch (CI, under load).
    # Worker 1 is the one stopped by SIGTERM: its slower epochs leave the signal a whole epoch
    # to land before a boundary where it would pause or finish instead of handing back.
    workers = [start_hpo("worker", "tb", env={**env, "HPO_SLEEP_SECONDS": str(epoch_s * 9)},
                         log=tmp_path / f"w{i}.log") for i, epoch_s in enumerate((EPOCH_S, SLOW_EPOCH_S, EPOCH_S))]

    def running(checkpointed: bool = True, study: optuna.Study | None = None) -> list[optuna.trial.FrozenTrial]:
        study = study or optuna.load_study(study_name="tb", storage=storage_url)
        trials = study.get_trials(deepcopy=False)
        return [t for t in trials if t.state == TrialState.RUNNING and (t.user_attrs.get("resume_epoch") or not checkpointed)]

    wait_for(lambda: len(running()) >= 1)
    os.killpg(workers[0].pid, signal.SIGKILL)  # dies mid-trial: its trial goes stale, then is retried
    workers[0].wait()
    # A signal that lands mid-epoch hands the trial back at the next boundary. One that lands as
    # a rung's decision is made may pause the trial instead, and at the last epoch it finishes:
    # then it hands nothing back. So stop it mid-epoch, once its last boundary's decision is made
    # (the epoch count reached the database half a second ago and the trial still runs), and not
    # before rung 3 or the last epoch. A trial in its first epoch counts: its worker is the slow
    # one, the fast one takes the promotions, and its own trials rarely run past epoch 1.
    seen: dict[tuple[int, int], float] = {}  # (trial, epochs done) -> when first seen running so

    def stoppable() -> str | None:
        study = optuna.load_study(study_name="tb", storage=storage_url)
        mine = [t for t in running(False, study) if f":{workers[1].pid}/" in t.user_attrs.get("worker", "")]
        now, current = time.monotonic(), {(t.number, max(t.intermediate_values, default=0)) for t in mine}
        deadline = datetime.datetime.fromisoformat(study.user_attrs["deadline_utc"])
        left = (deadline.replace(tzinfo=deadline.tzinfo or datetime.timezone.utc)
                - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
        if left < 3 * SLOW_EPOCH_S:  # the epoch the signal would end may be the deadline's last
            return f"too late: {left:.1f} s left and no stoppable epoch yet (seen: {sorted(seen)})"
        for key in set(seen) - current:  # paused or ended since: a later claim starts afresh
            del seen[key]
        # An epoch's start: when its count was first seen, or for the first epoch, the claim (the
        # trial may be seen late, under load; a CI run signalled after the first epoch had ended).
        started = {t.number: now - (datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
                                    - t.datetime_start).total_seconds()
                   for t in mine if t.datetime_start and not t.intermediate_values}
        return "now" if any(done + 1 not in (3, 9)
                            and 0.5 <= now - seen.setdefault((number, done), started.get(number, now))
                            <= SLOW_EPOCH_S - 0.6
                            for number, done in current) else None

    assert (found := wait_for(stoppable)) == "now", found
    os.killpg(workers[1].pid, signal.SIGTERM)
    assert workers[1].wait(timeout=60) == 0
    workers.append(start_hpo("worker", "tb", env=env, log=tmp_path / "w3.log"))
    assert wait_all(workers[2:], timeout=300) == [0, 0]
    logs = "".join((tmp_path / f"w{i}.log").read_text() for i in range(4))
    assert "Traceback" not in logs

    study = optuna.load_study(study_name="tb", storage=storage_url)
    deadline = datetime.datetime.fromisoformat(study.user_attrs["deadline_utc"]).replace(tzinfo=None)
    trials = study.get_trials(deepcopy=False)
    to_utc = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.datetime.now()
    assert not [t.number for t in trials if t.state == TrialState.RUNNING]
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers)), numbers  # workers adding slots at once number them apart
    # No trial started training after the deadline, and none ran on for more than one epoch
    # past it. Those waiting at the deadline were then claimed only to be ended.
    ended = [t for t in trials if t.user_attrs.get("ended_at_deadline")]
    trained = [t for t in trials if t not in ended]
    assert all(t.datetime_start + to_utc <= deadline for t in trained if t.datetime_start)
    ends = [t.datetime_complete + to_utc for t in trained if t.state == TrialState.COMPLETE]
    assert ends and max(ends) <= deadline + datetime.timedelta(seconds=EPOCH_S * 3 + 5)
    # Most trials pause at rung 1 for good (only the top third goes on), so some always wait.
    assert ended, [(t.number, t.state.name, t.user_attrs.get("paused_epoch")) for t in trials]
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in ended)
    assert all(t.datetime_complete + to_utc <= deadline + datetime.timedelta(seconds=60) for t in ended)
    # Nothing that trained is left waiting; what was cut short kept its epochs and its model.
    assert not [t.number for t in trials if t.state == TrialState.WAITING and t.intermediate_values]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert all(t.user_attrs.get("model_artifact_id") for t in complete)
    store = study_store(study.user_attrs)  # the curves are in each trial's own file
    assert all(t.user_attrs["epochs_trained"] == len(trial_diagnostics(t, store)["loss_curves"]["epoch"]) for t in complete)
    assert any(t.state == TrialState.FAIL and t.user_attrs.get("fail_reason") == "handed back by a stopping worker"
               for t in trials)
    # The retry that resumed it does not carry the attempt's reason as its own.
    assert not [t.number for t in complete if "fail_reason" in t.user_attrs]
    failed = [(t.number, t.user_attrs, t.system_attrs) for t in logical_trials(trials) if t.state == TrialState.FAIL]
    assert not failed, (failed, [line for line in logs.splitlines() if "fail" in line or "stale" in line])
    assert {t.state for t in logical_trials(trials)} <= {TrialState.COMPLETE, TrialState.PRUNED, TrialState.WAITING}
    # Promotion resumed paused trials from their checkpoints.
    assert any(t.user_attrs.get("resumed_from_epoch") for t in trials)

    shown = run_hpo("study", "show", "tb", env=env)
    assert "ended: the time budget (25s) ran out" in shown.stdout, shown.stdout


def test_the_final_run_trains_the_best_configuration_for_the_time_left(pg_url: str, tmp_path: Path) -> None:
    # PostgreSQL only, where two workers really race to start it; the once-only write and the
    # slot behind it are contract-tested on SQLite too (tests/trials/test_optuna_contract.py).
    storage_url = pg_url
    budget_s, share = 20, 0.5
    env = {"HPO_STORAGE": storage_url, "HPO_ARTIFACTS": str(tmp_path / "artifacts"),
           "HPO_SLEEP_SECONDS": str(EPOCH_S * 9), "HPO_CHECKPOINT_RATIO": "0"}
    created = run_hpo("study", "create", "fr", "--space", "sleep", "--dataset", "synthetic", "--time-budget",
                      f"{budget_s}s", "--epochs", "9", "--pruner", "promote", env=env)  # final share: 0.5 by default
    assert created.returncode == 0, created.stderr
    workers = [start_hpo("worker", "fr", env=env, log=tmp_path / f"w{i}.log") for i in range(2)]
    assert wait_all(workers, timeout=300) == [0, 0]
    logs = "".join((tmp_path / f"w{i}.log").read_text() for i in range(2))
    assert "Traceback" not in logs

    study = optuna.load_study(study_name="fr", storage=storage_url)
    trials = study.get_trials(deepcopy=False)
    finals = [t for t in trials if t.user_attrs.get("final_run_epochs")]
    assert len(finals) == 1, [(t.number, t.user_attrs) for t in finals]  # one of the two workers started it
    final = finals[0]
    source = trials[final.user_attrs["final_run_of"]]
    started = study.user_attrs["final_run"]
    assert (started["source"], started["host"]) == (source.number, Path("/proc/sys/kernel/random/boot_id").read_text().strip())
    assert started["worker"] == final.user_attrs["worker"]
    # It started once the time left fell to the share, trained the source's configuration for
    # its own epochs (more than the study's 9), was never paused or cut short, and kept a model.
    deadline = datetime.datetime.fromisoformat(study.user_attrs["deadline_utc"]).replace(tzinfo=None)
    to_utc = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.datetime.now()
    due = deadline - datetime.timedelta(seconds=share * budget_s)
    assert due <= final.datetime_start + to_utc <= deadline
    assert final.params == source.params
    assert final.state == TrialState.COMPLETE and final.user_attrs.get("model_artifact_id")
    assert final.user_attrs["epochs_trained"] == max(final.intermediate_values) > 9
    # It trained on the clock to just before the deadline: its last epoch ended there.
    assert deadline - datetime.timedelta(seconds=0.02 * budget_s + EPOCH_S) <= final.datetime_complete + to_utc
    assert "paused_epoch" not in final.user_attrs or final.user_attrs["paused_epoch"] is None
    # Its source was the best of the trials that had trained longest when it started, sized by
    # the pace its worker recorded; on the longer schedule the same configuration scores higher.
    assert source.user_attrs.get("seconds_per_epoch", 0) > 0
    reached = max(source.intermediate_values)
    assert final.value > source.intermediate_values[reached]
    assert "is the final run" in logs
    shown = run_hpo("study", "show", "fr", env=env)
    assert f"final run: trial {final.number}, trial {source.number}'s configuration" in shown.stdout, shown.stdout


def test_a_search_trial_running_when_the_final_run_is_due_is_handed_back_for_it(tmp_path: Path) -> None:
    # One worker, full-length trials of about 9 s: trial 0 ends before the run is due (17 s
    # into the 34 s budget), and trial 1 is then mid-way. Without the hand-back the run would
    # wait for trial 1 to end, and be sized for seconds less. The due time sits where trial 0
    # may end anywhere from 9 s (a quiet machine) to 16 s into the budget (a busy one: under
    # CI's load trial 0 once took 14 s, and with the run due at 14 s no trial was mid-way).
    storage_url = f"sqlite:///{tmp_path}/fr.db"
    epoch_s = 1.0
    env = {"HPO_STORAGE": storage_url, "HPO_ARTIFACTS": str(tmp_path / "artifacts"),
           "HPO_SLEEP_SECONDS": str(epoch_s * 9), "HPO_CHECKPOINT_RATIO": "0"}
    created = run_hpo("study", "create", "fr", "--space", "sleep", "--dataset", "synthetic", "--time-budget", "34s",
                      "--epochs", "9", "--pruner", "none", "--final-share", "0.5", env=env)
    assert created.returncode == 0, created.stderr
    worker = start_hpo("worker", "fr", env=env, log=tmp_path / "w.log")
    assert wait_all([worker], timeout=300) == [0]
    log = (tmp_path / "w.log").read_text()
    assert "Traceback" not in log

    trials = optuna.load_study(study_name="fr", storage=storage_url).get_trials(deepcopy=False)
    handed = [t for t in trials if t.state == TrialState.FAIL]
    assert [t.user_attrs.get("fail_reason") for t in handed] == ["handed back to start the study's final run"], log
    handed = handed[0]
    finals = [t for t in trials if t.user_attrs.get("final_run_epochs")]
    assert len(finals) == 1 and finals[0].state == TrialState.COMPLETE, log
    final = finals[0]
    # Handed back at an epoch boundary before its last epoch, checkpointed and paced; the final
    # run was the worker's next trial, its source a trial that had trained all 9 epochs.
    assert 1 <= handed.user_attrs["resume_epoch"] == max(handed.intermediate_values) < 9
    assert handed.user_attrs.get("seconds_per_epoch", 0) > 0
    assert final.datetime_start >= handed.datetime_complete
    assert max(trials[final.user_attrs["final_run_of"]].intermediate_values) == 9
    # Nothing it trained was lost: its retry ended complete with at least the epochs it reached
    # (resumed after the final run, or ended at the deadline from its checkpoint).
    retry = next(t for t in trials if (t.system_attrs.get("retry_history") or [None])[-1] == handed.number)
    assert retry.state == TrialState.COMPLETE, log
    assert max(retry.intermediate_values) >= max(handed.intermediate_values)
