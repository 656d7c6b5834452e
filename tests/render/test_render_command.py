"""``vistter render``: frame accuracy of the offline render, checked by decoding the MP4.

Cameras are solid-colour lavfi sources, so the luma of every decoded frame says which source
(or which blend of two) is on air; a solid-colour logo says where an overlay is. Every video
cue's first frame must show its source at exactly start_time x fps, transitions must have the
right length and blend values, overlays must appear and disappear on their frames.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from vistter.cli import main
from vistter.models.config import parse_config
from vistter.render.command import render_timeline

FPS = 30
W, H = 320, 240
COLOURS = {1: "0x202020", 2: "0xC0C0C0", 3: "0x707070"}  # three distinct greys
LOGO = (0, 255, 0)  # pure green: far from every grey in chroma


def config_for(tmp_path: Path) -> Any:
    assets = tmp_path / "assets"
    assets.mkdir(exist_ok=True)
    Image.new("RGB", (W, H), (40, 40, 40)).save(assets / "technical_difficulties.png")
    Image.new("RGBA", (64, 64), (*LOGO, 255)).save(assets / "logo.png")
    raw = {
        "encoding": {"width": W, "height": H, "fps": FPS, "bitrate_kbps": 800},
        "cameras": [
            {"id": i, "name": f"Grey {i}", "url": f"lavfi:color=c={c}:size={W}x{H}:rate={FPS}"}
            for i, c in COLOURS.items()
        ],
        "paths": {"assets_dir": str(assets), "data_dir": str(tmp_path / "var")},
        "show": {"loop": False},
    }
    return parse_config(raw, base_dir=tmp_path, env={})


def decode(path: Path) -> list[np.ndarray]:
    frames: list[np.ndarray] = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24"))
    return frames


def luma(frame: np.ndarray) -> float:
    """Mean of the top-left 16x16 corner, where no overlay goes (overlays sit bottom right)."""
    return float(frame[:16, :16].mean())


def has_logo(frame: np.ndarray) -> bool:
    corner = frame[H - 60:H - 30, W - 60:W - 30].reshape(-1, 3).mean(axis=0)
    return bool(corner[1] > 200 and corner[0] < 80 and corner[2] < 80)


def video_cue(cue_id: str, start: float, duration: float, camera: int,
              transition: str, seconds: float) -> dict[str, Any]:
    params: dict[str, Any] = {"camera_id": camera, "transition": transition}
    if transition != "cut":
        params["transition_duration"] = seconds
    return {"id": cue_id, "start_time": start, "duration": duration, "action": "show_camera",
            "params": params}


def timeline(video: list[dict[str, Any]], overlays: list[dict[str, Any]],
             duration: float) -> dict[str, Any]:
    return {"timeline": {
        "id": "t", "name": "render test", "duration": duration, "fps": FPS,
        "resolution": f"{W}x{H}",
        "tracks": {
            "video": {"track_id": "v", "type": "video", "cues": video},
            "overlays": [{"track_id": "o", "type": "overlay", "layer": 1, "cues": overlays}],
        },
    }}


def render(tmp_path: Path, document: dict[str, Any], name: str) -> list[np.ndarray]:
    config = config_for(tmp_path)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(document))
    out = tmp_path / f"{name}.mp4"
    result = render_timeline(path, out, config)
    assert result.frames == round(document["timeline"]["duration"] * FPS)
    frames = decode(out)
    assert len(frames) == result.frames
    return frames


def expected_luma(prev: float, new: float, transition: str, step: int, frames: int) -> float:
    """The blend at partial frame ``step`` (0-based) of a ``frames``-frame transition."""
    t = (step + 1) / (frames + 1)
    black = 16 * 255 / 219 - 16 * 255 / 219  # full-range black after decoding: 0
    if transition == "dissolve":
        return prev + (new - prev) * t
    return black + (prev - black) * (1 - 2 * t) if t < 0.5 else black + (new - black) * (2 * t - 1)


def check_video(frames: list[np.ndarray], cues: list[dict[str, Any]],
                levels: dict[int, float]) -> None:
    previous: float | None = None
    for cue in cues:
        start = round(cue["start_time"] * FPS)
        new = levels[cue["params"]["camera_id"]]
        transition = cue["params"]["transition"]
        length = round(cue["params"].get("transition_duration", 0) * FPS)
        if previous is None or transition == "cut" or length == 0:
            assert abs(luma(frames[start]) - new) <= 3, f"{cue['id']} not on air at {start}"
            if previous is not None:
                assert abs(luma(frames[start - 1]) - previous) <= 3, f"{cue['id']} came early"
        else:
            for step in range(length):
                want = expected_luma(previous, new, transition, step, length)
                got = luma(frames[start + step])
                assert abs(got - want) <= 4, (cue["id"], transition, step, got, want)
            assert abs(luma(frames[start + length]) - new) <= 3, f"{cue['id']} ended late"
        previous = new


def levels_of(frames: list[np.ndarray], cues: list[dict[str, Any]]) -> dict[int, float]:
    """Each camera's decoded luma, read in the middle of one of its cues."""
    found: dict[int, float] = {}
    for cue in cues:
        middle = round((cue["start_time"] + cue["duration"] - 0.1) * FPS)
        found.setdefault(cue["params"]["camera_id"], luma(frames[middle]))
    return found


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_cues_fades_and_overlays_land_on_their_frames(tmp_path: Path) -> None:
    video = [
        video_cue("a", 0, 1, 1, "cut", 0),
        video_cue("b", 1, 1, 2, "cut", 0),
        video_cue("c", 2, 1, 1, "dissolve", 0.5),
        video_cue("d", 3, 1, 3, "fade", 0.5),
    ]
    overlays = [{"id": "logo", "start_time": 0.5, "duration": 1.2, "action": "show_overlay",
                 "params": {"type": "logo", "image_url": "/assets/logo.png",
                            "position": "bottom_right"}}]
    frames = render(tmp_path, timeline(video, overlays, 4), "fixed")
    check_video(frames, video, levels_of(frames, video))
    on = [n for n, frame in enumerate(frames) if has_logo(frame)]
    assert on == list(range(15, 15 + 36)), f"logo frames {on[:3]}..{on[-3:]}"


@pytest.mark.slow
@pytest.mark.timeout(600)
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_timelines_render_frame_exact(tmp_path: Path, data: st.DataObject) -> None:
    count = data.draw(st.integers(2, 4))
    video, start, last = [], 0.0, None
    for n in range(count):
        length = data.draw(st.sampled_from([0.5, 0.7, 1.0]))
        camera = data.draw(st.sampled_from([c for c in COLOURS if c != last]))
        transition = "cut" if n == 0 else data.draw(st.sampled_from(["cut", "fade", "dissolve"]))
        seconds = 0.0 if transition == "cut" else data.draw(st.sampled_from([0.2, 0.3]))
        video.append(video_cue(f"v{n}", start, length, camera, transition, seconds))
        start, last = round(start + length, 3), camera
    frames = render(tmp_path, timeline(video, [], start), f"gen{count}")
    # every camera's level from a clean frame of its own
    levels = levels_of(frames, video)
    check_video(frames, video, levels)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_two_renders_are_identical_and_the_command_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = [video_cue("a", 0, 1, 1, "cut", 0), video_cue("b", 1, 1, 2, "dissolve", 0.5)]
    document = timeline(video, [], 2)
    first = render(tmp_path, document, "one")
    second = render(tmp_path, document, "two")
    digest = [hashlib.sha256(f.tobytes()).hexdigest() for f in first]
    assert digest == [hashlib.sha256(f.tobytes()).hexdigest() for f in second]
    # the command line, on the spec's example with the demo configuration
    out = tmp_path / "example.mp4"
    from conftest import SPEC_EXAMPLE

    assert main(["render", str(SPEC_EXAMPLE), "--out", str(out), "--duration", "1"]) == 0
    assert "30 frames" in capsys.readouterr().out
    assert len(decode(out)) == 30
