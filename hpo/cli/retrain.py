"""`hpo retrain STUDY --trial N`: repeat a trial's run and check its validation accuracy."""

from __future__ import annotations

import json

import click

from hpo.cli.options import current_settings, storage_option
from hpo.errors import HpoError
from hpo.export.best import pick_trial
from hpo.trials import load_study, open_storage


@click.command("retrain")
@click.argument("study")
@click.option("--trial", "trial_number", type=int, default=None, help="The trial to repeat. Default: the best.")
@click.option("--tolerance", type=click.FloatRange(min=0), default=0.5, show_default=True,
              help="Largest accepted difference in validation accuracy, in percentage points.")
@click.option("--device", envvar="HPO_DEVICE", default="cpu", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@storage_option
def retrain_cmd(study: str, trial_number: int | None, tolerance: float, device: str, as_json: bool, storage: str | None) -> None:
    """Train trial N of STUDY again from its recorded config and seed; exit 1 unless it reproduces.

    It trains on the same train split and validates on the same validation split as the search.
    """
    loaded = load_study(study, open_storage(storage, must_exist=True))
    trial = pick_trial(loaded, trial_number)
    # Here, not at the top: they import torch, which a missing study or trial does not need.
    from hpo.checkpoint import versions
    from hpo.devices import configure_threads, resolve_device
    from hpo.export.retrain import reproduce

    settings = current_settings()
    torch_device = resolve_device(device)
    threads = configure_threads(settings.num_threads, settings.workers_per_host)
    result, _ = reproduce(loaded, trial, torch_device)
    recorded_on = {"device": trial.user_attrs.get("device"), "seed": trial.user_attrs.get("seed"),
                   "versions": trial.user_attrs.get("versions")}
    current = versions()
    here = {"device": str(torch_device), "threads": threads, "versions": current}
    ok = result.diff_points <= tolerance
    if as_json:
        click.echo(json.dumps({"trial": result.trial, "recorded_val_accuracy": result.recorded,
                               "reproduced_val_accuracy": result.reproduced, "diff_points": result.diff_points,
                               "tolerance_points": tolerance, "reproduced": ok, "recorded_on": recorded_on, "here": here}, indent=2))
    else:
        click.echo(f"trial {result.trial} of {study!r} (seed {recorded_on['seed']}, trained on {recorded_on['device']})")
        click.echo(f"  recorded validation accuracy   {result.recorded:.4f}")
        where = f"{here['device']}, {threads} thread(s)"
        click.echo(f"  reproduced ({where}){' ' * max(1, 16 - len(where))}{result.reproduced:.4f}  "
                   f"({result.diff_points:.2f} points apart, tolerance {tolerance})")
    if not ok:
        changed = [k for k, v in (recorded_on["versions"] or {}).items() if current.get(k) != v]
        hint = (f"library versions differ ({', '.join(changed)})" if changed
                else "CPU results also depend on the thread count: try the worker's HPO_NUM_THREADS")
        raise HpoError(f"trial {result.trial} did not reproduce: {result.reproduced:.4f} vs recorded {result.recorded:.4f} "
                       f"({result.diff_points:.2f} points > {tolerance}); {hint}")
