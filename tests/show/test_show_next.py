"""Put on air next: a queued library timeline follows the running pass frame-exact."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_show_rig import FPS, FakeRecorder, ShowRig, rig, small_timeline, stop_actors

from vistter.models.timeline import TimelineDocument
from vistter.models.validation import load_timeline
from vistter.show import ShowStateError

__all__ = ["rig", "stop_actors"]

LENGTH = 20 * FPS  # small_timeline's 20 s


def old_show(**changes: Any) -> dict[str, Any]:
    """small_timeline with a logo on the whole timeline: on air across every loop."""
    document = small_timeline(**changes)
    document["timeline"]["tracks"]["overlays"].append({"track_id": "logo", "layer": 3, "cues": [
        {"id": "logo1", "start_time": 0, "duration": 20, "action": "show_overlay",
         "params": {"type": "text", "text": "LOGO", "position": "top_left"}},
    ]})
    return document


def next_show() -> TimelineDocument:
    """Another 10 s timeline: camera 3 (a cut) then camera 2, and its own badge overlay."""
    return load_timeline({"timeline": {
        "id": "tl_next", "name": "Evening show", "duration": 10, "fps": FPS,
        "resolution": "320x180", "loop": True,
        "tracks": {
            "video": {"track_id": "video", "cues": [
                {"id": "n1", "start_time": 0, "duration": 4, "action": "show_camera",
                 "params": {"camera_id": 3}},
                {"id": "n2", "start_time": 4, "duration": 6, "action": "show_camera",
                 "params": {"camera_id": 2}},
            ]},
            "overlays": [{"track_id": "badge", "layer": 1, "cues": [
                {"id": "b1", "start_time": 0, "duration": 3, "action": "show_overlay",
                 "params": {"type": "text", "text": "Next!", "position": "top_right"}},
            ]}],
        },
    }})


@pytest.fixture
def recorded(tmp_path: Path, stop_actors: None) -> Iterator[tuple[ShowRig, FakeRecorder]]:
    recorder = FakeRecorder()
    show_rig = ShowRig(tmp_path, recorder=recorder)
    yield show_rig, recorder
    show_rig.stop()


@pytest.mark.timeout(90)
def test_the_queued_timeline_starts_on_the_frame_the_running_pass_ends(
    recorded: tuple[ShowRig, FakeRecorder],
) -> None:
    rig, recorder = recorded
    rig.load(old_show(), 3)
    rig.call("go_live", 0)
    rig.run_until(LENGTH + 6 * FPS)  # into the second pass
    segment = rig.show.segment
    assert segment is not None
    boundary = segment.anchor + 2 * LENGTH  # the end of the pass on air
    queued = rig.call("put_next", next_show(), 7)
    assert queued["timeline"]["id"] == "tl_small"  # nothing changes yet
    assert queued["next"]["timeline_id"] == 7 and queued["next"]["name"] == "Evening show"
    assert queued["next"]["at_frame"] == boundary and queued["next"]["at"]
    assert queued["next"]["in_seconds"] == pytest.approx((boundary - rig.program.horizon) / FPS)

    rig.run_until(boundary + 8 * FPS)
    before, at = rig.plans[boundary - 1], rig.plans[boundary]
    assert before.source == "camera:1" and "logo" in rig.layers_at(boundary - 1)
    assert at.source == "camera:3"  # the queued timeline's first cue, on the exact frame
    assert rig.layers_at(boundary) == {"badge": 1.0}  # old overlays cut, its own on
    assert rig.sources_at(range(boundary, boundary + 4 * FPS)) == ["camera:3"] * (4 * FPS)
    assert rig.plans[boundary + 4 * FPS].source == "camera:2"  # n2, on its frame
    assert "badge" not in rig.layers_at(boundary + 3 * FPS)
    assert all("logo" not in rig.layers_at(n) for n in range(boundary, rig.next_frame))

    status = rig.call("status")
    assert status["timeline"]["id"] == "tl_next" and status["timeline"]["db_id"] == 7
    assert status["state"] == "live" and status["next"] is None
    assert status["position"]["frame"] == rig.program.horizon - 1 - boundary
    assert rig.show.live_since == boundary
    assert "next_queued" in rig.events.show_events()
    assert "next_on_air" in rig.events.show_events()
    assert recorder.started == [3, 7]
    assert [(final, error) for _, final, error, _ in recorder.finished] == [("completed", None)]


@pytest.mark.timeout(90)
def test_a_timeline_that_does_not_loop_is_followed_at_its_end(rig: ShowRig) -> None:
    rig.load(old_show(loop=False))
    rig.call("go_live", 0)
    segment = rig.show.segment
    assert segment is not None
    rig.call("put_next", next_show())
    rig.run_until(segment.anchor + LENGTH + 2 * FPS)
    assert rig.plans[segment.anchor + LENGTH - 1].source == "camera:1"
    assert rig.plans[segment.anchor + LENGTH].source == "camera:3"
    status = rig.call("status")
    assert status["state"] == "live" and status["timeline"]["id"] == "tl_next"


@pytest.mark.timeout(60)
def test_with_nothing_on_air_it_is_loaded(rig: ShowRig) -> None:
    status = rig.call("put_next", next_show(), 7)
    assert status["state"] == "idle" and status["timeline"]["id"] == "tl_next"
    assert status["next"] is None
    assert rig.call("go_live", 0)["timeline"]["id"] == "tl_next"


@pytest.mark.timeout(90)
def test_cancel_keeps_the_running_timeline_looping_and_stop_withdraws_it(rig: ShowRig) -> None:
    with pytest.raises(ShowStateError, match="no timeline is queued"):
        rig.call("cancel_next")
    rig.load(old_show())
    rig.call("go_live", 0)
    segment = rig.show.segment
    assert segment is not None
    rig.call("put_next", next_show())
    cancelled = rig.call("cancel_next")
    assert cancelled["next"] is None and "next_cancelled" in rig.events.show_events()
    rig.run_until(segment.anchor + LENGTH + FPS)
    assert rig.plans[segment.anchor + LENGTH].source == "camera:1"  # v1 again: it looped
    assert rig.call("status")["timeline"]["id"] == "tl_small"

    rig.call("put_next", next_show())
    rig.call("pause")
    assert rig.call("status")["next"]["at_frame"] is None  # no boundary while held
    rig.call("stop_show")
    assert rig.call("status")["next"] is None
    with pytest.raises(ShowStateError):
        rig.call("cancel_next")
