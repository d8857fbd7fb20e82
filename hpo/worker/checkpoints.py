"""A trial's resumable checkpoints: when to take one, how to store it, how a retry finds it.

A checkpoint (model, optimizer, scheduler, phase and RNG state) costs a state-dict save, an
artifact upload and one commit: ~10 ms for a small CNN here, seconds for a ResNet with its
optimizer state. The worker takes one at an epoch's end when the training it protects (the
time since the previous checkpoint) is at least ``HPO_CHECKPOINT_RATIO`` times (default 20)
what the last checkpoint cost. So checkpoints take at most ~5 % of a worker's time, and for
real training (epochs of seconds against checkpoints of milliseconds) that means after every
epoch: a retry resumes at the next one. Only epochs far shorter than a checkpoint, such as the
``sleep`` space's benchmark trials, skip some. ``HPO_CHECKPOINT_RATIO=0`` checkpoints every epoch.

None is taken after the last epoch (the final model is stored instead) or when the trial is
pruned; a stopping worker always takes one, because another worker resumes from it. Once a
trial is complete or pruned, its last checkpoint is deleted (its id stays in the user attrs).
The pointer and its epoch are trial-record keys (hpo.trials.records.TrialKeys).
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from hpo import artifacts
from hpo.checkpoint import Unreadable, atomic_save, safe_load
from hpo.settings import Settings
from hpo.training import TrainState
from hpo.trials import Lease, TrialKeys

log = logging.getLogger("hpo.worker")


class CheckpointPolicy:
    """Decides whether an epoch's end is worth a checkpoint; lives as long as the worker.

    The cost is measured on each checkpoint and carried to the next trial (same space, similar
    models), so a worker measures it once and short trials then never pay for it.
    """

    def __init__(self, ratio: float = Settings.checkpoint_ratio) -> None:
        self.ratio = ratio  # HPO_CHECKPOINT_RATIO
        self.cost: float | None = None  # seconds the last checkpoint took; None before the first

    def due(self, trained_seconds: float) -> bool:
        if self.ratio == 0 or self.cost is None:
            return True
        return trained_seconds >= self.ratio * self.cost


class TrialCheckpoints:
    """Writes one trial attempt's checkpoints and keeps only the newest in the store."""

    def __init__(self, store: Any, lease: Lease, policy: CheckpointPolicy) -> None:
        self.store, self.lease, self.policy = store, lease, policy
        self.latest_id: str | None = lease.user_attrs.get(TrialKeys.RESUME)  # the previous attempt's, if any
        self.since = time.monotonic()  # training since the last checkpoint is what a crash loses

    def maybe_save(self, state: TrainState) -> bool:
        if not self.policy.due(time.monotonic() - self.since):
            return False
        self.save(state)
        return True

    def save(self, state: TrainState) -> None:
        started = time.monotonic()
        lease = self.lease
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"trial{lease.number}-epoch{state.epoch}.pt"
            atomic_save(state.state_dict(), path)
            new_id = lease.store_file(self.store, str(path))
        # Pointer and epoch in one commit, so a retry never sees one without the other.
        lease.record({TrialKeys.RESUME: new_id, TrialKeys.RESUME_EPOCH: state.epoch})
        old_id, self.latest_id = self.latest_id, new_id
        if old_id:
            artifacts.remove_quietly(self.store, old_id)
        self.since = time.monotonic()
        self.policy.cost = self.since - started


def discard(store: Any, lease: Lease) -> None:
    """Delete a finished trial's last checkpoint: a finished trial is never resumed."""
    artifact_id = lease.user_attrs.get(TrialKeys.RESUME)
    if artifact_id:
        artifacts.remove_quietly(store, artifact_id)


def load_resume_state(store: Any, lease: Lease) -> dict[str, Any] | None:
    """The checkpoint a previous attempt of this trial left, if any (retries copy user attrs)."""
    artifact_id = lease.user_attrs.get(TrialKeys.RESUME)
    if not artifact_id:
        return None
    try:
        path = artifacts.download_to_temp(store, artifact_id)
    except Exception as exc:
        log.warning("[%s] trial %d: cannot fetch its checkpoint (%s); starting over", lease.identity.name, lease.number, exc)
        return None
    try:
        return safe_load(path, "resume checkpoint")
    except Unreadable as exc:  # its reason, not the temporary file's name or advice to re-export
        log.warning("[%s] trial %d: its resume checkpoint (artifact %s) is %s; training it from epoch 1",
                    lease.identity.name, lease.number, artifact_id, exc.reason)
        return None
    except Exception as exc:
        log.warning("[%s] trial %d: its resume checkpoint (artifact %s) cannot be read (%s); training it "
                    "from epoch 1", lease.identity.name, lease.number, artifact_id, exc)
        return None
    finally:
        path.unlink(missing_ok=True)
