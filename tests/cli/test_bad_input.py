"""Bad input, table-driven: one clear line, the right exit code, no traceback, nothing changed.

Covers the CLI, search spaces, data sets, storage URLs and checkpoint files. Each case runs
the real `hpo` command in a subprocess against a real SQLite storage that already holds a
study with finished trials, and checks the storage is exactly as it was afterwards.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import optuna
import pytest
import torch

from tests.conftest import free_port
from tests.helpers import run_hpo


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    exit_code: int
    says: str  # a fragment the one-line message must contain
    env: dict[str, str] | None = None  # extra environment


def _cases(tmp: Path) -> list[Case]:
    port = free_port()
    return [
        Case("unknown-space", ("study", "create", "x", "--space", "nope", "--dataset", "synthetic", "--trials", "2"), 2, "unknown search space 'nope'"),
        Case("unknown-dataset", ("study", "create", "x", "--space", "cnn", "--dataset", "imagenet22k", "--trials", "2"), 2, "unknown data set 'imagenet22k'"),
        Case("unknown-sampler", ("study", "create", "x", "--space", "cnn", "--dataset", "synthetic", "--trials", "2", "--sampler", "bayes"), 2, "'bayes' is not one of"),
        Case("unknown-pruner", ("study", "create", "x", "--space", "cnn", "--dataset", "synthetic", "--trials", "2", "--pruner", "early"), 2, "'early' is not one of"),
        Case("zero-trials", ("study", "create", "x", "--space", "cnn", "--dataset", "synthetic", "--trials", "0"), 2, "--trials"),
        Case("negative-trials", ("study", "create", "x", "--space", "cnn", "--dataset", "synthetic", "--trials", "-3"), 2, "--trials"),
        Case("zero-epochs", ("study", "create", "x", "--space", "cnn", "--dataset", "synthetic", "--trials", "2", "--epochs", "0"), 2, "--epochs"),
        Case("unknown-objective", ("study", "create", "x", "--space", "cnn", "--dataset", "synthetic", "--trials", "2", "--objectives", "speed"), 2, "unknown objective 'speed'"),
        Case("grid-on-continuous-space", ("study", "create", "x", "--space", "cnn", "--dataset", "synthetic", "--trials", "2", "--sampler", "grid"), 2, "grid"),
        Case("missing-imagefolder", ("study", "create", "x", "--space", "cnn", "--dataset", f"imagefolder:{tmp}/none", "--trials", "2"), 2, "folder does not exist"),
        Case("space-file-missing", ("study", "create", "x", "--space", f"{tmp}/nospace.py", "--dataset", "synthetic", "--trials", "2"), 2, "does not exist"),
        Case("space-file-syntax-error", ("study", "create", "x", "--space", f"{tmp}/broken.py", "--dataset", "synthetic", "--trials", "2"), 2, "failed to import"),
        Case("space-file-without-space", ("study", "create", "x", "--space", f"{tmp}/empty.py", "--dataset", "synthetic", "--trials", "2"), 2, "defines no SPACE"),
        Case("study-exists", ("study", "create", "done", "--space", "cnn", "--dataset", "synthetic", "--trials", "2"), 1, "already exists"),
        Case("storage-unreachable", ("study", "list", "--storage", f"postgresql+psycopg2://u:hunter2@127.0.0.1:{port}/db"), 1, f"cannot reach PostgreSQL at 127.0.0.1:{port}/db: Connection refused"),
        Case("storage-malformed", ("study", "list", "--storage", "not a url"), 2, "not a database URL"),
        Case("storage-unsupported", ("study", "list", "--storage", "mongodb://localhost/db"), 2, "hpo supports sqlite and postgresql"),
        Case("storage-folder-missing", ("study", "list", "--storage", f"sqlite:///{tmp}/no/such/dir/x.db"), 1, "does not exist"),
        Case("show-missing-study", ("study", "show", "ghost"), 1, "study 'ghost' does not exist"),
        Case("worker-missing-study", ("worker", "ghost"), 1, "study 'ghost' does not exist"),
        Case("worker-no-gpu", ("worker", "done", "--device", "cuda"), 2, "no CUDA GPU"),
        Case("worker-bad-device", ("worker", "done", "--device", "tpu"), 2, "device 'tpu'"),
        Case("worker-missing-dataset", ("worker", "needs-mnist"), 1, "data set 'mnist' not found"),
        Case("export-no-complete-trial", ("export", "empty", "--out", f"{tmp}/x.pt"), 1, "no completed trial"),
        Case("export-unknown-trial", ("export", "done", "--trial", "99", "--out", f"{tmp}/x.pt"), 2, "trial 99"),
        Case("delete-without-yes", ("study", "delete", "done"), 2, "--yes"),
        Case("evaluate-missing-file", ("evaluate", f"{tmp}/nothere.pt"), 1, "does not exist"),
        Case("evaluate-truncated", ("evaluate", f"{tmp}/truncated.pt"), 1, "damaged"),
        Case("evaluate-tampered", ("evaluate", f"{tmp}/tampered.pt"), 1, "SHA-256"),
        Case("evaluate-not-a-checkpoint", ("evaluate", f"{tmp}/plain.pt"), 1, "not an hpo checkpoint"),
        Case("evaluate-garbage", ("evaluate", f"{tmp}/garbage.pt"), 1, "damaged"),
        Case("unknown-command", ("frobnicate",), 2, "No such command"),
        Case("space-build-broken", ("study", "create", "x", "--space", f"{tmp}/unbuildable.py", "--dataset", "synthetic", "--trials", "2"), 2, "cannot build its defaults"),
        Case("no-budget", ("study", "create", "x", "--space", "cnn", "--dataset", "synthetic"), 2, "give a budget"),
        Case("time-budget-garbage", ("study", "create", "x", "--space", "cnn", "--dataset", "synthetic", "--time-budget", "soon"), 2, "not a duration"),
        Case("final-share-without-time-budget", ("study", "create", "x", "--space", "cnn", "--dataset", "synthetic", "--trials", "4", "--final-share", "0.3"), 2, "--final-share 0.3 needs --time-budget"),
        Case("final-share-1-with-trials", ("study", "create", "x", "--space", "auto", "--dataset", "synthetic", "--trials", "4", "--time-budget", "1h", "--final-share", "1"), 2, "--final-share 1 searches nothing, and --trials 4 asks for a search"),
        Case("final-share-out-of-range", ("study", "create", "x", "--space", "cnn", "--dataset", "synthetic", "--time-budget", "1h", "--final-share", "1.5"), 2, "--final-share"),
        Case("final-share-1-without-warm-start", ("study", "create", "x", "--space", "sleep", "--dataset", "synthetic", "--time-budget", "1h", "--final-share", "1"), 2, "has none"),
        Case("grow-without-final-run", ("study", "create", "x", "--space", "auto", "--dataset", "synthetic", "--time-budget", "1h", "--pruner", "asha", "--grow"), 2, "no final run"),
        Case("final-patience-without-final-run", ("study", "create", "x", "--space", "auto", "--dataset", "synthetic", "--time-budget", "1h", "--pruner", "asha", "--final-patience", "0.2"), 2, "--final-patience 0.2 starts the final run sooner when the search stalls, and this study has no final run"),
        Case("final-patience-searching-nothing", ("study", "create", "x", "--space", "auto", "--dataset", "synthetic", "--time-budget", "1h", "--final-share", "1", "--final-patience", "0.2"), 2, "and this study searches nothing"),
        Case("final-patience-out-of-range", ("study", "create", "x", "--space", "auto", "--dataset", "synthetic", "--time-budget", "1h", "--final-patience", "2"), 2, "--final-patience"),
        Case("final-train-subset-without-final-run", ("study", "create", "x", "--space", "auto", "--dataset", "synthetic", "--time-budget", "1h", "--pruner", "asha", "--final-train-subset", "100"), 2, "no final run"),
        Case("final-train-subset-too-large", ("study", "create", "x", "--space", "auto", "--dataset", "synthetic", "--time-budget", "1h", "--pruner", "promote", "--final-train-subset", "100000"), 2, "--final-train-subset is 100000, but data set 'synthetic' has"),
        Case("grow-without-size-knobs", ("study", "create", "x", "--space", "cnn", "--dataset", "synthetic", "--time-budget", "1h", "--pruner", "promote", "--grow"), 2, "declares none"),
        Case("if-exists-skip-other-config", ("study", "create", "done", "--space", "cnn", "--dataset", "synthetic", "--trials", "5", "--epochs", "1", "--pruner", "none", "--if-exists", "skip"), 1, "budget: 2 -> 5"),
        Case("worker-plain-study", ("worker", "plain"), 1, "was not created by hpo"),
        Case("storage-password-with-at", ("study", "list", "--storage", "postgresql+psycopg2://u:hunter2@x@127.0.0.1/db"), 2, "percent-encode"),
        Case("bad-workers-per-host", ("worker", "done"), 2, "HPO_WORKERS_PER_HOST is 'four'", {"HPO_WORKERS_PER_HOST": "four"}),
    ]


UNBUILDABLE = """
from optuna.distributions import FloatDistribution
from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig

SPACE = SearchSpace(
    name="unbuildable", description="names an architecture that does not exist",
    params=(Param("lr", FloatDistribution(1e-3, 1e-1, log=True)),),
    build=lambda p, epochs: TrainConfig(model={"arch": "transformer-xl"}, lr=p["lr"], epochs=epochs),
    defaults={"lr": 0.01},
)
"""


def _snapshot(storage: str) -> list[tuple]:
    summaries = optuna.get_all_study_summaries(storage=storage)
    rows = []
    for s in sorted(summaries, key=lambda s: s.study_name):
        study = optuna.load_study(study_name=s.study_name, storage=storage)
        rows.append((s.study_name, tuple((t.number, t.state.name, tuple(sorted(t.params.items()))) for t in study.trials)))
    return rows


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A storage with studies in several states, and damaged checkpoint files."""
    tmp = tmp_path_factory.mktemp("bad-input")
    storage = f"sqlite:///{tmp / 'hpo.db'}"
    env = {"HPO_STORAGE": storage, "HPO_ARTIFACTS": str(tmp / "artifacts")}
    for args in (
        ("study", "create", "done", "--space", "cnn", "--dataset", "synthetic", "--trials", "2", "--epochs", "1", "--pruner", "none"),
        ("worker", "done"),
        ("study", "create", "empty", "--space", "cnn", "--dataset", "synthetic", "--trials", "1"),
        ("study", "create", "needs-mnist", "--space", "cnn", "--dataset", "mnist", "--trials", "1"),
        ("export", "done", "--out", str(tmp / "good.pt")),
    ):
        result = run_hpo(*args, env=env)
        assert result.returncode == 0, result.stderr
    good = (tmp / "good.pt").read_bytes()
    (tmp / "truncated.pt").write_bytes(good[: len(good) // 2])
    data = torch.load(tmp / "good.pt", weights_only=True)
    key = next(iter(data["state_dict"]))
    data["state_dict"][key] = data["state_dict"][key] + 1.0  # tamper with one weight
    torch.save(data, tmp / "tampered.pt")
    torch.save({"weights": torch.zeros(2)}, tmp / "plain.pt")
    (tmp / "garbage.pt").write_bytes(hashlib.sha256(b"x").digest() * 100)
    (tmp / "broken.py").write_text("def oops(:\n")
    (tmp / "empty.py").write_text("X = 1\n")
    (tmp / "unbuildable.py").write_text(UNBUILDABLE)
    optuna.create_study(study_name="plain", storage=storage)  # made by Optuna, not hpo
    return tmp, storage


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        cases = _cases(Path("/TMP"))
        metafunc.parametrize("case_id", [c.id for c in cases], ids=[c.id for c in cases])


@pytest.fixture
def case(case_id: str, prepared: tuple[Path, str]) -> Case:
    return next(c for c in _cases(prepared[0]) if c.id == case_id)


def test_bad_input_gets_one_clear_line(case: Case, prepared: tuple[Path, str]) -> None:
    """In-process through click's CliRunner (fast); the subprocess test below covers the real exit path."""
    from click.testing import CliRunner

    from hpo.cli import main

    tmp, storage = prepared
    before = _snapshot(storage)
    env = {"HPO_STORAGE": storage, "HPO_ARTIFACTS": str(tmp / "artifacts"), **(case.env or {})}
    result = CliRunner().invoke(main, list(case.args), env=env)
    # Anything but SystemExit means an exception escaped, i.e. a traceback for the user.
    assert isinstance(result.exception, SystemExit), result.exc_info
    assert result.exit_code == case.exit_code, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith(("error:", "Error:"))]
    assert len(errors) == 1, result.stderr
    assert case.says in errors[0], errors[0]
    assert "hunter2" not in result.stderr  # passwords never shown
    assert _snapshot(storage) == before


def test_table_has_at_least_twenty_cases() -> None:
    assert len(_cases(Path("/TMP"))) >= 20


@pytest.mark.parametrize("case_id", ["unknown-space", "storage-unreachable", "evaluate-tampered", "worker-missing-dataset"])
def test_real_process_prints_one_line(case_id: str, prepared: tuple[Path, str]) -> None:
    tmp, storage = prepared
    case = next(c for c in _cases(tmp) if c.id == case_id)
    result = run_hpo(*case.args, env={"HPO_STORAGE": storage, "HPO_ARTIFACTS": str(tmp / "artifacts")}, timeout=120)
    assert result.returncode == case.exit_code
    assert "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == [result.stderr.strip().splitlines()[-1]]
