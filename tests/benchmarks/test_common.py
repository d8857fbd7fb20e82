"""benchmarks/common.py: what a benchmark's JSON records about the machine and the code under it."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from benchmarks.common import _cpu_model, correct_string, git_state, mcnemar, paired, report

X86 = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 26
model\t\t: 2
model name\t: AMD EPYC
flags\t\t: fpu avx512f

processor\t: 1
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC
"""


def test_cpu_model_names_the_first_cpus_family_and_model(tmp_path: Path) -> None:
    # Two machines both called "AMD EPYC" ran the same network at paces 2x apart: the
    # family and model tell them apart.
    (tmp_path / "cpuinfo").write_text(X86)
    assert _cpu_model(str(tmp_path / "cpuinfo")) == "AMD EPYC (cpu family 26, model 2)"


def test_cpu_model_without_a_name_or_a_file(tmp_path: Path) -> None:
    (tmp_path / "cpuinfo").write_text("processor\t: 0\nBogoMIPS\t: 50.00\n")  # an ARM machine's layout
    assert _cpu_model(str(tmp_path / "cpuinfo")) is None
    assert _cpu_model(str(tmp_path / "absent")) is None


def test_cpu_model_of_this_machine() -> None:
    # The default path, on the real /proc/cpuinfo of an x86 Linux machine (CI's kind).
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists() or "model name" not in cpuinfo.read_text():
        pytest.skip("no x86 /proc/cpuinfo here")
    model = _cpu_model()
    assert model and "cpu family" in model


def _git(repo: Path, *argv: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *argv], cwd=repo, check=True,
                   capture_output=True)


def test_git_state_names_the_commit_and_ignores_the_runs_own_outputs(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "results").mkdir(parents=True)
    out = repo / "results" / "run.json"
    for path in (repo / "code.py", out, out.with_suffix(".png")):
        path.write_text("0")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()

    out.write_text("1")  # the run rewrites its own JSON and PNG as it goes: still the clean commit
    out.with_suffix(".png").write_text("1")
    (repo / "notes.txt").write_text("untracked")
    assert git_state(out, root=repo) == {"commit": head, "dirty": False}
    assert git_state(root=repo)["dirty"] is True  # without naming them, they are changes

    (repo / "code.py").write_text("1")
    assert git_state(out, root=repo) == {"commit": head, "dirty": True}


def test_git_state_outside_a_checkout_is_unknown(tmp_path: Path) -> None:
    assert git_state(root=tmp_path) == {"commit": None, "dirty": None}


def test_a_ratio_benchmarks_json_records_its_commit(tmp_path: Path) -> None:
    out = tmp_path / "ratio.json"
    report({"cores": 2}, [("epoch wall a/b", 0.5, "<= 0.8")], out)
    saved = json.loads(out.read_text())
    assert saved["ratios"] == {"epoch wall a/b": 0.5}
    assert len(saved["git"]["commit"]) == 40 and isinstance(saved["git"]["dirty"], bool)


def test_mcnemar_is_the_exact_two_sided_binomial_test() -> None:
    assert mcnemar(0, 0) == 1.0  # the models agree on every image: nothing to tell apart
    assert mcnemar(5, 5) == 1.0
    assert mcnemar(0, 5) == pytest.approx(2 / 32)  # 5 fair coins all one way, either way
    assert mcnemar(3, 4) == mcnemar(4, 3)
    assert 0.0005 < mcnemar(60, 100) < 0.005  # the normal approximation's p is about 0.0016
    assert mcnemar(1, 40) < 1e-9


def test_paired_counts_the_images_only_one_model_gets_right() -> None:
    labels = [0, 1, 2, 3, 4, 5]
    first = correct_string(p == y for p, y in zip([0, 1, 2, 0, 0, 5], labels))  # wrong on images 3 and 4
    second = correct_string(p == y for p, y in zip([0, 0, 2, 3, 4, 5], labels))  # wrong on image 1
    assert (first, second) == ("111001", "101111")
    verdict = paired(first, second)
    assert verdict["only_first"] == 1 and verdict["only_second"] == 2
    assert verdict["difference"] == pytest.approx(1 / 6) and verdict["p_value"] == mcnemar(1, 2)
    with pytest.raises(ValueError, match="not the same images"):
        paired(first, second[:-1])
