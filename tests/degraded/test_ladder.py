"""The ladder policy on a fake time line: sustained signals step down, every step is held,
stable signals step back up one rung at a time, noise and the marginal band change nothing,
floors hold, and a rung that does not hold makes the policy wait longer (no flapping)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import pytest

from vistter.degraded.ladder import LadderPolicy, Step
from vistter.degraded.signals import Reading, Signals, Verdict
from vistter.degraded.steps import LadderPlan, Level
from vistter.models.degraded import DegradedConfig

BAD = Reading(Verdict.BAD, "destination 'yt' accepted 2000 kbps of the 4500 kbps stream")
GOOD = Reading(Verdict.GOOD, "")
MARGINAL = Reading(Verdict.MARGINAL, "the encoder runs at 0.96x real time")
CHECK = 2.0


class Timeline:
    """Drives a policy every ``CHECK`` seconds of a fake time line and keeps the steps."""

    def __init__(self, config: DegradedConfig | None = None) -> None:
        self.config = config or DegradedConfig()
        plan = LadderPlan.build(self.config, 4500, 720, 30)
        self.policy = LadderPolicy(self.config, plan.max_level)
        self.now = 0.0
        self.steps: list[tuple[float, Step]] = []

    def run(self, seconds: float, network: Reading = GOOD, load: Reading = GOOD) -> None:
        end = self.now + seconds
        while self.now < end - 1e-9:
            self.now += CHECK
            step = self.policy.check(self.now, Signals(network, load))
            if step is not None:
                self.steps.append((self.now, step))

    def pattern(self, readings: Iterable[Reading], *, ladder: str = "network") -> None:
        for reading in readings:
            if ladder == "network":
                self.run(CHECK, network=reading)
            else:
                self.run(CHECK, load=reading)

    @property
    def level(self) -> Level:
        return self.policy.level


def test_a_sustained_bad_signal_steps_down_once_it_lasted_sustain() -> None:
    line = Timeline()
    line.run(10, network=BAD)
    assert line.steps == []  # first seen bad at 2 s: 8 s < sustain (10 s)
    line.run(2, network=BAD)
    assert [(at, step.ladder, step.down) for at, step in line.steps] == [(12.0, "network", True)]
    assert line.level == Level(bitrate=1) and line.steps[0][1].reason == BAD.reason


def test_every_step_is_held_at_least_hold_seconds() -> None:
    line = Timeline()
    line.run(120, network=BAD)
    times = [at for at, _ in line.steps]
    assert times[0] == 12.0
    assert all(later - earlier >= 30 for earlier, later in itertools.pairwise(times))
    assert times[1] == 42.0  # held 30 s, the signal bad all along


def test_the_bitrate_stops_at_its_floor() -> None:
    line = Timeline()
    line.run(600, network=BAD)
    plan = LadderPlan.build(line.config, 4500, 720, 30)
    assert line.level.bitrate == len(plan.bitrates) - 1
    assert plan.bitrates[-1] == 1800  # 40 % of 4500
    assert plan.degradation(line.level).overrides.bitrate_kbps == 1800
    assert len(line.steps) == len(plan.bitrates) - 1  # nothing after the floor


def test_stable_signals_step_back_up_one_rung_every_stable_period() -> None:
    line = Timeline()
    line.run(72, network=BAD)
    assert line.level.bitrate == 3  # at 12, 42 and 72 s
    line.steps.clear()
    line.run(28, network=GOOD)
    assert line.steps == []  # good since 74 s: not yet 30 s stable at 100 s
    line.run(120, network=GOOD)
    ups = [(at, step.level.bitrate) for at, step in line.steps]
    assert ups == [(104.0, 2), (134.0, 1), (164.0, 0)]
    assert all(not step.down for _, step in line.steps)


def test_a_noisy_signal_never_steps_and_never_flaps() -> None:
    line = Timeline()
    line.pattern([BAD, BAD, BAD, GOOD] * 30)  # bad 6 s, good 2 s: never 10 s in a row
    assert line.steps == []
    line.run(72, network=BAD)
    assert line.level.bitrate == 3
    line.steps.clear()
    line.pattern([GOOD] * 10 + [BAD] + [GOOD] * 10 + [BAD])  # never 30 s stable in a row
    assert line.steps == []


def test_the_marginal_band_neither_steps_down_nor_counts_as_stable() -> None:
    line = Timeline()
    line.run(20, load=BAD)
    assert line.level.load == 1
    line.steps.clear()
    line.run(300, load=MARGINAL)
    assert line.steps == [] and line.level.load == 1


def test_a_rung_that_does_not_hold_doubles_the_wait_before_the_next_probe() -> None:
    line = Timeline()
    line.run(12, network=BAD)  # down at 12
    line.run(32, network=GOOD)  # good since 14: up at 44
    assert [(at, step.down) for at, step in line.steps] == [(12.0, True), (44.0, False)]
    line.run(28, network=BAD)  # the higher rung fails again: bad from 46 s, ...
    assert line.level.bitrate == 0  # ... but the step up is held until 74 s
    line.run(2, network=BAD)
    assert line.level.bitrate == 1 and line.steps[-1][0] == 74.0
    assert line.policy.patience("network") == 2.0
    line.steps.clear()
    line.run(60, network=GOOD)
    assert line.steps == []  # good since 76 s: 2 x 30 s needed now
    line.run(2, network=GOOD)
    assert [(at, step.down) for at, step in line.steps] == [(136.0, False)]


def test_the_two_ladders_are_independent_and_load_walks_overlays_then_size_then_rate() -> None:
    line = Timeline()
    line.run(400, load=BAD)
    plan = LadderPlan.build(line.config, 4500, 720, 30)
    assert [rung.describe() for rung in plan.load] == [
        "overlays simplified", "overlays off", "output 540p", "output 360p",
        "output 24 fps", "output 15 fps"]
    assert line.level == Level(bitrate=0, load=len(plan.load))
    degradation = plan.degradation(line.level)
    assert degradation.overrides.height == 360 and degradation.overrides.fps == 15
    assert degradation.overrides.bitrate_kbps is None
    assert degradation.steps == ("overlays off", "output 360p", "output 15 fps")


def test_heights_and_rates_not_below_the_program_are_left_out() -> None:
    plan = LadderPlan.build(DegradedConfig(), 2000, 540, 24)
    assert [rung.describe() for rung in plan.load] == [
        "overlays simplified", "overlays off", "output 360p", "output 15 fps"]


def test_disabled_degraded_mode_never_steps() -> None:
    line = Timeline(DegradedConfig(enabled=False))
    line.run(300, network=BAD, load=BAD)
    assert line.steps == [] and line.level.normal


@pytest.mark.parametrize("percent", [20, 25, 50])
def test_each_bitrate_rung_is_its_share_below_the_last(percent: int) -> None:
    plan = LadderPlan.build(DegradedConfig(bitrate_step_percent=percent), 4000, 720, 30)
    for higher, lower in zip(plan.bitrates, plan.bitrates[1:-1], strict=False):
        assert lower == round(higher * (1 - percent / 100))
    assert plan.bitrates[-1] == 1600
