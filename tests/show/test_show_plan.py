"""Show plan, show state and the program state's show support, without actors."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from PIL import Image
from test_show_rig import FMT, FPS, small_timeline

from vistter.actors.program.changes import ArmedChange, OverlayOff, OverlayOn, Take
from vistter.actors.program.clock import ProgramEpoch
from vistter.actors.program.overlay_layer import OverlayLayer
from vistter.actors.program.state import ProgramState
from vistter.clock import FakeClock
from vistter.models.validation import load_timeline
from vistter.show import (
    NO_LIMIT,
    ArmOutcome,
    FixedCalendar,
    LiveCalendar,
    ShowPlan,
    ShowState,
)


def _plan(loop: bool) -> ShowPlan:
    return ShowPlan(load_timeline(small_timeline()), FPS, loop=loop)


def _layer(color: tuple[int, int, int, int] = (255, 0, 0, 255)) -> OverlayLayer:
    return OverlayLayer.from_rgba(Image.new("RGBA", (16, 8), color), 4, 4, FMT)


def test_plan_places_cues_on_program_frames_with_and_without_loop() -> None:
    plan = _plan(loop=True)
    assert plan.length == 20 * FPS
    assert plan.track_ids == ("video", "lower", "upper")
    found = [(o.cue.id, o.iteration, o.start, o.end)
             for o in plan.starting("video", 100, 100 + 9 * FPS, 100 + 26 * FPS)]
    assert found == [("v3", 0, 100 + 300, 100 + 600), ("v1", 1, 100 + 600, 100 + 750),
                     ("v2", 1, 100 + 750, 100 + 900)]
    cover = plan.covering("lower", 100, 100 + 20 * FPS + 3 * FPS)
    assert cover is not None and cover.key == ("o1", 1) and cover.start == 100 + 660
    assert plan.covering("lower", 100, 100 + 9 * FPS) is None  # a gap
    assert plan.covering("video", 100, 99) is None  # before the show

    once = _plan(loop=False)
    assert [o.cue.id for o in once.starting("video", 0, 0, 100 * FPS)] == ["v1", "v2", "v3"]
    assert once.covering("video", 0, 20 * FPS) is None
    assert once.ended(20 * FPS) and not plan.ended(20 * FPS)
    assert plan.iteration_of(45 * FPS) == (2, 5 * FPS)


def test_next_video_cue_wraps_only_when_looping() -> None:
    loop, once = _plan(loop=True), _plan(loop=False)
    assert loop.next_video(0) is not None and loop.next_video(0).cue_id == "v2"  # type: ignore[union-attr]
    assert loop.next_video(12 * FPS).cue_id == "v1"  # type: ignore[union-attr]
    assert once.next_video(12 * FPS) is None


class AppliedLog(ProgramState):
    """A ProgramState that records every armed change applied to it, in order."""

    def __init__(self) -> None:
        super().__init__(FMT)
        self.applied: list[ArmedChange] = []

    def apply(self, change: ArmedChange) -> bool:
        self.applied.append(change)
        return super().apply(change)


def _state() -> tuple[ShowState, AppliedLog]:
    program = AppliedLog()
    show = ShowState(program)
    show.load(load_timeline(small_timeline()), None, loop=True)
    return show, program


def test_arming_is_once_per_key_and_generation() -> None:
    show, program = _state()
    take_v1, again_v1, take_v2 = Take("camera:1", 0, tag="v1"), Take("camera:9", 0, tag="v1"), \
        Take("camera:2", 0, tag="v2")
    o1, o1_next, o2 = (OverlayOn("lower", 1, _layer(), 0, until_frame=10, tag=tag)
                       for tag in ("o1", "o1", "o2"))
    assert show.arm("video", 0, ("v1", 0), 10, take_v1) \
        is ArmOutcome.STALE  # no segment yet
    segment = show.start_segment(0, 0)
    g = segment.generation
    assert show.arm("video", g, ("v1", 0), 10, take_v1) is ArmOutcome.ARMED
    assert show.arm("video", g, ("v1", 0), 10, again_v1) is ArmOutcome.ALREADY
    assert program.applied == [take_v1]
    show.set_overrides(slate=True)
    assert show.arm("video", g, ("v2", 0), 10, take_v2) is ArmOutcome.HELD
    assert show.arm("lower", g, ("o1", 0), 10, o1) is ArmOutcome.ARMED
    show.set_text("o1", "live")
    assert show.arm("lower", g, ("o1", 1), 10, o1_next,
                    cue_text=("o1", None)) is ArmOutcome.STALE
    later = show.start_segment(30, 30)
    assert show.arm("lower", g, ("o2", 0), 10, o2) is ArmOutcome.STALE
    assert not show.is_armed("video", later.generation, ("v1", 0))
    assert [id(change) for change in program.applied] == [id(take_v1), id(o1)]
    assert program.horizon == 0
    assert program.source_at(0) == "camera:1"  # applied: really armed on the program
    assert [entry["tag"] for entry in program.on_air()["overlays"]] == ["o1"]


def test_the_kind_of_change_decides_which_override_holds_it() -> None:
    show, program = _state()
    g = show.start_segment(0, 0).generation
    show.set_overrides(overlays_cleared=True)
    assert show.arm("lower", g, ("o1", 0), 10, OverlayOn("lower", 1, _layer(), 0)) \
        is ArmOutcome.HELD
    assert show.arm("lower", g, ("#hide", 0), 0, OverlayOff("lower", 0)) is ArmOutcome.HELD
    assert show.arm("video", g, ("v1", 0), 10, Take("camera:1", 0)) is ArmOutcome.ARMED
    show.set_overrides(overlays_cleared=False, forced_camera=2)
    assert show.arm("video", g, ("v2", 0), 10, Take("camera:2", 5)) is ArmOutcome.HELD
    assert show.arm("lower", g, ("o1", 0), 10, OverlayOn("lower", 1, _layer(), 0)) \
        is ArmOutcome.ARMED
    assert [type(change).__name__ for change in program.applied] == ["Take", "OverlayOn"]


def test_changes_armed_through_the_show_land_on_their_frames() -> None:
    show, program = _state()
    g = show.start_segment(0, 0).generation
    arms: list[tuple[str, tuple[str, int], int, ArmedChange]] = [
        ("video", ("v1", 0), 150, Take("camera:1", 0, tag="v1")),
        ("video", ("v2", 0), 300, Take("camera:2", 150, "fade", 3, tag="v2")),
        ("lower", ("o1", 0), 240, OverlayOn("lower", 1, _layer(), 60, until_frame=240,
                                            tag="o1")),
        ("lower", ("#hide", 200), 200, OverlayOff("lower", 200, fade_out_frames=1)),
    ]
    for track, key, end, change in arms:
        assert show.arm(track, g, key, end, change) is ArmOutcome.ARMED
    plans = [program.frame_plan(n) for n in range(260)]
    assert [p.source for p in plans[148:155]] == ["camera:1"] * 2 + ["camera:2"] * 5
    assert [round(p.progress, 2) for p in plans[149:155]] == [1.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    assert [n for n, p in enumerate(plans) if p.layers] == list(range(60, 201))
    assert [p.layers[0].opacity for p in plans[198:201]] == [1.0, 1.0, 0.5]
    effects = {(e.tag, e.requested, e.effective) for e in program.effects()}
    assert {("v1", 0, 0), ("v2", 150, 150), ("o1", 60, 60)} <= effects


def test_armed_through_is_the_slowest_track_and_wakes_waiters() -> None:
    show, _ = _state()
    assert show.armed_through() == NO_LIMIT  # nothing plays
    segment = show.start_segment(10, 0)
    assert show.armed_through() == -1
    for track in ("video", "lower"):
        show.mark_armed_through(track, segment.generation, 100)
    assert show.armed_through() == -1
    asked: list[str] = []
    show.add_listener(asked.append)
    threading.Timer(0.05, lambda: show.mark_armed_through("upper", segment.generation, 80)).start()
    assert show.wait_armed_through(80, timeout=5.0) is True
    assert "arm_request" in asked and show.wanted_frame() == 80
    assert show.armed_through() == 80
    show.mark_armed_through("upper", segment.generation - 1, 500)  # stale: ignored
    assert show.armed_through() == 80
    show.start_segment(50, 0)
    assert show.armed_through() == 49  # a new segment lowers every mark
    assert show.wait_armed_through(60, timeout=0.05) is False
    show.start_segment(60, 10, paused=True)
    assert show.armed_through() == NO_LIMIT  # paused: nothing to arm


def test_withdraw_forgets_what_the_tracks_armed() -> None:
    show, program = _state()
    segment = show.start_segment(0, 0)
    g = segment.generation
    show.arm("video", g, ("v2", 0), 300, Take("camera:2", 150, tag="v2"))
    show.arm("lower", g, ("o1", 0), 240,
             OverlayOn("lower", 1, _layer(), 60, until_frame=240, tag="o1"))
    for n in range(100):
        program.frame_plan(n)
    assert show.withdraw(None, video=True, overlays=False) == (1, 0)
    assert show.armed_keys("video") == {} and show.armed_keys("lower") != {}
    assert program.source_at(200) is None
    show.withdraw(120, video=False, overlays=True)
    assert show.armed_keys("lower") == {}
    [entry] = program.on_air()["overlays"]
    assert entry["end"] is None and entry["tag"] == "o1"  # held on air


def test_cancel_from_keeps_what_is_on_air_and_drops_what_is_armed() -> None:
    program = ProgramState(FMT)
    program.take("camera:1", 0)
    program.take("camera:2", 50, "dissolve", 10)
    program.take("camera:3", 100)
    program.show_overlay("held", 1, _layer(), 10, until_frame=200, fade_out_frames=10)
    program.show_overlay("fading", 2, _layer(), 10, until_frame=64, fade_out_frames=10)
    program.show_overlay("later", 3, _layer(), 80, until_frame=90)
    for n in range(56):
        program.frame_plan(n)
    assert program.cancel_from(None) == (1, 2)  # camera:3 dropped; 'later' dropped, 'held'
    plans = [program.frame_plan(n) for n in range(56, 300)]
    assert {p.source for p in plans} == {"camera:2"}
    assert plans[0].blending  # the dissolve in progress completes
    assert all("held" in {layer.layer_id for layer in p.layers} for p in plans)
    assert all(p.layers[-1].layer_id != "later" for p in plans)
    assert "fading" not in {layer.layer_id for layer in plans[64 - 56].layers}  # faded out


def test_effects_record_the_frame_each_change_reached_the_program() -> None:
    program = ProgramState(FMT)
    program.take("camera:1", 0, tag="a")
    program.take("camera:2", 10, tag="b")
    program.show_overlay("o", 1, _layer(), 12, until_frame=20, tag="c")
    for n in range(5):
        program.frame_plan(n)
    program.take("camera:3", 3, tag="late")  # armed too late: lands on frame 5
    for n in range(5, 15):
        if n == 11:
            continue  # a frame the mixer skipped (it repeated the previous one)
        program.frame_plan(n)
    assert program.replace_overlay_image("o", _layer((0, 0, 255, 255)), tag="x") is False
    assert program.replace_overlay_image("o", _layer((0, 0, 255, 255)), tag="c") is True
    program.frame_plan(15)
    effects = [(e.kind, e.tag, e.requested, e.armed, e.effective, e.late_frames)
               for e in program.effects()]
    assert effects == [
        ("take", "a", 0, 0, 0, 0),
        ("take", "late", 3, 5, 5, 2),
        ("take", "b", 10, 10, 10, 0),
        ("overlay", "c", 12, 12, 12, 0),
        ("image", "c", None, 15, 15, 0),
    ]
    assert program.effects(clear=True) and program.effects() == []
    assert program.source_at(12) == "camera:2"


def test_calendars_map_frames_to_wall_clock_time() -> None:
    start = datetime(2024, 6, 1, 12, 0, 0)
    fixed = FixedCalendar(start, FPS)
    assert fixed.datetime_at(45) == start + timedelta(seconds=1.5)
    assert fixed.frame_at(start + timedelta(seconds=1.5)) == 45
    assert fixed.frame_at(start + timedelta(seconds=1.51)) == 46

    clock = FakeClock(start=500.0)
    epoch = ProgramEpoch(FPS)
    epoch.anchor(490.0)  # frame 0 was due 10 s ago
    live = LiveCalendar(epoch, clock, now=lambda: start)
    assert live.datetime_at(300) == start
    assert live.datetime_at(330) == start + timedelta(seconds=1)
    assert live.frame_at(start + timedelta(seconds=2)) == 360
