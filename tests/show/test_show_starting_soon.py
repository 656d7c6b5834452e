"""A GO LIVE countdown with a starting-soon image: the program shows it and the platforms are
on air from the countdown's start, so they receive the slate before the show's first frame."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_show_rig import FPS, FakeSources, ShowRig, small_timeline, stop_actors

from vistter.actors.fanout.on_air import OnAir
from vistter.actors.sources.table import SLATE_SOURCE_ID
from vistter.clock import FakeClock
from vistter.show import ShowSettings

__all__ = ["stop_actors"]

SOON = "/assets/starting_soon.png"
SOON_SOURCE = f"media:{SOON}"


def studio(tmp_path: Path, air: OnAir, *, soon: str | None = SOON) -> tuple[ShowRig, FakeSources]:
    clock = FakeClock(start=1000.0)
    sources = FakeSources(clock)
    rig = ShowRig(tmp_path, clock=clock, sources=sources, air=air,
                  settings=ShowSettings(starting_soon=soon))
    rig.program.take(SLATE_SOURCE_ID)
    rig.load(small_timeline())
    return rig, sources


@pytest.mark.timeout(60)
def test_the_countdown_shows_the_starting_soon_slate_on_air_then_the_show(
    tmp_path: Path, stop_actors: None
) -> None:
    air = OnAir()
    rig, sources = studio(tmp_path, air)
    try:
        rig.run_seconds(0.5)
        asked = rig.program.horizon
        assert rig.call("start_live", 3)["countdown"] is not None
        assert [call[:2] for call in sources.calls] == [("ensure", SOON)]
        assert air.on_air and air.first_frame is not None  # platforms from the countdown on
        assert "starting_soon" in rig.events.show_events()
        rig.run_seconds(1)
        soon_from = next(n for n in range(rig.next_frame) if rig.plans[n].source == SOON_SOURCE)
        assert air.first_frame == soon_from  # platforms start on the slate's first frame
        assert soon_from <= asked + 3  # within the switch lead (0.1 s) of the start
        rig.run_seconds(2.5)  # the countdown ends: the show's first cue, frame-exact
        status = rig.call("status")
        assert status["state"] == "live"
        begin = rig.show.live_since
        assert begin is not None
        rig.run_until(begin + FPS)
        assert rig.sources_at(range(soon_from, begin)) == [SOON_SOURCE] * (begin - soon_from)
        assert rig.plans[begin].source == "camera:1"
        assert air.on_air
    finally:
        rig.stop()


@pytest.mark.timeout(60)
def test_a_cancelled_countdown_takes_the_slate_and_the_platforms_off(
    tmp_path: Path, stop_actors: None
) -> None:
    air = OnAir()
    rig, _ = studio(tmp_path, air)
    try:
        rig.call("start_live", 5)
        rig.run_seconds(1)
        assert rig.plans[rig.next_frame - 1].source == SOON_SOURCE and air.on_air
        rig.call("cancel_live")
        assert not air.on_air
        cancelled_at = rig.program.horizon
        rig.run_seconds(6)  # past the end the countdown would have had
        assert rig.call("status")["state"] == "idle"
        later = range(cancelled_at + 4, rig.next_frame)
        assert set(rig.sources_at(later)) == {SLATE_SOURCE_ID}  # what it showed before
        assert not air.on_air
    finally:
        rig.stop()


@pytest.mark.timeout(60)
def test_without_a_starting_soon_image_the_platforms_wait_for_the_show(
    tmp_path: Path, stop_actors: None
) -> None:
    air = OnAir()
    rig, sources = studio(tmp_path, air, soon=None)
    try:
        rig.call("start_live", 2)
        assert not air.on_air and sources.calls == []
        rig.run_seconds(3)
        assert rig.call("status")["state"] == "live" and air.on_air
    finally:
        rig.stop()
