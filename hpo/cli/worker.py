"""`hpo worker STUDY`."""

from __future__ import annotations

import click

from hpo.cli.options import artifacts_option, current_settings, storage_option
from hpo.trials import check_writable


@click.command("worker")
@click.argument("study")
@storage_option
@artifacts_option
@click.option("--device", envvar="HPO_DEVICE", default=None, help="auto | cpu | cuda | cuda:N (env HPO_DEVICE). Default: auto.")
@click.option("--max-trials", type=click.IntRange(min=1), default=None, help="Stop after this many trials.")
@click.option("--wait-for-study", type=click.FloatRange(min=0), default=0, show_default=True, metavar="SECONDS",
              help="Wait up to SECONDS for the study to be created (for containers started together).")
@click.option("--download", is_flag=True, help="Let torchvision download the data set if it is missing.")
def worker_cmd(study: str, storage: str | None, artifacts: str | None, device: str | None, max_trials: int | None,
               wait_for_study: float, download: bool) -> None:
    """Pull trials of STUDY until its budget is reached, then exit 0.

    Start any number of workers, on any machines, against the same storage. SIGTERM or
    Ctrl-C stops at the next epoch boundary and hands the trial back for another worker.
    """
    settings = current_settings(storage=storage, artifacts=artifacts, device=device)
    check_writable(settings.storage_url)
    from hpo.worker.loop import WorkerOptions, run_worker  # torch: after the checks that need none

    run_worker(WorkerOptions(study, settings, max_trials, wait_for_study, download))
