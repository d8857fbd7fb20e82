"""Fast bulk insertion of finished trials, to give a study a long history for benchmarks.

``study.add_trials`` commits each trial separately (~50 ms each on PostgreSQL here, so 10,000
trials would take 9 minutes); this writes them through Optuna's own ORM models in one
transaction. The trials look like finished `sleep`-space trials: params x and variant, 10
intermediate values, ASHA's completed-rung marks, and a value for the complete ones.
"""

from __future__ import annotations

import datetime
import json
import random

import optuna
from optuna.distributions import distribution_to_json
from optuna.storages._rdb import models
from optuna.trial import TrialState

from hpo.trials._optuna import insert_waiting_trials, rdb_backend, study_id
from search_spaces.sleep import SPACE, score

RUNGS = (1, 3, 9)  # ASHA with min_resource 1 and reduction factor 3: rungs at these steps


def add_history(study: optuna.Study, n: int, epochs: int = 10, seed: int = 0) -> None:
    """Append ``n`` finished trials (a third of them pruned at a rung) to ``study``."""
    backend = rdb_backend(study)
    rng = random.Random(seed)
    dists = {p.name: p.distribution for p in SPACE.params}
    dist_json = {name: distribution_to_json(d) for name, d in dists.items()}
    first = len(study.get_trials(deepcopy=False))
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    session = backend.scoped_session()
    try:
        for i in range(n):
            params = {"x": rng.random(), "variant": rng.choice(["wide", "narrow"])}
            pruned = rng.random() < 1 / 3
            last = rng.choice(RUNGS[:2]) if pruned else epochs
            curve = {e: score(params) * (1 - 0.5**e) for e in range(1, last + 1)}
            trial = models.TrialModel(number=first + i, study_id=study_id(study),
                                      state=TrialState.PRUNED if pruned else TrialState.COMPLETE)
            trial._datetime_start_utc = now
            trial._datetime_complete_utc = now
            trial.params = [
                models.TrialParamModel(param_name=k, distribution_json=dist_json[k],
                                       param_value=dists[k].to_internal_repr(v))
                for k, v in params.items()
            ]
            trial.intermediate_values = [
                models.TrialIntermediateValueModel(step=e, intermediate_value=v,
                                                   intermediate_value_type=models.TrialIntermediateValueModel.TrialIntermediateValueType.FINITE)
                for e, v in curve.items()
            ]
            trial.system_attributes = [
                models.TrialSystemAttributeModel(key=f"completed_rung_{r}", value_json=json.dumps(curve[step]))
                for r, step in enumerate(RUNGS) if step in curve
            ]
            if not pruned:
                trial.values = [models.TrialValueModel(objective=0, value=curve[epochs],
                                                       value_type=models.TrialValueModel.TrialValueType.FINITE)]
            session.add(trial)
        session.commit()
    finally:
        session.close()


def add_waiting(study: optuna.Study, n: int) -> None:
    """Append ``n`` WAITING slots, as ``hpo study create --trials`` makes them, in one transaction."""
    insert_waiting_trials(rdb_backend(study), study_id(study), len(study.get_trials(deepcopy=False)), n)
