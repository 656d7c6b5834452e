"""The orchestrator's state machine: transitions, refusals, pause/resume, jump, skip, stop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_show_rig import FMT, FPS, FakeRecorder, ShowRig, rig, small_timeline, stop_actors

from vistter.actors.sources.table import SourceState, SourceTable
from vistter.clock import FakeClock
from vistter.show import PreflightChecks, ShowError, ShowStateError, assets_in
from vistter.show.show_state import NO_LIMIT

__all__ = ["rig", "stop_actors"]


@pytest.fixture
def recorded(tmp_path: Path, stop_actors: None) -> Iterator[tuple[ShowRig, FakeRecorder]]:
    recorder = FakeRecorder()
    show_rig = ShowRig(tmp_path, recorder=recorder)
    yield show_rig, recorder
    show_rig.stop()


def _refused(rig: ShowRig, method: str, *args: object) -> ShowStateError:
    with pytest.raises(ShowStateError) as caught:
        rig.call(method, *args)
    return caught.value


@pytest.mark.timeout(60)
def test_refusals_name_what_is_allowed_now(rig: ShowRig) -> None:
    error = _refused(rig, "pause")
    assert "cannot pause: the show is idle" in error.problem
    assert error.hint == "Allowed now: load, preflight, go_live."
    with pytest.raises(ShowError, match="no timeline is loaded"):
        rig.call("go_live")
    rig.load(small_timeline())
    for method in ("resume", "jump", "skip", "stop_show"):
        _refused(rig, method)
    rig.call("go_live", 0)
    error = _refused(rig, "load", None)
    assert "the show is live" in error.problem
    assert error.hint == "Allowed now: pause, jump, skip, stop_show."
    _refused(rig, "resume")
    _refused(rig, "go_live")
    rig.call("pause")
    assert _refused(rig, "pause").hint == "Allowed now: resume, jump, skip, stop_show."
    rig.call("stop_show")
    assert rig.call("status")["state"] == "stopped"
    _refused(rig, "pause")
    assert rig.call("go_live", 0)["state"] == "live"


@pytest.mark.timeout(60)
def test_every_change_is_published_on_event_show(rig: ShowRig) -> None:
    rig.load(small_timeline())
    rig.call("go_live", 0)
    rig.run_until(30)
    rig.call("pause")
    rig.call("resume")
    rig.call("jump", "v3")
    rig.call("stop_show")
    assert rig.events.show_events()[-6:] == [
        "loaded", "live", "paused", "resumed", "jump", "stopped"
    ]
    last = rig.events.of("event.show")[-1]
    assert last["state"] == "stopped" and last["timeline"] == "tl_small"


@pytest.mark.timeout(60)
def test_pause_holds_the_program_and_resume_continues_from_the_same_frame(rig: ShowRig) -> None:
    rig.load(small_timeline())
    rig.call("go_live", 0)
    rig.run_until(4 * FPS)  # camera 1, overlay o1 on air (2..8 s)
    paused = rig.call("pause")
    pause_frame = rig.program.horizon
    assert paused["state"] == "paused"
    held_frame = paused["position"]["frame"]
    assert rig.show.armed_through() == NO_LIMIT
    rig.run_seconds(10)  # well past v2 (5 s), o1's end (8 s) and o2 (6 s)
    held = range(pause_frame, rig.next_frame)
    assert set(rig.sources_at(held)) == {"camera:1"}
    assert all(rig.layers_at(n) == {"lower": 1.0} for n in held)
    assert rig.call("status")["position"]["frame"] == held_frame

    resumed = rig.call("resume")
    assert resumed["state"] == "live"
    segment = rig.show.segment
    assert segment is not None and not segment.paused
    # timeline frame 4 s (+1 frame planned before the pause) plays again at the resume frame
    assert segment.start - segment.anchor == pause_frame
    rig.run_until(segment.anchor + 11 * FPS)
    v2 = segment.anchor + 5 * FPS
    assert rig.sources_at(range(segment.start, v2)) == ["camera:1"] * (v2 - segment.start)
    assert rig.plans[v2].source == "camera:2" and rig.plans[v2].transition == "dissolve"
    assert rig.layers_at(v2) == {"lower": 1.0}
    assert rig.layers_at(segment.anchor + 6 * FPS) == {"lower": 1.0, "upper": 1.0}
    assert "lower" not in rig.layers_at(segment.anchor + 8 * FPS)


@pytest.mark.timeout(60)
def test_jump_to_a_cue_and_to_a_time(rig: ShowRig) -> None:
    rig.load(small_timeline())
    rig.call("go_live", 0)
    rig.run_until(3 * FPS)
    rig.call("jump", "v3")
    segment = rig.show.segment
    assert segment is not None
    assert segment.start - segment.anchor == 10 * FPS
    rig.run_until(segment.start + 2 * FPS)
    # the jump lands on v3's start, with v3's own 1 s fade from camera 1 (on air) to camera 1
    assert rig.plans[segment.start - 1].source == "camera:1"
    landing = rig.plans[segment.start]
    assert (landing.source, landing.previous, landing.transition) == ("camera:1", "camera:1",
                                                                      "fade")
    # o1 (2..8 s) was on air before the jump; at timeline 10 s nothing plays on 'lower'
    assert rig.layers_at(segment.start - 1) == {"lower": 1.0}
    assert rig.layers_at(segment.start) == {"upper": 1.0}
    assert rig.call("status")["video_cue"] == "v3"

    rig.call("jump", None, 6.5)
    second = rig.show.segment
    assert second is not None and second.start - second.anchor == round(6.5 * FPS)
    rig.run_until(second.start + FPS)
    assert rig.plans[second.start].source == "camera:2"  # mid-cue: a cut to v2's camera
    assert not rig.plans[second.start].blending
    assert rig.layers_at(second.start) == {"lower": 1.0, "upper": 1.0}
    with pytest.raises(ShowError, match="outside the timeline"):
        rig.call("jump", None, 20)
    with pytest.raises(ShowError, match="no cue 'nope'"):
        rig.call("jump", "nope")
    with pytest.raises(ShowError, match="either a cue id or a time"):
        rig.call("jump")


@pytest.mark.timeout(60)
def test_skip_moves_to_the_next_video_cue_and_wraps_when_looping(rig: ShowRig) -> None:
    rig.load(small_timeline())
    rig.call("go_live", 0)
    rig.run_until(FPS)
    rig.call("skip")
    segment = rig.show.segment
    assert segment is not None and segment.start - segment.anchor == 5 * FPS
    rig.run_until(segment.start + 1)
    assert rig.plans[segment.start].source == "camera:2"
    rig.call("jump", "v3")
    rig.run_until(rig.show.segment.start + 1)  # type: ignore[union-attr]
    rig.call("skip")  # v3 is the last cue: wraps round to v1 of the next iteration
    segment = rig.show.segment
    assert segment is not None and segment.start - segment.anchor == 20 * FPS
    rig.run_until(segment.start + 1)
    assert rig.call("status")["position"]["iteration"] == 1
    assert rig.call("status")["video_cue"] == "v1"


@pytest.mark.timeout(60)
def test_a_show_that_does_not_loop_completes_and_is_recorded(
    recorded: tuple[ShowRig, FakeRecorder],
) -> None:
    rig, recorder = recorded
    rig.load(small_timeline(loop=False), 7)
    rig.call("go_live", 0)
    assert recorder.started == [7]
    assert rig.call("status")["execution_id"] == 101
    rig.run_until(20 * FPS + FPS, step=0.5)
    status = rig.call("status")
    assert status["state"] == "stopped"
    assert "completed" in rig.events.show_events()
    [(execution_id, final, error, metrics)] = recorder.finished
    assert (execution_id, final, error) == (101, "completed", None)
    assert metrics["changes"] >= 5 and metrics["late_changes"] == 0
    assert metrics["frames"] >= 20 * FPS
    # no cue is armed beyond the end
    assert rig.program.source_at(20 * FPS + 10) == "camera:1"


@pytest.mark.timeout(60)
def test_stop_records_a_stopped_run_and_takes_the_overlays_off(
    recorded: tuple[ShowRig, FakeRecorder],
) -> None:
    rig, recorder = recorded
    rig.load(small_timeline(), 3)
    rig.call("go_live", 0)
    rig.call("pause")
    rig.call("resume")
    rig.run_until(7 * FPS)
    rig.call("stop_show")
    stop_frame = rig.program.horizon
    rig.run_seconds(4)
    assert all(rig.layers_at(n) == {} for n in range(stop_frame, rig.next_frame))
    assert set(rig.sources_at(range(stop_frame, rig.next_frame))) == {"camera:2"}
    [(_, final, _, metrics)] = recorder.finished
    assert final == "stopped" and metrics["pauses"] == 1
    assert rig.show.armed_through() == NO_LIMIT


@pytest.mark.timeout(60)
def test_a_failing_recorder_alerts_and_the_show_goes_on(tmp_path: Path, stop_actors: None) -> None:
    class BrokenRecorder(FakeRecorder):
        def start(self, timeline_id: int) -> int:
            raise OSError("disk full")

    rig = ShowRig(tmp_path, recorder=BrokenRecorder())
    try:
        rig.load(small_timeline(), 1)
        assert rig.call("go_live", 0)["state"] == "live"
        alerts = rig.events.of("alert")
        assert alerts[-1]["kind"] == "execution_record" and "disk full" in alerts[-1]["message"]
    finally:
        rig.stop()


@pytest.mark.timeout(60)
def test_preflight_reports_cameras_assets_and_destinations(
    tmp_path: Path, stop_actors: None
) -> None:
    (tmp_path / "logo.png").write_bytes(b"png")
    table = SourceTable(FMT, FakeClock())
    table.set_health("camera:1", SourceState.ONLINE)
    table.set_health("camera:2", SourceState.OFFLINE)
    checks = PreflightChecks(
        cameras=lambda: [1, 2], source_health=table.health,
        asset_exists=assets_in(tmp_path), destinations=lambda: [],
    )
    rig = ShowRig(tmp_path, preflight=checks)
    try:
        document = small_timeline()
        document["timeline"]["tracks"]["overlays"][1]["cues"].append(
            {"id": "o3", "start_time": 14, "duration": 2, "action": "show_overlay",
             "params": {"type": "logo", "image_url": "/assets/missing.png"}})
        rig.load(document)
        report = rig.call("preflight")
        assert rig.call("status")["state"] == "idle"
        by_subject = {item["subject"]: item for item in report["items"]}
        assert report["ok"] is True
        assert by_subject["camera:1"]["status"] == "ok"
        assert by_subject["camera:2"]["status"] == "warning"
        assert "offline" in by_subject["camera:2"]["message"]
        assert by_subject["/assets/missing.png"]["status"] == "warning"
        assert by_subject["-"]["check"] == "destinations"
        assert by_subject["-"]["status"] == "warning"

        bad = small_timeline()
        bad["timeline"]["tracks"]["video"]["cues"][1]["params"]["camera_id"] = 9
        rig.load(bad)
        report = rig.call("preflight")
        assert report["ok"] is False and report["errors"] == 1
        with pytest.raises(ShowError, match="preflight failed: camera:9"):
            rig.call("go_live")
        assert rig.call("status")["state"] == "idle"
        assert rig.call("go_live", None, True)["state"] == "live"
    finally:
        rig.stop()


@pytest.mark.timeout(60)
def test_go_live_in_the_past_starts_mid_way(rig: ShowRig) -> None:
    rig.run_until(2 * FPS)
    rig.load(small_timeline())
    rig.call("go_live", -5 * FPS)  # timeline frame 0 was 5 s before program frame 0
    rig.run_until(rig.next_frame + 10)
    segment = rig.show.segment
    assert segment is not None and segment.start == 2 * FPS
    assert segment.start - segment.anchor == 7 * FPS
    assert rig.plans[segment.start].source == "camera:2"  # v2 (5..10 s), entered mid-cue
    assert not rig.plans[segment.start].blending
    assert rig.layers_at(segment.start) == {"lower": 1.0, "upper": 1.0}
