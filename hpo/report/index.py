"""docs/studies/README.md: one line per study report found below a folder, from report.json only.

    python -m hpo.report.index docs/studies
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from hpo.formatting import fmt
from hpo.report.tables import markdown, seconds

# The search spaces of the catalogue; each should have a page here. Cheapest first, so a run
# cut short still documents most spaces.
CATALOGUE = ("cnn", "regularization", "activation_optimizer", "architecture", "auto", "resnet_optimizer")
INDEX_FILE = "README.md"


def _row(folder: Path, data: dict[str, Any]) -> list[str]:
    cfg, counts = data["config"], data["counts"]
    best = data["best"]
    if not best:
        result = "no complete trial"
    elif len(data["directions"]) > 1:
        result = f"Pareto set of {len(best)}"
    else:
        top = next(t for t in data["trials"] if t["number"] == best[0])
        result = f"{data['objectives'][0]} {fmt(top['values'][0])} (trial {top['number']})"
    finished = counts.get("complete", 0) + counts.get("pruned", 0) + counts.get("fail", 0)
    return [
        f"[{folder.name}]({folder.name}/README.md)",
        str(cfg.get("dataset", "-")),
        f"{finished} ({counts.get('complete', 0)} complete, {counts.get('pruned', 0)} pruned)",
        fmt(cfg.get("epochs")),
        f"{fmt(cfg.get('train_subset'))} / {fmt(cfg.get('val_subset'))}",
        result,
        seconds(data.get("wall_time_s")),
    ]


def write_index(root: Path) -> Path:
    """Write ROOT/README.md linking every ROOT/*/report.json; returns its path."""
    found = {p.parent.name: (p.parent, json.loads(p.read_text())) for p in sorted(root.glob("*/report.json"))}
    headers = ["space", "data set", "trials finished", "epochs", "train / val images", "best", "wall time"]
    rows = [_row(folder, data) for folder, data in found.values()]
    total = sum(data.get("wall_time_s") or 0 for _, data in found.values())
    lines = [
        "# Study reports",
        "",
        "One real study per search space on real Fashion-MNIST, run on a 2-core CPU machine by",
        "`scripts/run_docs_studies.sh`. Every number on these pages comes from `hpo report`; rerun the",
        "script to regenerate them. Budgets are deliberately small (minutes per study), so the pages show",
        "how a space behaves under a small budget, not fully trained accuracy. The machine was shared with",
        "other jobs while they ran, so wall times are upper bounds.",
        "",
        markdown((headers, rows)) if rows else "_No study has been run yet._",
        "",
        f"Studies' wall time, summed: {seconds(total)}.",
        "",
        "Each folder holds the PNG plots, report.json (all numbers) and README.md. The interactive",
        "report.html (plotly.js inline, about 5 MB) is written by the script but not committed.",
        "",
        "The activation functions, and what the learnable ones learned: [../activations.md](../activations.md).",
    ]
    pending = [name for name in CATALOGUE if name not in found]
    if pending:
        lines += ["", f"Not run yet: {', '.join(f'`{name}`' for name in pending)} (run "
                  f"`scripts/run_docs_studies.sh {' '.join(pending)}` once the spaces exist)."]
    path = root / INDEX_FILE
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write_index(Path(sys.argv[1] if len(sys.argv) > 1 else 'docs/studies'))}")
