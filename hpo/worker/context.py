"""What a worker holds for its whole life: its queue, identity, settings, data and device."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from hpo import data
from hpo.config import StudyConfig
from hpo.core_share import CoreShare
from hpo.data.base import ImageData
from hpo.data.splits import Splits
from hpo.settings import Settings
from hpo.spaces import SearchSpace
from hpo.trials import TrialQueue, WorkerIdentity
from hpo.worker.checkpoints import CheckpointPolicy
from hpo.worker.signals import StopFlag


def study_splits(config: StudyConfig, images: ImageData, device: torch.device, final_run: bool) -> Splits:
    """The study's validation split and the training images a search trial, or the final run, trains on."""
    return data.make_splits(images, val_fraction=config.val_fraction, seed=config.seed, device=device,
                            train_subset=config.train_subset_for(final_run), val_subset=config.val_subset)


@dataclass
class WorkerContext:
    queue: TrialQueue
    identity: WorkerIdentity
    settings: Settings
    space: SearchSpace
    splits: Splits  # the search's splits, decoded once, reused by every search trial of this worker
    device: torch.device
    artifact_store: Any
    stop: StopFlag
    checkpoint_policy: CheckpointPolicy = field(default_factory=CheckpointPolicy)
    cores: CoreShare | None = None  # this worker's share of its host's cores, set per trial
    # The decoded data set, for splits other than the search's (a final run's, with every
    # training image); None: every trial trains on ``splits``.
    images: ImageData | None = None
    _final_splits: Splits | None = field(default=None, init=False, repr=False)

    @property
    def config(self) -> StudyConfig:
        return self.queue.config

    def splits_for(self, final_run: bool) -> Splits:
        """The splits a trial trains on: the search's, or for a final run of a study that
        searched on a subset, every training image (StudyConfig.train_subset_for). Made on
        first use, once: only the worker that trains a final run pays for it."""
        subset = self.config.train_subset_for(final_run)
        if subset == self.config.train_subset or self.images is None:
            return self.splits
        if self._final_splits is None:  # only a final run's subset can differ from the search's
            self._final_splits = study_splits(self.config, self.images, self.device, final_run)
        return self._final_splits

    @property
    def name(self) -> str:
        """This worker's name in logs."""
        return self.identity.name
