"""Storage URLs: resolution, masking, and one-line errors, against real databases."""

from __future__ import annotations

import optuna
import pytest

from hpo.errors import HpoError, UsageError
from hpo.storage import mask_url, open_storage, resolve_url
from tests.conftest import free_port


def test_default_is_an_sqlite_file_in_the_current_folder() -> None:
    assert resolve_url(None) == "sqlite:///hpo.db"


def test_environment_variable_wins_over_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPO_STORAGE", "sqlite:///other.db")
    assert resolve_url(None) == "sqlite:///other.db"
    assert resolve_url("sqlite:///flag.db") == "sqlite:///flag.db"


def test_passwords_are_masked() -> None:
    assert mask_url("postgresql+psycopg2://alice:s3cr3t@db:5432/hpo") == "postgresql+psycopg2://alice:***@db:5432/hpo"
    assert mask_url("sqlite:///hpo.db") == "sqlite:///hpo.db"


def test_unreachable_server_is_one_line_without_the_password() -> None:
    with pytest.raises(HpoError) as info:
        open_storage(f"postgresql+psycopg2://alice:s3cr3t@127.0.0.1:{free_port()}/hpo")
    message = str(info.value)
    assert "cannot reach storage" in message and "s3cr3t" not in message and "\n" not in message


def test_malformed_url_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not a database URL"):
        open_storage("definitely not a url")


def test_open_creates_a_usable_schema(storage_url: str) -> None:
    storage = open_storage(storage_url)
    optuna.create_study(study_name="s", storage=storage)
    assert [s.study_name for s in optuna.get_all_study_summaries(storage=storage)] == ["s"]
