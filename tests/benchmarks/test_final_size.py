"""The final-run size benchmark (issue 25): the rule applied to a made-up table, and a real run.

The real run trains the auto warm start on 256 Fashion-MNIST images for a few seconds per
cell, one thread, in two sessions (one cell, then the rest with --resume); its numbers mean
nothing, only the JSON's shape is checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.final_size import (
    Cell,
    consistent_range,
    flip_accuracy,
    main,
    min_epochs_range,
    parse_args,
    rows,
    rule_climb,
    rule_pick,
    settings,
)
from hpo.spaces.sizing import MIN_EPOCHS

ROOT = Path(__file__).resolve().parents[2]

# Seconds per epoch and test accuracy at T = 60 min, one block per stage: made up.
PACES = {(24, 1): 60.0, (32, 1): 100.0, (48, 1): 200.0, (64, 1): 350.0}
ACCURACY = {(24, 1): 0.930, (32, 1): 0.936, (48, 1): 0.941, (64, 1): 0.939}


def test_the_rule_picks_the_largest_size_that_fits_its_minimum_epochs() -> None:
    assert rule_pick(3600, PACES, 10) == (64, 1)  # 350 s x 10 fits in an hour
    assert rule_pick(3600, PACES, 11) == (48, 1)
    assert rule_pick(3600, PACES, 18) == (48, 1)  # 200 s x 18 = 3600: just fits
    assert rule_pick(3600, PACES, 19) == (32, 1)
    assert rule_pick(3600, PACES, 1000) == (24, 1)  # nothing fits: the chosen size itself


def test_width_climbs_first_and_a_size_not_measured_counts_as_too_slow() -> None:
    # Width climbs to 32 (its top among the measured); blocks then climb from 32: 32 x 2 was
    # not measured, so the pick is 32 x 1, and the row says which size was missing.
    assert rule_climb(3600, {(24, 1): 60.0, (32, 1): 100.0, (24, 2): 90.0}, 10) == ((32, 1), [(32, 2)])
    paces = {**PACES, (48, 2): 300.0, (64, 2): 500.0}
    assert rule_climb(3600, paces, 10) == ((64, 1), [])  # 64 x 2 (5,000 s) does not fit
    assert rule_climb(3600, paces, 12) == ((48, 2), [])  # 64 (4,200 s) does not fit; 48 x 2 (3,600 s) does


def test_the_min_epochs_that_pick_the_best_size_form_a_range() -> None:
    assert min_epochs_range(3600, PACES, ACCURACY) == (11, 18)  # 48 is best: 64 must not fit, 48 must
    assert min_epochs_range(3600, PACES, {**ACCURACY, (64, 1): 0.95}) == (1, 10)  # the largest: any small E_min
    assert min_epochs_range(3600, PACES, {**ACCURACY, (24, 1): 0.95}) == (37, None)  # the smallest: any large one
    # With blocks measured, 48 x 2 is the pick while 64 does not fit and 48 x 2 does (11..12).
    paces = {**PACES, (32, 2): 150.0, (48, 2): 300.0, (64, 2): 500.0}
    assert min_epochs_range(3600, paces, {(48, 2): 0.95, (48, 1): 0.94}) == (11, 12)
    assert min_epochs_range(3600, paces, {(32, 2): 0.95, (32, 1): 0.94}) == (19, 24)  # 32 stops width, 32 x 2 fits
    # 24 x 2 is off the climb: blocks climb from 24 only where 32 does not fit (37 epochs and
    # more), and there 24 x 2 (400 s) does not fit either.
    assert min_epochs_range(3600, {**paces, (24, 2): 400.0}, {(24, 2): 0.95, (24, 1): 0.94}) is None


def test_rows_and_the_range_consistent_with_every_row() -> None:
    cells = [Cell(60, w, b, measured_seconds_per_epoch=pace, predicted_seconds_per_epoch=pace * 1.1,
                  test_accuracy=ACCURACY[(w, b)]) for (w, b), pace in PACES.items()]
    cells += [Cell(10, 24, 1, measured_seconds_per_epoch=60, predicted_seconds_per_epoch=66, test_accuracy=0.92),
              Cell(10, 32, 1, measured_seconds_per_epoch=100, predicted_seconds_per_epoch=110, test_accuracy=0.925)]
    ten, sixty = rows(cells, min_epochs=15)
    assert sixty["rule_pick"] == (48, 1) and sixty["best"] == (48, 1) and sixty["min_epochs_range"] == (11, 18)
    assert sixty["complete"] and sixty["rule_pick_probe"] == (48, 1)  # 220 s x 15 fits in 3600 s too
    # At 10 min, 32 is best (6 epochs of 100 s); the 48 it did not measure does not fit then.
    assert not ten["complete"] and ten["best"] == (32, 1) and ten["rule_pick"] == (24, 1)
    assert ten["min_epochs_range"] == (4, 6)  # 48 fits below 4 epochs (600 / 200 = 3)
    assert consistent_range([ten["min_epochs_range"], sixty["min_epochs_range"]]) is None
    assert consistent_range([(4, 20), (11, 18)]) == (11, 18)
    assert consistent_range([(4, None), (11, 18)]) == (11, 18)
    assert consistent_range([(4, None), (11, None)]) == (11, None)


def test_an_existing_json_is_only_added_to_with_resume(tmp_path: Path) -> None:
    out = tmp_path / "fs.json"
    out.write_text("{}")
    with pytest.raises(SystemExit, match="--resume"):
        main(["--minutes", "1", "--widths", "16", "--out", str(out)])


def test_another_augmentation_is_a_setting_of_its_own_json() -> None:
    args = parse_args(["--only", "30:32", "--augment", "flip+crop+erasing"])
    assert settings(args)["augment"] == "flip+crop+erasing"
    assert settings(parse_args(["--only", "30:32"])) != settings(args)  # a resume across the two is refused


def test_an_unknown_augmentation_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--augment", "mixup"])
    assert exit_info.value.code == 2 and "invalid choice: 'mixup'" in capsys.readouterr().err


def test_flip_accuracy_scores_each_image_with_its_mirror_image() -> None:
    import torch
    from torch import nn

    from hpo.data.splits import Split

    class LeftHalf(nn.Module):  # class 0 when the left half is brighter: a mirror image says the opposite
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            left, right = x[..., :2].sum((1, 2, 3)), x[..., 2:].sum((1, 2, 3))
            return torch.stack([left - right, right - left + 0.1], 1)

    x = torch.zeros(4, 1, 4, 4)
    x[:2, ..., :2] = 1.0  # brighter on the left: class 0
    y = torch.tensor([0, 0, 1, 1])
    assert flip_accuracy(LeftHalf(), Split(x, y)) == 0.5  # the mirror cancels the cue: only the 0.1 bias is left


@pytest.mark.slow
def test_a_tiny_grid_in_two_sessions_writes_every_field(tmp_path: Path, data_dir: Path) -> None:
    out = tmp_path / "fs.json"
    base = [sys.executable, str(ROOT / "benchmarks" / "final_size.py"), "--minutes", "0.1", "--widths", "16,24",
            "--train-subset", "256", "--val-subset", "100", "--threads", "1", "--out", str(out)]
    env = {**os.environ, "HPO_DATA_DIR": str(data_dir), "PYTHONWARNINGS": "ignore"}
    for extra in (["--only", "0.1:16"], ["--resume"]):
        proc = subprocess.run([*base, *extra], capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        if extra == ["--only", "0.1:16"]:
            first = json.loads(out.read_text())["cells"]
            assert [(c["minutes"], c["width"]) for c in first] == [(0.1, 16)]
    assert "1 cell(s) to run (1 in" in proc.stdout  # the second session skipped the first's cell
    saved = json.loads(out.read_text())
    cells = saved["cells"]
    assert [(c["minutes"], c["width"], c["blocks"]) for c in cells] == [(0.1, 16, 1), (0.1, 24, 1)]
    assert cells[0] == first[0]  # kept as it was
    for c in cells:
        assert c["epochs"] >= 2 and len(c["epoch_seconds"]) == c["epochs"]
        assert c["predicted_seconds_per_epoch"] > 0 and c["measured_seconds_per_epoch"] > 0
        assert 0 <= c["val_accuracy"] <= 1 and 0 <= c["test_accuracy"] <= 1
        assert 0 <= c["val_accuracy_flip"] <= 1 and 0 <= c["test_accuracy_flip"] <= 1
        assert 5 <= c["wall_seconds"] < 60  # 6 s of budget, at most one epoch past it
        assert c["threads"] == 1 and isinstance(c["nice"], int) and len(c["load_start"]) == len(c["load_end"]) == 3
        assert len(c["commit"]) == 40 and isinstance(c["dirty"], bool) and c["finished_at"]
        assert c["environment"]["torch"] and c["environment"]["torch_threads"] == 1
    assert saved["settings"]["train_subset"] == 256 and saved["settings"]["seed"] == 0 and saved["min_epochs"] == MIN_EPOCHS
    assert saved["settings"]["stem_pool"] == 2  # the CPU profile's, unless --stem-pool says otherwise
    assert "augment" not in saved["settings"]  # the warm start's, as in the JSONs measured before --augment
    (row,) = saved["rows"]
    assert row["minutes"] == 0.1 and row["complete"] and row["best"] in ([16, 1], [24, 1])
    assert row["rule_pick"] in ([16, 1], [24, 1]) and row["rule_pick_probe"] in ([16, 1], [24, 1])
    assert "min_epochs_consistent" in saved and saved["summary"][0].startswith(f"T = 0.1 min: rule (E_min {MIN_EPOCHS}) picks W")
    assert "E_min" in proc.stdout
