"""Compose replicas on one Docker host share its cores without being told how many there are.

`docker-compose up --scale cpu-worker=N` with .env.example's empty HPO_WORKERS_PER_HOST and
HPO_NUM_THREADS: the replicas count each other through the worker registry on their shared
volume (hpo.host_registry), so the trials that ran at the same time trained with threads that
sum to at most the engine's cores. Here with 2 replicas; test_compose_stack.py checks 4 (more
than the cores of a 2-core engine: the extra ones wait for a core instead of oversubscribing)
on its own stack, which runs 4 with the same settings.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.test_compose_stack import (
    Stack, concurrent_threads, docker, env_from_example, overlapping_sums, require_engine, wait_until,
)

pytestmark = [pytest.mark.docker, pytest.mark.timeout(2400)]

STUDY = "compose-threads"
SETTINGS = {
    "COMPOSE_PROFILES": "cpu",
    "HPO_STUDY": STUDY,
    "HPO_SPACE": "cnn",
    "HPO_DATASET": "fashion-mnist",
    "HPO_TRIALS": "6",
    "HPO_EPOCHS": "2",
    "HPO_STUDY_ARGS": "--train-subset 2000 --val-subset 500 --pruner none",
    "HPO_WORKERS_PER_HOST": "",  # as .env.example has them: nobody counts the workers
    "HPO_NUM_THREADS": "",
}

TRIALS = f"""
import json, os, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(study_name={STUDY!r}, storage=os.environ["HPO_STORAGE"])
print(json.dumps([{{"number": t.number, "state": t.state.name, "worker": t.user_attrs.get("worker"),
                   "threads": t.user_attrs.get("threads"), "start": t.datetime_start.isoformat(),
                   "end": t.datetime_complete.isoformat() if t.datetime_complete else None}}
                  for t in study.get_trials(deepcopy=False)]))
"""


# 4 replicas (more than a 2-core engine's cores) are checked in test_compose_stack.py, whose
# stack runs 4 with the same empty thread settings; this test ran its own stack for them.
@pytest.mark.parametrize("replicas", [2])
def test_replicas_share_the_engines_cores(tmp_path: Path, replicas: int) -> None:
    require_engine()
    cores = int(docker("info", "--format", "{{.NCPU}}").strip())
    env_file = tmp_path / ".env"
    env_file.write_text(env_from_example(secrets.token_hex(24), SETTINGS))
    stack = Stack(env_file)
    try:
        stack.build()
        stack.compose("up", "--detach", "--scale", f"cpu-worker={replicas}", "cpu-worker", timeout=600)

        def done() -> list[dict[str, Any]] | None:
            workers = stack.containers("cpu-worker")
            finished = [c for c in workers if c["State"]["Status"] == "exited" and not c["State"]["Restarting"]]
            return workers if len(workers) == replicas and len(finished) == replicas else None

        workers = wait_until(done, 1500, "every worker to exit", every=3)
        assert [c["State"]["ExitCode"] for c in workers] == [0] * replicas, stack.logs("cpu-worker")[-6000:]
        result = stack.compose("run", "--rm", "--no-deps", "--entrypoint", "python", "cpu-worker", "-c", TRIALS,
                               timeout=300)
        trials = json.loads(result.stdout.strip().splitlines()[-1])
        assert len(trials) == 6 and all(t["state"] == "COMPLETE" for t in trials), trials
        assert all(isinstance(t["threads"], int) and 1 <= t["threads"] <= cores for t in trials), trials
        pairs = overlapping_sums(trials)
        assert all(total <= cores for _, _, total in pairs), (cores, pairs, trials)
        assert concurrent_threads(trials) <= cores, (cores, trials)
        # The replicas did share the work (not one of them training while the rest slept).
        assert len({t["worker"] for t in trials}) >= 2, trials
    except BaseException:
        print(f"compose project {stack.project}\n{stack.logs()[-20000:]}")
        raise
    finally:
        stack.down()
