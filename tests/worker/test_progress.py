"""Worker progress: a live line on a real pseudo-terminal, plain log lines elsewhere."""

from __future__ import annotations

import io
import logging
import os
import pty

import pytest

from hpo.worker.progress import TrialProgress, format_duration


class Clock:
    """A clock the test advances, so ETAs are exact."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("seconds", "text"), [(0.4, "0s"), (59.6, "1m00s"), (75.2, "1m15s"), (3725, "1h02m"),
                                               (float("nan"), "?")])
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_plain_log_lines_when_not_a_terminal(caplog: pytest.LogCaptureFixture) -> None:
    clock, stream = Clock(), io.StringIO()
    progress = TrialProgress("w1", 7, epochs=4, stream=stream, clock=clock)
    with caplog.at_level(logging.INFO, logger="hpo.worker"):
        clock.now += 30
        progress.epoch(1, 0.51234, "val_accuracy", 0.8)
        clock.now += 30
        progress.epoch(2, 0.4, "val_accuracy", None)
        progress.close()
    assert stream.getvalue() == ""
    assert [r.getMessage() for r in caplog.records] == [
        "[w1] trial 7 epoch 1/4 loss 0.5123 val_accuracy 0.8000 elapsed 30s ETA 1m30s",
        "[w1] trial 7 epoch 2/4 loss 0.4000 val_accuracy n/a elapsed 1m00s ETA 1m00s",
    ]


def read_all(leader: int) -> str:
    """Everything written to a pseudo-terminal whose other end is closed.

    Linux hands pty writes to the reader from a work queue, so one read can
    return only the first write on a loaded machine; read until the end.
    """
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the other end is closed and everything is read
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return b"".join(chunks).decode()


def test_live_line_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm")
    leader, follower = pty.openpty()
    with os.fdopen(follower, "w") as tty:
        clock = Clock()
        # Resumed after epoch 2: the ETA uses only this attempt's pace.
        progress = TrialProgress("w1", 3, epochs=5, first_epoch=3, stream=tty, clock=clock)
        assert progress.live
        clock.now += 10
        progress.epoch(3, 0.3, "val_loss", 0.25)
        clock.now += 10
        progress.epoch(4, 0.2, "val_loss", 0.2)
        progress.close()
    written = read_all(leader)
    assert written.count("\r\x1b[K") == 2
    assert "epoch 3/5 loss 0.3000 val_loss 0.2500 elapsed 10s ETA 20s" in written
    assert written.rstrip("\r\n").endswith("epoch 4/5 loss 0.2000 val_loss 0.2000 elapsed 20s ETA 10s")
    assert written.count("\n") == 1  # one line, redrawn; ended by close()


def test_dumb_terminal_gets_log_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")
    leader, follower = pty.openpty()
    with os.fdopen(follower, "w") as tty:
        assert not TrialProgress("w1", 0, epochs=1, stream=tty).live
    os.close(leader)
