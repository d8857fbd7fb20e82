"""The final phase of a time budget, with real worker processes on one host (issue 25).

- The final run takes every core of its host: the host's other worker hands back its search
  trial, starts nothing else, stands by and exits 0 when the study ends.
- It trains on the clock and ends on the deadline: its last epoch ends inside the budget's last
  2 % (plus at most one epoch), never minutes before it.
- A worker that dies in it loses nothing: the standing-by worker resumes it from its checkpoint.
- With ``--trials`` as well, a search that ends early leaves the rest of the time to the run.
- ``--final-share 1 --grow``: no search; the space's warm start, grown along its size knobs to
  what its measured pace fits, is what export turns into a model.
"""

from __future__ import annotations

import datetime
import os
import signal
from pathlib import Path

import optuna
import pytest
import torch
from optuna.trial import FrozenTrial, TrialState

from hpo.devices import available_cores
from tests.helpers import run_hpo, start_hpo, wait_all, wait_for

pytestmark = pytest.mark.slow  # worker processes against a wall-clock budget

EPOCH_S = 0.4  # the sleep space's epochs
STANDBY = "handed back: a final run takes this device (its host's cores or GPU)"


def _env(storage_url: str, tmp_path: Path) -> dict[str, str]:
    # Nobody pins the threads (the tests' default is 1): the core share decides, as in production.
    return {"HPO_STORAGE": storage_url, "HPO_ARTIFACTS": str(tmp_path / "artifacts"), "HPO_NUM_THREADS": "",
            "HPO_SLEEP_SECONDS": str(EPOCH_S * 9), "HPO_CHECKPOINT_RATIO": "0"}


def _deadline(study: optuna.Study) -> datetime.datetime:
    """The study's deadline, as naive local time like Optuna's trial datetimes."""
    utc = datetime.datetime.fromisoformat(study.user_attrs["deadline_utc"])
    return utc.astimezone().replace(tzinfo=None)


def _final(study: optuna.Study, logs: str = "") -> FrozenTrial:
    finals = [t for t in study.get_trials(deepcopy=False)
              if t.user_attrs.get("final_run_epochs") and t.state == TrialState.COMPLETE]
    states = [(t.number, t.state.name, t.datetime_start, t.datetime_complete, max(t.intermediate_values, default=0),
               t.system_attrs.get("retry_history"), t.user_attrs.get("fail_reason"), "final_run_epochs" in t.user_attrs)
              for t in study.get_trials(deepcopy=False)]
    assert len(finals) == 1, f"{states}\ndeadline {_deadline(study)}\n{logs[-6000:]}"
    return finals[0]


def _create_and_run(name: str, options: tuple[str, ...], env: dict[str, str], tmp_path: Path) -> tuple[optuna.Study, str]:
    """``hpo study create NAME`` on the sleep space with ``options``, then two workers on it to
    the end (both exit 0, no traceback); the study and the workers' logs."""
    created = run_hpo("study", "create", name, "--space", "sleep", "--dataset", "synthetic", *options, env=env)
    assert created.returncode == 0, created.stderr
    workers = [start_hpo("worker", name, env=env, log=tmp_path / f"w{i}.log") for i in range(2)]
    assert wait_all(workers, timeout=300) == [0, 0]
    logs = "".join((tmp_path / f"w{i}.log").read_text() for i in range(2))
    assert "Traceback" not in logs
    return optuna.load_study(study_name=name, storage=env["HPO_STORAGE"]), logs


def test_the_final_run_takes_the_hosts_cores_and_ends_on_the_deadline(pg_url: str, tmp_path: Path) -> None:
    budget_s = 24
    env = _env(pg_url, tmp_path)
    # Final share 0.5 by default.
    study, logs = _create_and_run("fp", ("--time-budget", f"{budget_s}s", "--epochs", "9", "--pruner", "promote"),
                                  env, tmp_path)
    final, deadline = _final(study), _deadline(study)
    # Every core of the host by its end (the other worker's seat is taken once it stands by).
    assert final.user_attrs["final_run_threads"] == available_cores() == 2, final.user_attrs
    assert "standing by" in logs
    # The other worker searched nothing once the run started: whatever started later is the
    # run itself, or a trial ended at the deadline from its checkpoint without training.
    later = [t for t in study.get_trials(deepcopy=False)
             if t.datetime_start and t.datetime_start > final.datetime_start and t.number != final.number]
    assert all(t.user_attrs.get("ended_at_deadline") for t in later), [(t.number, t.user_attrs) for t in later]
    # A search trial running when it started was handed back for it, unless none was running.
    handed = [t.user_attrs.get("fail_reason") for t in study.get_trials(deepcopy=False) if t.state == TrialState.FAIL]
    assert set(handed) <= {STANDBY, "handed back to start the study's final run"}, handed
    # On the clock, to the deadline: its last epoch ended inside the budget's last 2 % plus one epoch.
    assert deadline - datetime.timedelta(seconds=0.02 * budget_s + EPOCH_S) <= final.datetime_complete
    assert final.datetime_complete <= deadline + datetime.timedelta(seconds=EPOCH_S + 10)
    assert final.user_attrs["epochs_trained"] == max(final.intermediate_values) > 9


def test_a_trial_budgets_search_that_ends_early_leaves_the_rest_of_the_time_to_the_final_run(tmp_path: Path) -> None:
    # --trials 3 --time-budget 30s, no other option: the default scheduler (promote) and share
    # (0.5, so due at 15 s left). Three trials of 3 short epochs end within seconds; the run
    # starts then, not at 15 s left, and still ends on the deadline.
    storage_url = f"sqlite:///{tmp_path}/fp.db"
    budget_s = 30
    env = _env(storage_url, tmp_path)
    study, logs = _create_and_run("tb", ("--trials", "3", "--time-budget", f"{budget_s}s", "--epochs", "3"),
                                  env, tmp_path)
    assert study.user_attrs["pruner"] == "promote" and study.user_attrs["final_share"] == 0.5
    final, deadline = _final(study, logs), _deadline(study)
    search = [t for t in study.get_trials(deepcopy=False) if not t.user_attrs.get("final_run_epochs")]
    assert len(search) == 3 and all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in search), logs
    # It started once the search had ended, before its share of the time ...
    assert max(t.datetime_complete for t in search) <= final.datetime_start
    assert final.datetime_start < deadline - datetime.timedelta(seconds=0.5 * budget_s), logs
    # ... on every core of the host, and trained on the clock to the deadline.
    assert final.user_attrs["final_run_threads"] == available_cores() == 2, final.user_attrs
    assert deadline - datetime.timedelta(seconds=0.02 * budget_s + EPOCH_S) <= final.datetime_complete
    assert final.datetime_complete <= deadline + datetime.timedelta(seconds=EPOCH_S + 10)
    shown = run_hpo("study", "show", "tb", env=env)
    assert f"ended: the time budget ({budget_s}s) ran out" in shown.stdout, shown.stdout


def test_a_final_run_whose_worker_dies_is_resumed_by_the_standing_by_worker(tmp_path: Path) -> None:
    storage_url = f"sqlite:///{tmp_path}/fp.db"
    # 40 s: the kill comes after the run's third epoch, and the survivor resumes it once the
    # grace period (4 s) has passed; at 30 s, CI's load once pushed that past the deadline
    # (2026-12-05: no complete final run; the logs were not kept, so _final now prints them).
    budget_s = 40
    env = {**_env(storage_url, tmp_path), "HPO_SLEEP_SECONDS": str(1.0 * 3)}  # 1 s epochs: time to kill
    # The run is due almost at once; it starts when the first 3-epoch trial has measured its pace.
    created = run_hpo("study", "create", "fp", "--space", "sleep", "--dataset", "synthetic", "--time-budget",
                      f"{budget_s}s", "--epochs", "3", "--pruner", "none", "--final-share", "0.95",
                      "--heartbeat-interval", "1", "--grace-period", "4", env=env)
    assert created.returncode == 0, created.stderr
    workers = [start_hpo("worker", "fp", env=env, log=tmp_path / f"w{i}.log") for i in range(2)]

    def running_final() -> FrozenTrial | None:
        trials = optuna.load_study(study_name="fp", storage=storage_url).get_trials(deepcopy=False)
        return next((t for t in trials if t.state == TrialState.RUNNING and t.user_attrs.get("final_run_epochs")
                     and max(t.intermediate_values, default=0) >= 3), None)

    first = wait_for(running_final)
    owner = next(w for w in workers if f":{w.pid}/" in first.user_attrs["worker"])
    os.killpg(owner.pid, signal.SIGKILL)
    owner.wait()
    survivor = next(w for w in workers if w is not owner)
    assert wait_all([survivor], timeout=300) == [0]

    study = optuna.load_study(study_name="fp", storage=storage_url)
    log = "".join((tmp_path / f"w{i}.log").read_text() for i in range(2))
    final = _final(study, log)
    assert (final.system_attrs.get("retry_history") or [None])[-1] == first.number
    # Resumed from the checkpoint, on the same timeline and model, and still ended on the deadline.
    assert final.user_attrs["resumed_from_epoch"] >= 3
    for key in ("final_run_starts", "final_run_ends", "final_run_size"):
        assert final.user_attrs[key] == first.user_attrs[key]
    deadline = _deadline(study)
    assert deadline - datetime.timedelta(seconds=0.02 * budget_s + 1.0) <= final.datetime_complete
    assert "Traceback" not in log and "standing by" in log


def test_a_grown_warm_start_trained_for_the_budget_is_what_export_gives(tmp_path: Path) -> None:
    storage_url = f"sqlite:///{tmp_path}/fp.db"
    # The growth rule needs epochs short enough that a larger size fits MIN_EPOCHS (47) of them
    # in the 20 s, even on a busy machine: 128 training images, the default checkpoint ratio
    # (a checkpoint every epoch made one take 0.6 s), and one thread, which a busy machine slows
    # about twofold where two threads slowed tenfold (1.3 s per epoch beside two busy loops).
    # The final run's cores are the first test's. On a quiet machine, at 30 s, the run grew
    # from width 24 to 96 x 3 blocks (the knobs then taking turns) and planned 228 epochs. (90 s
    # took 2 minutes of CI's 24.)
    env = {**_env(storage_url, tmp_path), "HPO_CHECKPOINT_RATIO": "20", "HPO_NUM_THREADS": "1"}
    created = run_hpo("study", "create", "grow", "--space", "auto", "--dataset", "synthetic", "--time-budget",
                      "20s", "--final-share", "1", "--grow", "--pruner", "none", "--train-subset", "128",
                      "--final-train-subset", "128",
                      env=env)
    assert created.returncode == 0, created.stderr
    worker = start_hpo("worker", "grow", env=env, log=tmp_path / "w.log")
    assert wait_all([worker], timeout=300) == [0]
    log = (tmp_path / "w.log").read_text()
    assert "Traceback" not in log

    study = optuna.load_study(study_name="grow", storage=storage_url)
    final = _final(study)
    warm = study.get_trials(deepcopy=False)[0].system_attrs["fixed_params"]
    assert final.number == 0  # the warm start's own slot became the run: nothing is left WAITING
    assert [t.state for t in study.get_trials(deepcopy=False)] == [TrialState.COMPLETE]
    assert final.params == warm  # the trial's params stay the searched ones ...
    grown = final.user_attrs["final_run_size"]
    assert grown.get("width", 0) > warm["width"], log  # ... the size it trained at is recorded beside them
    assert final.user_attrs["final_run_seconds_per_epoch"] > 0
    assert final.user_attrs["train_config"]["model"]["width"] == grown["width"]
    assert final.user_attrs["train_config"]["epochs"] == final.user_attrs["epochs_trained"]
    assert "final run" in log and f"width {warm['width']} -> {grown['width']}" in log

    shown = run_hpo("study", "show", "grow", env=env)
    assert f"trial 0's configuration grown to width {grown['width']}" in shown.stdout, shown.stdout

    out = tmp_path / "best.pt"
    exported = run_hpo("export", "grow", "--out", str(out), env=env)
    assert exported.returncode == 0, exported.stderr
    checkpoint = torch.load(out, weights_only=False)
    assert checkpoint["meta"]["trial"] == final.number
    assert checkpoint["meta"]["train_config"]["model"]["width"] == grown["width"]
    assert checkpoint["meta"]["params"]["width"] == grown["width"]  # the size it was trained at


def test_every_lane_trains_a_final_run_and_export_picks_the_best(tmp_path: Path) -> None:
    # Two hosts, as two worker processes that count as different machines (HPO_HOST_ID): each
    # host's cores train one run, the second host's the second-best configuration.
    storage_url = f"sqlite:///{tmp_path}/fp.db"
    budget_s = 20
    env = _env(storage_url, tmp_path)
    created = run_hpo("study", "create", "lanes", "--space", "sleep", "--dataset", "synthetic", "--time-budget",
                      f"{budget_s}s", "--epochs", "3", "--pruner", "none", "--final-share", "0.6", env=env)
    assert created.returncode == 0, created.stderr
    workers = [start_hpo("worker", "lanes", env={**env, "HPO_HOST_ID": host}, log=tmp_path / f"{host}.log")
               for host in ("host-a", "host-b")]
    assert wait_all(workers, timeout=300) == [0, 0]
    logs = "".join((tmp_path / f"{host}.log").read_text() for host in ("host-a", "host-b"))
    assert "Traceback" not in logs

    study = optuna.load_study(study_name="lanes", storage=storage_url)
    runs = [study.user_attrs[key] for key in ("final_run", "final_run#1")]
    assert sorted(run["lane"] for run in runs) == ["host-a", "host-b"]
    assert runs[0]["source"] != runs[1]["source"]  # the best configuration, then the second best
    trials = study.get_trials(deepcopy=False)
    finals = [t for t in trials if t.user_attrs.get("final_run_epochs") and t.state == TrialState.COMPLETE]
    assert sorted(t.user_attrs["final_run_lane"] for t in finals) == ["host-a", "host-b"], logs
    deadline = _deadline(study)
    assert all(deadline - datetime.timedelta(seconds=0.02 * budget_s + EPOCH_S) <= t.datetime_complete for t in finals)

    out = tmp_path / "best.pt"
    exported = run_hpo("export", "lanes", "--out", str(out), env=env)
    assert exported.returncode == 0, exported.stderr
    best = max((t for t in trials if t.state == TrialState.COMPLETE), key=lambda t: t.value)
    assert torch.load(out, weights_only=False)["meta"]["trial"] == best.number
