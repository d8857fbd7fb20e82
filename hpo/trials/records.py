"""The trial record: every key hpo writes on a trial, and the stored model's metadata, typed.

Workers write these; ``hpo study show``, the report, export and retrain read them. One
definition here means a reader never imports the worker to know a key, and a renamed key is
one edit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Final


class TrialKeys:
    """User-attr keys of a trial (plain strings, so Optuna's CLI and dashboard show them)."""

    FAIL_REASON: Final = "fail_reason"  # why a trial failed, was pruned for NaN, or was handed back
    MODEL: Final = "model_artifact_id"  # the final weights (a ModelMeta checkpoint) in the artifact store
    RESUME: Final = "resume_artifact_id"  # the newest resumable checkpoint of an unfinished trial
    RESUME_EPOCH: Final = "resume_epoch"  # the epoch that checkpoint ends
    RESUMED_FROM: Final = "resumed_from_epoch"
    TRAIN_CONFIG: Final = "train_config"  # hpo.training.TrainConfig.to_dict(): what retrain reruns
    WORKER: Final = "worker"  # the WorkerIdentity name of the attempt's worker
    SAMPLER_SEED: Final = "sampler_seed"
    # The validation images the attempt's metrics are measured on (TrialSetup): the noise of a
    # validation accuracy, which decides a tie with the warm start (hpo.trials.final_run).
    VAL_IMAGES: Final = "val_images"
    # The training images the attempt trains on (TrialSetup): the search's subset, or every one
    # for a final run (StudyConfig.train_subset_for); what a retrain trains on again.
    TRAIN_IMAGES: Final = "train_images"
    PRECISION: Final = "precision"  # fp32 | bf16 | fp16: what the attempt trained in (TrialSetup)
    # Keys inside the trial's curves file (hpo.trials.diagnostics); user attrs of older trials.
    GRAD_NORMS: Final = "grad_norms_epoch1"  # per-layer gradient norms of the first epoch
    LOSS_CURVES: Final = "loss_curves"  # {"epoch": [...], "train_loss": [...], "val_loss": [...]}
    CURVES: Final = "curves_artifact_id"  # that JSON file, listed with the trial
    LOSS_PLOT: Final = "loss_plot_artifact_id"  # the loss-curve PNG its dashboard note shows
    # Set on a trial that was waiting (paused at a rung, or a retry) when the time budget ran
    # out, and was then ended with the epochs it had reached, without training further.
    ENDED_AT_DEADLINE: Final = "ended_at_deadline"
    # Wall seconds per epoch of the attempt so far (training and validation), written when it
    # pauses, is handed back or ends: what the final run (hpo.trials.final_run) is sized by.
    SECONDS_PER_EPOCH: Final = "seconds_per_epoch"
    # On the final run: its epochs (it trains this many, not the study's --epochs) and the
    # trial whose configuration it trains.
    FINAL_EPOCHS: Final = "final_run_epochs"
    FINAL_OF: Final = "final_run_of"
    # The final run's timeline (Unix seconds): its learning rate follows the clock from the
    # start to the end (hpo.training.budget), and a retry resumes on the same timeline.
    FINAL_STARTS: Final = "final_run_starts"
    FINAL_ENDS: Final = "final_run_ends"
    # The size knobs the final run grew ({param: value}; {}: none), chosen once by its first
    # attempt from measured paces (hpo.spaces.sizing). Kept apart from the trial's params,
    # which Optuna holds to the searched ranges; export and retrain read the grown model from
    # the stored train_config.
    FINAL_SIZE: Final = "final_run_size"
    # The lane (a host's cores, or one GPU: WorkerIdentity.lane) whose run it is: the lane's
    # standing-by workers resume it if its worker dies (hpo.trials.final_phase).
    FINAL_LANE: Final = "final_run_lane"
    FINAL_PACE: Final = "final_run_seconds_per_epoch"  # the chosen size's measured pace
    FINAL_THREADS: Final = "final_run_threads"  # the threads it ended with (seats taken since it began)
    # How the trial's model is run at test time ("flip": averaged with the mirror view; "none"),
    # chosen on validation (hpo.training.test_time), and the mirror view's validation accuracy.
    TEST_TIME: Final = "test_time_augment"
    VAL_ACCURACY_FLIP: Final = "val_accuracy_flip"
    # On a slot of a seeded grid (`hpo study create --seeds N`): which of the N repeats of its
    # configuration it is. The k-th repeat of every cell trains with the same seed, so compared
    # configurations are paired seed by seed (hpo.report.replicates).
    REPLICATE: Final = "replicate"


# Final metrics a completed trial records, in the order tables show them.
METRIC_KEYS: tuple[str, ...] = (
    "val_accuracy", "val_loss", "val_precision", "val_recall", "val_f1", "val_mcc", "val_roc_auc",
    "n_params", "latency_ms", "train_seconds", "epochs_trained",
)


@dataclass(frozen=True)
class TrialSetup:
    """What an attempt trains with, written in one commit when it starts."""

    seed: int
    device: str
    threads: int
    worker: str
    sampler_seed: int | None
    versions: dict[str, str]
    train_config: dict[str, Any]
    resumed_from_epoch: int | None = None
    # fp32 | bf16 | fp16, as resolved on this device; an HPO_PRECISION override is also in
    # train_config (its "precision"), so a retrain trains in the same one.
    precision: str | None = None
    val_images: int | None = None
    train_images: int | None = None  # TrialKeys.TRAIN_IMAGES

    def to_attrs(self) -> dict[str, Any]:
        attrs = dataclasses.asdict(self)
        if self.resumed_from_epoch is None:
            del attrs[TrialKeys.RESUMED_FROM]
        return attrs


@dataclass(frozen=True)
class ModelMeta:
    """The metadata stored beside a trial's final weights; everything needed to rebuild it."""

    model: dict[str, Any]  # the architecture spec hpo.models.build_model takes
    train_config: dict[str, Any]
    params: dict[str, Any]
    dataset: str
    input_shape: list[int]
    num_classes: int
    classes: list[str]
    normalization: dict[str, Any]
    metrics: dict[str, Any]
    history: list[dict[str, Any]]
    versions: dict[str, str]
    study: str
    trial: int
    study_config: dict[str, Any]
    # hpo.models.test_time's mode, applied by whoever loads the weights (hpo.export.model_io).
    test_time_augment: str = "none"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
