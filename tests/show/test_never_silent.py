"""The stream towards a platform is never silent and never closed but by the operator's Stop.

Platforms end a broadcast that gets no data, so from GO LIVE on a destination must keep
receiving a picture (the held frame while paused, the slate while every camera is down or
between shows) and keep its one publish session until the operator presses Stop.

One appliance (the default "while live" publishing mode, two GStreamer RTSP cameras in one
server process, a local nginx-rtmp destination) runs through every state once, in a
module-scoped scenario; each test then judges one state from what nginx accepted: its
``bytes_in`` sampled every 0.1 s (the longest interval without growth) and whether the
stream stayed published at every sample. The whole module stays under 90 s.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support.mediapath import FPS, HEIGHT, REPO, WIDTH, output_states, running_appliance, wait_for

from chaos.realparts import NginxRtmp, RtspCameraServer, SimulatedCamera
from vistter.appliance import Appliance
from vistter.models.config import parse_config
from vistter.models.validation import load_timeline

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

KEY = "neversilent"
SAMPLE = 0.1
"""Seconds between two reads of nginx's ``/stat``."""
MAX_GAP = 1.0
"""The longest a platform may go without new bytes (the claim: bytes grow every second)."""
TIMELINE_SECONDS = 12
"""The show's length: the live, paused and cameras-down states fit in it (pause holds it)."""


def short_timeline(timeline_id: str, seconds: int) -> dict[str, Any]:
    """A timeline that does not loop: camera 1 for ``seconds``."""
    return {"timeline": {
        "id": timeline_id, "name": f"{seconds} s show", "duration": seconds, "fps": FPS,
        "resolution": f"{WIDTH}x{HEIGHT}", "loop": False,
        "tracks": {"video": {"track_id": "video", "cues": [
            {"id": "v1", "start_time": 0, "duration": seconds, "action": "show_camera",
             "params": {"camera_id": 1, "transition": "cut"}},
        ]}, "overlays": []},
    }}


def show_config(tmp_path: Path, nginx: NginxRtmp, cameras: RtspCameraServer) -> Any:
    timeline = tmp_path / "short.timeline.json"
    timeline.write_text(json.dumps(short_timeline("short_show", TIMELINE_SECONDS)))
    server, key = nginx.url("live", KEY).rsplit("/", 1)
    raw = {
        "encoding": {"profile": "reliability", "bitrate_kbps": 800, "preset": "ultrafast",
                     "width": WIDTH, "height": HEIGHT, "fps": FPS},
        "cameras": [
            {"id": 1, "name": "Wharf", "url": cameras.url("wharf"), "backup_camera_id": 2},
            {"id": 2, "name": "Harbour", "url": cameras.url("harbour")},
        ],
        "destinations": [
            {"id": "nginx", "platform": "custom_rtmp", "url": server, "stream_key": key},
        ],
        "api": {"port": 0},
        "telemetry": {"endpoint": "tcp://127.0.0.1:*", "system_interval": 5},
        "paths": {"assets_dir": str(REPO / "assets"), "data_dir": str(tmp_path / "var")},
        "show": {"timeline": str(timeline), "autostart": False},
    }
    return parse_config(raw, base_dir=tmp_path, env={})


@dataclass
class Window:
    """What nginx accepted during one state: (time, bytes_in or None when not published)."""

    name: str
    samples: list[tuple[float, int | None]] = field(default_factory=list)

    @property
    def closed_at(self) -> list[float]:
        """Seconds into the window at which nginx had no publish of the stream."""
        start = self.samples[0][0]
        return [round(t - start, 2) for t, value in self.samples if value is None]

    @property
    def longest_gap(self) -> float:
        """The longest interval in the window without ``bytes_in`` growing (the window's
        edges count, so a stream silent from the start shows its whole silence)."""
        growth = [self.samples[0][0]]
        for (_, before), (t, after) in itertools.pairwise(self.samples):
            if before is not None and after is not None and after > before:
                growth.append(t)
        growth.append(self.samples[-1][0])
        return round(max(b - a for a, b in itertools.pairwise(growth)), 2)

    @property
    def grew(self) -> int:
        first = next((v for _, v in self.samples if v is not None), 0)
        last = next((v for _, v in reversed(self.samples) if v is not None), 0)
        return last - first

    def summary(self) -> str:
        return (f"{self.name}: longest gap {self.longest_gap:.2f} s, {self.grew} bytes, "
                f"unpublished at {self.closed_at[:3]}{'...' if len(self.closed_at) > 3 else ''}")


def watch(nginx: NginxRtmp, name: str, seconds: float) -> Window:
    """Sample nginx's ``bytes_in`` for ``seconds``."""
    window = Window(name)
    deadline = time.monotonic() + seconds
    while True:
        now = time.monotonic()
        window.samples.append((now, nginx.stream_bytes_in(KEY)))
        if now >= deadline:
            return window
        time.sleep(SAMPLE)


def publishes(nginx: NginxRtmp) -> int:
    """How many publish sessions of the stream nginx has begun (its error log, level info)."""
    return len(re.findall(rf"publish: name='{KEY}'", nginx.error_log_tail(10**9)))


@dataclass
class Scenario:
    windows: dict[str, Window]
    publishes: int
    states: dict[str, str]
    on_air: dict[str, str]
    notes: list[str]

    def report(self) -> str:
        lines = [w.summary() for w in self.windows.values()]
        return "\n".join([*lines, f"publish sessions at nginx: {self.publishes}",
                          f"program source on air: {self.on_air}", *self.notes])


def show_state(appliance: Appliance) -> str:
    return str(appliance.orchestrator().status().get(timeout=10)["state"])


def on_air_source(appliance: Appliance) -> str:
    return str(appliance.status()["on_air"]["source"])


def run_scenario(tmp_path: Path) -> Scenario:
    windows: dict[str, Window] = {}
    on_air: dict[str, str] = {}
    notes: list[str] = []
    cameras = RtspCameraServer([SimulatedCamera("wharf", "red", 320, 240, 15),
                                SimulatedCamera("harbour", "green", 320, 240, 15)])
    workdir = tmp_path / "nginx-rtmp"
    workdir.mkdir()
    with NginxRtmp(workdir) as nginx, cameras, \
            running_appliance(show_config(tmp_path, nginx, cameras)) as appliance:
        orchestrator = appliance.orchestrator()
        wait_for(lambda: output_states(appliance)["nginx"] == "standby", 30, "nginx standby")
        orchestrator.go_live().get(timeout=30)
        wait_for(lambda: (nginx.stream_bytes_in(KEY) or 0) > 0, 15, "the show at nginx")
        windows["live"] = watch(nginx, "live", 2.0)

        orchestrator.pause().get(timeout=10)
        windows["paused"] = watch(nginx, "paused", 5.0)
        on_air["paused"] = on_air_source(appliance)
        orchestrator.resume().get(timeout=10)

        cameras.stop()  # every camera down: the slate
        windows["cameras_down"] = watch(nginx, "cameras_down", 5.0)
        on_air["cameras_down"] = on_air_source(appliance)
        cameras.start()  # the same ports: the cameras come back by themselves

        left = TIMELINE_SECONDS + 8 - (time.monotonic() - windows["live"].samples[0][0])
        ended = watch(nginx, "until_the_end", max(1.0, left))
        while show_state(appliance) == "live" and time.monotonic() - ended.samples[0][0] < 15:
            ended.samples.extend(watch(nginx, "until_the_end", 0.5).samples)
        windows["until_the_end"] = ended
        notes.append(f"show state after the timeline's end: {show_state(appliance)}")
        windows["after_the_end"] = watch(nginx, "after_the_end", 4.0)
        on_air["after_the_end"] = on_air_source(appliance)

        replaced = load_timeline(short_timeline("replacement", 4))
        try:
            orchestrator.load(replaced).get(timeout=10)
        except Exception as exc:  # the state machine's refusal, reported with the figures
            notes.append(f"loading a new timeline was refused: {exc}")
        windows["timeline_replaced"] = watch(nginx, "timeline_replaced", 3.0)

        count = publishes(nginx)
        states = output_states(appliance)
        stopped_at = time.monotonic()
        try:
            orchestrator.stop_live().get(timeout=10)
        except Exception as exc:  # the state machine's refusal, reported with the figures
            notes.append(f"the operator's Stop was refused: {exc}")
        stop = watch(nginx, "operator_stop", 0.0)
        while stop.samples[-1][1] is not None and time.monotonic() - stopped_at < 10:
            stop.samples.extend(watch(nginx, "operator_stop", 0.0).samples)
            time.sleep(SAMPLE)
        windows["operator_stop"] = stop
    return Scenario(windows, count, states, on_air, notes)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    result = run_scenario(tmp_path_factory.mktemp("never-silent"))
    print("\n" + result.report())  # the figures, shown with pytest -s
    return result


def _judge(scenario: Scenario, name: str) -> None:
    window = scenario.windows[name]
    assert window.closed_at == [], (
        f"nginx lost the publish while {name}:\n{scenario.report()}")
    assert window.longest_gap <= MAX_GAP, f"silent while {name}:\n{scenario.report()}"


def test_live_reference(scenario: Scenario) -> None:
    _judge(scenario, "live")


def test_paused_show_keeps_sending_the_held_frame(scenario: Scenario) -> None:
    _judge(scenario, "paused")


def test_every_camera_down_keeps_sending_the_slate(scenario: Scenario) -> None:
    _judge(scenario, "cameras_down")
    assert scenario.on_air["cameras_down"] == "slate", scenario.report()


def test_a_timeline_that_ends_without_loop_keeps_the_platform_stream(scenario: Scenario) -> None:
    _judge(scenario, "until_the_end")
    _judge(scenario, "after_the_end")


def test_replacing_the_timeline_keeps_the_platform_stream(scenario: Scenario) -> None:
    _judge(scenario, "timeline_replaced")


def test_one_publish_session_from_go_live_on(scenario: Scenario) -> None:
    assert scenario.publishes == 1, scenario.report()
    assert scenario.states["nginx"] == "live", scenario.report()


def test_only_the_operators_stop_ends_the_stream(scenario: Scenario) -> None:
    assert scenario.windows["timeline_replaced"].samples[-1][1] is not None, (
        f"the stream had ended before the operator's Stop:\n{scenario.report()}")
    assert scenario.windows["operator_stop"].samples[-1][1] is None, (
        f"the stream outlived the operator's Stop by 10 s:\n{scenario.report()}")
