"""The final run's policy (hpo.trials.final_run): when, which configuration, how many epochs."""

from __future__ import annotations

from hpo.trials.final_run import (
    END_MARGIN_SHARE, SAFETY, Candidate, Result, choose, due, ends_at, epochs_for, last_lead, noise, plan, ranked,
    stalled,
)


def _c(number: int, values: dict[int, float], pace: float | None = 10.0) -> Candidate:
    return Candidate(number, {"width": number}, values, pace)


def test_due_once_the_time_left_falls_to_the_share() -> None:
    assert not due(3600, 1801, 0.5)
    assert due(3600, 1800, 0.5)
    assert due(3600, 10, 0.5)
    assert not due(3600, 0, 0.5)  # spent: nothing starts any more
    assert not due(3600, 10, 0.0)  # off


def test_the_best_of_the_trials_that_trained_longest_wins() -> None:
    # Trial 2 scores best at epoch 1, but 1 and 3 trained to the third rung: evidence wins.
    cands = [_c(1, {1: 0.70, 3: 0.80}), _c(2, {1: 0.90}), _c(3, {1: 0.60, 3: 0.85})]
    assert choose(cands, maximize=True).number == 3
    assert choose(cands, maximize=False).number == 1  # a loss: the lowest


def test_a_trial_without_a_measured_pace_cannot_be_sized_and_is_left_out() -> None:
    assert choose([_c(1, {1: 0.5, 3: 0.9}, pace=None), _c(2, {1: 0.6})], maximize=True).number == 2
    assert choose([_c(1, {3: 0.9}, pace=None)], maximize=True) is None
    assert choose([], maximize=True) is None


def test_epochs_fill_the_safe_share_of_the_time_left() -> None:
    assert epochs_for(1000, 10) == int(SAFETY * 100)
    assert epochs_for(5, 10) == 0
    assert epochs_for(100, 0) == 0


def test_no_final_run_when_it_would_not_train_longer_than_the_trial_did() -> None:
    best = _c(4, {1: 0.8, 3: 0.85, 9: 0.9}, pace=10.0)
    assert plan([best], maximize=True, seconds_left=95, ends=5000.0) is None  # 8 epochs fit, 9 were trained
    made = plan([best], maximize=True, seconds_left=1000, ends=5000.0)
    assert made is not None and (made.source, made.params, made.epochs) == (4, {"width": 4}, int(SAFETY * 100))
    assert made.to_attr() == {"source": 4, "epochs": made.epochs, "ends": 5000.0}


def test_a_search_on_a_subset_sizes_the_run_by_the_images_it_trains_on() -> None:
    # The trial trained 9 epochs of 13,500 images at 10 s each; the run trains on 54,000: an
    # epoch takes 4 times as long, and 9 of its epochs are 4 times the trial's training.
    best = Candidate(4, {"width": 4}, {1: 0.8, 9: 0.9}, 10.0, train_images=13_500)
    made = plan([best], maximize=True, seconds_left=1000, ends=5000.0, images=54_000)
    assert made is not None and made.epochs == int(SAFETY * 1000 / 40)
    assert plan([best], maximize=True, seconds_left=1000, ends=5000.0).epochs == int(SAFETY * 100)  # type: ignore[union-attr]
    # 2 epochs of 54,000 images train on fewer than the trial's 9 of 13,500 did; 3 on more.
    assert plan([best], maximize=True, seconds_left=2 * 40 / SAFETY + 1, ends=5000.0, images=54_000) is None
    assert plan([best], maximize=True, seconds_left=3 * 40 / SAFETY + 1, ends=5000.0, images=54_000) is not None
    # A trial that recorded no image count (older versions) is taken at the run's size.
    unrecorded = Candidate(4, {"width": 4}, {1: 0.8, 9: 0.9}, 10.0)
    assert plan([unrecorded], maximize=True, seconds_left=1000, ends=5000.0, images=54_000).epochs == 90  # type: ignore[union-attr]


def test_it_ends_just_before_the_deadline_inside_the_budgets_last_two_percent() -> None:
    assert ends_at(10_000.0, 3600) == 10_000.0 - END_MARGIN_SHARE * 3600
    assert 0 < END_MARGIN_SHARE < 0.02


def test_with_nothing_trained_the_warm_start_is_the_run_and_otherwise_it_is_not() -> None:
    warm = Candidate(0, {"width": 24}, {}, None)
    made = plan([], maximize=True, seconds_left=600, ends=1.0, warm_start=warm)
    assert made is not None and (made.source, made.params, made.epochs) == (0, {"width": 24}, 0)
    assert plan([], maximize=True, seconds_left=600, ends=1.0) is None  # a search to wait for
    trained = plan([_c(3, {1: 0.9})], maximize=True, seconds_left=600, ends=1.0, warm_start=warm)
    assert trained is not None and trained.source == 3  # once anything trained, the best of it


def test_lanes_get_the_configurations_best_first_each_once() -> None:
    # Longest-trained first (the rung winners), then by value; a repeated configuration once.
    cands = [_c(1, {1: 0.7, 3: 0.80}), _c(2, {1: 0.95}), _c(3, {1: 0.6, 3: 0.85}),
             Candidate(4, {"width": 3}, {1: 0.5, 3: 0.84}, 10.0)]  # trial 3's configuration again
    assert [c.number for c in ranked(cands, maximize=True)] == [3, 1, 2]
    assert [choose(cands, maximize=True, taken=[3, 1, 2][:k]).number for k in range(3)] == [3, 1, 2]
    assert choose(cands, maximize=True, taken=[4, 1]).number == 2  # a repeat's number takes its configuration
    assert choose(cands, maximize=True, taken=[3, 1, 2]) is None  # more lanes than configurations: search on
    second = plan(cands, maximize=True, seconds_left=1000, ends=1.0, taken=[3])
    assert second is not None and second.source == 1
    warm = Candidate(0, {"width": 24}, {}, None)
    assert plan([], maximize=True, seconds_left=600, ends=1.0, warm_start=warm, taken=[0]) is None  # one warm start


def test_a_lane_never_trains_what_another_lane_took_when_the_ranking_changes_between_them() -> None:
    # Lane 1 took trial 1, then trial 2 overtook it: lane 2 trains trial 2, not trial 1 again,
    # which "the second of the ranking" would now be (CI: both lanes trained trial 1's configuration).
    before = [_c(1, {1: 0.7, 3: 0.80}), _c(2, {1: 0.6})]
    assert choose(before, maximize=True).number == 1
    after = [_c(1, {1: 0.7, 3: 0.80}), _c(2, {1: 0.6, 3: 0.85})]
    made = plan(after, maximize=True, seconds_left=1000, ends=1.0, taken=[1])
    assert made is not None and made.source == 2


def test_noise_is_one_standard_error_of_the_difference_of_two_accuracies() -> None:
    assert abs(noise(0.92, 6000) - 0.00495) < 1e-5  # benchmark 6's validation set: about half a point
    assert noise(1.0, 6000) == 0.0 and noise(0.5, 0) == 0.0


def _acc(number: int, values: dict[int, float], images: int | None = 6000, width: int | None = None) -> Candidate:
    return Candidate(number, {"width": number if width is None else width}, values, 10.0, images)


def test_the_warm_start_wins_a_lead_the_validation_set_cannot_resolve() -> None:
    prior = {"width": 0, "blocks": 1}  # a param its trial never asked is no obstacle
    warm = _acc(0, {1: 0.85, 3: 0.90, 9: 0.9215})
    close = _acc(3, {1: 0.86, 3: 0.91, 9: 0.9237})  # benchmark 6 at W = 60 min: 0.22 points ahead
    assert [c.number for c in ranked([warm, close], maximize=True)] == [3, 0]
    assert [c.number for c in ranked([warm, close], maximize=True, prior=prior)] == [0, 3]
    made = plan([warm, close], maximize=True, seconds_left=1000, ends=1.0, prior=prior)
    assert made is not None and made.source == 0
    second = plan([warm, close], maximize=True, seconds_left=1000, ends=1.0, prior=prior, taken=[0])
    assert second is not None and second.source == 3  # a second lane trains the search's best


def test_a_lead_beyond_the_noise_or_at_more_epochs_keeps_the_search_best_first() -> None:
    prior = {"width": 0}
    warm = _acc(0, {1: 0.85, 3: 0.90, 9: 0.9215})
    clear = _acc(3, {9: 0.9315})  # a point ahead: twice the noise
    assert ranked([warm, clear], maximize=True, prior=prior)[0].number == 3
    stopped = _acc(0, {1: 0.85, 3: 0.90})  # the warm start was not promoted to the top rung
    assert ranked([stopped, _acc(3, {1: 0.85, 3: 0.901, 9: 0.92})], maximize=True, prior=prior)[0].number == 3
    unknown = _acc(3, {9: 0.9237}, images=None)  # no count recorded: only an exact tie goes to the prior
    assert ranked([_acc(0, {9: 0.9215}, images=None), unknown], maximize=True, prior=prior)[0].number == 3
    assert ranked([_acc(0, {9: 0.92}, images=None), _acc(3, {9: 0.92}, images=None)], maximize=True,
                  prior=prior)[0].number == 0


def test_a_loss_ties_only_when_equal() -> None:
    prior = {"width": 0}
    warm, lower = _acc(0, {9: 0.30}, images=None), _acc(3, {9: 0.29}, images=None)
    assert ranked([warm, lower], maximize=False, prior=prior)[0].number == 3
    assert ranked([warm, _acc(3, {9: 0.30}, images=None)], maximize=False, prior=prior)[0].number == 0


def test_the_search_last_led_when_a_result_beat_the_best_before_it_by_more_than_the_noise() -> None:
    # Benchmark 6's shape: the warm start at minute 3, the best at minute 7, then steps within
    # the noise of 6,000 validation images (about 0.47 points near 0.927).
    run = [Result(180, 0.9225, 6000), Result(420, 0.9286, 6000), Result(900, 0.9290, 6000),
           Result(1200, 0.9310, 6000), Result(1500, 0.9100, 6000)]
    assert last_lead(run, maximize=True) == 420
    assert last_lead(run[:1], maximize=True) == 180  # the first result leads
    assert last_lead([], maximize=True) is None
    # The bar is the best so far: two steps within the noise that add up to more do not count.
    creeping = [Result(0, 0.920, 6000), Result(10, 0.924, 6000), Result(20, 0.928, 6000)]
    assert last_lead(creeping, maximize=True) == 0
    # Any lead counts where the noise is unknown (no validation images: not a proportion).
    assert last_lead([Result(0, 0.5), Result(5, 0.4), Result(9, 0.49)], maximize=False) == 5
    # Order is by time, whatever order the results come in.
    assert last_lead(list(reversed(run)), maximize=True) == 420


def test_stalled_once_the_patience_has_passed_since_the_last_lead() -> None:
    run = [Result(100, 0.90, 6000), Result(200, 0.95, 6000)]
    assert not stalled(run, True, now=799, patience_s=600)
    assert stalled(run, True, now=800, patience_s=600)
    assert not stalled([], True, now=10_000, patience_s=600)  # nothing to compare: the search has not begun
    assert not stalled(run, True, now=10_000, patience_s=0)  # off
