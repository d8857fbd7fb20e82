"""Each claim of a reference report, judged on its docs study's designs: verdict and evidence."""

from __future__ import annotations

import re
from dataclasses import dataclass

from docs.studies.tooling import rules
from docs.studies.tooling.claims import Claim, Part
from docs.studies.tooling.results import METRICS, Designs
from hpo.report.replicates import Estimate

# How a metric's numbers are printed: (scale, digits, unit).
FORMATS = {"accuracy": (100, 1, " %"), "first_epoch_accuracy": (100, 1, " %"), "seconds_per_epoch": (1, 1, " s"),
           "n_params": (1, 0, ""), "gradient_ratio": (1, 3, ""), "overfit_gap": (1, 3, ""), "loss_rises": (1, 2, "")}
DIFF_UNITS = {"accuracy": " points", "first_epoch_accuracy": " points"}


@dataclass
class Finding:
    claim: str
    verdict: str
    evidence: str


def show(estimate: Estimate, metric: str, *, diff: bool = False) -> str:
    scale, digits, unit = FORMATS[metric]
    if diff and metric in DIFF_UNITS:
        unit = DIFF_UNITS[metric]
    text = estimate.text(scale, digits, unit)
    return ("+" + text) if diff and estimate.mean > 0 else text


class Judge:
    """Judges claims on one study's designs, each design's trained state decided once."""

    def __init__(self, designs: Designs, plateau: rules.Plateau = rules.PLATEAU) -> None:
        self.designs = designs
        self.plateau = plateau

    def trained(self, design: str) -> bool:
        return self.plateau.flattened(self.designs.curves(design))

    def late_gain(self, design: str) -> float | None:
        return self.plateau.late_gain(self.designs.curves(design))

    def part(self, part: Part) -> tuple[str, str]:
        """(verdict, evidence) of one comparison."""
        missing = [d for d in (part.a, part.b) if d not in self.designs.trials]
        if missing:
            return rules.NOT_MEASURED, f"{' and '.join(missing)} not run in this study"
        a, b = self.designs.seeds(part.a, part.metric), self.designs.seeds(part.b, part.metric)
        name = METRICS[part.metric][0]
        if not a or not b:
            return rules.NOT_MEASURED, f"{name} not recorded"
        j = rules.judge(a, b, part.expect, a_trained=self.trained(part.a), b_trained=self.trained(part.b))
        head = f"{part.a} vs {part.b}, {name} ({part.expect.value} claimed)"
        means = f"{part.a} {show(rules.mean_interval(list(a.values())), part.metric)}, " \
                f"{part.b} {show(rules.mean_interval(list(b.values())), part.metric)}"
        if j.diff is None:
            return j.verdict, f"{head}: {j.reason} ({means})"
        return j.verdict, f"{head}: difference {show(j.diff, part.metric, diff=True)} ({means}) → {j.verdict}"

    def rising(self, design: str) -> str:
        gain = self.late_gain(design)
        return f"{design} {'+' if (gain or 0) > 0 else ''}{100 * (gain or 0):.1f} points" if gain is not None \
            else f"{design} (too few epochs to read)"

    def claim(self, claim: Claim) -> Finding:
        note = f" {claim.note}" if claim.note else ""
        if claim.not_measured:
            reason = claim.not_measured.rstrip(".")
            return Finding(claim.text, rules.NOT_MEASURED, reason[0].upper() + reason[1:] + ".")
        judged = [self.part(p) for p in claim.parts]
        verdict = rules.combine([v for v, _ in judged])
        if verdict == rules.UNDERTRAINED:
            names = dict.fromkeys(d for p in claim.parts for d in (p.a, p.b)
                                  if d in self.designs.trials and not self.trained(d))
            return Finding(claim.text, verdict, "Still rising at the end of their epochs (validation accuracy over the "
                           "last quarter of them, mean over seeds): " + ", ".join(map(self.rising, names)) + "." + note)
        return Finding(claim.text, verdict, "; ".join(dict.fromkeys(e for _, e in judged)) + "." + note)


def onnx_finding(text: str) -> Finding:
    """Accuracy agreement and latency, read from `hpo export --onnx` output (see hpo/cli/export)."""
    claim = "ONNX Runtime gives the same accuracy as PyTorch and is faster (0.12 ms vs 0.84 ms per inference)."
    agree = re.search(r"argmax agreement\D*([\d.]+)\s*%", text)
    rows = re.findall(r"^\s*(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", text, re.MULTILINE)
    if not agree or not rows:
        return Finding(claim, rules.NOT_MEASURED, "The export's output (below) could not be read for numbers.")
    same = float(agree.group(1)) >= 99.9
    faster = all(float(r[3]) > 1 for r in rows)
    return Finding(claim, rules.SUPPORTED if same and faster else rules.CONTRADICTED,
                   f"On the test split ONNX Runtime agreed with PyTorch's prediction on {agree.group(1)} % of images; "
                   "speed-up of ONNX Runtime over PyTorch by batch size: "
                   + ", ".join(f"batch {r[0]}: {r[3]}x" for r in rows)
                   + ". One exported model, timed on this machine: both parts must hold.")
