"""The trial lifecycle: one package owns how a trial is stored, claimed, run and ended.

- :class:`TrialQueue` (queue.py): a study's trials as a work queue; owns the storage handle.
- :class:`Lease` (lease.py): one claimed trial; report, record, finish, hand back.
- :class:`WorkerIdentity` (identity.py): who a worker is; its name, sampler seed, GPU.
- records.py: the keys of a trial record and the stored model's metadata, typed.
- budget.py: counting logical trials against the budget; slots.py: making the budget.
- history.py: the WAITING-free, bounded view of the study the sampler and pruner read.
- storage.py: storage URLs and opening them.
- _retry.py, _heartbeat.py, _optuna.py: private; the last is the only module of hpo that
  touches Optuna's private API (contract tests: tests/trials/test_optuna_contract.py).

docs/architecture.md draws the states a trial moves through and who moves it.
"""

from hpo.trials._retry import Retrier, is_transient
from hpo.trials.identity import WorkerIdentity
from hpo.trials.lease import Lease, LeaseLost, StudyDeleted
from hpo.trials.queue import TrialQueue
from hpo.trials.records import METRIC_KEYS, ModelMeta, TrialKeys, TrialSetup

__all__ = [
    "METRIC_KEYS", "Lease", "LeaseLost", "ModelMeta", "Retrier", "TrialKeys", "TrialQueue", "TrialSetup",
    "StudyDeleted", "WorkerIdentity", "is_transient",
]
