"""`hpo study create | list | show | delete | recover`."""

from __future__ import annotations

import json
import time
from typing import Any

import click
import optuna

from hpo.formatting import fmt, format_duration, table
from hpo.cli.interrupts import deferred_interrupts
from hpo.artifacts import check_location, location_to_record
from hpo.cli.options import artifacts_option, current_settings, storage_option
from hpo.config import OBJECTIVES, StudyConfig
from hpo.errors import UsageError
from hpo.studies import IF_EXISTS
from hpo.studies.samplers import SAMPLERS
from hpo.studies.summary import summarize
from hpo.studies.unfinished import is_unfinished
from hpo.trials import (
    INTERACTIVE_WAIT_S, SCHEDULERS, Retrier, StorageMissing, TrialQueue, check_writable, final_share_default,
    load_study, mask_url, open_storage,
)


@click.group("study")
def study_group() -> None:
    """Create, inspect and remove studies."""


def _objectives(value: str) -> tuple[str, ...]:
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    for name in names:
        if name not in OBJECTIVES:
            raise click.BadParameter(f"unknown objective {name!r}; choose from {', '.join(OBJECTIVES)}")
    if not names:
        raise click.BadParameter("give at least one objective")
    return names


class DurationType(click.ParamType):
    """``90s``, ``30m``, ``2h`` (or plain seconds) -> seconds."""

    name = "duration"
    UNITS = {"s": 1, "m": 60, "h": 3600}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        text = str(value).strip().lower()
        unit = text[-1:] if text[-1:] in self.UNITS else "s"
        number = text[:-1] if text[-1:] in self.UNITS else text
        try:
            seconds = float(number) * self.UNITS[unit]
        except ValueError:
            self.fail(f"{value!r} is not a duration; use e.g. 90s, 30m or 2h", param, ctx)
        if not seconds > 0:
            self.fail(f"{value!r} must be positive", param, ctx)
        return seconds


@study_group.command("create")
@click.argument("name")
@click.option("--space", required=True, help="Search space: a name from `hpo spaces`, a .py file, or a module.")
@click.option("--dataset", required=True, help="Data set: a name from `hpo datasets`, or imagefolder:PATH.")
@click.option("--trials", type=click.IntRange(min=1), default=None,
              help="Budget: the exact number of trials (configurations). Give it, --time-budget, or both.")
@click.option("--time-budget", type=DurationType(), default=None, metavar="DURATION",
              help="Budget: wall-clock time for the whole study, e.g. 90s, 30m, 2h; it starts with the first "
                   "trial. No trial starts after it; running ones stop at their next epoch and keep what they reached.")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Epochs per trial. Default: the space's.")
@click.option("--final-share", type=click.FloatRange(0, 1), default=None, metavar="SHARE",
              help="With --time-budget: when this share of the time is left (or, with --trials, once the search's "
                   "trials have ended, if sooner), one worker trains the best configuration so far for the time left "
                   "on every core of its host (the final run); 0: none; 1: no search, the space's warm start. "
                   "Default: 0.5 with --pruner promote (the default with --time-budget), else 0.")
@click.option("--final-patience", type=click.FloatRange(0, 1), default=0.0, metavar="SHARE",
              help="With a final run: start it sooner, once the search has gone this share of the time budget "
                   "without a trial that leads the best before it by more than the noise of the validation "
                   "accuracy. Default: 0 (the final run waits for --final-share).")
@click.option("--grow/--no-grow", default=None,
              help="Let the final run train the chosen configuration at a larger size (the space's size knobs, "
                   "e.g. width, then blocks), each grown while its measured pace fits 47 epochs in the time left. "
                   "Default: on when the study has a final run and the space declares size knobs.")
@click.option("--final-train-subset", type=click.IntRange(min=1), default=None, metavar="N",
              help="Train the final run on this many training images. Default: all of them, even when the search "
                   "used --train-subset.")
@click.option("--sampler", type=click.Choice(list(SAMPLERS)), default="tpe", show_default=True)
@click.option("--pruner", type=click.Choice(list(SCHEDULERS)), default=None,
              help="Trial scheduler. Default: promote with --time-budget (with --trials or without), one objective "
                   "and a sampler other than grid (the study ends with a final run), else asha.")
@click.option("--objectives", default="accuracy", show_default=True, help=f"Comma-separated, from: {', '.join(OBJECTIVES)}.")
@click.option("--seed", type=int, default=0, show_default=True, help="Fixes the validation split and each trial's training seed.")
@click.option("--seeds", type=click.IntRange(min=1), default=1, show_default=True,
              help="With --sampler grid: run every cell this many times, the k-th time of every cell with the "
                   "same training seed; `hpo report` shows each configuration's mean with a 95% interval.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Override the space's batch size.")
@click.option("--train-subset", type=click.IntRange(min=1), default=None,
              help="Search on this many training images (a final run trains on all of them; see --final-train-subset).")
@click.option("--val-subset", type=click.IntRange(min=1), default=None, help="Validate on this many images.")
@click.option("--val-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.1, show_default=True)
@click.option("--heartbeat-interval", type=click.IntRange(min=1), default=10, show_default=True, help="Seconds between trial heartbeats.")
@click.option("--grace-period", type=click.IntRange(min=1), default=60, show_default=True, help="Seconds without a heartbeat before a trial is retried.")
@click.option("--warm-start/--no-warm-start", default=None,
              help="Train the space's defaults as trial 0 (one of the --trials). Default: on when the space "
                   "declares defaults, except with --sampler grid.")
@click.option("--if-exists", type=click.Choice(IF_EXISTS), default="fail", show_default=True)
@storage_option
@artifacts_option
def create_cmd(name: str, space: str, dataset: str, trials: int | None, time_budget: float | None, epochs: int | None,
               final_share: float | None, final_patience: float, grow: bool | None, final_train_subset: int | None, sampler: str, pruner: str | None,
               objectives: str, seed: int, seeds: int, batch_size: int | None, train_subset: int | None, val_subset: int | None,
               val_fraction: float, heartbeat_interval: int, grace_period: int, warm_start: bool | None,
               if_exists: str, storage: str | None, artifacts: str | None) -> None:
    """Create study NAME: a plain Optuna study holding everything workers need."""
    # Here, not at the top: they import torch, which `hpo study list` and usage errors skip.
    from hpo.spaces import canonical_spec, get_space
    from hpo.studies.create import create, grow_default, pruner_default, warm_start_default

    objective_names = _objectives(objectives)
    resolved = get_space(space)
    if artifacts:
        check_location(artifacts)
    # Record where this study's checkpoints live, once: folders absolute (./artifacts when not
    # given), URLs (s3://) as given. Every later command finds them from any working folder.
    extra: dict[str, Any] = {"artifacts": location_to_record(artifacts)}
    pruner = pruner or pruner_default(time_budget, len(objective_names), sampler)
    share = final_share_default(pruner, time_budget, len(objective_names)) if final_share is None else final_share
    config = StudyConfig(
        space=canonical_spec(space), dataset=dataset, budget=trials, epochs=epochs or resolved.default_epochs,
        objectives=objective_names, sampler=sampler, pruner=pruner, seed=seed, batch_size=batch_size, train_subset=train_subset,
        val_subset=val_subset, val_fraction=val_fraction, heartbeat_interval=heartbeat_interval,
        grace_period=grace_period, extra=extra, time_budget_s=time_budget,
        warm_start=warm_start_default(resolved, sampler) if warm_start is None else warm_start,
        final_share=share, final_patience=final_patience, final_grow=grow_default(resolved, share) if grow is None else grow,
        final_train_subset=final_train_subset,
        seeds=seeds,
    )
    settings = current_settings(storage=storage)
    url = settings.storage_url
    check_writable(url)
    # Waits for the database like a worker does (compose starts both with PostgreSQL).
    backend = open_storage(url, retrier=Retrier(settings.db_retry_timeout))
    # A Ctrl-C undoes the study instead of halving it; once it is made, only its summary is
    # printed, and a Ctrl-C then is ignored rather than reported as a failure.
    with deferred_interrupts(until_exit=True) as interrupted:
        study, created = create(name, config, backend, if_exists=if_exists, interrupted=interrupted,
                                 image_size=settings.image_size)
    if created:
        trials = study.user_attrs.get("budget")  # a grid without --trials: the whole grid
        budget = " and ".join(b for b in (f"{trials} trials" if trials else "", format_duration(time_budget) if time_budget else "") if b)
        click.echo(f"created study {name!r} in {mask_url(url)}: {resolved.name} on {dataset}, {budget} x {config.epochs} epochs"
                   + (" (trial 0: the space's defaults)" if config.warm_start else ""))
        click.echo(f"start workers with: hpo worker {name}" + (f" --storage '{mask_url(url)}'" if storage else ""))
    else:
        click.echo(f"study {name!r} already exists in {mask_url(url)}; left as it is")


def _read_only(storage: str | None) -> optuna.storages.RDBStorage:
    """The storage, for commands that only read or remove: an SQLite file is never created."""
    return open_storage(current_settings(storage=storage).storage_url, must_exist=True)


def _open_queue(name: str, storage: str | None) -> TrialQueue:
    settings = current_settings(storage=storage)
    return TrialQueue.open(name, settings.storage_url, Retrier(INTERACTIVE_WAIT_S, setting=None), must_exist=True)


@study_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@storage_option
def list_cmd(as_json: bool, storage: str | None) -> None:
    """List the studies in the storage."""
    try:
        summaries = optuna.get_all_study_summaries(storage=_read_only(storage))
    except StorageMissing as missing:
        click.echo(f"no studies yet: {missing}")
        return
    rows = []
    for s in summaries:
        attrs = s.user_attrs
        best = s.best_trial.value if s.best_trial is not None and len(s.directions) == 1 else None
        rows.append({"study": s.study_name, "space": attrs.get("space"), "dataset": attrs.get("dataset"),
                     "budget": attrs.get("budget"), "trials": s.n_trials, "best": best,
                     "unfinished": is_unfinished(attrs)})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif not rows:
        click.echo("no studies yet; create one with `hpo study create`")
    else:
        click.echo(table(["study", "space", "dataset", "budget", "best"],
                         [[f"{r['study']}{' (unfinished)' if r['unfinished'] else ''}", r["space"], r["dataset"],
                           r["budget"], r["best"]] for r in rows]))
        for r in rows:
            if r["unfinished"]:
                click.echo(f"{r['study']}: its `study create` is running or was killed; "
                           f"`hpo study delete {r['study']} --yes` removes it")


def _print_summary(info: dict[str, Any]) -> None:
    cfg, p = info["config"], info["progress"]
    click.echo(f"study {info['study']}  ({info['storage']})")
    click.echo(f"  space {cfg['space']} on {cfg['dataset']}, {cfg['epochs']} epochs/trial, sampler {cfg['sampler']}, "
               f"pruner {cfg['pruner']}, objectives {', '.join(cfg['objectives'])}"
               + (", warm start (trial 0: the space's defaults)" if cfg.get("warm_start") else ""))
    budget = f"budget {p['budget']}" if p["budget"] else "no trial budget"
    click.echo(f"  {budget}: {p['finished']} finished ({p['complete']} complete, {p['pruned']} pruned, "
               f"{p['failed']} failed), {p['running']} running, {p['waiting']} waiting"
               + (f" ({p['paused']} paused at a rung)" if p.get("paused") else "") + f"; {p['retried']} attempts retried")
    if info.get("time"):
        click.echo(f"  time budget {info['time']}")
    if info.get("final_run"):
        click.echo(f"  final run: {info['final_run']}")
    if info.get("ended"):
        click.echo(f"  ended: {info['ended']}")
    if info["stale_running"]:
        click.echo(f"  stale: trials {', '.join(map(str, info['stale_running']))} have no recent heartbeat; "
                   f"`hpo study recover {info['study']}` re-queues them")
    if not info["best"]:
        click.echo("  no completed trial yet")
        return
    n = len(info["best"])
    title = f"Pareto set ({n} trial{'s' if n != 1 else ''})" if info["multi_objective"] else "best trial"
    click.echo(f"\n{title}:")
    for trial in info["best"]:
        click.echo(f"  trial {trial['number']}  values {', '.join(fmt(v) for v in trial['values'])}")
        rows = [[k, v] for k, v in trial["params"].items()] + [[k, v] for k, v in trial["metrics"].items()]
        click.echo("\n".join("    " + line for line in table(["name", "value"], rows).splitlines()))


@study_group.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--watch", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SECONDS", help="Refresh every SECONDS until the study is done.")
@storage_option
def show_cmd(name: str, as_json: bool, watch: float | None, storage: str | None) -> None:
    """Show a study's progress against its budget and its best trial with all metrics."""
    queue = _open_queue(name, storage)
    url = mask_url(current_settings(storage=storage).storage_url)
    while True:
        info = summarize(queue, url)
        if as_json:
            click.echo(json.dumps(info, indent=2, default=str))
        else:
            if watch:
                click.clear()
            _print_summary(info)
        if not watch or (info["progress"]["running"] == 0 and info["progress"]["waiting"] == 0):
            return
        time.sleep(watch)


@study_group.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Confirm: the study and its trials are deleted.")
@storage_option
def delete_cmd(name: str, yes: bool, storage: str | None) -> None:
    """Delete a study and all its trials (artifacts on disk are kept)."""
    if not yes:
        raise UsageError(f"deleting study {name!r} cannot be undone; pass --yes to confirm")
    check_writable(current_settings(storage=storage).storage_url)
    backend = _read_only(storage)
    load_study(name, backend)  # a clear error when it does not exist
    optuna.delete_study(study_name=name, storage=backend)
    click.echo(f"deleted study {name!r}")


@study_group.command("recover")
@click.argument("name")
@storage_option
def recover_cmd(name: str, storage: str | None) -> None:
    """Fail and re-queue trials whose worker stopped sending heartbeats."""
    check_writable(current_settings(storage=storage).storage_url)
    stale = _open_queue(name, storage).recover_stale()
    if stale:
        click.echo(f"re-queued stale trials {', '.join(map(str, stale))}; start a worker to resume them")
    else:
        click.echo("no stale trials")
