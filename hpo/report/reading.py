"""A short reading of a study's result, written from the report data only.

Every number in it is computed here, so a regenerated study gets a regenerated reading; the
caveats (small budgets, validation split, few trials) are stated, not hidden.
"""

from __future__ import annotations

import math
import os
import re
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hpo.formatting import fmt
from hpo.report.data import ReportData
from hpo.report.tables import markdown, seconds

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
                "that; it shows the spread of results and where the pruner cut. A larger budget (TRIALS, EPOCHS in "
                "scripts/run_docs_studies.sh) is needed for an answer.")
    return f"The space asks: {question} The best trials and the importances are this run's answer, within the caveats here."


def _shown_space(space: str) -> str:
    """A space file's path relative to this folder when it lies below it (create stores it absolute)."""
    if os.path.isabs(space):
        relative = os.path.relpath(space)
        return space if relative.startswith("..") else relative
    return space


def _setup(data: ReportData) -> str:
    cfg = data.config
    if not cfg.get("space"):
        return "This study was not created by hpo, so its training set-up is unknown."
    train = f"{cfg['train_subset']} training images" if cfg.get("train_subset") else "the full training split"
    val = f"{cfg['val_subset']} held-out validation images" if cfg.get("val_subset") else "a held-out validation split"
    return (f"Space `{_shown_space(str(cfg['space']))}` on `{cfg.get('dataset')}`: {cfg.get('budget')} trials of at most "
            f"{cfg.get('epochs')} epochs on {train}, scored on {val} (never on the test split), "
            f"sampler {cfg.get('sampler')}, pruner {cfg.get('pruner')}.")


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


def reading(data: ReportData) -> str:
    """A few Markdown paragraphs: set-up, outcome, where the budget went, what mattered."""
    paragraphs = [_setup(data) + " " + _counts(data), " ".join(_best(data))]
    pruning = _pruning(data)
    if pruning:
        paragraphs.append(pruning)
    paragraphs.append(_importance(data))
    answer = _answer(data)
    if answer:
        paragraphs.append(answer)
    cfg = data.config
    if cfg.get("train_subset") or (cfg.get("epochs") or 99) < 10:
        paragraphs.append("These are short runs on a subset, made to be rerun in minutes on a CPU: they rank "
                          "configurations under a small budget and say little about fully trained accuracy.")
    return "\n\n".join(paragraphs)


# --- Against a reference report ------------------------------------------------------------------
#
# Each reference report (000-004, the experiments this project grew out of) is rerun by a study
# (scripts/run_docs_studies.sh). Below: what each report did and concluded (translated from the
# seeds), and, from the study's numbers only, what the rerun supports. Verdicts follow fixed
# rules stated in each finding; a group of fewer than MIN_GROUP trials gives "cannot tell".

MIN_GROUP = 2  # trials a choice needs before its mean is compared with another's
TRAINED = 0.5  # below this best accuracy a network has barely left chance: its optimizer cannot be judged
SUPPORTED, NOT_SUPPORTED, MIXED, CANNOT_TELL = "supported", "not supported", "partly supported", "cannot tell"


@dataclass(frozen=True)
class Reference:
    number: str
    title: str
    data: str  # the report's data set
    experiment: str  # what the report did
    rerun: str  # what the rerun changed, and why


@dataclass
class Finding:
    claim: str  # the report's conclusion, in its own terms
    verdict: str
    evidence: str  # the rerun's numbers behind the verdict


REFERENCES = {
    "000": Reference("000", "activation functions × optimizers", "Tiny ImageNet",
                     "An MLP (64×64×3 → 512 → 200, Xavier init, batch 64, 10 epochs) trained with every pairing of six "
                     "activations (ReLU, Swish, GELU and the learnable PAReLU, DynamicSwish, AdaptiveGELUMish) and "
                     "nine optimizers (SGD, Adam, AdamW, RAdam, Sophia, LAMB, and the combinations SGD+Adam, "
                     "AdamW+RAdam, SGD+Adam+RAdam). Best: Swish + AdamW, 82.4 % after 10 epochs.",
                     "The same MLP and the same 54 pairs, as a full grid, on Fashion-MNIST (Tiny ImageNet cannot "
                     "be had offline), for fewer epochs on a subset, scored on held-out validation images."),
    "001": Reference("001", "MLP vs CNN vs ResNet, kernels, depth, custom layers, residual blocks", "MNIST and CIFAR-10",
                     "Fully connected nets, plain CNNs (kernel 3/5/7 or 1x1+3x3, depth 2 to 6+), ResNets (basic, "
                     "bottleneck and wide blocks) and hand-written conv / attention / pooling layers, compared by "
                     "accuracy, training time and stability.",
                     "The `architecture` space's models on Fashion-MNIST (the nearest offline set to MNIST; CIFAR-10 "
                     "cannot be had offline), as a grid of 18 named designs that each change one thing from a small "
                     "plain CNN (docs/studies/spaces/architecture_designs.py): an MLP, plain CNNs of 2, 4 and 8 blocks "
                     "(8 also without batch norm), ResNets with basic (1 or 3 per stage), bottleneck and wide blocks, "
                     "kernels 5, 7 and 1x1+3x3, the hand-written im2col and the depthwise-separable convolutions, "
                     "average and gated pooling, squeeze-excitation and self-attention. Every trial records its "
                     "per-layer gradient norms of epoch 1."),
    "002": Reference("002", "ResNet-50 with AdaMax vs Adam", "Stanford Cars",
                     "A ResNet-50 (about 23.5M parameters) trained from scratch with AdaMax and with Adam, compared by "
                     "loss and F1.",
                     "ResNet-50's layout of bottleneck blocks at CPU width (the `resnet_optimizer` space's `cpu_sized` "
                     "network at depth 50, about 1.5M parameters; torchvision's full-width resnet50 takes about 23 s "
                     "a step on this CPU) on Fashion-MNIST, Adam and AdaMax each at two learning rates, as a grid "
                     "(docs/studies/spaces/resnet_optimizer_cpu.py)."),
    "003": Reference("003", "regularizing a CIFAR-10 CNN without skips", "CIFAR-10",
                     "A plain CNN grown from SimpleCNN (2 conv layers, 64.05 % test accuracy after 30 epochs) to "
                     "NotSimpleCNN (3 conv layers with batch norm, 72.09 %), then pooling, Adam vs SGD, dropout and "
                     "augmentation; the final network (3 conv + batch norm + max-pooling, with augmentation) reached "
                     "80.90 %. Overfitting was read from training against validation loss.",
                     "The `regularization` space's network on Fashion-MNIST, at the report's steps as a grid "
                     "(docs/studies/spaces/regularization_steps.py): SimpleCNN (2 conv layers, no batch norm), 3 "
                     "layers with batch norm, then one change each: average pooling, SGD, dropout 0.3, flip + crop "
                     "augmentation, and 4 layers with augmentation. Every trial records training and validation "
                     "loss per epoch and precision, recall, F1, MCC and ROC AUC."),
    "004": Reference("004", "Optuna over a CNN; SGD vs Adam; PyTorch vs ONNX Runtime", "CIFAR-10",
                     "Optuna (100 trials) over n_layers 1-5, kernel 3-7, Adam / RMSprop / SGD and lr 1e-5…1e-1; "
                     "SGD against Adam convergence from loss curves; the model exported to ONNX and compared with "
                     "PyTorch (45.79 % accuracy both, 0.84 ms vs 0.12 ms per inference).",
                     "The `cnn` space (kernel every integer 3-7, even ones with 'same' padding) on Fashion-MNIST with "
                     "TPE and no pruning, as the report ran Optuna; then `hpo export --onnx` of the best trial, "
                     "checked on the test split once."),
}


def _complete(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in data["trials"] if t["state"] == "COMPLETE" and t.get("values")]


def _acc(t: dict[str, Any]) -> float:
    return float(t["values"][0])


def _groups(trials: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any]) -> dict[Any, list[dict[str, Any]]]:
    found: dict[Any, list[dict[str, Any]]] = {}
    for t in trials:
        value = key(t)
        if value is not None:
            found.setdefault(value, []).append(t)
    return found


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def _per_epoch_s(t: dict[str, Any]) -> float | None:
    m = t.get("metrics", {})
    if m.get("train_seconds") and m.get("epochs_trained"):
        return m["train_seconds"] / m["epochs_trained"]
    return None


def _group_table(groups: dict[Any, list[dict[str, Any]]], name: str, *, time: bool = False,
                 params: bool = False) -> str:
    """Markdown: one row per choice, by mean accuracy, with n, best, worst (and time, size)."""
    headers = [name, "trials", "mean accuracy", "best", "worst"]
    if time:
        headers.append("mean s / epoch")
    if params:
        headers.append("mean params")
    rows = []
    for value, ts in sorted(groups.items(), key=lambda kv: -_mean([_acc(t) for t in kv[1]])):
        accs = [_acc(t) for t in ts]
        row = [str(value), str(len(ts)), _pct(_mean(accs)), _pct(max(accs)), _pct(min(accs))]
        if time:
            per = [s for s in (_per_epoch_s(t) for t in ts) if s is not None]
            row.append(f"{_mean(per):.1f}" if per else "-")
        if params:
            sizes = [t["metrics"]["n_params"] for t in ts if t.get("metrics", {}).get("n_params")]
            row.append(f"{round(_mean(sizes)):,}" if sizes else "-")
        rows.append(row)
    return markdown((headers, rows))


def _means(groups: dict[Any, list[dict[str, Any]]]) -> dict[Any, float]:
    return {k: _mean([_acc(t) for t in v]) for k, v in groups.items()}


def _ranked(groups: dict[Any, list[dict[str, Any]]]) -> list[Any]:
    means = _means(groups)
    return sorted(means, key=lambda k: -means[k])


def _too_few(groups: dict[Any, list[dict[str, Any]]], *names: Any) -> str | None:
    small = [f"{n} ({len(groups.get(n, []))})" for n in names if len(groups.get(n, [])) < MIN_GROUP]
    return f"too few trials to compare: {', '.join(small)}" if small else None


def _loss_curve(attrs: dict[int, dict[str, Any]] | None, number: int) -> dict[str, list[Any]] | None:
    curves = (attrs or {}).get(number, {}).get("loss_curves")
    return curves if curves and curves.get("train_loss") else None


# Report 000 --------------------------------------------------------------------------------------

LEARNABLE = ("parelu", "dynamic_swish", "adaptive_gelu_mish")
COMBINATIONS = ("sgd+adam", "adamw+radam", "sgd+adam+radam")


def _named_lead(values: dict[str, float], named: tuple[str, ...], versus: Callable[[float, float], int]) -> str:
    """Whether the ``named`` choices lead: supported if all are clearly above every other one, not
    supported if all are clearly below the best other one, else a tie."""
    claimed = [n for n in named if n in values]
    others = [n for n in values if n not in claimed]
    if not claimed or not others:
        return CANNOT_TELL
    best_other = max(values[n] for n in others)
    if versus(min(values[n] for n in claimed), best_other) > 0:
        return SUPPORTED
    if versus(max(values[n] for n in claimed), best_other) < 0:
        return NOT_SUPPORTED
    return CANNOT_TELL


def _findings_000(data: dict[str, Any], attrs: dict[int, dict[str, Any]] | None) -> tuple[list[Finding], list[str]]:
    trials = _complete(data)
    by_act = _groups(trials, lambda t: t["params"].get("activation"))
    by_opt = _groups(trials, lambda t: t["params"].get("optimizer"))
    findings = []
    n_val = data["config"].get("val_subset")
    acts = _ranked(by_act)
    means = _means(by_act)

    def mean_versus(a: float, b: float, k: int) -> int:
        """_versus for means of k trials each: the band shrinks with the square root of k."""
        band = _band(n_val, a, b) / math.sqrt(max(k, 1))
        return 1 if a - b > band else -1 if b - a > band else 0

    k = min((len(v) for v in by_act.values()), default=1)
    verdict = _named_lead(means, ("gelu", "swish"), lambda a, b: mean_versus(a, b, k))
    findings.append(Finding(
        "GELU and Swish give the best convergence.", verdict,
        "Activations by mean validation accuracy over all optimizers: "
        + ", ".join(f"{a} {_pct(means[a])}" for a in acts)
        + f" (best and worst differ by {100 * (means[acts[0]] - means[acts[-1]]):.1f} points; one seed per pair). "
        "The rule: supported if both are clearly above every other activation, not supported if both are clearly "
        f"below the best other one, else a tie (noise band of a mean of {k}: "
        f"{100 * _band(n_val, means[acts[0]]) / math.sqrt(k):.1f} points)."))
    relu = by_act.get("relu", [])
    if relu:
        relu_by_opt = {t["params"]["optimizer"]: _acc(t) for t in relu}
        parts, signs = [], []
        for act in LEARNABLE:
            pairs = [(_acc(t), relu_by_opt[t["params"]["optimizer"]]) for t in by_act.get(act, [])
                     if t["params"]["optimizer"] in relu_by_opt]
            won = sum(a > r for a, r in pairs)
            if act in means:
                signs.append(mean_versus(means[act], means["relu"], len(pairs)))
            parts.append(f"{act} beat ReLU with {won} of {len(pairs)} optimizers (mean {_pct(means.get(act, float('nan')))} "
                         f"vs ReLU's {_pct(means['relu'])})")
        verdict = (SUPPORTED if signs and all(x > 0 for x in signs) else MIXED if any(x > 0 for x in signs)
                   else NOT_SUPPORTED if any(x < 0 for x in signs) else CANNOT_TELL)
        findings.append(Finding("(The question the report raised but did not settle:) the learnable activations beat "
                                "ReLU.", verdict, "; ".join(parts) + ". The rule: each learnable one's mean against ReLU's, "
                                "clearly above, clearly below or a tie; supported if all three are clearly above."))
    worst = {o: min(_acc(t) for t in ts) for o, ts in by_opt.items()}
    robust = sorted(worst, key=lambda o: -worst[o])
    verdict = _named_lead(worst, ("adam", "radam", "adamw"), lambda a, b: _versus(a, b, n_val))
    findings.append(Finding(
        "Adam, RAdam and AdamW are the most robust optimizers.", verdict,
        "Optimizers by their worst accuracy over the six activations (robustness): "
        + ", ".join(f"{o} {_pct(worst[o])}" for o in robust) + ". The rule: supported if all three are clearly "
        "above every other optimizer, not supported if all three are clearly below the best other one, else a tie."))
    opt_means = _means(by_opt)
    spread = {o: statistics.pstdev([_acc(t) for t in ts]) for o, ts in by_opt.items() if len(ts) >= MIN_GROUP}
    combos = [o for o in COMBINATIONS if o in opt_means]
    if combos and spread:
        singles = [o for o in opt_means if o not in COMBINATIONS]
        calmer = sum(spread.get(c, 99) < statistics.median(spread[s] for s in singles if s in spread) for c in combos)
        below = [c for c in combos if mean_versus(opt_means[c], max(opt_means.get(p, 0) for p in c.split("+")),
                                                  len(by_opt[c])) < 0]
        stable, complicated = calmer > len(combos) / 2, len(below) > len(combos) / 2
        verdict = SUPPORTED if stable and complicated else MIXED if stable or complicated else NOT_SUPPORTED
        findings.append(Finding(
            "Combinations gain stability but often overcomplicate training.", verdict,
            f"{calmer} of {len(combos)} combinations vary less over the activations than the median single optimizer "
            f"(standard deviation {', '.join(f'{c} {_pct(spread[c])}' for c in combos if c in spread)}; singles' "
            f"median {_pct(statistics.median(spread[s] for s in singles if s in spread))}); {len(below)} of "
            f"{len(combos)} score clearly below the best of their own parts on mean accuracy "
            f"({', '.join(f'{c} {_pct(opt_means[c])}' for c in combos)})."))
    if "sophia" in opt_means:
        ranked = sorted(opt_means, key=lambda o: -opt_means[o])
        place = ranked.index("sophia") + 1
        median = statistics.median(opt_means.values())
        verdict = _three_way(-mean_versus(opt_means["sophia"], median, len(by_opt["sophia"])))
        findings.append(Finding(
            "Sophia needs further adaptation (LAMB is good for scalability).", verdict,
            f"At its default learning rate Sophia ranks {place} of {len(ranked)} optimizers by mean accuracy "
            f"({_pct(opt_means['sophia'])}; median optimizer {_pct(median)}; best {ranked[0]} "
            f"{_pct(opt_means[ranked[0]])}; the rule: supported if clearly below the median). LAMB's scalability "
            "(large batches, many devices) is not tested by a one-machine, batch-64 rerun: cannot tell."))
    if trials:
        ordered = sorted(trials, key=lambda t: -_acc(t))
        best = ordered[0]
        pair_place = next((i + 1 for i, t in enumerate(ordered)
                           if t["params"].get("activation") == "swish" and t["params"].get("optimizer") == "adamw"), None)
        findings.append(Finding(
            "The best pair is Swish + AdamW (82.4 % on Tiny ImageNet after 10 epochs).",
            SUPPORTED if pair_place == 1 else NOT_SUPPORTED,
            f"Here the best pair is {best['params'].get('activation')} + {best['params'].get('optimizer')} "
            f"({_pct(_acc(best))}); Swish + AdamW ranks {pair_place if pair_place else '-'} of {len(ordered)}. The report's 82 % is "
            "not comparable (another data set) and not credible for an MLP on Tiny ImageNet; this MLP reaches "
            f"{_pct(_acc(best))} on `{data['config'].get('dataset')}`."))
    tables = [f"Mean accuracy per activation:\n\n{_group_table(by_act, 'activation')}",
              f"Mean accuracy per optimizer:\n\n{_group_table(by_opt, 'optimizer', time=True)}"]
    return findings, tables


# Report 001 --------------------------------------------------------------------------------------


def _gradient_ratio(norms: dict[str, float]) -> float | None:
    """First conv layer's gradient norm over the last conv layer's (input side over output side).

    Below 1, less gradient reaches the input side. Layers other than convolutions (the
    classifier, attention projections) are left out.
    """
    convs = [v for k, v in norms.items() if "Conv" in k]
    if len(convs) < 2 or not convs[-1]:
        return None
    return convs[0] / convs[-1]


def _by_name(trials: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {t["params"][key]: t for t in trials if key in t["params"]}


def _compare(designs: dict[str, dict[str, Any]], names: tuple[str, ...], claim: str,
             verdict: Callable[[dict[str, dict[str, Any]]], str], extra: str = "") -> Finding:
    missing = [n for n in names if n not in designs]
    if missing:
        return Finding(claim, CANNOT_TELL, f"not run: {', '.join(missing)}.")
    parts = []
    for n in names:
        t = designs[n]
        per = _per_epoch_s(t)
        parts.append(f"{n} {_pct(_acc(t))} ({t['metrics'].get('n_params', 0):,} parameters"
                     + (f", {per:.1f} s/epoch)" if per is not None else ")"))
    return Finding(claim, verdict(designs), "; ".join(parts) + (f". {extra}" if extra else "."))


def _band(n_val: int | None, *accs: float) -> float:
    """Two standard errors of a validation accuracy near ``accs`` measured on ``n_val`` images."""
    if not n_val:
        return 0.0
    p = statistics.fmean(accs)
    return 2 * math.sqrt(max(p * (1 - p), 1e-4) / n_val)


def _versus(a: float, b: float, n_val: int | None) -> int:
    """+1 if ``a`` is clearly above ``b``, -1 if clearly below, 0 if within the noise band."""
    band = _band(n_val, a, b)
    return 1 if a - b > band else -1 if b - a > band else 0


def _both(first: bool, second: bool) -> str:
    """A two-part claim: supported if both parts hold, partly if one does."""
    return SUPPORTED if first and second else MIXED if first or second else NOT_SUPPORTED


def _three_way(sign: int) -> str:
    return SUPPORTED if sign > 0 else NOT_SUPPORTED if sign < 0 else CANNOT_TELL


def _better(a: str, b: str, n_val: int | None) -> Callable[[dict[str, dict[str, Any]]], str]:
    return lambda d: _three_way(_versus(_acc(d[a]), _acc(d[b]), n_val))


def _findings_001(data: dict[str, Any], attrs: dict[int, dict[str, Any]] | None) -> tuple[list[Finding], list[str]]:
    d = _by_name(_complete(data), "design")
    n_val = data["config"].get("val_subset")
    findings = [
        _compare(d, ("plain2", "plain4", "mlp"), "CNNs beat fully connected networks.",
                 lambda d: _three_way(_versus(max(_acc(d["plain2"]), _acc(d["plain4"])), _acc(d["mlp"]), n_val)),
                 "The rule: supported if either small plain CNN beats the 2-layer MLP."),
        _compare(d, ("resnet-basic", "plain4", "plain8"), "ResNets improve on plain CNNs further.",
                 lambda d: _three_way(_versus(_acc(d["resnet-basic"]), max(_acc(d["plain4"]), _acc(d["plain8"])), n_val)),
                 "resnet-basic has 3 stages of 1 basic block (7 conv layers with skips); the rule: supported if it beats "
                 "the 4- and 8-block plain CNNs."),
    ]
    def kernels(d: dict[str, dict[str, Any]]) -> str:
        times = {k: _per_epoch_s(d[k]) or 0 for k in ("plain2", "kernel5", "kernel7")}
        slower = times["kernel5"] > times["plain2"] and times["kernel7"] > times["plain2"]
        not_worse = _versus(_acc(d["plain2"]), max(_acc(d["kernel5"]), _acc(d["kernel7"])), n_val) >= 0
        return _both(slower, not_worse)
    findings.append(_compare(d, ("plain2", "kernel5", "kernel7"),
                             "3x3 kernels are the best balance of accuracy and cost; 5x5 and 7x7 cost more time and are "
                             "sometimes worse.", kernels,
                             "plain2 is the 3x3 network. The rule: supported if 3x3 is not clearly below the best of 5x5 "
                             "and 7x7 and faster than both; partly if one of the two holds."))
    def pair(d: dict[str, dict[str, Any]]) -> str:
        fewer = d["kernel1x1-3x3"]["metrics"].get("n_params", 0) < d["kernel5"]["metrics"].get("n_params", 0)
        kept = _versus(_acc(d["kernel1x1-3x3"]), _acc(d["kernel5"]), n_val) >= 0
        return _both(fewer, kept)
    findings.append(_compare(d, ("kernel1x1-3x3", "kernel5", "plain2"),
                             "A 1x1 + 3x3 pair cuts parameters and keeps the accuracy.", pair,
                             "Against the 5x5 kernel it stands in for (a similar receptive field); it adds a layer to the "
                             "plain 3x3 net. The rule: fewer parameters than 5x5 and not clearly below it."))
    ratios = {n: _gradient_ratio((attrs or {}).get(d[n]["number"], {}).get("grad_norms_epoch1") or {})
              for n in ("plain2", "plain8", "plain8-nobn", "resnet-basic-x3") if n in d}
    ratio_text = ("Ratio of the first conv layer's epoch-1 gradient norm to the last one's: "
                  + ", ".join(f"{n} {r:.3g}" for n, r in ratios.items() if r is not None)
                  + " (below 1: less gradient reaches the input side; raw norms also grow with a layer's width, "
                  "so compare networks, not layers)") if any(r is not None for r in ratios.values()) else \
        "Gradient norms were not available to this page"
    def deep(d: dict[str, dict[str, Any]]) -> str:
        worse = _versus(_acc(d["plain8-nobn"]), _acc(d["resnet-basic-x3"]), n_val) < 0
        r_plain, r_res = ratios.get("plain8-nobn"), ratios.get("resnet-basic-x3")
        vanishing = r_plain is not None and r_res is not None and r_plain < 0.5 * r_res
        return _both(worse, vanishing)
    findings.append(_compare(d, ("plain8-nobn", "plain8", "resnet-basic-x3", "plain2"),
                             "Deep plain CNNs (6+ layers) suffer from vanishing gradients; residual connections let deep "
                             "networks train.", deep,
                             ratio_text + ". The rule: supported if the 8-block plain CNN without batch norm scores clearly below "
                             "the 19-conv-layer ResNet and its ratio is under half the ResNet's; partly if one holds. "
                             "plain8 (with batch norm) shows what batch norm alone does."))
    def custom(d: dict[str, dict[str, Any]]) -> str:
        return SUPPORTED if _versus(_acc(d["conv-im2col"]), _acc(d["plain2"]), n_val) == 0 else MIXED
    findings.append(_compare(d, ("conv-im2col", "plain2", "conv-depthwise", "pool-gated", "attention-se", "attention-self"),
                             "Custom layers (convolution, attention, pooling) give flexibility but need an exact backward "
                             "pass.", custom,
                             "conv-im2col is plain2 with a hand-written backward pass (checked by gradcheck in "
                             "tests/models) instead of PyTorch's convolution. The rule: supported if it scores within the "
                             "noise band of plain2, i.e. the exact backward trains the same network equally well (one seed "
                             "each, so the two runs differ in their random draws, not only in the layer); its time per "
                             "epoch is the cost of writing it by hand."))
    def blocks(d: dict[str, dict[str, Any]]) -> str:
        cheaper = (_per_epoch_s(d["resnet-bottleneck"]) or 0) < (_per_epoch_s(d["resnet-basic"]) or 0)
        kept = _versus(_acc(d["resnet-bottleneck"]), _acc(d["resnet-basic"]), n_val) >= 0
        return _both(cheaper, kept)
    findings.append(_compare(d, ("resnet-basic", "resnet-bottleneck", "resnet-wide"),
                             "Bottleneck blocks keep the accuracy at lower cost; wide blocks are steadier; basic blocks "
                             "add parameters.", blocks,
                             "The rule: supported if bottleneck is not clearly below basic and faster; partly if one "
                             "holds. Steadiness would need several seeds: not measured."))
    rows = []
    for name, t in sorted(d.items(), key=lambda kv: -_acc(kv[1])):
        norms = (attrs or {}).get(t["number"], {}).get("grad_norms_epoch1") or {}
        ratio = _gradient_ratio(norms)
        per = _per_epoch_s(t)
        rows.append([name, _pct(_acc(t)), f"{t['metrics'].get('n_params', 0):,}", f"{per:.1f}" if per else "-",
                     f"{ratio:.3g}" if ratio is not None else "-"])
    return findings, ["Every design, by validation accuracy:\n\n" + markdown((
        ["design", "accuracy", "parameters", "s / epoch", "first / last conv gradient norm"], rows))]


# Report 002 --------------------------------------------------------------------------------------


def _findings_002(data: dict[str, Any], attrs: dict[int, dict[str, Any]] | None) -> tuple[list[Finding], list[str]]:
    trials = _complete(data)
    by_opt = _groups(trials, lambda t: t["params"].get("optimizer"))
    claim = "From the two runs it is hard to say whether Adam or AdaMax is better for ResNet-50."
    few = _too_few(by_opt, "adam", "adamax")
    if few:
        return [Finding(claim, CANNOT_TELL, few + ".")], []
    f1 = {o: max(t["metrics"].get("val_f1") or 0 for t in ts) for o, ts in by_opt.items()}
    first = {o: _mean([t["curve"][min(t["curve"], key=int)] for t in ts if t.get("curve")]) for o, ts in by_opt.items()}
    gap = abs(f1["adam"] - f1["adamax"])
    leader = max(f1, key=lambda o: f1[o])
    best_acc = {o: max(_acc(t) for t in ts) for o, ts in by_opt.items()}
    trained = min(best_acc.values()) >= TRAINED
    verdict = CANNOT_TELL if not trained else SUPPORTED \
        if _versus(best_acc["adam"], best_acc["adamax"], data["config"].get("val_subset")) == 0 else NOT_SUPPORTED
    per_lr = "; ".join(f"{t['params']['optimizer']} at lr {fmt(t['params']['lr'])}: accuracy {_pct(_acc(t))}, "
                       f"F1 {fmt(t['metrics'].get('val_f1'))}"
                       for t in sorted(trials, key=lambda t: (t["params"]["optimizer"], t["params"]["lr"])))
    findings = [Finding(
        claim, verdict,
        f"Best macro F1: Adam {fmt(f1['adam'])}, AdaMax {fmt(f1['adamax'])} ({leader} ahead by {gap * 100:.1f} points; "
        f"best accuracy Adam {_pct(best_acc['adam'])}, AdaMax {_pct(best_acc['adamax'])}; the rule: best accuracies "
        f"within the noise band is no clear winner, and no comparison unless both optimizers' best run reaches "
        f"{_pct(TRAINED)}, i.e. has trained at all). Mean accuracy after epoch 1: Adam {_pct(first['adam'])}, "
        f"AdaMax {_pct(first['adamax'])}. Each run: {per_lr}. One seed per cell: a difference of a few points is "
        "within what another seed could change.")]
    return findings, [f"Per optimizer:\n\n{_group_table(by_opt, 'optimizer', time=True)}"]


# Report 003 --------------------------------------------------------------------------------------


def _overfit_gap(attrs: dict[int, dict[str, Any]] | None, t: dict[str, Any]) -> float | None:
    curves = _loss_curve(attrs, t["number"])
    if not curves or curves["val_loss"][-1] is None:
        return None
    return curves["val_loss"][-1] - curves["train_loss"][-1]


def _findings_003(data: dict[str, Any], attrs: dict[int, dict[str, Any]] | None) -> tuple[list[Finding], list[str]]:
    d = _by_name(_complete(data), "step")
    n_val = data["config"].get("val_subset")
    base = "2-three-layers-bn"
    findings = [
        _compare(d, ("1-simple-cnn", base), "More conv layers with batch norm beat the 2-layer SimpleCNN (64 % → 72 %).",
                 _better(base, "1-simple-cnn", n_val)),
        _compare(d, (base, "3-avg-pool"), "The final network keeps max-pooling (the report compared max with average "
                 "pooling).", _better(base, "3-avg-pool", n_val)),
        _compare(d, (base, "4-sgd"), "Adam trains this network better than SGD (the final network uses Adam).",
                 _better(base, "4-sgd", n_val), "SGD at lr 0.05, Adam at 1e-3."),
        _compare(d, (base, "5-dropout"), "The final network does without dropout.",
                 _better(base, "5-dropout", n_val), "Dropout 0.3."),
    ]
    gaps = {n: _overfit_gap(attrs, t) for n, t in d.items()}
    gap_text = ("Final validation minus training loss (overfitting): "
                + ", ".join(f"{n} {g:.3f}" for n, g in gaps.items() if g is not None)) if any(
        g is not None for g in gaps.values()) else "Loss curves were not available to this page"
    def augment(d: dict[str, dict[str, Any]]) -> str:
        sign = _versus(_acc(d["6-augment"]), _acc(d[base]), n_val)
        g_aug, g_base = gaps.get("6-augment"), gaps.get(base)
        # Overfitting can only be curbed where there is some: validation loss above training loss.
        less = None if g_aug is None or g_base is None or g_base <= 0 else g_aug < g_base
        if sign > 0 and less is not False:
            return SUPPORTED if less else MIXED
        if sign < 0 and not less:
            return NOT_SUPPORTED
        return MIXED if less or sign > 0 else CANNOT_TELL
    findings.append(_compare(d, (base, "6-augment", "7-deeper-augment"),
                             "Augmentation raises accuracy (the final network, 80.9 %) and curbs overfitting.", augment,
                             gap_text + ". Flip + crop augmentation. The rule: supported if augmentation (6-augment) "
                             "scores clearly higher and overfits less than the same network without it (which can only be "
                             "seen if that one overfits: validation loss above training loss); partly if one holds. "
                             "Augmentation usually pays off only after many more epochs than these."))
    rows = []
    for name in sorted(d):
        t, g = d[name], gaps.get(name)
        curves = _loss_curve(attrs, t["number"])
        rows.append([name, _pct(_acc(t)), fmt(t["metrics"].get("val_f1")), fmt(t["metrics"].get("val_mcc")),
                     fmt(t["metrics"].get("val_roc_auc")), f"{curves['train_loss'][-1]:.3f}" if curves else "-",
                     f"{g:.3f}" if g is not None else "-"])
    return findings, ["Every step (validation metrics after the last epoch):\n\n" + markdown((
        ["step", "accuracy", "F1", "MCC", "ROC AUC", "final train loss", "val − train loss"], rows))]


# Report 004 --------------------------------------------------------------------------------------


def _rises(values: list[float | None]) -> int:
    clean = [v for v in values if v is not None]
    return sum(b > a for a, b in zip(clean, clean[1:]))


def _findings_004(data: dict[str, Any], attrs: dict[int, dict[str, Any]] | None,
                  onnx_text: str | None) -> tuple[list[Finding], list[str]]:
    trials = _complete(data)
    by_opt = _groups(trials, lambda t: t["params"].get("optimizer"))
    findings = []
    claim = "Adam converges faster and more steadily than SGD, whose loss goes up and down."
    few = _too_few(by_opt, "adam", "sgd")
    if few:
        findings.append(Finding(claim, CANNOT_TELL, few + " (TPE samples what scores well, so a poor optimizer gets "
                                "few trials)."))
    else:
        first = {o: _mean([t["curve"][min(t["curve"], key=int)] for t in ts if t.get("curve")]) for o, ts in by_opt.items()}
        means = _means(by_opt)
        rises = {o: [_rises(c["val_loss"]) for c in (_loss_curve(attrs, t["number"]) for t in ts) if c]
                 for o, ts in by_opt.items()}
        faster = first["adam"] > first["sgd"] and means["adam"] > means["sgd"]
        text = (f"Mean accuracy after epoch 1: Adam {_pct(first['adam'])}, SGD {_pct(first['sgd'])}; after the last "
                f"epoch: Adam {_pct(means['adam'])}, SGD {_pct(means['sgd'])}")
        steadier = None
        if rises.get("adam") and rises.get("sgd"):
            ra, rs = _mean(rises["adam"]), _mean(rises["sgd"])
            text += f"; validation loss rose from one epoch to the next {ra:.2f} times per Adam trial, {rs:.2f} per SGD trial"
            if ra or rs:
                steadier = ra < rs
            else:
                text += f" (in {data['config'].get('epochs')} epochs neither wavered: too short to see it)"
        verdict = (SUPPORTED if faster and steadier else NOT_SUPPORTED if not faster and steadier is not True
                   else MIXED)
        findings.append(Finding(claim, verdict, text + ". The rule: supported if Adam is ahead after the first and "
                                "the last epoch and its loss wavers less; partly if only one can be seen. Learning rates "
                                "differ between trials (TPE samples them), as in the report's study."))
    if trials:
        best = max(trials, key=_acc)
        findings.append(Finding(
            "Optuna finds the best n_layers, kernel_size, optimizer and lr (the report printed no values).",
            CANNOT_TELL,
            f"The rerun's best: {', '.join(f'{k}={fmt(v)}' for k, v in best['params'].items())}, accuracy "
            f"{_pct(_acc(best))} after {fmt(best['metrics'].get('epochs_trained'))} epochs. The report gives no numbers "
            "to compare with."))
    if onnx_text:
        findings.append(_onnx_finding(onnx_text))
    tables = [f"Per optimizer:\n\n{_group_table(by_opt, 'optimizer', time=True)}",
              f"Per kernel (3-7, even ones included):\n\n"
              f"{_group_table(_groups(trials, lambda t: t['params'].get('kernel')), 'kernel', time=True, params=True)}",
              f"Per depth:\n\n{_group_table(_groups(trials, lambda t: t['params'].get('n_layers')), 'n_layers', time=True)}"]
    if onnx_text:
        tables.append(f"`hpo export --onnx` of the best trial, as printed:\n\n```\n{onnx_text.strip()}\n```")
    return findings, tables


def _onnx_finding(text: str) -> Finding:
    """Read accuracy agreement and latency from `hpo export --onnx` output (see hpo/cli/export)."""
    claim = "ONNX Runtime gives the same accuracy as PyTorch and is faster (0.12 ms vs 0.84 ms per inference)."
    agree = re.search(r"argmax agreement\D*([\d.]+)\s*%", text)
    rows = re.findall(r"^\s*(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", text, re.MULTILINE)
    if not agree or not rows:
        return Finding(claim, CANNOT_TELL, "The export's output (below) could not be read for numbers.")
    speedups = [float(r[3]) for r in rows]
    same = float(agree.group(1)) >= 99.9
    faster = all(s > 1 for s in speedups)
    verdict = SUPPORTED if same and faster else MIXED if same or faster else NOT_SUPPORTED
    return Finding(claim, verdict,
                   f"On the test split ONNX Runtime agreed with PyTorch's prediction on {agree.group(1)} % of images; "
                   f"speed-up of ONNX Runtime over PyTorch by batch size: "
                   + ", ".join(f"batch {r[0]}: {r[3]}x" for r in rows) + ".")


def report_findings(number: str, data: dict[str, Any], attrs: dict[int, dict[str, Any]] | None = None,
                    extra: str | None = None) -> tuple[list[Finding], list[str]]:
    """(findings, supporting Markdown tables) of report ``number`` from its rerun's report.json data."""
    if number == "000":
        return _findings_000(data, attrs)
    if number == "001":
        return _findings_001(data, attrs)
    if number == "002":
        return _findings_002(data, attrs)
    if number == "003":
        return _findings_003(data, attrs)
    if number == "004":
        return _findings_004(data, attrs, extra)
    raise KeyError(number)


def report_page_markdown(number: str, folder: str, data: dict[str, Any], attrs: dict[int, dict[str, Any]] | None = None,
                         extra: str | None = None) -> str:
    """The page for reference report ``number``: its experiment and conclusions beside the rerun's."""
    ref = REFERENCES[number]
    cfg = data["config"]
    findings, tables = report_findings(number, data, attrs, extra)
    counts = data["counts"]
    lines = [
        f"# Report {number}: {ref.title}, rerun",
        "",
        f"**The report** ({ref.data}): {ref.experiment}",
        "",
        f"**The rerun**: {ref.rerun} Study `{data['study']}`: {counts.get('complete', 0)} complete trials "
        f"({counts.get('fail', 0)} failed) of at most {cfg.get('epochs')} epochs on {cfg.get('train_subset') or 'all'} "
        f"training images of `{cfg.get('dataset')}`, scored on {cfg.get('val_subset') or 'the'} held-out validation "
        f"images (never the test split), sampler {cfg.get('sampler')}, pruner {cfg.get('pruner')}, "
        f"{seconds(data.get('wall_time_s'))} of wall time on 2 shared CPU cores. The study's full report: "
        f"[{folder}/README.md]({folder}/README.md).",
        "",
        "## The report's conclusions, and what this rerun supports",
        "",
        f"Verdicts are computed from the study's numbers by fixed rules (hpo/report/reading.py); a choice with fewer "
        f"than {MIN_GROUP} trials is not compared. Two accuracies closer than two standard errors of an accuracy "
        f"measured on {cfg.get('val_subset') or 'the'} validation images (about "
        f"{100 * _band(cfg.get('val_subset'), 0.75):.1f} points near 75 %) are a tie: \"cannot tell\". These are short "
        "runs on a subset with one seed per configuration (seed-to-seed differences add to that noise): they test "
        "each conclusion under a small budget on another data set, not the report's own numbers. Seconds per epoch "
        "were measured on CPU cores shared with other jobs: between trials they vary by a factor of 2 or more for "
        "reasons other than the network, so time-based verdicts are weak.",
        "",
    ]
    lines.append(markdown((["the report concluded", "this rerun", "the rerun's numbers"],
                           [[f.claim, f"**{f.verdict}**", f.evidence] for f in findings])))
    lines += ["", "## The numbers", ""]
    for table in tables:
        lines += [table, ""]
    lines += ["Accuracy is validation accuracy after the last epoch of complete trials. Regenerate with "
              "`scripts/run_docs_studies.sh`; larger budgets: `SCALE=3 scripts/run_docs_studies.sh`."]
    return "\n".join(lines) + "\n"
