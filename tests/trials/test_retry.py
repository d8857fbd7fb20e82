"""The Retrier: transient database errors are waited out, others raise at once."""

from __future__ import annotations

import pytest
import sqlalchemy.exc

from hpo.errors import HpoError
from hpo.trials import Retrier, is_transient


def _lost() -> sqlalchemy.exc.OperationalError:
    return sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))


class FakeClock:
    """Time that moves only when the retrier sleeps: the test runs instantly."""

    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_transient_errors_are_retried_until_the_call_succeeds() -> None:
    clock = FakeClock()
    retrier = Retrier(60, sleep=clock.sleep, clock=lambda: clock.now)
    calls = iter([_lost(), _lost(), "ok"])

    def flaky() -> str:
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    assert retrier.call(flaky, "read") == "ok"
    assert clock.now == 1.5  # 0.5 s, then 1 s: exponential backoff
    assert retrier.seconds_since_last_error() == 1.0  # the last failure came before the 1 s sleep


def test_an_outage_longer_than_the_timeout_is_one_line_naming_the_setting() -> None:
    clock = FakeClock()
    retrier = Retrier(20, sleep=clock.sleep, clock=lambda: clock.now)

    def down() -> None:
        raise _lost()

    with pytest.raises(HpoError, match=r"^cannot reach the storage: .* \(waited 20s to claim a trial\); .*HPO_DB_RETRY_TIMEOUT"):
        retrier.call(down, "claim a trial")
    assert clock.now <= 20


def test_other_errors_raise_at_once() -> None:
    retrier = Retrier(60, sleep=lambda s: pytest.fail("must not sleep"))
    with pytest.raises(KeyError):
        retrier.call(lambda: {}["x"], "read")
    assert not is_transient(KeyError("x"))
    assert retrier.seconds_since_last_error() == float("inf")
