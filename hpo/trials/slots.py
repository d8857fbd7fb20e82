"""Budget slots: a study's exact budget, made as WAITING trials that workers claim.

``study.add_trials`` commits each trial on its own (~35 ms each on PostgreSQL, 6 minutes for
a budget of 10,000); this makes them in one transaction. The caller guarantees that nothing
else numbers trials meanwhile (no worker uses a study before its marker is set). Slots may
carry fixed params (a grid's cells, one per slot), as ``study.enqueue_trial`` stores them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import optuna
from optuna.trial import TrialState, create_trial

from hpo.trials import _optuna


def add_waiting_slots(study: optuna.Study, n: int, fixed_params: Sequence[Mapping[str, Any]] | None = None) -> None:
    """``n`` WAITING trials (or one per ``fixed_params`` entry), in one transaction."""
    backend = _optuna.rdb_backend(study)
    if backend is None:
        cells = list(fixed_params) if fixed_params is not None else [None] * n
        study.add_trials([create_trial(state=TrialState.WAITING, system_attrs={"fixed_params": dict(c)} if c else {})
                          for c in cells])
        return
    _optuna.insert_waiting_trials(backend, _optuna.study_id(study), len(study.get_trials(deepcopy=False)), n, fixed_params)
