"""Storage URLs: resolution, masking, and one-line errors, against real databases."""

from __future__ import annotations

import optuna
import pytest

from hpo.errors import HpoError, UsageError
from hpo.settings import Settings
from hpo.trials.records import TrialKeys
from hpo.trials.storage import StorageMissing, mask_url, open_storage, resolve_url, retry_callback
from tests.conftest import free_port


def test_default_is_an_sqlite_file_in_the_current_folder() -> None:
    assert resolve_url(None) == "sqlite:///hpo.db"


def test_environment_variable_wins_over_default_and_a_flag_over_both() -> None:
    settings = Settings.from_env({"HPO_STORAGE": "sqlite:///other.db"})
    assert settings.storage_url == "sqlite:///other.db"
    assert settings.replace(storage="sqlite:///flag.db").storage_url == "sqlite:///flag.db"
    assert settings.replace(storage=None).storage_url == "sqlite:///other.db"  # an unset flag keeps the env


def test_read_only_opening_never_creates_an_sqlite_file(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "none.db"
    with pytest.raises(StorageMissing, match="no storage at .*none.db"):
        open_storage(f"sqlite:///{path}", must_exist=True)
    assert not path.exists()


def test_passwords_are_masked() -> None:
    assert mask_url("postgresql+psycopg2://alice:s3cr3t@db:5432/hpo") == "postgresql+psycopg2://alice:***@db:5432/hpo"
    assert mask_url("sqlite:///hpo.db") == "sqlite:///hpo.db"


def test_unreachable_server_is_one_line_without_the_password() -> None:
    with pytest.raises(HpoError) as info:
        open_storage(f"postgresql+psycopg2://alice:s3cr3t@127.0.0.1:{free_port()}/hpo")
    message = str(info.value)
    assert "cannot reach PostgreSQL at 127.0.0.1:" in message and "s3cr3t" not in message and "\n" not in message


def test_malformed_url_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not a database URL"):
        open_storage("definitely not a url")


def test_open_creates_a_usable_schema(storage_url: str) -> None:
    storage = open_storage(storage_url)
    optuna.create_study(study_name="s", storage=storage)
    assert [s.study_name for s in optuna.get_all_study_summaries(storage=storage)] == ["s"]


def test_a_retry_carries_the_attempts_checkpoint_and_curve_but_not_why_it_ended(storage_url: str) -> None:
    study = optuna.create_study(study_name="s", storage=open_storage(storage_url))
    trial = study.ask({"lr": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)})
    trial.report(0.8, 1)
    for key, value in {TrialKeys.RESUME: "ckpt-1", TrialKeys.RESUME_EPOCH: 1,
                       TrialKeys.FAIL_REASON: "handed back by a stopping worker"}.items():
        trial.set_user_attr(key, value)
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    attempt = study.trials[0]

    retry_callback()(study, attempt)

    retry = study.trials[1]
    assert retry.state == optuna.trial.TrialState.WAITING
    assert retry.params == attempt.params and retry.intermediate_values == {1: 0.8}
    assert retry.user_attrs == {TrialKeys.RESUME: "ckpt-1", TrialKeys.RESUME_EPOCH: 1}
    assert retry.system_attrs["retry_history"] == [0]
    # The failed attempt keeps its reason, in the database and in the caller's frozen trial.
    assert study.trials[0].user_attrs[TrialKeys.FAIL_REASON] == "handed back by a stopping worker"
    assert attempt.user_attrs[TrialKeys.FAIL_REASON] == "handed back by a stopping worker"


def test_processes_creating_the_schema_together_all_open_it(pg_url: str) -> None:
    """A compose stack or workers back from an outage meet an empty database at once."""
    import subprocess
    import sys

    code = f"from hpo.trials.storage import open_storage; open_storage({pg_url!r})"
    procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True) for _ in range(6)]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    assert [rc for rc, _ in results] == [0] * 6, [err[-500:] for rc, err in results if rc]
