"""The trial lifecycle: one package owns how a trial is stored, claimed, scheduled, run and ended.

This module is the package's public surface: code outside ``hpo/trials/`` imports from
``hpo.trials`` only (tests/test_layers.py checks it).

- :class:`TrialQueue` (queue.py): a study's trials as a work queue; owns the storage handle,
  and is the scheduler's backend (claims, and the view a scheduler reads).
- :class:`Lease` (lease.py): one claimed trial; report, record, finish, pause, hand back. It
  holds a narrow :class:`StorageHandle` (handle.py), never the queue.
- scheduling/: the policies. At each epoch boundary a :class:`Scheduler` returns a
  :class:`Decision`; it also orders where claims look and says what an idle worker does.
- :class:`WorkerIdentity` (identity.py): who a worker is; its name, sampler seed, GPU.
- records.py: the keys of a trial record and the stored model's metadata, typed.
- budget.py: counting logical trials against the budget; slots.py: making the budget.
- history.py: the WAITING-free, bounded view of the study the sampler and pruner read.
- storage.py: storage URLs and opening them.
- _retry.py, _heartbeat.py, _optuna.py: private; the last is the only module of hpo that
  touches Optuna's private API (contract tests: tests/trials/test_optuna_contract.py).

docs/architecture.md draws the states a trial moves through and who moves it.
"""

from hpo.trials._retry import Retrier, StudyDeleted, is_transient
from hpo.trials.budget import CLAIMS_MARKED, Progress, logical_trials, superseded_numbers
from hpo.trials.handle import StorageHandle
from hpo.trials.diagnostics import study_store, trial_diagnostics, write_curves_file
from hpo.trials.history import HISTORIES, HistoryPruner, HistorySampler
from hpo.trials.identity import WorkerIdentity
from hpo.trials.inspect import study_database_id
from hpo.trials.lease import Lease, LeaseLost
from hpo.trials.notes import artifact_url, save_trial_note, trial_note
from hpo.trials.queue import TrialQueue
from hpo.trials.records import METRIC_KEYS, ModelMeta, TrialKeys, TrialSetup
from hpo.trials.scheduling import (
    SCHEDULERS, Action, Decision, EpochEnd, Idle, Scheduler, Source, StudyView, make_scheduler, register,
)
from hpo.trials.scheduling import check as check_scheduler
from hpo.trials.scheduling import final_share_default
from hpo.trials.promotion import PROMOTE
from hpo.trials.slots import add_waiting_slots
from hpo.trials.storage_errors import driver_reason, is_permanent
from hpo.trials.storage import (
    INTERACTIVE_WAIT_S, StorageMissing, check_writable, load_study, mask_url, open_storage, resolve_url, undo_study,
)

__all__ = [
    "CLAIMS_MARKED", "artifact_url", "save_trial_note", "trial_note", "study_store", "trial_diagnostics", "write_curves_file",
    "HISTORIES", "METRIC_KEYS", "SCHEDULERS", "Action", "Decision", "EpochEnd", "HistoryPruner", "HistorySampler",
    "Idle", "Lease", "LeaseLost", "ModelMeta", "Progress", "Retrier", "Scheduler", "Source", "StorageHandle",
    "StorageMissing", "StudyDeleted", "StudyView", "TrialKeys", "TrialQueue", "TrialSetup", "WorkerIdentity", "add_waiting_slots",
    "INTERACTIVE_WAIT_S", "PROMOTE", "check_scheduler", "check_writable", "driver_reason", "is_permanent", "final_share_default", "is_transient", "load_study", "logical_trials", "make_scheduler",
    "mask_url", "open_storage", "register", "resolve_url", "study_database_id", "superseded_numbers", "undo_study",
]
