"""docs/studies/: a page per reference report, and the index, from report.json and the storage.

    python -m hpo.report.index docs/studies [--storage URL]

Each reference report (000-004, the experiments this project grew out of) has a study whose
`hpo report` page is ROOT/<space>/README.md. This writes, beside them, ROOT/report_<NNN>.md: what
the report did and concluded, and next to each conclusion what the rerun's numbers support, with
the numbers (computed by hpo.report.reading from report.json and, with ``--storage``, the
trials' recorded gradient norms and loss curves). Then ROOT/README.md links them all.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from hpo.formatting import fmt
from hpo.report.tables import markdown, seconds

# The reference reports' studies (folder -> report number), in the order scripts/run_docs_studies.sh
# runs them: cheapest first, so a run cut short still documents most reports.
REPORTS = {"cnn": "004", "regularization": "003", "activation_optimizer": "000", "architecture": "001",
           "resnet_optimizer": "002"}
INDEX_FILE = "README.md"


def report_page(number: str) -> str:
    return f"report_{number}.md"


def _best(data: dict[str, Any]) -> str:
    best = data["best"]
    if not best:
        return "no complete trial"
    if len(data["directions"]) > 1:
        return f"Pareto set of {len(best)}"
    top = next(t for t in data["trials"] if t["number"] == best[0])
    return f"{data['objectives'][0]} {fmt(top['values'][0])} (trial {top['number']})"


def _finished(counts: dict[str, int]) -> str:
    finished = counts.get("complete", 0) + counts.get("pruned", 0) + counts.get("fail", 0)
    return f"{finished} ({counts.get('complete', 0)} complete, {counts.get('pruned', 0)} pruned)"


def _row(folder: Path, data: dict[str, Any]) -> list[str]:
    cfg, counts = data["config"], data["counts"]
    return [
        f"[{folder.name}]({folder.name}/README.md)",
        str(cfg.get("dataset", "-")),
        _finished(counts),
        fmt(cfg.get("epochs")),
        f"{fmt(cfg.get('train_subset'))} / {fmt(cfg.get('val_subset'))}",
        _best(data),
        seconds(data.get("wall_time_s")),
    ]


def _trial_attrs(storage: str | None, study: str) -> dict[int, dict[str, Any]] | None:
    """Trial number -> the user attrs findings read (gradient norms, loss curves, timings)."""
    if not storage:
        return None
    import optuna

    from hpo.trials.diagnostics import study_store, trial_diagnostics

    try:
        loaded = optuna.load_study(study_name=study, storage=storage)
    except KeyError:  # no such study in this storage
        return None
    store = study_store(loaded.user_attrs)  # the curves live in each trial's file (older: user attrs)
    return {t.number: trial_diagnostics(t, store) for t in loaded.get_trials(deepcopy=False)}


def write_report_pages(root: Path, storage: str | None = None) -> list[Path]:
    """Write ROOT/report_NNN.md for every reference report whose study has a report.json."""
    from hpo.report.reading import report_page_markdown

    written = []
    for folder, number in REPORTS.items():
        path = root / folder / "report.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        extra_path = root / folder / "onnx_export.txt"
        extra = extra_path.read_text() if extra_path.exists() else None
        page = root / report_page(number)
        page.write_text(report_page_markdown(number, folder, data, _trial_attrs(storage, data["study"]), extra),
                        encoding="utf-8")
        written.append(page)
    return written


def write_index(root: Path) -> Path:
    """Write ROOT/README.md linking every report page and every ROOT/*/report.json; returns its path."""
    from hpo.report.reading import REFERENCES

    found = {p.parent.name: (p.parent, json.loads(p.read_text())) for p in sorted(root.glob("*/report.json"))}
    report_rows = []
    for folder, number in sorted(REPORTS.items(), key=lambda item: item[1]):
        ref = REFERENCES[number]
        if folder in found:
            data = found[folder][1]
            report_rows.append([f"[{number}]({report_page(number)})", ref.title, f"{ref.data} → {data['config'].get('dataset')}",
                                f"[{folder}]({folder}/README.md)", _finished(data["counts"]), _best(data),
                                seconds(data.get("wall_time_s"))])
        else:
            report_rows.append([number, ref.title, ref.data, "not run yet", "-", "-", "-"])
    headers = ["space", "data set", "trials finished", "epochs", "train / val images", "best", "wall time"]
    rows = [_row(folder, data) for folder, data in found.values()]
    total = sum(data.get("wall_time_s") or 0 for name, (_, data) in found.items() if name in REPORTS)
    lines = [
        "# Study reports",
        "",
        "This project grew out of five hand-run experiment reports (000-004, in Russian, in the project's",
        "seeds). Each has a search space, and each is rerun here as a real, small study on real",
        "Fashion-MNIST on a 2-core CPU by `scripts/run_docs_studies.sh`. A report's page sets each of its",
        "conclusions beside what the rerun's numbers support; every number comes from the study",
        "(`hpo report`'s report.json and the trials' recorded gradient norms and loss curves). Budgets",
        "are deliberately small (minutes per study), so the pages show how the choices compare under a",
        "small budget, not fully trained accuracy. The machine was shared with other jobs while they",
        "ran, so wall times are upper bounds.",
        "",
        markdown((["report", "question", "data: report's → rerun's", "study page", "trials finished", "best",
                   "wall time"], report_rows)),
        "",
        f"The reports' studies' wall time, summed: {seconds(total)}.",
        "",
        "Every study report found here (`hpo report` pages):",
        "",
        markdown((headers, rows)) if rows else "_No study has been run yet._",
        "",
        "Each folder holds the PNG plots, report.json (all numbers) and README.md. The interactive",
        "report.html (plotly.js inline, about 5 MB) is written by the script but not committed.",
        "Pages of spaces that are no reference report (`auto`) come from earlier runs of the script",
        "and are not regenerated by it.",
        "",
        "The activation functions, and what the learnable ones learned: [../activations.md](../activations.md).",
    ]
    pending = [name for name in REPORTS if name not in found]
    if pending:
        lines += ["", f"Not run yet: {', '.join(f'`{name}`' for name in pending)} (run "
                  f"`scripts/run_docs_studies.sh {' '.join(pending)}`)."]
    path = root / INDEX_FILE
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hpo.report.index", description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default="docs/studies", type=Path)
    parser.add_argument("--storage", help="the studies' storage, for gradient norms and loss curves")
    args = parser.parse_args(argv)
    for page in write_report_pages(args.root, args.storage):
        print(f"wrote {page}")
    print(f"wrote {write_index(args.root)}")


if __name__ == "__main__":
    main()
