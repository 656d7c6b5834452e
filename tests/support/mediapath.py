"""Helpers for the end-to-end media-path tests: an appliance on real parts, and checks of
what the outputs received (PyAV, tolerant of a truncated last packet)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import pykka

from chaos.realparts import NginxRtmp
from vistter.appliance import Appliance
from vistter.models.config import parse_config

REPO = Path(__file__).resolve().parents[2]
FPS = 30
WIDTH, HEIGHT = 640, 360


def media_config(
    tmp_path: Path,
    cameras: list[dict[str, Any]],
    destinations: list[dict[str, Any]],
) -> Any:
    raw = {
        "encoding": {
            "profile": "reliability", "bitrate_kbps": 800, "preset": "ultrafast",
            "width": WIDTH, "height": HEIGHT, "fps": FPS,
        },
        "cameras": cameras,
        "destinations": destinations,
        "api": {"port": 0},
        "telemetry": {"endpoint": "tcp://127.0.0.1:*", "system_interval": 5},
        "paths": {"assets_dir": str(REPO / "assets"), "data_dir": str(tmp_path / "var")},
        # the media path without a show: destinations publish from start-up
        "show": {"always_on_air": True},
        # These tests count every frame and read pixels; on a shared 2-core box degraded mode
        # would (rightly) lower the rate or drop overlays. Its own tests are in tests/degraded.
        "degraded": {"enabled": False},
    }
    return parse_config(raw, base_dir=tmp_path, env={})


def rtmp_destination(destination_id: str, url_with_key: str) -> dict[str, Any]:
    server, key = url_with_key.rsplit("/", 1)
    return {"id": destination_id, "platform": "custom_rtmp", "url": server, "stream_key": key}


@contextmanager
def running_appliance(config: Any) -> Iterator[Appliance]:
    appliance = Appliance(config)
    appliance.start()
    try:
        yield appliance
    finally:
        appliance.stop()
        pykka.ActorRegistry.stop_all(timeout=10)


@contextmanager
def publishing_to_nginx(tmp_path: Path, nginx: NginxRtmp, key: str) -> Iterator[Appliance]:
    """One simulated 640x360 camera published to ``nginx`` under ``key`` (destination
    ``nginx``): the appliance, once that destination is live and nginx took 200 kB."""
    camera = {"id": 1, "name": "Cam 1", "url": f"lavfi:testsrc2=size=640x360:rate={FPS}"}
    config = media_config(tmp_path, [camera], [rtmp_destination("nginx", nginx.url("live", key))])
    with running_appliance(config) as appliance:
        wait_for(lambda: output_states(appliance).get("nginx") == "live", 30, "publishing")
        wait_for(lambda: (nginx.stream_bytes_in(key) or 0) > 200_000, 30, "nginx bytes")
        yield appliance


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def output_states(appliance: Appliance) -> dict[str, str]:
    """Every destination's and recorder's state; the console's preview (idle without a viewer,
    by design) is not one of them."""
    return {
        str(d.get("id", d["child"])): str(d["state"])
        for d in appliance.list_destinations()
        if not str(d["child"]).startswith("preview-")
    }


def child_pids(appliance: Appliance, path: str) -> list[int]:
    node = appliance.tree()
    for part in path.split("/"):
        node = next(c for c in node["children"] if c["id"] == part)
    return list(node["pids"])


@dataclass
class Received:
    """What one output received."""

    frames: int = 0
    width: int = 0
    height: int = 0
    times: list[float] = field(default_factory=list)
    keyframe_times: list[float] = field(default_factory=list)

    @property
    def span(self) -> float:
        return max(self.times) - min(self.times) if self.times else 0.0

    @property
    def largest_gap(self) -> float:
        ordered = sorted(self.times)
        return max((b - a for a, b in itertools.pairwise(ordered)), default=0.0)

    @property
    def expected_frames(self) -> int:
        """Frames a gapless stream of this span holds."""
        return round(self.span * FPS) + 1

    def keyframe_intervals(self) -> list[float]:
        ordered = sorted(self.keyframe_times)
        return [round(b - a, 2) for a, b in itertools.pairwise(ordered)]

    def assert_every_frame(self, what: str) -> None:
        """No frame lost between the first and the last one received."""
        assert self.frames > 0, f"{what}: nothing received"
        assert (self.width, self.height) == (WIDTH, HEIGHT), what
        assert abs(self.frames - self.expected_frames) <= max(1, 0.01 * self.expected_frames), (
            f"{what}: {self.frames} frames over {self.span:.2f} s, expected "
            f"{self.expected_frames} (1 %)"
        )
        assert self.largest_gap <= 1.5 / FPS, f"{what}: a gap of {self.largest_gap:.3f} s"


def receive(path: Path) -> Received:
    """Decode the first video stream of ``path``, stopping quietly at a truncated tail."""
    result = Received()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        try:
            for packet in container.demux(stream):
                time_base = stream.time_base
                if packet.size and packet.is_keyframe and packet.pts is not None and time_base:
                    result.keyframe_times.append(float(packet.pts * time_base))
                for frame in packet.decode():
                    result.frames += 1
                    result.width, result.height = frame.width, frame.height
                    if frame.time is not None:
                        result.times.append(frame.time)
        except (av.error.InvalidDataError, av.error.EOFError, EOFError):
            if result.frames == 0:
                raise
    return result


def recordings(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.ts"))
