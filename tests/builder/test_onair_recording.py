"""Issue #11's kind of show, stored through the API and put on air: the nginx recording shows
every camera change, the lower third and the logo on their designed frames.

This is the frame-exact proof on real parts (the demo appliance as ``vistter run``, ffmpeg,
nginx-rtmp), in real time. The browser test (``test_builder_30min_show_browser``) plays the
issue's own show (cameras alternating every minute) for two minutes and checks the same things
on its recording; this one runs the same 30-minute looping show with the cameras alternating
every 15 s, so that two camera changes (0:15 and 0:30, the first one under the lower third)
and the lower third's two edges (0:10 and 0:25) are recorded in 32 s of play
(``/api/show/jump`` is not used: it starts a new segment whose first frame the recording could
not tell apart). The show runs once per module; two tests read it:

- on the program clock: every edge on its designed frame and the logo on every frame;
- in the recording itself (the issue's bar): every edge on its designed frame, nothing lost.
  A frame the encoder's queue drops (a loaded machine) is written again from the last one,
  so later frames keep their time; a failure says how many were dropped before each edge.

The browser test builds its show by hand and reuses :mod:`builder.onair_check` and
:mod:`builder.onair_frames` on its recording.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from builder.onair_check import (
    FPS,
    HEIGHT,
    KEY,
    WIDTH,
    DropLog,
    assets_of,
    design_of,
    encoder_dropped,
    onair_appliance,
    play_through,
    put_on_air_by_api,
)
from builder.onair_frames import (
    OnAirResult,
    assert_issue_show_in_recording,
    assert_issue_show_on_program,
    check_recording,
)
from chaos.realparts import NginxRtmp

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

CAMERA_EVERY = 15
"""Seconds between camera changes (the issue's show: 60)."""
EDGES = (10 * FPS, CAMERA_EVERY * FPS, 25 * FPS, 2 * CAMERA_EVERY * FPS)
"""The designed frames checked: the lower third on at 0:10 and off at 0:25, the camera
changes at 0:15 and 0:30."""


def thirty_minute_show() -> dict[str, Any]:
    """Camera 1 and camera 2 alternating every :data:`CAMERA_EVERY` seconds for 30 minutes,
    looping; the logo top right for the whole timeline; a lower third at 0:10 for 15 s. Written
    by hand, as the builder's Repeat action writes it: ordinary cues."""
    cameras = [
        {"id": f"cue_cam_{index + 1}", "start_time": index * CAMERA_EVERY,
         "duration": CAMERA_EVERY, "action": "show_camera",
         "params": {"camera_id": 1 + index % 2, "transition": "cut"}}
        for index in range(1800 // CAMERA_EVERY)
    ]
    return {"timeline": {
        "id": "marina_30min", "name": "Marina, 30 minutes", "duration": 1800, "fps": FPS,
        "resolution": "1280x720", "loop": True,
        "tracks": {
            "video": {"track_id": "video", "type": "video", "cues": cameras},
            "overlays": [
                {"track_id": "straps", "type": "overlay", "layer": 1, "cues": [
                    {"id": "cue_lower_third", "start_time": 10, "duration": 15,
                     "action": "show_overlay",
                     "params": {"type": "lower_third", "text": "Welcome to the marina",
                                "position": "bottom_left"}}]},
                {"track_id": "logo", "type": "overlay", "layer": 2, "cues": [
                    {"id": "cue_logo", "start_time": 0, "duration": 1800,
                     "action": "show_overlay",
                     "params": {"type": "logo", "image_url": "/assets/logo.png",
                                "position": "top_right"}}]},
            ],
        },
        "fallback": {"test_pattern": "/assets/technical_difficulties.png",
                     "backup_camera_id": 3},
    }}


@pytest.fixture(scope="module")
def on_air(tmp_path_factory: pytest.TempPathFactory) -> OnAirResult:
    """The show stored through the API, put on air, played past 0:30 and checked."""
    workdir = Path(tmp_path_factory.mktemp("onair"))
    began = time.monotonic()
    with NginxRtmp(workdir / "nginx") as nginx:
        with onair_appliance(workdir / "appliance", nginx) as appliance:
            stored = appliance.post("/api/timelines", thirty_minute_show())
            assert stored.status_code == 201, stored.text
            record_id = stored.json()["id"]
            document = appliance.get(f"/api/timelines/{record_id}")["document"]
            drops = DropLog(encoder_dropped(appliance))
            put_on_air_by_api(appliance, record_id)
            mixer = play_through(appliance, max(EDGES) / FPS + 2, drops)
        on_air = time.monotonic() - began
        result = check_recording(nginx.recording(KEY), design_of(document),
                                 assets_of(appliance), drops)
    print("\n".join([
        *result.lines(),
        f"the encoder dropped {drops.samples[-1][1]} frames while on air; mixer: "
        f"{mixer['late_ticks']} late ticks, {mixer['repeated']} repeated frames",
        f"appliance up and on air {on_air:.0f} s, recording checked in "
        f"{time.monotonic() - began - on_air:.0f} s"]))
    return result


def test_every_cue_lands_on_its_designed_program_frame(on_air: OnAirResult) -> None:
    assert_issue_show_on_program(on_air, WIDTH, HEIGHT, EDGES)


def test_the_recording_shows_every_change_on_its_designed_frame(on_air: OnAirResult) -> None:
    assert_issue_show_in_recording(on_air, EDGES)
