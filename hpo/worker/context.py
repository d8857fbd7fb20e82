"""What a worker holds for its whole life: its queue, identity, settings, data and device."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from hpo.config import StudyConfig
from hpo.core_share import CoreShare
from hpo.data.splits import Splits
from hpo.settings import Settings
from hpo.spaces import SearchSpace
from hpo.trials import TrialQueue, WorkerIdentity
from hpo.worker.checkpoints import CheckpointPolicy
from hpo.worker.signals import StopFlag


@dataclass
class WorkerContext:
    queue: TrialQueue
    identity: WorkerIdentity
    settings: Settings
    space: SearchSpace
    splits: Splits  # decoded once, reused by every trial of this worker
    device: torch.device
    artifact_store: Any
    stop: StopFlag
    checkpoint_policy: CheckpointPolicy = field(default_factory=CheckpointPolicy)
    cores: CoreShare | None = None  # this worker's share of its host's cores, set per trial

    @property
    def config(self) -> StudyConfig:
        return self.queue.config

    @property
    def name(self) -> str:
        """This worker's name in logs."""
        return self.identity.name
