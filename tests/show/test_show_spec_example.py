"""The spec's example timeline runs unchanged: every cue lands on start_time x fps exactly."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pykka
import pytest
from PIL import Image
from test_show_rig import FPS, FakePtz, FakeSources, ShowRig

from vistter.actors.program.frame_plan import ramp
from vistter.clock import FakeClock
from vistter.models.validation import load_timeline_file

SLIDE = "media:/assets/transition_slide.png"
LENGTH = 3600 * FPS


@dataclass
class SpecRun:
    rig: ShowRig
    sources: FakeSources
    ptz: FakePtz


@pytest.fixture
def spec(tmp_path: Path, spec_example_path: Path) -> Iterator[SpecRun]:
    assets = tmp_path / "assets"
    assets.mkdir()
    Image.new("RGBA", (120, 60), (200, 30, 30, 255)).save(assets / "logo.png")
    clock = FakeClock(start=1000.0)
    sources, ptz = FakeSources(clock), FakePtz(clock, settle=2.0)
    rig = ShowRig(assets, sources=sources, ptz=ptz, clock=clock)
    rig.load(load_timeline_file(spec_example_path))
    yield SpecRun(rig, sources, ptz)
    rig.stop()
    pykka.ActorRegistry.stop_all()


def _effects(rig: ShowRig) -> dict[tuple[str, str], tuple[int | None, int, int]]:
    return {
        (e.kind, e.tag or ""): (e.requested, e.armed, e.effective)
        for e in rig.program.effects()
    }


@pytest.mark.timeout(120)
def test_every_cue_of_the_spec_example_lands_on_its_exact_frame(spec: SpecRun) -> None:
    rig = spec.rig
    status = rig.call("go_live", 0)
    assert status["state"] == "live"
    assert status["timeline"]["loop"] is True  # the example does not say: it loops
    rig.run_until(126 * FPS, step=0.5)

    effects = _effects(rig)
    assert effects[("take", "cue_v1")] == (0, 0, 0)
    assert effects[("take", "cue_v2")] == (60 * FPS, 60 * FPS, 60 * FPS)
    assert effects[("take", "cue_v3")] == (65 * FPS, 65 * FPS, 65 * FPS)
    assert effects[("overlay", "cue_o1")] == (10 * FPS, 10 * FPS, 10 * FPS)
    assert effects[("overlay", "cue_o2")] == (70 * FPS, 70 * FPS, 70 * FPS)
    assert effects[("overlay", "cue_o3")] == (30 * FPS, 30 * FPS, 30 * FPS)

    # video: camera 1, a 1 s fade through black to the slide at 60 s, a 1 s fade to camera 2
    assert rig.sources_at(range(0, 1800)) == ["camera:1"] * 1800
    fade = [rig.plans[n] for n in range(1800, 1831)]
    assert all(p.source == SLIDE and p.previous == "camera:1" for p in fade[:30])
    assert [round(p.progress, 6) for p in fade[:30]] == [round(ramp(i, 30), 6) for i in range(30)]
    assert fade[0].transition == "fade" and not fade[30].blending
    assert rig.plans[1949].source == SLIDE
    assert rig.plans[1950].source == "camera:2" and rig.plans[1950].previous == SLIDE
    assert rig.plans[1980].source == "camera:2" and not rig.plans[1980].blending

    # overlays: the lower third fades in over 15 frames from 10 s and out until 25 s
    assert rig.layers_at(299) == {}
    assert rig.layers_at(300) == {"overlay_1": round(ramp(0, 15), 4)}
    assert rig.layers_at(315) == {"overlay_1": 1.0}
    assert rig.layers_at(749) == {"overlay_1": round(ramp(0, 15), 4)}
    assert rig.layers_at(750) == {}
    # the tide text on layer 2 from 30 s to 50 s; the logo at 0.8 from 70 s to 80 s
    assert rig.layers_at(900) == {"overlay_2": 1.0}
    assert rig.layers_at(1499) == {"overlay_2": 1.0} and rig.layers_at(1500) == {}
    assert rig.layers_at(2100) == {"overlay_1": 0.8} and rig.layers_at(2400) == {}
    assert [p.z for p in rig.plans[900].layers] == [2]


@pytest.mark.timeout(120)
def test_ptz_and_media_are_prepared_ahead_of_their_cues(spec: SpecRun) -> None:
    rig = spec.rig
    rig.call("go_live", 0)
    rig.run_until(70 * FPS, step=0.5)
    t0 = rig.t0
    # cue_v1 starts the show with camera 1 on air: its move happens on air
    first = spec.ptz.moves[0]
    assert (first["camera_id"], first["preset"], first["on_air"]) == (1, "wide_shot", True)
    # cue_v3 (65 s, camera 2 off air): moved at least settle time before the cue
    close_up = next(m for m in spec.ptz.moves if m["preset"] == "close_up")
    assert close_up["camera_id"] == 2 and close_up["on_air"] is False
    assert 65 - 2.0 - 1.5 <= close_up["at"] - t0 <= 65 - 2.0
    # the slide's media source was ensured before its cue at 60 s
    ensure = next(c for c in spec.sources.calls if c[0] == "ensure")
    assert ensure[1] == "/assets/transition_slide.png"
    assert ensure[2] - t0 <= 60 - 1.0
    prerolls = rig.executor("video-video_main").proxy().sync().get(timeout=10)["prerolls"]
    assert {p["cue"] for p in prerolls} == {"cue_v1", "cue_v3"}


@pytest.mark.timeout(120)
def test_the_next_loop_iteration_is_armed_ahead_and_lands_exactly(spec: SpecRun) -> None:
    rig = spec.rig
    rig.call("go_live", 0)
    rig.run_until(30)
    status = rig.call("jump", None, 3590)
    jumped_at = rig.show.segment.start  # type: ignore[union-attr]
    anchor = rig.show.segment.anchor  # type: ignore[union-attr]
    assert jumped_at - anchor == 3590 * FPS
    assert status["position"]["iteration"] == 0
    rig.run_until(anchor + LENGTH + 31 * FPS, step=0.5)

    effects = _effects(rig)
    assert effects[("take", "cue_v1")][0] == anchor + LENGTH
    assert effects[("take", "cue_v1")][2] == anchor + LENGTH
    assert effects[("overlay", "cue_o1")][2] == anchor + LENGTH + 10 * FPS
    assert effects[("overlay", "cue_o3")][2] == anchor + LENGTH + 30 * FPS
    assert rig.plans[anchor + LENGTH + 10 * FPS].layers[0].layer_id == "overlay_1"
    status = rig.call("status")
    assert status["position"]["iteration"] == 1
    assert status["video_cue"] == "cue_v1"
    assert "loop" in rig.events.show_events()
