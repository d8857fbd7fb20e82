"""scripts/test.sh: a test that kills its xdist process ends the run, failing, instead of hanging it.

pytest-xdist 3.8 with ``--dist loadfile`` re-queues a crashed process's files, and at the end of
a run it can wait forever with every process idle (its issue #1378): the thirteenth session's
CI run hung so after a native crash. This runs a small suite with a test that aborts the
interpreter under the options scripts/test.sh passes. Without ``--max-worker-restart 0`` the
same suite hung here until the subprocess's timeout.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

TEST_SH = Path(__file__).resolve().parents[2] / "scripts" / "test.sh"
CRASH = "import os\n\ndef test_crash():\n    os.abort()\n\ndef test_after():\n    pass\n"
SLOW = "import time\n\ndef test_a():\n    time.sleep(0.3)\n\ndef test_b():\n    time.sleep(0.3)\n"


def xdist_args() -> list[str]:
    """The xdist options test.sh gives every tier (its ``args=(...)`` line)."""
    line = next(line for line in TEST_SH.read_text().splitlines() if line.startswith("args=("))
    return shlex.split(line[len("args=("):line.rindex(")")])


def run_suite(folder: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    for i in range(6):
        (folder / f"test_ok{i}.py").write_text(SLOW)
    (folder / "test_crashes.py").write_text(CRASH)
    (folder / "pytest.ini").write_text("[pytest]\n")  # not this project's settings
    return subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider", *args],
                          cwd=folder, capture_output=True, text=True, timeout=120)


def test_a_crashed_xdist_process_fails_the_run_and_names_the_test(tmp_path: Path) -> None:
    args = xdist_args()
    assert args[:2] == ["--dist", "loadfile"]
    result = run_suite(tmp_path, args)
    assert result.returncode == 1, result.stdout[-2000:]
    assert "crashed while running 'test_crashes.py::test_crash'" in result.stdout
    assert "FAILED test_crashes.py::test_crash" in result.stdout

