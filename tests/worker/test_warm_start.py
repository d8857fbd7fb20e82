"""The warm start trains to the study's epochs under every policy (hpo.trials.scheduling.base).

A real worker, in this process, on real SQLite, with the promotion scheduler and a warm start
that ranks last at every rung: it would pause at epoch 1 and never be promoted, and it trains
on to the study's epochs instead, where the final run's tie rule can compare it.
"""

from __future__ import annotations

import signal
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from hpo.config import StudyConfig
from hpo.settings import Settings
from hpo.studies.create import create
from hpo.trials import open_storage
from hpo.worker.loop import WorkerOptions, run_worker

POOR_DEFAULT = str(Path(__file__).parent / "spaces" / "poor_default.py")


def test_promotion_never_pauses_the_warm_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPO_SLEEP_SECONDS", "0")
    url = f"sqlite:///{tmp_path / 'hpo.db'}"
    config = StudyConfig(space=POOR_DEFAULT, dataset="synthetic", budget=10, epochs=9, pruner="promote", seed=0,
                         warm_start=True)
    create("s", config, open_storage(url))
    settings = Settings.from_env().replace(storage=url, device="cpu", artifacts=str(tmp_path / "artifacts"))
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        run_worker(WorkerOptions("s", settings))
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    trials = optuna.load_study(study_name="s", storage=url).trials
    first, others = trials[0], [t for t in trials[1:] if t.intermediate_values]
    assert first.params == {"x": 0.0, "variant": "narrow"}
    # It ranked last at epoch 1, and alone there when it got there (a quota of 0): promotion
    # would have paused it, and never promoted it.
    assert all(t.intermediate_values[1] > first.intermediate_values[1] for t in others)
    assert first.state == TrialState.COMPLETE and max(first.intermediate_values) == 9
    # The others are still paused and promoted by rank: some stopped at rung 1 for good.
    assert any(max(t.intermediate_values) == 1 and t.state == TrialState.PRUNED for t in others)
