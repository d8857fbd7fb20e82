"""benchmarks/ensemble_gain.py's selection, on hand-made class probabilities (its run on a real
study is in test_benchmarks_run.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

from benchmarks.ensemble_gain import Member, accuracy, measure, select

LABELS = torch.tensor([0, 1, 0, 1])


def member(trial: int, p_true: list[float]) -> Member:
    """A model that gives ``p_true[row]`` to the true class of each row (right where it is > 0.5)."""
    probs = torch.empty(len(p_true), 2)
    for row, (label, p) in enumerate(zip(LABELS.tolist(), p_true)):
        probs[row, label], probs[row, 1 - label] = p, 1 - p
    return Member(trial, probs, probs.clone(), accuracy(probs, LABELS))


BEST = [0.9, 0.9, 0.9, 0.45]  # 3 of 4 right, unsure of the one it gets wrong


def test_it_starts_from_the_best_model_and_adds_the_one_that_mends_its_errors() -> None:
    mender = member(1, [0.45, 0.45, 0.9, 0.9])  # worse alone, but sure where BEST is wrong
    weak = member(2, [0.4, 0.4, 0.4, 0.4])  # wrong everywhere: adding it mends nothing
    assert select([weak, member(0, BEST), mender], LABELS, max_size=5) == [1, 2]


def test_a_model_that_mends_nothing_leaves_the_best_alone() -> None:
    worse = member(1, [0.9, 0.4, 0.9, 0.4])
    result = measure([member(0, BEST), worse], LABELS, LABELS, max_size=5)
    assert result["chosen_trials"] == [0]
    assert result["ensemble_test_accuracy"] == result["best_test_accuracy"] == 0.75


def test_max_size_caps_the_ensemble() -> None:
    mender = member(1, [0.45, 0.45, 0.9, 0.9])
    assert select([member(0, BEST), mender], LABELS, max_size=1) == [0]
    assert select([member(0, BEST), mender], LABELS, max_size=2) == [0, 1]


def test_a_missing_study_is_one_line(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "ensemble_gain.py"
    proc = subprocess.run([sys.executable, str(script), "--storage", f"sqlite:///{tmp_path / 'none.db'}",
                           "--study", "nope"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"no study 'nope' in sqlite:///{tmp_path / 'none.db'}; check --storage and --study"]
