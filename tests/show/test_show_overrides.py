"""Manual overrides win over the timeline from the next frame until released."""

from __future__ import annotations

import numpy as np
import pytest
from test_show_rig import FMT, FPS, ShowRig, rig, small_timeline, stop_actors

from vistter.actors.program.overlay_layer import OverlayLayer
from vistter.actors.sources.table import SLATE_SOURCE_ID
from vistter.media.frames import black_frame
from vistter.show import ShowError

__all__ = ["rig", "stop_actors"]


def _picture(layer: OverlayLayer) -> np.ndarray:
    frame = black_frame(FMT)
    layer.composite_frame(frame)
    return frame


def _live(rig: ShowRig, until: int) -> None:
    rig.load(small_timeline())
    rig.call("go_live", 0)
    rig.run_until(until)


@pytest.mark.timeout(60)
def test_emergency_slate_on_the_next_frame_and_the_cue_source_back_on_release(
    rig: ShowRig,
) -> None:
    _live(rig, 3 * FPS)
    status = rig.call("emergency_slate")
    assert status["overrides"]["slate"] is True
    at = rig.program.horizon
    rig.run_until(12 * FPS)  # past v2 (5 s) and v3 (10 s): video cues are ignored
    assert rig.plans[at - 1].source == "camera:1"
    assert set(rig.sources_at(range(at, 12 * FPS))) == {SLATE_SOURCE_ID}
    assert rig.layers_at(7 * FPS) == {"lower": 1.0, "upper": 1.0}  # overlays go on
    released = rig.call("release_slate")
    back = rig.program.horizon
    assert released["overrides"]["slate"] is False
    rig.run_until(back + FPS)
    assert rig.plans[back].source == "camera:1"  # v3 (10..20 s) is on
    assert not rig.plans[back].blending
    assert rig.plans[back - 1].source == SLATE_SOURCE_ID


@pytest.mark.timeout(60)
def test_force_camera_and_release(rig: ShowRig) -> None:
    _live(rig, FPS)
    rig.call("force_camera", 7)
    at = rig.program.horizon
    rig.run_until(6 * FPS)
    assert set(rig.sources_at(range(at, 6 * FPS))) == {"camera:7"}
    rig.call("emergency_slate")  # the slate wins over a forced camera...
    slate_at = rig.program.horizon
    rig.run_until(slate_at + 5)
    assert rig.plans[slate_at].source == SLATE_SOURCE_ID
    rig.call("release_slate")  # ...and the forced camera is back when it is released
    back = rig.program.horizon
    rig.run_until(back + 5)
    assert rig.plans[back].source == "camera:7"
    rig.call("release_camera")
    cue_back = rig.program.horizon
    rig.run_until(cue_back + 5)
    assert rig.plans[cue_back].source == "camera:2"  # v2 (5..10 s)
    rig.run_until(10 * FPS + 1)
    assert rig.plans[10 * FPS].source == "camera:1"  # later cues run again, on their frame
    assert rig.plans[10 * FPS].transition == "fade"


@pytest.mark.timeout(60)
def test_pin_keeps_the_camera_while_overlays_go_on(rig: ShowRig) -> None:
    _live(rig, FPS)
    status = rig.call("pin_camera")
    assert status["overrides"]["pinned_source"] == "camera:1"
    rig.run_until(7 * FPS)
    assert set(rig.sources_at(range(FPS, 7 * FPS))) == {"camera:1"}
    assert rig.layers_at(2 * FPS + 15) == {"lower": 1.0}
    assert rig.layers_at(6 * FPS) == {"lower": 1.0, "upper": 1.0}
    rig.call("unpin_camera")
    back = rig.program.horizon
    rig.run_until(back + 2)
    assert rig.plans[back].source == "camera:2"


@pytest.mark.timeout(60)
def test_clear_overlays_until_restored(rig: ShowRig) -> None:
    _live(rig, 3 * FPS)
    assert rig.layers_at(3 * FPS - 1) == {"lower": 1.0}
    rig.call("clear_overlays")
    at = rig.program.horizon
    rig.run_until(9 * FPS)
    assert all(rig.layers_at(n) == {} for n in range(at, 9 * FPS))  # o2 (6 s) stays off
    assert rig.plans[5 * FPS].source == "camera:2"  # video cues go on
    rig.call("restore_overlays")
    rig.run_until(rig.program.horizon + 3)
    back = rig.next_frame - 1
    assert rig.layers_at(back) == {"upper": 1.0}  # o2 (6..12 s) playing now is back
    rig.run_until(12 * FPS + 1)
    assert rig.layers_at(12 * FPS) == {}


@pytest.mark.timeout(60)
def test_live_text_update_shows_on_the_next_frame_timing_unchanged(rig: ShowRig) -> None:
    _live(rig, 3 * FPS)
    before = rig.plans[3 * FPS - 1].layers[0].layer
    result = rig.call("update_text", "o1", "Breaking: gale warning")
    assert result == {"cue_id": "o1", "text": "Breaking: gale warning", "on_air": True}
    next_frame = rig.program.horizon
    plan = rig.program.frame_plan(next_frame)
    rig.next_frame = next_frame + 1
    [layer] = plan.layers
    assert layer.layer is not before
    assert layer.layer.width > before.width  # the longer text is wider
    assert layer.opacity == 1.0
    rig.run_until(9 * FPS)
    assert rig.layers_at(8 * FPS - 1)["lower"] == round(1 / 16, 4)  # still fades out by 8 s
    assert "lower" not in rig.layers_at(8 * FPS)
    # the next occurrence (next loop iteration) shows the live text too
    rig.call("jump", "v1")
    rig.run_until(rig.show.segment.anchor + 3 * FPS)  # type: ignore[union-attr]
    again = rig.plans[rig.next_frame - 1].layers[0].layer
    assert again.width == layer.layer.width
    np.testing.assert_array_equal(_picture(again), _picture(layer.layer))
    reset = rig.call("update_text", "o1", None)
    assert reset["on_air"] is True
    restored = rig.program.frame_plan(rig.program.horizon).layers[0].layer
    rig.next_frame = rig.program.horizon
    assert restored.width == before.width


@pytest.mark.timeout(60)
def test_live_text_refusals(rig: ShowRig) -> None:
    with pytest.raises(ShowError, match="no timeline is loaded"):
        rig.call("update_text", "o1", "x")
    document = small_timeline()
    document["timeline"]["tracks"]["overlays"][0]["cues"].append(
        {"id": "logo", "start_time": 12, "duration": 2, "action": "show_overlay",
         "params": {"type": "logo", "image_url": "/assets/logo.png"}})
    rig.load(document)
    with pytest.raises(ShowError, match="no overlay cue 'v1'"):
        rig.call("update_text", "v1", "x")
    with pytest.raises(ShowError, match="it has no text"):
        rig.call("update_text", "logo", "x")
    with pytest.raises(ShowError, match="empty"):
        rig.call("update_text", "o1", "  ")
    assert rig.call("update_text", "o1", "later")["on_air"] is False


@pytest.mark.timeout(60)
def test_overrides_work_before_any_show_and_while_paused(rig: ShowRig) -> None:
    rig.call("emergency_slate")
    assert rig.program.frame_plan(0).source == SLATE_SOURCE_ID
    rig.next_frame = 1
    rig.load(small_timeline())
    rig.call("go_live", 0)
    rig.run_until(6 * FPS)
    assert set(rig.sources_at(range(1, 6 * FPS))) == {SLATE_SOURCE_ID}
    rig.call("pause")
    rig.call("release_slate")
    back = rig.program.horizon
    rig.run_until(back + 3)
    assert rig.plans[back].source == "camera:2"  # the held position's cue
    assert rig.call("status")["state"] == "paused"
