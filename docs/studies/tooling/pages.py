"""docs/studies/: a page per reference report, and the index, from report.json and the storage.

    python -m docs.studies.tooling.pages docs/studies [--storage URL]

Each reference report (000-004) has a docs study whose `hpo report` page is
ROOT/<folder>/README.md. This writes, beside them, ROOT/report_<NNN>.md: what the report did and
concluded, and next to each conclusion the verdict of the reading rules (rules.py) on the
rerun's designs, with every number a mean over seeds and its 95 % interval. Then ROOT/README.md
links them all. Run by scripts/run_docs_studies.sh.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from docs.studies.tooling import rules
from docs.studies.tooling.claims import BY_FOLDER, REFERENCES, Reference
from docs.studies.tooling.findings import Finding, Judge, onnx_finding, show
from docs.studies.tooling.results import designs, trial_attrs
from hpo.formatting import fmt
from hpo.report.tables import markdown, seconds

INDEX_FILE = "README.md"
ONNX_FILE = "onnx_export.txt"
FULL_IMAGES = 10_000  # training images of a full-budget docs study (SCALE=1)
HOW_TO_READ = [
    "- How to read a verdict: \"supported\" or \"contradicted\" only when the 95 % interval of the paired difference "
    "(same seeds, design against design) excludes zero; otherwise \"cannot tell at this budget\", with the difference "
    "and its interval.",
    "- \"not measured: undertrained\" means a design in the comparison was still rising when its epochs ended "
    "(the plateau rule on each page), so the rerun says nothing about that claim yet.",
]


def report_page(number: str) -> str:
    return f"report_{number}.md"


def budget(data: dict[str, Any]) -> str:
    """Images, epochs, seeds and wall time: what every page states it ran at."""
    cfg = data["config"]
    seeds = cfg.get("seeds") or 1
    return (f"{cfg.get('train_subset') or 'all'} training / {cfg.get('val_subset') or 'all'} validation images, "
            f"{cfg.get('epochs')} epochs, {seeds} seed{'s' if seeds != 1 else ''}, {seconds(data.get('wall_time_s'))} "
            "wall time")


def designs_table(judge: Judge, key: str) -> str:
    """Every design, best mean accuracy first: its numbers over seeds and whether it flattened."""
    def mean_accuracy(design: str) -> float:
        values = list(judge.designs.seeds(design, "accuracy").values())
        return rules.mean_interval(values).mean if values else 0.0

    rows = []
    for name in sorted(judge.designs.trials, key=lambda d: -mean_accuracy(d)):
        cells = [name, str(len(judge.designs.trials[name]))]
        for metric in ("accuracy", "seconds_per_epoch"):
            values = list(judge.designs.seeds(name, metric).values())
            cells.append(show(rules.mean_interval(values), metric) if values else "-")
        sizes = sorted(set(judge.designs.seeds(name, "n_params").values()))  # the same for every seed
        cells.append(" / ".join(f"{int(v):,}" for v in sizes) or "-")
        gain = judge.late_gain(name)
        cells += [f"{100 * gain:+.1f} points" if gain is not None else "-", "yes" if judge.trained(name) else "**no**"]
        rows.append(cells)
    return markdown(([key, "seeds", "accuracy (mean ± 95 %)", "s / epoch", "parameters", "rise over the last epochs",
                      "trained"], rows))


def page_markdown(ref: Reference, data: dict[str, Any], attrs: dict[int, dict[str, Any]],
                  onnx_text: str | None = None) -> str:
    """The page for reference report ``ref``: its experiment and conclusions beside the rerun's verdicts."""
    cfg, counts = data["config"], data["counts"]
    judge = Judge(designs(data, attrs, ref.key))
    findings: list[Finding] = [judge.claim(c) for c in ref.claims]
    if onnx_text:
        findings.append(onnx_finding(onnx_text))
    lines = [
        f"# Report {ref.number}: {ref.title}, rerun", "",
        f"**The report** ({ref.data}): {ref.experiment}", "",
        f"**The rerun**: {ref.rerun} Study `{data['study']}` on `{cfg.get('dataset')}`: {len(judge.designs.trials)} "
        f"designs, {counts.get('complete', 0)} complete trials ({counts.get('fail', 0)} failed, "
        f"{counts.get('pruned', 0)} pruned), scored on held-out validation images (never the test split). "
        f"**Budget**: {budget(data)}, on 2 shared CPU cores. The study's full report: "
        f"[{ref.folder}/README.md]({ref.folder}/README.md).", "",
        "## The report's conclusions, and what this rerun supports", "",
        f"Verdicts follow fixed rules (docs/studies/tooling/rules.py). Trained before judged: "
        f"{rules.PLATEAU.describe()}. Paired over seeds: the k-th seed of every design trains with the same seed; a "
        f"claim is \"{rules.SUPPORTED}\" or \"{rules.CONTRADICTED}\" only when the 95 % t-interval of the paired "
        f"difference excludes zero (for \"same\" and \"not lower\": the margin of {100 * rules.MARGIN:g} point), else "
        f"\"{rules.CANNOT_TELL}\"; a claim of several comparisons needs all of them. Every number is a mean over "
        "seeds ± the half-width of its 95 % interval.", "",
        markdown((["the report concluded", "this rerun", "the rerun's numbers"],
                  [[f.claim, f"**{f.verdict}**", f.evidence] for f in findings])),
        "", "## Every design", "", designs_table(judge, ref.key), "",
    ]
    if onnx_text:
        lines += ["`hpo export --onnx` of the best trial, as printed:", "", "```", onnx_text.strip(), "```", ""]
    lines += ["Accuracy is validation accuracy after the last epoch. Regenerate with `scripts/run_docs_studies.sh`; "
              "more images and epochs: `SCALE=2 scripts/run_docs_studies.sh`."]
    return "\n".join(lines) + "\n"


def write_report_pages(root: Path, storage: str | None = None) -> list[Path]:
    """Write ROOT/report_NNN.md for every reference report whose study has a report.json."""
    written = []
    for folder, ref in BY_FOLDER.items():
        path = root / folder / "report.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        onnx_path = root / folder / ONNX_FILE
        onnx_text = onnx_path.read_text() if onnx_path.exists() else None
        page = root / report_page(ref.number)
        page.write_text(page_markdown(ref, data, trial_attrs(storage, data["study"]), onnx_text), encoding="utf-8")
        written.append(page)
    return written


def _best(data: dict[str, Any]) -> str:
    if not data["best"]:
        return "no complete trial"
    top = next(t for t in data["trials"] if t["number"] == data["best"][0])
    return f"{data['objectives'][0]} {fmt(top['values'][0])} (trial {top['number']})"


def write_index(root: Path) -> Path:
    """Write ROOT/README.md linking every report page and every ROOT/*/report.json; returns its path."""
    found = {p.parent.name: json.loads(p.read_text()) for p in sorted(root.glob("*/report.json"))}
    rows = []
    for ref in sorted(REFERENCES.values(), key=lambda r: r.number):
        data = found.get(ref.folder)
        if data is None:
            rows.append([ref.number, ref.title, ref.data, "not run yet", "-", "-"])
            continue
        rows.append([f"[{ref.number}]({report_page(ref.number)})", ref.title,
                     f"{ref.data} → {data['config'].get('dataset')}", f"[{ref.folder}]({ref.folder}/README.md)",
                     budget(data), _best(data)])
    others = [f"[{name}]({name}/README.md)" for name in found if name not in BY_FOLDER]
    small = [ref.number for ref in BY_FOLDER.values() if ref.folder in found and (
        (found[ref.folder]["config"].get("seeds") or 1) < rules.MIN_SEEDS
        or (found[ref.folder]["config"].get("train_subset") or 10**9) < FULL_IMAGES)]
    total = sum(d.get("wall_time_s") or 0 for name, d in found.items() if name in BY_FOLDER)
    lines = [
        "# Study reports", "",
        "This project grew out of five hand-run experiment reports (000-004, in Russian, in the project's seeds). "
        "Each is rerun here as a small grid of the designs its conclusions compare, each design over several seeds, "
        "on real Fashion-MNIST on a 2-core CPU, by `scripts/run_docs_studies.sh`. A report's page sets each of its "
        "conclusions beside the verdict of fixed reading rules (docs/studies/tooling/) on the rerun's numbers.", "",
        *HOW_TO_READ[0:1], *HOW_TO_READ[1:2], "",
        markdown((["report", "question", "data: report's → rerun's", "study page", "budget", "best trial"], rows)), "",
        *([f"Reports {', '.join(sorted(small))} ran below {rules.MIN_SEEDS} seeds or {FULL_IMAGES:,} training images "
           "(earlier, smaller runs, or a small SCALE): their verdicts read \"not measured\" or \"cannot tell\" until "
           "`scripts/run_docs_studies.sh` reruns them at the full budget.", ""] if small else []),
        f"The reports' studies' wall time, summed: {seconds(total)}. The machine may have been shared with other "
        "jobs while they ran, so wall times are upper bounds.", "",
        "Each folder holds `hpo report`'s PNG plots, report.json (all numbers) and README.md. "
        + (f"Other study pages here, from earlier runs: {', '.join(others)}. " if others else "")
        + "The activation functions, and what the learnable ones learned: [../activations.md](../activations.md).",
    ]
    path = root / INDEX_FILE
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m docs.studies.tooling.pages", description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default="docs/studies", type=Path)
    parser.add_argument("--storage", help="the studies' storage, for gradient norms and loss curves")
    args = parser.parse_args(argv)
    for page in write_report_pages(args.root, args.storage):
        print(f"wrote {page}")
    print(f"wrote {write_index(args.root)}")


if __name__ == "__main__":
    main()
