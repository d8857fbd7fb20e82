"""The promotion policy of asynchronous successive halving, pure."""

from __future__ import annotations

import pytest

from hpo.errors import UsageError
from hpo.trials.promotion import RungRecord, Rungs, promotable


def test_rungs_grow_by_eta_and_end_at_the_study_epochs() -> None:
    assert Rungs.geometric(27).epochs == (1, 3, 9, 27)
    assert Rungs.geometric(20).epochs == (1, 3, 9, 20)
    assert Rungs.geometric(1).epochs == (1,)
    assert Rungs.geometric(16, eta=2, min_epochs=2).epochs == (2, 4, 8, 16)
    assert Rungs.geometric(27).is_pause_point(9) and not Rungs.geometric(27).is_pause_point(27)
    with pytest.raises(UsageError, match="eta is 1"):
        Rungs.geometric(9, eta=1)


RUNGS = Rungs.geometric(9)  # 1, 3, 9


def test_nothing_is_promotable_until_a_rung_holds_eta_trials() -> None:
    two = [RungRecord(0, {1: 0.9}, paused_at=1), RungRecord(1, {1: 0.5}, paused_at=1)]
    assert promotable(two, RUNGS, maximize=True) == []
    three = [*two, RungRecord(2, {1: 0.7}, paused_at=1)]
    assert promotable(three, RUNGS, maximize=True) == [0]


def test_only_the_top_third_of_a_rung_counting_running_and_finished_trials() -> None:
    trials = [
        RungRecord(0, {1: 0.60}, paused_at=1),
        RungRecord(1, {1: 0.90, 3: 0.91}),  # promoted already and running on: counts at rung 1
        RungRecord(2, {1: 0.80}, paused_at=1),
        RungRecord(3, {1: 0.70}, paused_at=1),
        RungRecord(4, {1: 0.50}, paused_at=1),
        RungRecord(5, {1: 0.40}, paused_at=1),
    ]
    # 6 reached rung 1: the top 2 are trials 1 (running) and 2 (paused): only 2 may go on.
    assert promotable(trials, RUNGS, maximize=True) == [2]
    assert promotable(trials, RUNGS, maximize=False) == [5, 4]  # for a loss, lower is better


def test_higher_rungs_are_promoted_first() -> None:
    trials = [RungRecord(n, {1: 0.5 + n / 100}, paused_at=1) for n in range(6)]
    trials += [RungRecord(10 + n, {1: 0.9, 3: 0.9 - n / 100}, paused_at=3 if n == 0 else None) for n in range(3)]
    assert promotable(trials, RUNGS, maximize=True)[0] == 10


def test_a_trial_that_trained_to_the_top_is_never_a_candidate() -> None:
    trials = [RungRecord(n, {1: 0.5, 3: 0.6, 9: 0.7}) for n in range(9)]
    assert promotable(trials, RUNGS, maximize=True) == []
