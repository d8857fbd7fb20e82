"""docker-compose.yml: valid for Compose, refused without a password, and wired as documented.

`docker-compose config` (Debian's docker-compose, no engine needed) is the real validator; the
other checks read the file with PyYAML and hold whether or not docker-compose is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import make_url

from tests.conftest import missing
from tests.deploy import compose

PASSWORD = "test-only-password"


def docker_compose(*args: str, env_file: Path, password: str | None) -> subprocess.CompletedProcess[str]:
    if shutil.which("docker-compose") is None:
        missing("docker-compose is not installed (apt-get install docker-compose)")
    env = {k: v for k, v in os.environ.items() if k != "POSTGRES_PASSWORD" and not k.startswith("COMPOSE_")}
    if password is not None:
        env["POSTGRES_PASSWORD"] = password
    # --env-file: a developer's own .env (with a real password) must not leak into the test.
    return subprocess.run(["docker-compose", "--env-file", str(env_file), "-f", str(compose.COMPOSE_FILE), *args],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def empty_env_file(tmp_path: Path) -> Path:
    path = tmp_path / "empty.env"
    path.write_text("")
    return path


@pytest.mark.parametrize("profile", [None, "gpu", "cpu"])
def test_compose_config_is_valid(profile: str | None, empty_env_file: Path) -> None:
    args = (["--profile", profile] if profile else []) + ["config"]
    result = docker_compose(*args, env_file=empty_env_file, password=PASSWORD)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert {"postgres", "study", "worker", "cpu-worker", "dashboard"} <= set(services)
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == PASSWORD


@pytest.mark.parametrize("password", [None, ""])
def test_compose_config_refuses_a_missing_password(password: str | None, empty_env_file: Path) -> None:
    result = docker_compose("config", env_file=empty_env_file, password=password)
    assert result.returncode != 0, result.stdout
    assert "POSTGRES_PASSWORD" in result.stderr


def test_env_example_needs_only_a_password(tmp_path: Path) -> None:
    example = (compose.ROOT / ".env.example").read_text()
    assert "\nPOSTGRES_PASSWORD=\n" in example  # no password, real or fake, is committed
    as_is = tmp_path / "as-is.env"
    as_is.write_text(example)
    assert docker_compose("config", env_file=as_is, password=None).returncode != 0
    filled = tmp_path / "filled.env"
    filled.write_text(example.replace("\nPOSTGRES_PASSWORD=\n", f"\nPOSTGRES_PASSWORD={PASSWORD}\n"))
    result = docker_compose("config", env_file=filled, password=None)
    assert result.returncode == 0, result.stderr


def test_dot_env_is_git_ignored() -> None:
    if shutil.which("git") is None or not (compose.ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=compose.ROOT)
    assert ignored.returncode == 0, ".env holds the database password and must be git-ignored"


@pytest.fixture
def services() -> dict:
    return compose.load({"POSTGRES_PASSWORD": PASSWORD})["services"]


def test_postgres_is_private_persistent_and_health_checked(services: dict) -> None:
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:")
    assert "ports" not in postgres
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    # Over TCP: the image's first-start temporary server listens on the Unix socket only.
    assert "pg_isready -h 127.0.0.1" in " ".join(postgres["healthcheck"]["test"])


def test_postgres_is_alone_on_an_internal_network(services: dict) -> None:
    networks = yaml.safe_load(compose.COMPOSE_FILE.read_text())["networks"]
    assert services["postgres"]["networks"] == ["db"] and networks["db"]["internal"] is True
    for name in ("study", "worker", "cpu-worker", "dashboard"):
        assert set(services[name]["networks"]) == {"default", "db"}, name


def test_every_hpo_service_uses_postgres_with_the_env_password(services: dict) -> None:
    for name in ("study", "worker", "cpu-worker", "dashboard"):
        env = compose.environment(services[name])
        url = make_url(env["HPO_STORAGE"])
        assert (url.drivername, url.host, url.password) == ("postgresql+psycopg2", "postgres", PASSWORD), name
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy", name
        assert compose.volume_mounts(services[name]) == {"/var/lib/hpo": "hpo-files"}, name
        assert env["HPO_ARTIFACTS"].startswith("/var/lib/hpo/") and env["HPO_DATA_DIR"].startswith("/var/lib/hpo/")


def test_every_service_runs_in_utc(services: dict) -> None:
    for name, service in services.items():
        assert compose.environment(service).get("TZ") == "UTC", name


def test_study_is_a_one_shot_idempotent_create(services: dict) -> None:
    study = services["study"]
    line = " ".join(compose.argv(study))
    assert "hpo study create" in line and "--if-exists skip" in line
    assert study["restart"] == "no"


def test_workers_wait_for_the_study_and_scale(services: dict) -> None:
    for name in ("worker", "cpu-worker"):
        worker = services[name]
        assert compose.argv(worker)[:3] == ["hpo", "worker", "fashion-cnn"]
        assert "--wait-for-study" in compose.argv(worker)
        assert worker["depends_on"]["study"]["condition"] == "service_completed_successfully"
        # --scale needs containers without fixed names or host ports.
        assert "container_name" not in worker and "ports" not in worker
    devices = services["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}]
    assert compose.environment(services["worker"])["HPO_DEVICE"] == "cuda:auto"
    assert "deploy" not in services["cpu-worker"]
    assert compose.environment(services["cpu-worker"])["HPO_DEVICE"] == "cpu"


def test_dashboard_is_published_on_loopback_only(services: dict) -> None:
    dashboard = services["dashboard"]
    assert compose.argv(dashboard) == ["hpo", "dashboard", "--host", "0.0.0.0", "--port", "8080"]
    assert dashboard["ports"] == ["127.0.0.1:8080:8080"]
    # The study service creates the Optuna schema first; two creators at once can collide.
    assert dashboard["depends_on"]["study"]["condition"] == "service_completed_successfully"


def test_workers_count_each_other_through_the_shared_volume(services: dict) -> None:
    for name in ("worker", "cpu-worker"):
        env = compose.environment(services[name])
        # On the volume every replica mounts, so their locks meet on the host's one kernel.
        assert env["HPO_WORKER_REGISTRY"].startswith("/var/lib/hpo/"), name
        assert compose.volume_mounts(services[name]) == {"/var/lib/hpo": "hpo-files"}, name
        # Nobody counts the replicas by hand on the normal path.
        assert env["HPO_WORKERS_PER_HOST"] == "" and env["HPO_NUM_THREADS"] == "", name
