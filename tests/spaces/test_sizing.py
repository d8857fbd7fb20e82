"""Size knobs and the rule that grows a chosen configuration for a long final run: tables."""

from __future__ import annotations

import pytest
from optuna.distributions import IntDistribution

from hpo.errors import UsageError
from hpo.spaces import Param, SearchSpace
from hpo.spaces.sizing import MIN_EPOCHS, SizeKnob, choose_size
from hpo.training import TrainConfig

WIDTH = SizeKnob("width", (16, 24, 32, 48, 64))
BLOCKS = SizeKnob("blocks", (1, 2, 3))


def _climb(params: dict, knobs: list, pace: dict, seconds_left: float, min_epochs: int) -> tuple[dict, list]:
    """(the params chosen, the (width, blocks) measured in order) with ``pace[(width, blocks)]``."""
    seen: list[tuple] = []

    def measure(p: dict) -> float:
        seen.append((p["width"], p.get("blocks")))
        return pace[(p["width"], p.get("blocks", 1))]

    return choose_size(params, knobs, measure, seconds_left, min_epochs).params, seen


# Seconds per epoch of (width, blocks): a deeper network costs more than a wider one here, as
# on the 2-core machine the auto space's knob order comes from.
GRID = {(w, b): s * (1 + 0.5 * (b - 1)) for w, s in {16: 10.0, 24: 20.0, 32: 30.0, 48: 60.0, 64: 200.0}.items()
        for b in (1, 2, 3)}


@pytest.mark.parametrize(("params", "seconds_left", "chosen", "measured"), [
    ({"width": 32, "lr": 0.1}, 10_000, {"width": 64, "lr": 0.1}, [32, 48, 64]),  # every rung fits: the top
    ({"width": 64, "lr": 0.1}, 10_000, {"width": 64, "lr": 0.1}, [64]),  # at the ladder's top: nothing to grow
    ({"width": 20, "lr": 0.1}, 1_300, {"width": 48, "lr": 0.1}, [20, 24, 32, 48, 64]),  # off the ladder: the rungs above it
])
def test_one_knob_climbs_its_ladder_and_keeps_the_other_params(params: dict, seconds_left: float, chosen: dict,
                                                               measured: list) -> None:
    pace = {**GRID, (20, 1): 15.0}
    got, seen = _climb(params, [WIDTH], pace, seconds_left, 20)
    assert got == chosen
    assert [w for w, _ in seen] == measured


def test_the_first_knob_climbs_as_far_as_it_fits_then_the_next_climbs_from_there() -> None:
    # Width: 32 (600 s for 20 epochs), 48 (1,200 s) fit 1,900 s, 64 (4,000 s) does not. Blocks
    # then climb from 48: 2 blocks (90 s x 20 = 1,800 s) fits, 3 (2,400 s) does not.
    got, seen = _climb({"width": 24, "blocks": 1}, [WIDTH, BLOCKS], GRID, 1_900, 20)
    assert got == {"width": 48, "blocks": 2}
    assert seen == [(24, 1), (32, 1), (48, 1), (64, 1), (48, 2), (48, 3)]
    # Declared the other way round, blocks go first: 24 x 3 (40 s x 20 = 800 s), then width
    # climbs from there: 32 x 3 (1,200 s) fits, 48 x 3 (2,400 s) does not.
    got, seen = _climb({"width": 24, "blocks": 1}, [BLOCKS, WIDTH], GRID, 1_900, 20)
    assert got == {"width": 32, "blocks": 3}
    assert seen == [(24, 1), (24, 2), (24, 3), (32, 3), (48, 3)]


def test_a_knob_whose_parameter_is_off_stays_off() -> None:
    got, seen = _climb({"width": 48}, [WIDTH, BLOCKS], GRID, 10_000, 20)
    assert got == {"width": 64} and seen == [(48, None), (64, None)]


def test_a_knob_that_names_its_absent_value_grows_from_it() -> None:
    # The auto space asks "blocks" only at small widths; build() trains one block otherwise.
    blocks = SizeKnob("blocks", (1, 2, 3), absent=1)
    got, seen = _climb({"width": 48}, [WIDTH, blocks], GRID, 10_000, 20)
    assert got == {"width": 64, "blocks": 3}
    assert seen == [(48, None), (64, None), (64, 2), (64, 3)]
    got, _ = _climb({"width": 48}, [WIDTH, blocks], GRID, 1_300, 20)
    assert got == {"width": 48}  # nothing larger fits: the chosen config, untouched


# Seconds per epoch at each width, as a measured pace would give them.
PACE = {16: 10.0, 24: 20.0, 32: 30.0, 48: 60.0, 64: 120.0}


@pytest.mark.parametrize(("seconds_left", "min_epochs", "width", "epochs", "measured"), [
    (2000, 20, 48, 33, [24, 32, 48, 64]),  # 48: 60 s x 20 fits 2000 s; 64 (2400 s) does not
    (6000, 20, 64, 50, [24, 32, 48, 64]),  # 64: 120 s x 20 = 2400 s fits 6000 s
    (300, 20, 24, 15, [24, 32]),           # nothing larger fits 20 epochs: the chosen size, for the epochs that fit
    (900, 30, 32, 30, [24, 32, 48]),       # 32 needs exactly 900 s for 30 epochs: it fits
])
def test_the_largest_size_that_fits_its_minimum_epochs(seconds_left: float, min_epochs: int, width: int, epochs: int,
                                                       measured: list[int]) -> None:
    seen: list[int] = []

    def pace(params: dict) -> float:
        seen.append(params["width"])
        return PACE[params["width"]]

    choice = choose_size({"width": 24}, [WIDTH], pace, seconds_left, min_epochs)
    assert (choice.params["width"], choice.epochs) == (width, epochs)
    assert choice.seconds_per_epoch == PACE[width]
    assert choice.grown == ({} if width == 24 else {"width": width})
    assert seen == measured  # sizes past the first that does not fit are never measured


def test_the_time_left_is_read_after_each_measurement_and_a_measurement_may_stop_the_search() -> None:
    clock = {"left": 2000.0}

    def pace(params: dict) -> float:
        clock["left"] -= 500  # each measurement costs time the run does not train
        return PACE[params["width"]]

    # 48 (60 s x 20 = 1200 s) would fit the 2000 s before any measurement, not the 500 s after them.
    choice = choose_size({"width": 24}, [WIDTH], pace, lambda: clock["left"], 20)
    assert (choice.params["width"], choice.epochs) == (32, 16)  # 32: 600 s of the 1000 then left; epochs in the 500 after
    stop = choose_size({"width": 24}, [WIDTH], lambda p: PACE[p["width"]] if p["width"] == 24 else float("inf"), 6000, 20)
    assert stop.params["width"] == 24 and stop.grown == {}
    # An infinite pace stops the whole climb, not only its knob: blocks do not climb after it.
    seen: list[dict] = []

    def capped(p: dict) -> float:
        seen.append(dict(p))
        return float("inf") if p["width"] == 48 else GRID[(p["width"], p["blocks"])]

    capped_choice = choose_size({"width": 24, "blocks": 1}, [WIDTH, BLOCKS], capped, 6000, 20)
    assert capped_choice.params == {"width": 32, "blocks": 1} and len(seen) == 3


def test_a_ladder_must_increase() -> None:
    with pytest.raises(ValueError, match="must be increasing"):
        SizeKnob("width", (32, 16))


def test_a_space_refuses_a_knob_that_is_not_its_parameter() -> None:
    with pytest.raises(UsageError, match="size knob 'depth' of space 's' is not one of its parameters"):
        SearchSpace(name="s", description="", params=(Param("width", IntDistribution(8, 16)),),
                    build=lambda p, e: TrainConfig(model={"arch": "mlp", "hidden": [p["width"]]}),
                    size_knobs=(SizeKnob("depth", (1, 2)),))


def test_the_grow_option_states_the_minimum_epochs_the_rule_uses() -> None:
    # The command line keeps torch out of `hpo study create --help`, so it cannot import the
    # constant; this keeps the number it prints the one the final run uses.
    from hpo.cli.study import create_cmd

    grow = next(p for p in create_cmd.params if p.name == "grow")
    assert f"fits {MIN_EPOCHS} epochs in the time left" in (grow.help or "")
