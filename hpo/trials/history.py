"""What the sampler and pruner read: the study's trials without its WAITING slots, bounded.

Two costs grow with a study when its sampler and pruner read trials through Optuna's
``_CachedStorage``:

- hpo pre-creates the whole budget as WAITING trials (exact admission, hpo.studies.create).
  The cache re-reads every unfinished trial on every read, so each sample and each report
  fetched all remaining WAITING slots with their attrs: ~0.9 s per read at 1,000 slots here.
- TPE's cost grows with the number of finished trials it models.

:class:`TrialHistory` reads only non-WAITING trials from the database (a SQL filter), and
only those that may have changed since the last read: everything from the oldest trial
that is still WAITING or RUNNING onwards. :class:`HistorySampler` and :class:`HistoryPruner`
hand the wrapped Optuna sampler and pruner a view of the study backed by it. The sampler
additionally sees at most ``max_trials`` finished trials: the best ones (TPE's "good" set is at
most 25 trials, so it is unchanged) plus the most recent. The pruner sees all of them, so
ASHA's rungs compare against every trial, as in plain Optuna.

Only the sampler and pruner read through this; claiming and progress keep reading the storage.
"""

from __future__ import annotations

import copy
import heapq
import threading
from collections.abc import Callable, Container, Sequence
from typing import Any, cast

import optuna
from optuna.storages import RDBStorage
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from hpo.trials._optuna import oldest_open_trial_id, rdb_backend, read_trials, study_id, trial_id, trial_states_above

NOT_WAITING = (TrialState.RUNNING, TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
DEFAULT_MAX_TRIALS = 1000  # the sampler's history bound; 8.5x slower TPE at 10,000 trials without it
BEST_SHARE = 0.2  # of the bound, kept for the best trials; the rest for the most recent


class TrialHistory:
    """An incremental, WAITING-free copy of one study's trials (thread-safe)."""

    def __init__(self, study: optuna.Study, backend: RDBStorage) -> None:
        self._study_db_id = study_id(study)
        self._backend = backend
        self._trials: dict[int, FrozenTrial] = {}  # by trial id
        self._covered = -1  # every trial with an id up to this one is finished and in _trials
        self._lock = threading.Lock()

    def refresh(self) -> list[FrozenTrial]:
        """Fetch what may have changed; returns every non-WAITING trial, by number."""
        with self._lock:
            with self._backend.engine.connect() as conn:
                # The oldest WAITING or RUNNING trial, read first: below it, nothing can change any more.
                oldest = oldest_open_trial_id(conn, self._study_db_id)
                states = trial_states_above(conn, self._study_db_id, self._covered, NOT_WAITING)  # ids only
            # Only new trials and running ones (new reports, attrs) need their full rows.
            changed = {
                i for i, state in states
                if i not in self._trials or state == TrialState.RUNNING or self._trials[i].state != state
            }
            if changed:
                # "ids in changed, or above the newest id seen": exactly the changed rows.
                newest = max(i for i, _state in states)
                for trial in read_trials(self._backend, self._study_db_id, NOT_WAITING, changed, newest):
                    self._trials[trial_id(trial)] = trial
            # Every trial up to here is now finished and known; later reads start above it.
            self._covered = oldest - 1 if oldest is not None else max(self._trials, default=-1)
            return sorted(self._trials.values(), key=lambda t: t.number)


class _StudyView:
    """A Study whose trial listings come from a :class:`TrialHistory`; all else is the study's.

    ``trials`` may be a callable, read on the first listing only: ASHA lists trials only at a
    rung's epoch, so most ``should_prune`` calls then read nothing.
    """

    def __init__(self, study: optuna.Study, trials: Sequence[FrozenTrial] | Callable[[], Sequence[FrozenTrial]]) -> None:
        self._view_study = study
        self._view_source = trials
        self._view_trials: list[FrozenTrial] | None = None if callable(trials) else list(trials)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._view_study, name)

    def get_trials(self, deepcopy: bool = True, states: Container[TrialState] | None = None) -> list[FrozenTrial]:
        return self._get_trials(deepcopy, states)

    def _get_trials(
        self, deepcopy: bool = True, states: Container[TrialState] | None = None, use_cache: bool = False
    ) -> list[FrozenTrial]:
        if self._view_trials is None:
            assert callable(self._view_source)
            self._view_trials = list(self._view_source())
        trials = [t for t in self._view_trials if states is None or t.state in states]
        return copy.deepcopy(trials) if deepcopy else trials

    @property
    def trials(self) -> list[FrozenTrial]:
        return self._get_trials(deepcopy=True)


def _sort_key(trial: FrozenTrial) -> float:
    """Larger is better, for one objective; complete trials rank by value, pruned ones last."""
    if trial.state == TrialState.COMPLETE and trial.values:
        return trial.values[0]
    return float("-inf")


def bounded(trials: list[FrozenTrial], max_trials: int, direction: StudyDirection) -> list[FrozenTrial]:
    """At most ``max_trials`` finished trials (the best, then the most recent), plus all running ones."""
    finished = [t for t in trials if t.state.is_finished()]
    if len(finished) <= max_trials:
        return trials
    sign = 1.0 if direction == StudyDirection.MAXIMIZE else -1.0
    n_best = int(max_trials * BEST_SHARE)
    best = heapq.nlargest(n_best, finished, key=lambda t: sign * _sort_key(t))
    chosen = {trial_id(t) for t in best}
    recent = [t for t in reversed(finished) if trial_id(t) not in chosen][: max_trials - len(chosen)]
    chosen.update(trial_id(t) for t in recent)
    return [t for t in trials if not t.state.is_finished() or trial_id(t) in chosen]


class Histories:
    """One TrialHistory per (database, study), shared by a worker's sampler and pruner."""

    def __init__(self) -> None:
        self._by_study: dict[tuple[str, int], TrialHistory] = {}
        self._lock = threading.Lock()

    def trials(self, study: optuna.Study) -> list[FrozenTrial] | None:
        backend = rdb_backend(study)
        if backend is None:
            return None  # in-memory or journal storage: Optuna's own reads are fine
        key = (str(backend.engine.url), study_id(study))
        with self._lock:
            history = self._by_study.get(key)
            if history is None:
                history = self._by_study[key] = TrialHistory(study, backend)
        return history.refresh()


HISTORIES = Histories()  # per process: every worker in it shares the fetched trials


class HistorySampler(optuna.samplers.BaseSampler):
    """Runs ``base`` on a WAITING-free view of the study holding at most ``max_trials`` finished trials."""

    def __init__(self, base: optuna.samplers.BaseSampler, histories: Histories, max_trials: int = DEFAULT_MAX_TRIALS) -> None:
        self.base, self._histories, self.max_trials = base, histories, max_trials
        self._last: tuple[int, Any] | None = None  # (trial id, view): one read per sampled trial

    def _view(self, study: optuna.Study, trial: FrozenTrial) -> Any:
        if self._last is not None and self._last[0] == trial_id(trial):
            return self._last[1]
        trials = self._histories.trials(study)
        if trials is None:
            return study
        if len(study.directions) == 1:
            trials = bounded(trials, self.max_trials, study.direction)
        view = _StudyView(study, trials)
        self._last = (trial_id(trial), view)
        return view

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, Any]:
        return self.base.infer_relative_search_space(self._view(study, trial), trial)

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, Any]) -> dict[str, Any]:
        return self.base.sample_relative(self._view(study, trial), trial, search_space)

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str, param_distribution: Any) -> Any:
        return self.base.sample_independent(self._view(study, trial), trial, param_name, param_distribution)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self.base.before_trial(study, trial)

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None) -> None:
        self.base.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self.base.reseed_rng()


class HistoryPruner(optuna.pruners.BasePruner):
    """Runs ``base`` on a WAITING-free view of the study (all finished trials, unbounded)."""

    def __init__(self, base: optuna.pruners.BasePruner, histories: Histories) -> None:
        self.base, self._histories = base, histories

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        if rdb_backend(study) is None:
            return self.base.prune(study, trial)  # in-memory or journal storage: Optuna's reads are fine
        # The view stands in for the Study (it delegates all but the trial listings), as the
        # sampler's does.
        view = cast(optuna.Study, _StudyView(study, lambda: self._histories.trials(study) or []))
        return self.base.prune(view, trial)
