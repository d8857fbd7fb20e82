"""What a worker holds for its whole life: the study, its config, decoded data, the device."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import optuna
import torch

from hpo.config import StudyConfig
from hpo.data.splits import Splits
from hpo.spaces import SearchSpace
from hpo.worker.checkpoints import CheckpointPolicy
from hpo.worker.signals import StopFlag


@dataclass
class WorkerContext:
    study: optuna.Study
    storage: optuna.storages.RDBStorage
    config: StudyConfig
    space: SearchSpace
    splits: Splits  # decoded once, reused by every trial of this worker
    device: torch.device
    artifact_store: Any
    stop: StopFlag
    worker_id: str
    checkpoint_policy: CheckpointPolicy = field(default_factory=CheckpointPolicy)
