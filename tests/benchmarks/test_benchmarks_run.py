"""Each benchmark script runs in --quick mode (shrunk further) and prints its RATIO lines.

No timing assertions: the numbers are for docs/benchmarks.md, not for CI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs each benchmark script

ROOT = Path(__file__).resolve().parents[2]

# script -> (extra arguments that shrink the quick mode further, the RATIO names it must print)
CASES = {
    "throughput": (["--images", "512", "--repeats", "1"], ["throughput hpo/bare", "throughput hpo/dataloader"]),
    "coordination": (["--trials", "3", "--repeats", "1"], ["coordination service/optuna"]),
    "scaling": (["--workers", "1,2", "--trials-per-worker", "2", "--sleep", "0.2", "--epochs", "2"],
                ["efficiency@1", "efficiency@2", "scaling@2"]),
    "study_size": (["--large", "200", "--trials", "2", "--repeats", "1"],
                   ["size service large/small", "size service waiting/small", "size optuna large/small"]),
    "time_to_target": (["--approaches", "default,report004", "--trials", "2", "--epochs", "1", "--train-subset", "256",
                        "--target", "0.01", "--max-minutes", "2"], ["time report004/default"]),
    "memory_format": (["--images", "256", "--repeats", "1"],
                      ["epoch wall channels_last/contiguous [auto 24x1 flip+crop]",
                       "epoch CPU channels_last/contiguous [cnn 2x16 none]"]),
    "cpu_precision": (["--images", "256", "--repeats", "1"], ["epoch wall bf16/fp32 [auto width 24]"]),
    "host_share": (["--trials", "2", "--train-subset", "500"], ["host_share default/pinned", "host_share default/today"]),
    "ensemble_gain": (["--max-size", "3"], ["ensemble/best val accuracy", "ensemble/best test accuracy"]),
}


@pytest.mark.parametrize("script", list(CASES))
def test_benchmark_quick_mode_prints_ratios(script: str, pg_server: str, tmp_path: Path) -> None:
    extra, names = CASES[script]
    out = tmp_path / "result.json"
    env = {**os.environ, "HPO_BENCH_PG_URL": pg_server, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / f"{script}.py"), "--quick", *extra, "--json", str(out)],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    printed = [line for line in proc.stdout.splitlines() if line.startswith("RATIO ")]
    for name in names:
        assert any(line.startswith(f"RATIO {name} = ") for line in printed), proc.stdout
    saved = json.loads(out.read_text())
    assert set(names) <= set(saved["ratios"])
