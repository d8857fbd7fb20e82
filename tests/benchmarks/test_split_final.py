"""The split final-run benchmark (issue 25): its options, and a real run.

The real run trains the auto warm start on 300 Fashion-MNIST images for a few seconds per arm;
its numbers mean nothing, only the JSON's shape and the ensemble's arithmetic are checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from benchmarks.common import mcnemar
from benchmarks.split_final import parse_args

ROOT = Path(__file__).resolve().parents[2]


def test_a_split_of_one_member_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--members", "1"])
    assert exit_info.value.code == 2 and "--members at least 2" in capsys.readouterr().err


@pytest.mark.slow
def test_a_tiny_run_trains_both_arms_and_averages_the_split(tmp_path: Path, data_dir: Path) -> None:
    out, work = tmp_path / "sf.json", tmp_path / "work"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "split_final.py"), "--minutes", "0.08", "--train-subset", "300",
           "--val-subset", "100", "--members", "2", "--threads", "1", "--workdir", str(work), "--out", str(out)]
    env = {**os.environ, "HPO_DATA_DIR": str(data_dir), "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    saved = json.loads(out.read_text())
    one, split = saved["arms"]
    assert (one["name"], len(one["members"]), split["name"], len(split["members"])) == ("one", 1, "split", 2)
    assert [m["seed"] for m in split["members"]] == [0, 1] and {m["threads"] for m in split["members"]} == {1}
    for member in one["members"] + split["members"]:
        assert member["epochs"] >= 1 and member["width"] >= 16 and member["predicted_seconds_per_epoch"] > 0
        assert 0 < member["test_accuracy"] <= 1 and 0 < member["val_accuracy"] <= 1
    assert one["test_accuracy"] == one["members"][0]["test_accuracy"]  # one member: its own model
    # The ensemble, recomputed from the members' saved outputs: the mean of their probabilities.
    saved_members = [torch.load(work / f"split-{seed}.pt") for seed in (0, 1)]
    mean = (saved_members[0]["test"] + saved_members[1]["test"]) / 2
    assert split["test_accuracy"] == pytest.approx(float((mean.argmax(1) == saved_members[0]["test_y"]).float().mean()))
    test = saved["paired"]["test"]
    assert test["difference"] == pytest.approx(split["test_accuracy"] - one["test_accuracy"])
    assert 0 <= test["p_value"] <= 1 and len(saved["commit"]) == 40
    assert saved["summary"][-1].startswith("RATIO split/one test accuracy = ")
    assert not any(os.path.isabs(a) for a in saved["argv"])  # no machine's paths in a committed JSON


def test_the_committed_measurement_is_the_one_the_docs_quote() -> None:
    saved = json.loads((ROOT / "docs" / "benchmark-results" / "split_final-30min-xeon.json").read_text())
    test = saved["paired"]["test"]
    assert (test["only_first"], test["only_second"]) == (126, 134)
    assert test["p_value"] == pytest.approx(mcnemar(126, 134))  # the verdict benchmarks.common computes today
    one, split = saved["arms"]
    assert (round(100 * one["test_accuracy"], 2), round(100 * split["test_accuracy"], 2)) == (94.2, 94.28)
    docs = (ROOT / "docs" / "benchmarks.md").read_text()
    assert "split - one = **+0.08 points** (134 images only the" in docs and "McNemar p = 0.66" in docs
