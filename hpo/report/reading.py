"""A short reading of a study's result, written from the report data only.

Every number in it is computed here, so a regenerated study gets a regenerated reading; the
caveats (small budgets, validation split, few trials) are stated, not hidden.
"""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from hpo.formatting import fmt
from hpo.report.data import ReportData
from hpo.report.tables import seconds

FEW_TRIALS = 20  # below this, importances and the best configuration are rough guides
VERY_FEW_TRIALS = 5  # below this, an importance ranking says almost nothing


def _question(space: str) -> str | None:
    """The question the space asks, when its code is importable here (the report needs only the storage)."""
    try:
        from hpo.spaces import get_space

        return get_space(space).summary()
    except Exception:  # a space file that is not on this machine: leave the question out
        return None


def _answer(data: ReportData) -> str | None:
    question = _question(str(data.config.get("space", "")))
    if not question:
        return None
    n = data.counts.get("complete", 0)
    if n < VERY_FEW_TRIALS:
        return (f"The space asks: {question} With {n} complete trial{'s' if n != 1 else ''}, this run cannot answer "
                "that; it shows the spread of results and where the pruner cut. A larger budget (`--trials`, `--epochs` at "
                "`hpo study create`) is needed for an answer.")
    return f"The space asks: {question} The best trials and the importances are this run's answer, within the caveats here."


def _images(subset: int | None) -> str:
    return f"{subset} training images" if subset else "the full training split"


def _trials(cfg: dict[str, Any]) -> str:
    """What bounded the search: a trial budget, a time budget, or both."""
    budget, time_s = cfg.get("budget"), cfg.get("time_budget_s")
    if budget and time_s:
        return f"up to {budget} trials within {seconds(time_s)}"
    return f"trials for {seconds(time_s)}" if time_s else f"{budget} trials"


def _final_run(cfg: dict[str, Any]) -> str:
    """The final run's own set-up: it trains on its own images (``StudyConfig.train_subset_for``)."""
    if not (cfg.get("time_budget_s") and cfg.get("final_share")):
        return ""
    grown = ", grown along the space's size knobs," if cfg.get("final_grow") else ""
    ends = [f"once the {cfg['budget']} trials have ended"] if cfg.get("budget") else []
    if cfg.get("final_patience"):
        ends.append(f"once no trial has led the best by more than the noise for {cfg['final_patience']:.0%} of it")
    sooner = f" (or {', or '.join(ends)}, if sooner)" if ends else ""
    return (f" In the last {cfg['final_share']:.0%} of the time budget{sooner} the best configuration{grown} trains "
            f"as the final run on {_images(cfg.get('final_train_subset'))}.")


def _setup(data: ReportData) -> str:
    cfg = data.config
    if not cfg.get("space"):
        return "This study was not created by hpo, so its training set-up is unknown."
    val = f"{cfg['val_subset']} held-out validation images" if cfg.get("val_subset") else "a held-out validation split"
    return (f"Space `{cfg['space']}` on `{cfg.get('dataset')}`: {_trials(cfg)} of at most "
            f"{cfg.get('epochs')} epochs on {_images(cfg.get('train_subset'))}, scored on {val} (never on the test split), "
            f"sampler {cfg.get('sampler')}"
            + (f" with every cell over {cfg['seeds']} seeds" if (cfg.get("seeds") or 1) > 1 else "")
            + f", pruner {cfg.get('pruner')}." + _final_run(cfg))


def _counts(data: ReportData) -> str:
    c = data.counts
    finished = c.get("complete", 0) + c.get("pruned", 0) + c.get("fail", 0)
    text = (f"{finished} trials finished: {c.get('complete', 0)} complete, {c.get('pruned', 0)} pruned, "
            f"{c.get('fail', 0)} failed")
    if c.get("running") or c.get("waiting"):
        text += f", {c.get('running', 0)} still running and {c.get('waiting', 0)} waiting (the study is not finished)"
    return text + (f", in {seconds(data.wall_time_s)} of wall time ({seconds(data.trial_time_s)} of trial time "
                   "summed over workers)." if data.wall_time_s is not None else ".")


def _best(data: ReportData) -> list[str]:
    if not data.best:
        return ["No trial completed, so there is no best configuration yet."]
    if data.multi_objective:
        return [f"The Pareto set holds {len(data.best)} trials (trials {', '.join(map(str, data.best))}); "
                f"each trades {' against '.join(data.objectives)} differently, see the table and the Pareto front."]
    top = data.trial(data.best[0])
    params = ", ".join(f"{k}={fmt(v)}" for k, v in top.params.items())
    lines = [f"The best trial, {top.number}, reached {data.objectives[0]} {fmt(top.values[0] if top.values else None)} "
             f"after {fmt(top.epochs)} epochs with {params}."]
    values = [t.values[0] for t in data.trials if t.state == "COMPLETE" and t.values]
    if len(values) >= 2:
        lines.append(f"Complete trials range from {fmt(min(values))} to {fmt(max(values))} "
                     f"(median {fmt(statistics.median(values))}).")
    # Pruned trials end early, so compare every trial where all were measured: the first epoch.
    first = [t.curve[min(t.curve)] for t in data.trials if t.curve]
    if len(first) >= 2:
        lines.append(f"After the first epoch, which all {len(first)} trials reached, {data.metric} ranged from "
                     f"{fmt(min(first))} to {fmt(max(first))}: the spread the sampler had to work with.")
    return lines


def _pruning(data: ReportData) -> str | None:
    pruned = [t for t in data.trials if t.state == "PRUNED" and t.curve]
    if not pruned:
        return None
    at = Counter(max(t.curve) for t in pruned)
    where = ", ".join(f"{n} after epoch {e}" for e, n in sorted(at.items()))
    text = f"The pruner stopped {len(pruned)} trials early ({where})"
    epochs = data.config.get("epochs")
    if not epochs:
        return text + "."
    saved = sum(epochs - max(t.curve) for t in pruned)
    return text + f", saving {saved} of the {epochs * len(data.trials)} epochs these trials could have run."


def _importance(data: ReportData) -> str:
    if not data.importances:
        return data.importance_note or "No importances were computed."
    name, value = next(iter(data.importances.items()))
    n = data.counts.get("complete", 0)
    if n < VERY_FEW_TRIALS:
        caveat = f" With only {n} complete trials this ranking is closer to noise than to a measurement."
    elif n < FEW_TRIALS:
        caveat = f" With only {n} complete trials this ranking is a rough guide, not a measurement."
    else:
        caveat = ""
    return f"The most important hyperparameter was `{name}` (importance {fmt(value)}).{caveat}"


def _repeats(data: ReportData) -> str | None:
    if not data.repeats:
        return None
    seeds = sorted({r["n"] for r in data.repeats})
    return (f"{len(data.repeats)} configurations ran {' or '.join(map(str, seeds))} times each, over seeds: their means "
            "with 95 % intervals are in the table below; a single trial's value moves by about the interval's "
            "half-width from seed to seed.")


def reading(data: ReportData) -> str:
    """A few Markdown paragraphs: set-up, outcome, where the budget went, what mattered."""
    paragraphs = [_setup(data) + " " + _counts(data), " ".join(_best(data))]
    repeats = _repeats(data)
    if repeats:
        paragraphs.append(repeats)
    pruning = _pruning(data)
    if pruning:
        paragraphs.append(pruning)
    paragraphs.append(_importance(data))
    answer = _answer(data)
    if answer:
        paragraphs.append(answer)
    cfg = data.config
    if _final_run(cfg):
        # The final run is the fully trained model; only the search's trials are short.
        paragraphs.append("The search's trials are short, made to rank configurations cheaply: they say little "
                          "about fully trained accuracy, which the final run's trial shows.")
    elif cfg.get("train_subset") or (cfg.get("epochs") or 99) < 10:
        paragraphs.append("These are short runs on a subset, made to be rerun in minutes on a CPU: they rank "
                          "configurations under a small budget and say little about fully trained accuracy.")
    return "\n\n".join(paragraphs)
