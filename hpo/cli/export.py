"""`hpo export`.

torch is imported where a step computes, not at the top, so that a bad --out, a missing study
or one without a completed trial is answered without loading it (hpo/cli/__init__.py).
"""

from __future__ import annotations

from pathlib import Path

import click
import optuna
from optuna.trial import FrozenTrial

from hpo.errors import UsageError
from hpo.formatting import fmt, table
from hpo.cli.options import artifacts_option, check_out, current_settings, storage_option
from hpo.export.best import export_trial, pick_trial
from hpo.trials import TrialKeys, load_study, open_storage

METRICS = ("accuracy", "precision", "recall", "f1", "mcc", "roc_auc")


def _say_test_time(trial: FrozenTrial) -> None:
    """A model that runs with its mirror view takes two passes per image: say so, with why."""
    if trial.user_attrs.get(TrialKeys.TEST_TIME) == "flip":
        click.echo(f"  it runs each image with its mirror image and averages the two (test-time augmentation): "
                   f"validation accuracy {fmt(trial.user_attrs.get(TrialKeys.VAL_ACCURACY_FLIP))} with it, "
                   f"{fmt(trial.user_attrs.get('val_accuracy'))} without; every file below does the same")


def _export_search_weights(study: optuna.Study, trial: FrozenTrial, out: str, artifacts: str | None) -> None:
    meta = export_trial(study, trial, out, artifacts)
    click.echo(f"exported trial {trial.number} of {study.study_name!r} to {out}")
    click.echo(f"  validation accuracy {fmt(meta['metrics'].get('val_accuracy'))}; model {meta['model']['arch']}; "
               f"sha256 {meta['sha256'][:16]}...")
    _say_test_time(trial)


def _export_retrained(study: optuna.Study, trial: FrozenTrial, out: str, device_spec: str) -> None:
    from hpo.checkpoint import save_checkpoint
    from hpo.devices import configure_threads, resolve_device
    from hpo.export.retrain import retrain, retrained_meta, score_on_test

    settings = current_settings()
    device = resolve_device(device_spec)
    configure_threads(settings.num_threads, settings.workers_per_host)
    click.echo(f"retraining trial {trial.number} of {study.study_name!r} on train+val ...")
    retrained = retrain(study, trial, include_val=True, device=device)
    test = score_on_test(retrained)
    meta = retrained_meta(study, trial, retrained, test, device)
    sha = save_checkpoint(out, retrained.result.model.state_dict(), meta)
    click.echo(f"exported trial {trial.number}, retrained on train+val ({len(retrained.splits.train)} images, "
               f"{retrained.config.epochs} epochs), to {out}; sha256 {sha[:16]}...")
    _say_test_time(trial)
    rows = [[m, meta["metrics"].get(f"val_{m}"), test.get(m)] for m in METRICS]
    click.echo(table(["metric", "validation (search)", "test (retrained, evaluated once)"], rows))


def _export_program(out: str, program_path: str) -> None:
    from hpo.checkpoint import load_checkpoint
    from hpo.export.model_io import model_from_checkpoint
    from hpo.export.standalone import PROGRAM, export_verified_program

    checkpoint = load_checkpoint(out)
    model = model_from_checkpoint(checkpoint)
    written, kind, parity = export_verified_program(model, checkpoint["meta"], program_path)
    how = "torch.export.load(PATH).module()" if kind == PROGRAM else "torch.jit.load(PATH)"
    click.echo(f"wrote {written} (a PyTorch program for plain torch: {how}; "
               "takes [0, 1] pixels, normalization inside)")
    click.echo(f"  parity with the checkpoint: {parity.describe()}")


def _export_onnx(out: str, onnx_path: str, repeats: int) -> None:
    import torch

    from hpo.checkpoint import load_checkpoint
    from hpo.devices import configure_threads
    from hpo.export.latency import compare_latency
    from hpo.export.model_io import model_from_checkpoint
    from hpo.export.onnx_export import export_verified_onnx
    from hpo.export.onnx_io import INPUT_NAME, OPSET
    from hpo.export.standalone import with_normalization

    settings = current_settings()
    configure_threads(settings.num_threads, settings.workers_per_host)  # HPO_NUM_THREADS: latency depends on the thread count
    checkpoint = load_checkpoint(out)
    model = model_from_checkpoint(checkpoint)
    meta = {**checkpoint["meta"], "sha256": checkpoint["sha256"]}
    parity, session = export_verified_onnx(model, meta, onnx_path)
    click.echo(f"wrote {onnx_path} (ONNX opset {OPSET}, input {INPUT_NAME!r}: float32 [0, 1] pixels, NCHW, "
               "dynamic batch; normalization in the graph, classes in its metadata)")
    click.echo(f"  parity with PyTorch: {parity.describe()}")
    # The graph normalizes its input, so time the eager model with the same step.
    rows = compare_latency(with_normalization(model, meta), session, meta["input_shape"], repeats=repeats)
    click.echo(f"\nlatency on the CPU, median of {repeats} runs, {torch.get_num_threads()} thread(s)")
    click.echo(table(["batch", "pytorch eager ms", "onnxruntime ms", "speedup"],
                     [[r.batch, round(r.eager_ms, 4), round(r.onnx_ms, 4), f"{r.speedup:.2f}x"] for r in rows]))


@click.command("export")
@click.argument("study")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where to write the checkpoint (.pt).")
@click.option("--onnx", "onnx_path", type=click.Path(dir_okay=False), default=None,
              help="Also write an ONNX file, verified against onnxruntime on the test split.")
@click.option("--program", "program_path", type=click.Path(dir_okay=False), default=None,
              help="Where to write the PyTorch program for plain torch (torch.export). Default: --out with suffix .pt2.")
@click.option("--no-program", is_flag=True, help="Write no PyTorch program.")
@click.option("--trial", "trial_number", type=int, default=None, help="Export this trial instead of the best (any Pareto trial).")
@click.option("--retrain", is_flag=True, help="Retrain the trial's configuration on train+val, test it once, export that model.")
@click.option("--device", envvar="HPO_DEVICE", default="cpu", show_default=True, help="Device for --retrain.")
@click.option("--latency-repeats", type=click.IntRange(min=1), default=50, show_default=True, help="Timed runs per latency cell.")
@storage_option
@artifacts_option
def export_cmd(study: str, out: str, onnx_path: str | None, program_path: str | None, no_program: bool, trial_number: int | None, retrain: bool, device: str,
               latency_repeats: int, storage: str | None, artifacts: str | None) -> None:
    """Write the best trial of STUDY as a sealed checkpoint, a PyTorch program (and an ONNX file).

    The checkpoint (--out) is for hpo: `hpo.load_model(PATH)`, `hpo evaluate`, `hpo predict`.
    The program (.pt2) and the ONNX file stand alone: they take float32 pixels in [0, 1], NCHW,
    normalize them inside, and load with plain torch or onnxruntime (README: "Use the model
    without hpo").
    """
    check_out(out, "--out")
    if onnx_path:
        check_out(onnx_path, "--onnx")
    loaded = load_study(study, open_storage(storage, must_exist=True))
    trial = pick_trial(loaded, trial_number)
    if retrain:
        _export_retrained(loaded, trial, out, device)
    else:
        _export_search_weights(loaded, trial, out, artifacts)
    if not no_program:
        program = program_path or str(Path(out).with_suffix(".pt2"))
        if Path(program).resolve() == Path(out).resolve():
            raise UsageError(f"--program {program!r} is the checkpoint's own path; give --program another file")
        _export_program(out, program)
    if onnx_path:
        _export_onnx(out, onnx_path, latency_repeats)
    click.echo(f"\ntest it once with: hpo evaluate {onnx_path or out} --split test")
