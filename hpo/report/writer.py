"""`hpo report`: PNG plots, one self-contained HTML file, report.json and a README.md."""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import optuna

from hpo.errors import HpoError
from hpo.report import tables
from hpo.report.data import ReportData, collect
from hpo.report.html import write_html
from hpo.report.plots import PLOTS
from hpo.report.png import save_png
from hpo.report.reading import reading
from hpo.errors import first_line

log = logging.getLogger("hpo.report")

HTML_FILE = "report.html"
JSON_FILE = "report.json"
README_FILE = "README.md"
SCREENSHOT_FILE = "dashboard.png"
REPEATS_TITLE = "Configurations over seeds"
REPEATS_NOTE = ("Each configuration that ran more than once: the mean of its complete trials with a 95 % "
                "t-interval over them (the seed is the only difference between them). Two configurations whose "
                "intervals overlap may still differ; compare them seed by seed (paired) to tell.")


@dataclass
class Report:
    """What was written, and why anything was left out."""

    out: Path
    data: ReportData
    files: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # plot name -> why it is missing


def _render_plots(study: optuna.Study, data: ReportData, report: Report) -> list[tuple[str, object | None, str | None]]:
    sections: list[tuple[str, object | None, str | None]] = []
    for plot in PLOTS:
        png = report.out / f"{plot.name}.png"
        png.unlink(missing_ok=True)  # a plot that no longer applies must not linger from a past run
        note = plot.unavailable(data)
        figure = None
        if note is None:
            try:
                figure = plot.draw(study, data, "plotly")
                save_png(plot.draw(study, data, "matplotlib"), png)
                report.files.append(png.name)
            except (ValueError, RuntimeError) as exc:  # optuna refuses data it cannot plot
                note, figure = f"could not be drawn: {first_line(exc)}", None
        if note:
            report.notes[plot.name] = note
        sections.append((plot.title, figure, note))
    return sections


def write_report(study: optuna.Study, out: Path, *, title: str | None = None, storage_url: str | None = None,
                 artifact_location: str | None = None, screenshot: bool = True,
                 chromium: str | None = None) -> Report:
    """Write the report of ``study`` into ``out``.

    Args:
        study: the study, opened on its storage.
        out: the folder; created if needed, and our files in it replaced.
        title: the page title; default the study name.
        storage_url, artifact_location: where the dashboard for the screenshot reads from.
        screenshot: take the dashboard screenshot (needs Playwright and Chromium).
        chromium: the browser binary (HPO_CHROMIUM); None: the first one installed.
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HpoError(f"cannot create report folder {out}: {exc.strerror}; choose another --out") from None
    data = collect(study)
    report = Report(out=out, data=data)
    heading = title or data.study
    sections = _render_plots(study, data, report)

    best = tables.best_metrics_table(data)
    params = tables.best_params_table(data)
    paragraphs = "".join(f"<p>{html.escape(p).replace('`', '')}</p>" for p in reading(data).split("\n\n"))
    if data.repeats:
        paragraphs += f"<h2>{REPEATS_TITLE}</h2><p>{html.escape(REPEATS_NOTE)}</p>{tables.html_table(tables.repeats_table(data))}"
    best_html = paragraphs + (f"<h2>Best trials</h2>{tables.html_table(best)}<h3>Their hyperparameters</h3>{tables.html_table(params)}"
                 if data.best else "<p class='note'>No trial completed yet.</p>")
    write_html(out / HTML_FILE, f"Study {data.study}", best_html, sections)
    report.files.append(HTML_FILE)

    shot_note = None
    (out / SCREENSHOT_FILE).unlink(missing_ok=True)
    if not screenshot:
        shot_note = "screenshot skipped (--no-screenshot)"
    elif storage_url is not None:
        from hpo.report.screenshot import dashboard_screenshot

        try:
            dashboard_screenshot(storage_url, artifact_location, data.study, data.study_id, out / SCREENSHOT_FILE,
                                 chromium)
            report.files.append(SCREENSHOT_FILE)
        except Exception as exc:  # a missing or crashing browser must not cost the rest of the report
            shot_note = f"screenshot skipped: {first_line(exc)}"
            log.warning("%s", shot_note)
    if shot_note:
        report.notes["dashboard"] = shot_note

    (out / JSON_FILE).write_text(json.dumps(data.to_json(), indent=1, default=str) + "\n", encoding="utf-8")
    report.files.append(JSON_FILE)
    (out / README_FILE).write_text(_readme(heading, data, report, best, params, shot_note), encoding="utf-8")
    report.files.append(README_FILE)
    return report


def _readme(heading: str, data: ReportData, report: Report, best: tables.Table, params: tables.Table,
            shot_note: str | None) -> str:
    lines = [f"# {heading}", "", f"Report of study `{data.study}`, written by `hpo report` from the storage alone. "
             f"Interactive version: [{HTML_FILE}]({HTML_FILE}); raw numbers: [{JSON_FILE}]({JSON_FILE}).", "",
             "## Reading", "", reading(data), ""]
    if data.repeats:
        lines += [f"## {REPEATS_TITLE}", "", REPEATS_NOTE, "", tables.markdown(tables.repeats_table(data)), ""]
    title = "Pareto set" if data.multi_objective else "Best trials"
    lines += [f"## {title}", ""]
    if data.best:
        lines += [tables.markdown(best), "", "Their hyperparameters:", "", tables.markdown(params), ""]
    else:
        lines += ["No trial completed yet.", ""]
    lines += ["## Plots", ""]
    for plot in PLOTS:
        if plot.name == "pareto_front" and not data.multi_objective:
            continue
        lines += [f"### {plot.title}", ""]
        note = report.notes.get(plot.name)
        lines += [f"_{note}_" if note else f"![{plot.title}]({plot.name}.png)", ""]
    lines += ["## The dashboard", "", "optuna-dashboard's own view of this study (`hpo dashboard`):", ""]
    lines += [f"_{shot_note}_" if shot_note else f"![optuna-dashboard]({SCREENSHOT_FILE})", ""]
    return "\n".join(lines)
