"""Small real studies for report and dashboard tests: `hpo study create` + `hpo worker` on synthetic."""

from __future__ import annotations

from tests.helpers import run_hpo


def make_study(name: str, *create_options: str, space: str = "cnn", trials: int = 6, epochs: int = 3,
               work: bool = True) -> None:
    """Create study NAME on the synthetic set in ./hpo.db and, if ``work``, run one worker to the budget."""
    created = run_hpo("study", "create", name, "--space", space, "--dataset", "synthetic", "--trials", str(trials),
                      "--epochs", str(epochs), *create_options)
    assert created.returncode == 0, created.stderr
    if work:
        worked = run_hpo("worker", name)
        assert worked.returncode == 0, worked.stderr
