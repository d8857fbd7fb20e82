"""`hpo report`."""

from __future__ import annotations

from pathlib import Path

import click

from hpo import artifacts as artifact_store
from hpo.cli.options import artifacts_option, check_out, current_settings, storage_option
from hpo.extras import require
from hpo.trials import load_study, open_storage, resolve_url


@click.command("report")
@click.argument("name")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write into. Default: docs/studies/NAME.")
@click.option("--title", default=None, help="Heading of the README. Default: the study name.")
@click.option("--screenshot/--no-screenshot", default=True, show_default=True,
              help="Add a screenshot of the dashboard's view of the study (needs Chromium).")
@storage_option
@artifacts_option
def report_cmd(name: str, out: Path | None, title: str | None, screenshot: bool, storage: str | None,
               artifacts: str | None) -> None:
    """Write a static report of study NAME: PNG plots, one self-contained HTML file and a README.md."""
    # Before anything is opened or made: a missing extra leaves no folder behind.
    require("report", "hpo report", ("plotly", "matplotlib"))
    check_out(str(out or Path("docs/studies") / name), "--out", folder=True)
    from hpo.report import write_report

    url = resolve_url(storage)
    study = load_study(name, open_storage(url, must_exist=True))
    report = write_report(study, out or Path("docs/studies") / name, title=title, storage_url=url,
                          artifact_location=artifact_store.study_location(study.user_attrs, artifacts), screenshot=screenshot,
                          chromium=current_settings().chromium)
    click.echo(f"wrote {len(report.files)} files to {report.out}/: {', '.join(report.files)}")
    for plot, note in report.notes.items():
        click.echo(f"  {plot}: {note}")
