"""`hpo report` on real studies: the files exist, PNGs decode, the HTML parses and stands alone."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import optuna
import pytest
from click.testing import CliRunner, Result
from PIL import Image

from hpo.cli import main
from hpo.report.browser import unavailable_reason
from tests.conftest import missing
from tests.helpers import run_hpo
from tests.report.studies import make_study

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PLOTS = ["optimization_history", "learning_curves", "param_importances", "parallel_coordinate", "slice"]


class _Collector(HTMLParser):
    """Records tags, external references and the title while parsing."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.external: list[str] = []
        self.sections = 0
        self.title = ""
        self._in_title = False
        self.script_chars = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if tag in ("script", "img", "link") and (values.get("src") or values.get("href")):
            self.external.append(values.get("src") or values.get("href") or "")
        self.sections += tag == "section"
        self._in_title, self._in_script = tag == "title", tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._in_script:
            self.script_chars += len(data)


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE, path
    with Image.open(path) as image:
        image.load()  # decodes every pixel: a truncated file fails here
        assert image.width > 100 and image.height > 100


def parse_html(path: Path) -> _Collector:
    parser = _Collector()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


@pytest.mark.browser
def test_report_of_a_finished_study(tmp_path: Path) -> None:
    # No pruning: every plot needs complete trials (importances need >= 2), and with ASHA how
    # many complete depends on the per-worker sampler seed.
    make_study("rep", "--pruner", "none")
    out = tmp_path / "docs" / "studies" / "rep"
    result = run_hpo("report", "rep", "--out", str(out))
    assert result.returncode == 0, result.stderr

    for name in PLOTS:
        assert_png(out / f"{name}.png")
    assert not (out / "pareto_front.png").exists()  # single objective
    html = parse_html(out / "report.html")
    assert html.title == "Study rep"
    assert html.tags[0] == "html" and "body" in html.tags
    assert html.sections == 7  # every plot (loss curves included), the Pareto front as a note
    assert html.external == []  # self-contained: plotly.js is inline
    assert html.script_chars > 1_000_000

    # The README's best trial is the storage's best trial, with its metrics.
    study = optuna.load_study(study_name="rep", storage="sqlite:///hpo.db")
    best = study.best_trial
    readme = (out / "README.md").read_text()
    first_row = readme.split("## Best trials")[1].split("\n")[4]
    assert first_row.startswith(f"| {best.number} | "), first_row
    assert f"{best.user_attrs['val_f1']:.4g}" in first_row
    data = json.loads((out / "report.json").read_text())
    assert data["best"][0] == best.number
    assert sum(data["counts"].values()) == len(study.trials)
    for name in PLOTS:
        assert f"]({name}.png)" in readme

    if reason := unavailable_reason():
        assert "screenshot skipped" in readme
        missing(reason)
    assert "screenshot skipped" not in readme, [line for line in readme.splitlines() if "skipped" in line]
    assert_png(out / "dashboard.png")
    assert "](dashboard.png)" in readme


def hpo_in_process(*args: str) -> Result:
    """Run the CLI in this process: no torch import per call, which matters on loaded CI machines."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_report_of_a_study_with_no_finished_trial() -> None:
    assert hpo_in_process("study", "create", "fresh", "--space", "cnn", "--dataset", "synthetic",
                          "--trials", "3").exit_code == 0
    Path("out").mkdir()
    (Path("out") / "slice.png").write_bytes(b"stale")  # from an earlier run: must not linger

    result = hpo_in_process("report", "fresh", "--out", "out", "--no-screenshot")
    assert result.exit_code == 0, result.output
    assert "need at least 2 complete trials" in result.stdout
    assert not list(Path("out").glob("*.png"))
    readme = Path("out/README.md").read_text()
    assert "No trial completed yet." in readme
    assert parse_html(Path("out/report.html")).sections == 7  # each plot or its note

    unknown = hpo_in_process("report", "nope", "--out", "out")
    assert unknown.exit_code == 1
    assert unknown.stderr.strip().splitlines() == [
        "error: study 'nope' does not exist in this storage (studies: fresh); "
        "create it with `hpo study create` or pass the right --storage"
    ]


@pytest.mark.slow
def test_report_of_a_multi_objective_study() -> None:
    # No pruner: Optuna cannot prune multi-objective trials.
    make_study("pareto", "--objectives", "accuracy,params", "--pruner", "none", trials=3, epochs=1)
    result = hpo_in_process("report", "pareto", "--out", "out", "--no-screenshot")
    assert result.exit_code == 0, result.output
    assert_png(Path("out/pareto_front.png"))
    study = optuna.load_study(study_name="pareto", storage="sqlite:///hpo.db")
    data = json.loads(Path("out/report.json").read_text())
    assert data["best"] == sorted(t.number for t in study.best_trials)
    assert "## Pareto set" in Path("out/README.md").read_text()
