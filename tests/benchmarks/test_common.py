"""benchmarks/common.py: what a benchmark's JSON records about the machine under it."""
from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.common import _cpu_model

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
