"""The docs-study pages: claims name only designs their study runs, and a page built from a
made-up report.json shows every verdict kind with its interval and the budget it ran at."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from docs.studies.tooling import rules
from docs.studies.tooling.claims import BY_FOLDER, REFERENCES, Claim, Part, Reference
from docs.studies.tooling.pages import HOW_TO_READ, page_markdown, write_index, write_report_pages
from docs.studies.tooling.rules import Expect

ROOT = Path(__file__).resolve().parents[2]
SPACES = {"cnn": "cnn_designs", "activation_optimizer": "activation_optimizer_designs",
          "regularization": "regularization_steps", "resnet_optimizer": "resnet_optimizer_cpu",
          "architecture": "architecture_designs"}


def _space(folder: str) -> Any:
    path = ROOT / "docs" / "studies" / "spaces" / f"{SPACES[folder]}.py"
    spec = importlib.util.spec_from_file_location(f"docs_space_{folder}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SPACE


@pytest.mark.parametrize("folder", list(BY_FOLDER))
def test_every_claim_compares_designs_its_study_runs(folder: str) -> None:
    ref = BY_FOLDER[folder]
    param = _space(folder).params[0]
    assert param.name == ref.key
    names = set(param.distribution.choices)
    for claim in ref.claims:
        assert bool(claim.parts) != bool(claim.not_measured), claim.text  # judged, or says why not
        for part in claim.parts:
            assert {part.a, part.b} <= names, (claim.text, part)
    assert set(REFERENCES) == {"000", "001", "002", "003", "004"}


def _trial(number: int, design: str, seed: int, curve: list[float]) -> dict[str, Any]:
    return {"number": number, "state": "COMPLETE", "values": [curve[-1]], "params": {"design": design},
            "metrics": {"train_seconds": 10.0 * len(curve), "epochs_trained": len(curve), "n_params": 1000},
            "curve": {str(e + 1): v for e, v in enumerate(curve)}, "replicate": seed}


def _flat(end: float) -> list[float]:
    return [end - 0.05, end - 0.01, end - 0.002, end]


def _rising(end: float) -> list[float]:
    return [end - 0.3, end - 0.2, end - 0.1, end]


# design -> final accuracy by seed, and whether its curve flattened
MADE_UP = {"base": ([0.850, 0.860, 0.840], True), "better": ([0.875, 0.880, 0.870], True),
           "worse": ([0.820, 0.835, 0.815], True), "noisy": ([0.860, 0.850, 0.850], True),
           "rising": ([0.900, 0.910, 0.905], False)}
REF = Reference("999", "made_up", "a made-up report", "nowhere", "It compared four designs.", "Seeds of them.",
                "design", (
                    Claim("better beats base", (Part("better", "base", Expect.HIGHER),)),
                    Claim("worse beats base", (Part("worse", "base", Expect.HIGHER),)),
                    Claim("noisy beats base", (Part("noisy", "base", Expect.HIGHER),)),
                    Claim("rising beats base", (Part("rising", "base", Expect.HIGHER),)),
                    Claim("missing beats base", (Part("missing", "base", Expect.HIGHER),)),
                ))


def _report() -> dict[str, Any]:
    trials, n = [], 0
    for design, (ends, flat) in MADE_UP.items():
        for seed, end in enumerate(ends):
            trials.append(_trial(n, design, seed, _flat(end) if flat else _rising(end)))
            n += 1
    return {"study": "docs-made_up", "config": {"dataset": "fashion-mnist", "train_subset": 10000, "val_subset": 2000,
                                                "epochs": 4, "seeds": 3},
            "counts": {"complete": n}, "wall_time_s": 754.0, "trials": trials, "best": [3], "objectives": ["accuracy"]}


def test_a_page_gives_each_claim_its_verdict_with_the_paired_interval() -> None:
    page = page_markdown(REF, _report(), {})
    rows = {line.split(" | ")[0].lstrip("| "): line for line in page.splitlines() if " beats base" in line}
    assert f"**{rules.SUPPORTED}**" in rows["better beats base"]
    assert f"**{rules.CONTRADICTED}**" in rows["worse beats base"]
    assert f"**{rules.CANNOT_TELL}**" in rows["noisy beats base"]
    assert f"**{rules.UNDERTRAINED}**" in rows["rising beats base"]
    assert f"**{rules.NOT_MEASURED}**" in rows["missing beats base"]
    assert "difference +2.5 ± " in rows["better beats base"]  # mean of the paired differences, with its interval
    assert "base 85.0 ± 2.5 %" in rows["better beats base"]  # each design's mean with its t-interval
    assert "still rising" in rows["rising beats base"].lower() and "rising +10.0 points" in rows["rising beats base"]
    assert "10000 training / 2000 validation images, 4 epochs, 3 seeds, 12m34s wall time" in page
    assert "| rising | 3 | 90.5 ± " in page and "| 1,000 | +10.0 points | **no** |" in page  # the designs table flags it


def test_the_pages_and_the_index_from_a_folder_of_reports(tmp_path: Path) -> None:
    (tmp_path / "cnn").mkdir()
    report = _report()
    for t in report["trials"]:  # the cnn study's own design names
        t["params"]["design"] = {"better": "adam", "base": "sgd"}.get(t["params"]["design"], "other")
    (tmp_path / "cnn" / "report.json").write_text(json.dumps(report))
    written = write_report_pages(tmp_path)
    assert [p.name for p in written] == ["report_004.md"]
    page = written[0].read_text()
    assert "Adam converges faster" in page and "cannot be" not in page
    index = write_index(tmp_path).read_text()
    assert all(line in index for line in HOW_TO_READ)
    assert "[004](report_004.md)" in index and "| 000 | activation functions × optimizers |" in index  # not run yet
