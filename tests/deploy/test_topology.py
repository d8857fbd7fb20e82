"""docker-compose.yml run as local processes against a real PostgreSQL.

Each service's entry point, command and environment come from the compose file; the `postgres`
host name is mapped to the test's database and the named volume to a folder. The study service
runs once (and once more, as on a second `docker compose up`), then four worker replicas and
the dashboard run, as `docker compose up --scale cpu-worker=4` would start them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState
from sqlalchemy.engine import make_url

from tests.conftest import free_port, wait_all
from tests.deploy import compose

pytestmark = pytest.mark.slow  # the compose services as local processes run a study

PASSWORD = "topology-password"
BUDGET = 8
SETTINGS = {  # what a user would put in .env
    "POSTGRES_PASSWORD": PASSWORD,
    "HPO_STUDY": "topology",
    "HPO_SPACE": "cnn",
    "HPO_DATASET": "synthetic",
    "HPO_TRIALS": str(BUDGET),
    "HPO_EPOCHS": "1",
    "HPO_STUDY_ARGS": "--train-subset 128 --val-subset 48 --pruner none",
    "HPO_NUM_THREADS": "1",
}


def local_process(service: dict, pg_url: str, volumes: Path) -> tuple[list[str], dict[str, str]]:
    """The argv and environment of a service's container, pointed at local stand-ins."""
    env = compose.environment(service)
    url = make_url(env["HPO_STORAGE"])
    assert (url.host, url.password) == ("postgres", PASSWORD)  # the compose network's database
    local = make_url(pg_url)
    env["HPO_STORAGE"] = url.set(host=local.host, port=local.port, username=local.username, password=None,
                                 database=local.database).render_as_string(hide_password=False)
    for target, volume in compose.volume_mounts(service).items():
        for key, value in env.items():
            if value == target or value.startswith(target + "/"):
                env[key] = str(volumes / volume) + value[len(target):]
    # The image's `hpo` is this environment's; containers inherit nothing else from the host.
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", HOME=str(volumes))
    return compose.argv(service), env


def spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(argv, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def listed_studies(port: int, timeout: float = 60) -> list[str]:
    """The study names the dashboard's HTTP API lists, once it answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies", timeout=5) as response:
                return [s["study_name"] for s in json.load(response)["study_summaries"]]
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_compose_services_run_a_study_to_its_exact_budget(pg_url: str, tmp_path: Path) -> None:
    services = compose.load(SETTINGS)["services"]
    volumes = tmp_path / "volumes"
    logs = tmp_path / "logs"
    logs.mkdir()

    argv, env = local_process(services["study"], pg_url, volumes)
    first = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "created study 'topology'" in first.stdout
    again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "already exists" in again.stdout, again.stderr

    port = free_port()
    argv, env = local_process(services["dashboard"], pg_url, volumes)
    argv[argv.index("--port") + 1] = str(port)
    argv[argv.index("--host") + 1] = "127.0.0.1"  # the host-side publishing is loopback-only too
    dashboard = spawn(argv, env, logs / "dashboard.log")
    try:
        argv, env = local_process(services["cpu-worker"], pg_url, volumes)
        workers = [spawn(argv, env, logs / f"worker-{i}.log") for i in range(4)]
        codes = wait_all(workers, timeout=300)
        assert codes == [0, 0, 0, 0], [(logs / f"worker-{i}.log").read_text()[-1500:] for i in range(4)]

        assert "topology" in listed_studies(port), (logs / "dashboard.log").read_text()[-1500:]
    finally:
        os.killpg(dashboard.pid, signal.SIGTERM)
        dashboard.wait(timeout=30)

    trials = optuna.load_study(study_name="topology", storage=pg_url).trials
    assert len(trials) == BUDGET
    assert sorted(t.number for t in trials) == list(range(BUDGET))
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials), [t.state for t in trials]
    # Checkpoints landed on the shared volume, not in the workers' working folders.
    assert any((volumes / "hpo-files" / "artifacts").iterdir())
