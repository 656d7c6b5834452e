"""A show on air on the demo appliance, for the builder's acceptance tests (issue #11).

A timeline built in the browser (or, in ``test_onair_recording``, stored through the API) is
put on air on the demo appliance (``vistter run``), whose simulated cameras are solid colours
(camera 1 red, 2 green, 3 blue: :data:`CAMERA_COLOURS`) at 640x360, 30 fps, and whose only
destination is a local nginx-rtmp that records it. The appliance is always on air: nginx
records the slate before the show, which is how :mod:`builder.onair_frames` finds the show's
frame 0 in the recording.

Here: the appliance (:func:`onair_appliance`, ended by PID), putting a library timeline on
air through the API, waiting in real time while sampling the frames the encoder drops
(:class:`DropLog`), and what a timeline designs in program frames (:func:`design_of`).
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.demo_appliance import REPO, Configure, DemoAppliance, demo_appliance

from chaos.realparts import NginxRtmp
from vistter.models.overlays import LogoOverlay, LowerThirdOverlay
from vistter.models.timeline import CameraCue
from vistter.models.validation import load_timeline

__all__ = [
    "ASSETS", "CAMERA_COLOURS", "FPS", "HEIGHT", "KEY", "WIDTH", "Design", "DropLog",
    "OverlayWindow", "assets_of", "design_of", "encoder_dropped", "onair_appliance", "play_through",
    "put_on_air_by_api", "wait_for_show_seconds",
]

FPS, WIDTH, HEIGHT = 30, 640, 360
KEY = "builder-show"
ASSETS = REPO / "assets"
CAMERA_COLOURS = {1: "red", 2: "green", 3: "blue"}


# -- the appliance ------------------------------------------------------------------------


def _configure(nginx: NginxRtmp, assets: Path) -> Configure:
    server, key = nginx.url("live", KEY).rsplit("/", 1)

    def configure(raw: dict[str, Any]) -> None:
        raw["paths"]["assets_dir"] = str(assets)
        raw["encoding"] = {"profile": "reliability", "bitrate_kbps": 800, "preset": "ultrafast",
                           "width": WIDTH, "height": HEIGHT, "fps": FPS}
        raw["cameras"] = [
            {"id": camera, "name": f"Camera {camera} ({colour}, simulated)",
             "url": f"lavfi:color=c={colour}:size={WIDTH}x{HEIGHT}:rate={FPS}",
             **({"backup_camera_id": 3} if camera != 3 else {})}
            for camera, colour in CAMERA_COLOURS.items()
        ]
        raw["destinations"] = [{"id": "nginx", "platform": "custom_rtmp", "url": server,
                                "stream_key": key}]
        raw["show"] = {**raw.get("show", {}), "autostart": False, "always_on_air": True}

    return configure


@contextlib.contextmanager
def onair_appliance(workdir: Path, nginx: NginxRtmp) -> Iterator[DemoAppliance]:
    """The demo appliance (``vistter run``) with colour cameras at 640x360, publishing the
    slate to ``nginx`` until a show goes live; yielded once nginx has recorded a second of
    it. Its assets folder is a copy of the repository's (uploads land there, see
    :func:`assets_of`). Ended by PID when the block ends."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ASSETS, workdir / "assets")
    with demo_appliance(workdir, _configure(nginx, workdir / "assets"),
                        ready="idle") as appliance:
        appliance.wait_until("the slate at nginx",
                             lambda: (nginx.stream_bytes_in(KEY) or 0) > 0, 30)
        appliance.wait_until("the cameras online", lambda: all(
            appliance.get("/api/status")["sources"][f"camera:{camera}"]["state"] == "online"
            for camera in CAMERA_COLOURS), 30)
        time.sleep(1.0)
        yield appliance


def assets_of(appliance: DemoAppliance) -> Path:
    """The assets folder of an appliance from :func:`onair_appliance`."""
    return appliance.workdir / "assets"


def put_on_air_by_api(appliance: DemoAppliance, record_id: int) -> dict[str, Any]:
    """Load library timeline ``record_id`` into the show and GO LIVE (what the builder's
    "Put on air next" and the console's GO LIVE do); the show's status."""
    loaded = appliance.post("/api/show/load", {"timeline_id": record_id})
    assert loaded.status_code == 200, loaded.text
    started = appliance.post("/api/live/start")
    assert started.status_code == 200, started.text
    status: dict[str, Any] = started.json()
    assert status["state"] == "live", status
    return status


@dataclass
class DropLog:
    """Frames the encoder's queue dropped while the show played: ``(show frame, dropped since
    the show went live)`` samples. A dropped frame moves every later frame of the recording
    one frame earlier (the encoder numbers the frames it gets), so this tells a cue that
    landed late in the program from a recording that lost frames before it."""

    baseline: int
    samples: list[tuple[int, int]] = field(default_factory=list)

    def around(self, frame: int) -> tuple[int, int] | None:
        """Frames dropped between the show's frame 0 and ``frame``: at least, at most (None:
        not sampled that far). A drop is counted a few frames after the frame it lost (the
        queue holds four), hence the margin of five frames either side."""

        def last_before(at: int) -> int:
            return next((d for f, d in reversed(self.samples) if f <= at - 5), 0)

        def first_after(at: int) -> int | None:
            return next((d for f, d in self.samples if f >= at + 5), None)

        start, end = first_after(0), first_after(frame)
        if start is None or end is None:
            return None
        return max(0, last_before(frame) - start), end - last_before(0)


def encoder_dropped(appliance: DemoAppliance) -> int:
    """Frames the encoder's queue has dropped since the appliance started."""
    return int(appliance.get("/api/status")["program"]["encoder"]["frames_dropped"])


def wait_for_show_seconds(appliance: DemoAppliance, seconds: float, timeout: float,
                          drops: DropLog | None = None) -> None:
    """Wait (real time) until the show on air has played ``seconds`` of its timeline,
    sampling the encoder's dropped frames into ``drops`` at every poll."""

    def reached() -> bool:
        position = appliance.get("/api/show").get("position") or {}
        if drops is not None and "show_frame" in position:
            drops.samples.append((int(position["show_frame"]),
                                  encoder_dropped(appliance) - drops.baseline))
        return bool(position.get("seconds", 0) >= seconds)

    appliance.wait_until(f"the show to reach {seconds:g} s", reached, timeout)


def play_through(appliance: DemoAppliance, seconds: float, drops: DropLog) -> dict[str, Any]:
    """Let the show on air play until the recording holds ``seconds`` of it: longer by the
    frames the encoder dropped meanwhile. Returns the mixer's status at the end."""
    wait_for_show_seconds(appliance, seconds + 1, seconds + 60, drops)
    lost = drops.samples[-1][1] if drops.samples else 0
    if lost:
        wait_for_show_seconds(appliance, seconds + 2 + lost / FPS, 60 + lost / FPS, drops)
    mixer: dict[str, Any] = appliance.get("/api/status")["program"]["mixer"]
    return mixer


# -- what the timeline designs ------------------------------------------------------------


@dataclass(frozen=True)
class OverlayWindow:
    """An overlay cue in program frames: on from ``start`` up to (not including) ``end``."""

    cue: str
    start: int
    end: int
    params: LogoOverlay | LowerThirdOverlay
    fade_in: int
    fade_out: int


@dataclass(frozen=True)
class Design:
    """What the timeline puts on air, in program frames from its frame 0."""

    fps: int
    height: int
    """The timeline's own picture height (overlay sizes are meant for it)."""
    length: int
    cameras: tuple[tuple[int, int, str, int], ...]
    """``(start, end, cue id, camera id)`` of each camera cue, in start order."""
    transitions: dict[str, int] = field(default_factory=dict)
    """Frames of each camera cue's transition (0 for a cut)."""
    lower_thirds: tuple[OverlayWindow, ...] = ()
    logos: tuple[OverlayWindow, ...] = ()

    def camera_at(self, frame: int) -> int | None:
        frame %= self.length
        return next((camera for start, end, _, camera in self.cameras if start <= frame < end),
                    None)


def design_of(document: Mapping[str, Any], fps: int = FPS) -> Design:
    """The designed frames of a timeline document (as stored in the library)."""
    timeline = load_timeline(document).timeline

    def frames(seconds: float) -> int:
        return round(float(seconds) * fps)

    cameras, transitions = [], {}
    for cue in timeline.video_cues:
        if not isinstance(cue, CameraCue):
            raise ValueError(f"cue {cue.id}: this check knows camera cues only")
        cameras.append((frames(cue.start_time), frames(cue.end_time), cue.id,
                        cue.params.camera_id))
        cut = cue.params.transition == "cut"
        transitions[cue.id] = 0 if cut else frames(cue.params.transition_duration or 1.0)
    lower_thirds, logos = [], []
    for track in timeline.overlay_tracks:
        for overlay in track.cues:
            params = overlay.params
            if not isinstance(params, LogoOverlay | LowerThirdOverlay):
                continue
            window = OverlayWindow(overlay.id, frames(overlay.start_time),
                                   frames(overlay.end_time), params,
                                   frames(params.fade_in), frames(params.fade_out))
            if isinstance(params, LogoOverlay):
                if params.anchor != "top_right":
                    raise ValueError(f"cue {overlay.id}: this check looks for a logo top right")
                logos.append(window)
            else:
                lower_thirds.append(window)
    return Design(fps, timeline.height, frames(timeline.duration), tuple(cameras), transitions,
                  tuple(lower_thirds), tuple(logos))
