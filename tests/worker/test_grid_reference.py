"""Issue 16's "done when" for grid studies, as a user runs it: report 000's full grid on digits.

``hpo study create ao --space activation_optimizer --dataset digits --sampler grid --trials 54
--epochs 3 --pruner none``, then 1, 2 or 4 ``hpo worker ao`` (one torch thread each). Before the
fix, two workers ran 38 distinct cells of 54 with 16 repeats, and one worker logged
"trial 53 failed: RuntimeError: Study.stop..." for a trial Optuna stored COMPLETE.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from search_spaces.activation_optimizer import ACTIVATIONS, OPTIMIZERS
from tests.helpers import run_hpo, start_hpo, wait_all

CELLS = set(itertools.product(ACTIVATIONS, OPTIMIZERS))


@pytest.mark.slow
@pytest.mark.parametrize("n_workers", [1, 2, 4])
def test_report_000s_grid_runs_every_cell_once_on_any_number_of_workers(n_workers: int, tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'hpo.db'}"
    env = {"HPO_STORAGE": storage, "HPO_ARTIFACTS": str(tmp_path / "artifacts"), "HPO_NUM_THREADS": "1"}
    created = run_hpo("study", "create", "ao", "--space", "activation_optimizer", "--dataset", "digits",
                      "--sampler", "grid", "--trials", "54", "--epochs", "3", "--pruner", "none", env=env)
    assert created.returncode == 0, created.stderr
    assert len(CELLS) == 54

    started = time.monotonic()
    logs = [tmp_path / f"w{i}.log" for i in range(n_workers)]
    workers = [start_hpo("worker", "ao", env=env, log=log) for log in logs]
    codes = wait_all(workers, timeout=900)
    text = "".join(log.read_text() for log in logs)
    print(f"{n_workers} worker(s): 54 cells in {time.monotonic() - started:.0f} s")  # shown with -s

    assert codes == [0] * n_workers, text[-3000:]
    assert " failed" not in text and "Traceback" not in text and "Study.stop" not in text, text[-3000:]
    trials = optuna.load_study(study_name="ao", storage=storage).trials
    assert len(trials) == 54
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials), Counter(t.state.name for t in trials)
    ran = Counter((t.params["activation"], t.params["optimizer"]) for t in trials)
    assert set(ran) == CELLS
    assert max(ran.values()) == 1  # no cell twice
    # The cells were shared, not all run by one worker (a worker slow to import torch on a busy
    # machine may find little left, so not every one is required to take part).
    if n_workers > 1:
        assert len({t.user_attrs["worker"] for t in trials}) >= 2
