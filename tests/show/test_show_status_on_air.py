"""``/api/show`` ``source`` names what is really on air (after the fallback), and
``scheduled_source`` what the timeline wants, as ``/api/status`` ``on_air`` does.

Seen on the loopback rig: while a backup camera was on air, ``/api/show`` ``source`` still
named the timeline's (dead) camera.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vistter.actors.program.fallback import FallbackPolicy
from vistter.actors.program.state import ProgramState
from vistter.actors.sources.table import SourceState, SourceTable
from vistter.api.cameras import source_on_air
from vistter.clock import FakeClock
from vistter.media.frames import FrameFormat, solid_frame
from vistter.show.context import ShowContext
from vistter.show.status import show_status

FMT = FrameFormat(16, 8, 30)


@dataclass
class _Program:
    state: ProgramState
    fallback: FallbackPolicy


def test_show_source_is_the_backup_on_air_and_scheduled_is_the_timelines(tmp_path: Path) -> None:
    clock = FakeClock(start=100.0)
    sources = SourceTable(FMT, clock)
    for camera, y in (("camera:1", 80), ("camera:3", 160)):
        sources.slot(camera).publish(solid_frame(FMT, y, 128, 128))
        sources.set_health(camera, SourceState.ONLINE)
    fallback = FallbackPolicy(sources, backups={"camera:1": ("camera:3",)}, clock=clock)
    program = ProgramState(FMT)
    program.take("camera:1")
    bus = _Program(program, fallback)
    context = ShowContext.build(program, tmp_path, clock=clock,
                                on_air=lambda wanted: source_on_air(bus, wanted))

    fallback.resolve("camera:1")  # the mixer's look at frame n
    status = show_status(context)
    assert (status["source"], status["scheduled_source"]) == ("camera:1", "camera:1")

    sources.set_health("camera:1", SourceState.OFFLINE, "ingest exited")
    clock.advance(0.6)
    assert fallback.resolve("camera:1").source == "camera:3"
    status = show_status(context)
    assert (status["source"], status["scheduled_source"]) == ("camera:3", "camera:1")


def test_without_a_fallback_view_the_source_is_the_scheduled_one(tmp_path: Path) -> None:
    program = ProgramState(FMT)
    program.take("camera:2")
    status = show_status(ShowContext.build(program, tmp_path, clock=FakeClock()))
    assert (status["source"], status["scheduled_source"]) == ("camera:2", "camera:2")
