"""Settings: every HPO_* variable parsed once, and a malformed one named in one line."""

from __future__ import annotations

import pytest

from hpo.errors import UsageError
from hpo.settings import Settings
from tests.helpers import run_hpo


def test_defaults_without_any_variable() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.storage_url == "sqlite:///hpo.db"


def test_every_variable_is_read() -> None:
    env = {"HPO_STORAGE": "sqlite:///x.db", "HPO_ARTIFACTS": "/a", "HPO_DATA_DIR": "/d", "HPO_DEVICE": "cpu",
           "HPO_DB_RETRY_TIMEOUT": "12.5", "HPO_CHECKPOINT_RATIO": "0", "HPO_NUM_THREADS": "3",
           "HPO_WORKERS_PER_HOST": "4", "HPO_WORKER_INDEX": "0", "HPO_GPU_COUNTER": "/c",
           "HPO_IMAGE_SIZE": "32", "HPO_WORKER_REGISTRY": "/r", "HPO_PRECISION": "bf16", "HPO_LOG_LEVEL": "debug",
           "HPO_CHROMIUM": "/b", "HPO_DASHBOARD_THREADS": "2"}
    assert Settings.from_env(env) == Settings(
        storage="sqlite:///x.db", artifacts="/a", data_dir="/d", device="cpu", db_retry_timeout=12.5,
        checkpoint_ratio=0.0, num_threads=3, workers_per_host=4, worker_index=0, gpu_counter="/c", image_size=32,
        worker_registry="/r", precision="bf16", log_level="DEBUG", chromium="/b", dashboard_threads=2)


@pytest.mark.parametrize(("name", "value", "rule"), [
    ("HPO_WORKERS_PER_HOST", "four", "an integer >= 1"),
    ("HPO_NUM_THREADS", "0", "an integer >= 1"),
    ("HPO_WORKER_INDEX", "-1", "an integer >= 0"),
    ("HPO_DB_RETRY_TIMEOUT", "soon", "a number >= 0"),
    ("HPO_CHECKPOINT_RATIO", "nan", "a number >= 0"),
    ("HPO_PRECISION", "fp8", "one of fp32, bf16, fp16"),
    ("HPO_LOG_LEVEL", "loud", "one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("HPO_DASHBOARD_THREADS", "0", "an integer >= 1"),
])
def test_a_malformed_value_names_the_variable_its_value_and_the_rule(name: str, value: str, rule: str) -> None:
    with pytest.raises(UsageError, match=f"^{name} is '{value}', but must be {rule}$"):
        Settings.from_env({name: value})


def test_the_variables_once_read_elsewhere() -> None:
    env = {"HPO_PRECISION": "BF16", "HPO_LOG_LEVEL": "debug", "HPO_CHROMIUM": "/b/chromium",
           "HPO_DASHBOARD_THREADS": "8"}
    settings = Settings.from_env(env)
    assert (settings.precision, settings.log_level, settings.chromium, settings.dashboard_threads) == (
        "bf16", "DEBUG", "/b/chromium", 8)


def test_the_worker_command_says_it_in_one_line_with_exit_2() -> None:
    result = run_hpo("worker", "any", env={"HPO_WORKERS_PER_HOST": "four"})
    assert result.returncode == 2
    assert result.stderr.strip() == "error: HPO_WORKERS_PER_HOST is 'four', but must be an integer >= 1"
