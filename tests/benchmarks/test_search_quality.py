"""Benchmark 6 (search quality) end to end on a tiny budget, and the readings it prints.

The end-to-end run is real: four `hpo` studies on real Fashion-MNIST (512 training and 500
validation images), real worker processes, export and one test evaluation per arm. Half a
minute per arm, all four at once, so it stays a smoke test of a couple of minutes; its
numbers mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.search_quality import ArmResult, Sample, changes, checkpoints, goal_lines, summary_lines

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> dict:
    out = tmp_path_factory.mktemp("search_quality") / "sq.json"
    # Four arms on one wave: --cores 4 oversubscribes a 2-core machine, which a smoke test may.
    command = [sys.executable, str(ROOT / "benchmarks" / "search_quality.py"), "--minutes", "0.5",
               "--arms", "a,b,c,d", "--cores", "4", "--parallel", "4", "--train-subset", "512",
               "--val-subset", "500", "--interval", "0.25", "--probe-batches", "2", "--out", str(out)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=out.parent,
                          env={**os.environ, "HPO_DATA_DIR": str(data_dir), "PYTHONWARNINGS": "ignore"})
    return {"proc": proc, "out": out}


@pytest.mark.slow
def test_every_arm_is_searched_exported_and_tested_once(run: dict) -> None:
    proc = run["proc"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    saved = json.loads(run["out"].read_text())
    arms = {arm["key"]: arm for arm in saved["arms"]}
    assert set(arms) == {"a", "b", "c", "d"}
    for arm in arms.values():
        assert arm["error"] is None
        assert 0.0 <= arm["test_accuracy"] <= 1.0 and arm["test_metrics"]["accuracy"] == arm["test_accuracy"]
        assert arm["trials_complete"] >= 1 and arm["samples"], arm["key"]
        assert arm["workers"] == 1 and arm["threads"] == 1  # 4 cores over 4 arms at once
        assert set(arm["best_val_every_interval"]) == {"0.25", "0.5"}
    commands = {key: " ".join(arm["create_command"]) for key, arm in arms.items()}
    assert "--space auto" in commands["a"] and "--pruner promote" in commands["a"] and "--time-budget 30s" in commands["a"]
    assert "--sampler random --pruner promote" in commands["c"]
    assert "--pruner none --epochs 3 --no-warm-start" in commands["d"]
    # The fixed recipe: one trial of the warm start, its epochs chosen from the timed probe.
    assert "--trials 1" in commands["b"] and f"--epochs {arms['b']['epochs']}" in commands["b"]
    assert arms["b"]["probe"]["seconds_per_epoch"] > 0 and arms["b"]["best_trial"] == 0
    assert saved["settings"]["layout"].startswith("4 cores, 4 arm(s) at a time with 1 core(s) each (a+b+c+d)")


@pytest.mark.slow
def test_it_prints_the_table_the_targets_and_writes_a_png(run: dict) -> None:
    stdout = run["proc"].stdout
    assert "time to 92% validation accuracy: a " in stdout and "time to 93% validation accuracy: a " in stdout
    assert "GOAL test accuracy a = " in stdout
    assert run["out"].with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def arm(key: str, test: float | None, readings: list[tuple[float, float | None]]) -> ArmResult:
    result = ArmResult(key, {"a": "default", "b": "fixed"}.get(key, key), "", workers=1, threads=1, test_accuracy=test)
    result.samples = [Sample(t, v, None, 1, 0, 0) for t, v in readings]
    return result


def test_readings_over_time_and_times_to_target() -> None:
    a = arm("a", 0.95, [(10.0, None), (200.0, 0.91), (400.0, 0.925), (700.0, 0.93)])
    assert a.best_val_at(100.0) is None and a.best_val_at(300.0) == 0.91 and a.best_val_at(900.0) == 0.93
    assert a.time_to(0.92) == 400.0 and a.time_to(0.93) == 700.0 and a.time_to(0.94) is None
    args = argparse.Namespace(minutes=12.0, interval=5.0, dataset="fashion-mnist")
    assert checkpoints(args) == [300.0, 600.0, 720.0]  # every interval, and W itself
    text = "\n".join(summary_lines([a], args, "layout"))
    assert "val@5m" in text and "val@12m" in text and "time to 92% validation accuracy: a 6.7 min" in text


def test_the_json_keeps_the_readings_where_something_changed() -> None:
    readings = [Sample(t, v, None, 1, 0, 0) for t, v in [(0, None), (5, None), (10, 0.9), (15, 0.9), (20, 0.9)]]
    assert [r.seconds for r in changes(readings)] == [0, 10, 20]  # the first, each change, the last


def test_goals_are_judged_on_the_default_arm() -> None:
    lines = goal_lines([arm("a", 0.948, []), arm("b", 0.946, [])], "cpu", 60)
    assert lines == ["GOAL test accuracy a = 0.9480 (goal >= 0.947: met)",
                     "GOAL test accuracy a - b = +0.20 points (goal >= 0.3: missed)"]
    # Two hours on a CPU: a higher floor, and no lead over b asked for.
    assert goal_lines([arm("a", 0.948, []), arm("b", 0.946, [])], "cpu", 120) == [
        "GOAL test accuracy a = 0.9480 (goal >= 0.952: missed)"]
    gpu = goal_lines([arm("a", 0.956, []), arm("b", 0.95, []), arm("c", 0.957, [])], "cuda", 10)
    assert gpu[-1] == "GOAL a above every other arm: missed"
    assert goal_lines([arm("b", 0.9, [])], "cpu", 60) == []  # no default arm, no verdict


def test_the_committed_command_leaves_out_the_scratch_folder() -> None:
    from benchmarks.search_quality import committed_argv

    argv = ["benchmarks/search_quality.py", "--minutes", "60", "--workdir", "/tmp/x", "--workdir=/tmp/y", "--arms", "a,b"]
    assert committed_argv(argv) == ["benchmarks/search_quality.py", "--minutes", "60", "--arms", "a,b"]
