"""The media path end to end on real parts: GStreamer RTSP cameras -> Vistter -> nginx-rtmp.

What nginx and the recorder received is decoded with PyAV: frame count for the run, timestamp
continuity, resolution and keyframe interval; and the output never stops when a publisher is
killed, a server goes away, or the on-air camera's ingest dies.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from support.mediapath import (
    FPS,
    child_pids,
    media_config,
    output_states,
    receive,
    recordings,
    rtmp_destination,
    running_appliance,
    wait_for,
)

from chaos.realparts import NginxRtmp, RtspCameraServer, SimulatedCamera

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

CameraFactory = Callable[[Sequence[SimulatedCamera]], RtspCameraServer]


def cameras(server: RtspCameraServer) -> list[dict[str, object]]:
    return [
        {"id": 1, "name": "Wharf", "url": server.url("wharf"), "backup_camera_id": 2},
        {"id": 2, "name": "Harbour", "url": server.url("harbour")},
    ]


def two_cameras(factory: CameraFactory) -> RtspCameraServer:
    return factory([
        SimulatedCamera("wharf", "smpte", 320, 240, 15),
        SimulatedCamera("harbour", "ball", 320, 240, 15),
    ])


def test_two_cameras_to_two_destinations(
    tmp_path: Path, nginx_rtmp: NginxRtmp, rtsp_camera_factory: CameraFactory
) -> None:
    server = two_cameras(rtsp_camera_factory)
    config = media_config(tmp_path, cameras(server), [
        rtmp_destination("a", nginx_rtmp.url("live", "a")),
        rtmp_destination("b", nginx_rtmp.url("live", "b")),
    ])
    with running_appliance(config) as appliance:
        state = appliance.program.state
        state.take("camera:1")
        wait_for(lambda: set(output_states(appliance).values()) == {"live"}, 30,
                 "both destinations live")
        time.sleep(4)
        state.take("camera:2", transition="dissolve", duration_frames=15)
        time.sleep(4)
        state.take("camera:1")
        time.sleep(2)
        assert appliance.tree()["children"][2]["children"][0]["restarts"] == 0
    for key in ("a", "b"):
        got = receive(nginx_rtmp.recording(key))
        got.assert_every_frame(f"destination {key}")
        assert got.span >= 9.0, f"destination {key} recorded only {got.span:.1f} s"
        intervals = got.keyframe_intervals()
        assert intervals, "no keyframes"
        assert all(abs(i - 2.0) <= 1.5 / FPS for i in intervals), intervals


def test_outputs_survive_a_killed_publisher_and_a_server_outage(
    tmp_path: Path, rtsp_camera_factory: CameraFactory
) -> None:
    server = two_cameras(rtsp_camera_factory)
    (tmp_path / "n1").mkdir()
    (tmp_path / "n2").mkdir()
    with NginxRtmp(tmp_path / "n1") as first, NginxRtmp(tmp_path / "n2") as second:
        config = media_config(tmp_path, cameras(server), [
            rtmp_destination("a", first.url("live", "a")),
            rtmp_destination("b", second.url("live", "b")),
            {"id": "rec", "platform": "recorder", "path": str(tmp_path / "rec"),
             "segment_seconds": 600},
        ])
        with running_appliance(config) as appliance:
            appliance.program.state.take("camera:1")
            wait_for(lambda: set(output_states(appliance).values()) == {"live"}, 30,
                     "every output live")
            time.sleep(2)
            # 1. kill destination a's publisher: it comes back by itself
            publisher = child_pids(appliance, "outputs/destination-a")[0]
            os.kill(publisher, signal.SIGKILL)
            wait_for(lambda: output_states(appliance)["a"] != "live", 10, "a noticed")
            wait_for(lambda: output_states(appliance)["a"] == "live"
                     and child_pids(appliance, "outputs/destination-a") not in ([], [publisher]),
                     30, "a back live")
            # 2. the second server goes away for a while, then comes back on its port
            second.stop()
            wait_for(lambda: output_states(appliance)["b"] in ("retrying", "connecting"), 20,
                     "b retrying")
            outage_start = time.monotonic()
            time.sleep(5)
            second.start()
            wait_for(lambda: output_states(appliance)["b"] == "live", 30, "b back live")
            outage = time.monotonic() - outage_start
            time.sleep(3)
            assert output_states(appliance)["a"] == "live"
        # the recorder and destination a (since its reconnect) kept every frame
        recorded = receive(recordings(tmp_path / "rec")[0])
        recorded.assert_every_frame("recorder")
        after_reconnect = receive(first.recording("a"))
        after_reconnect.assert_every_frame("destination a after its reconnect")
        assert after_reconnect.span >= outage, "a must cover b's outage without a gap"
        back = receive(second.recording("b"))
        assert back.frames >= FPS, "b must publish again after the outage"


def test_killing_the_on_air_cameras_ingest_never_stops_the_output(
    tmp_path: Path, rtsp_camera_factory: CameraFactory
) -> None:
    server = two_cameras(rtsp_camera_factory)
    config = media_config(tmp_path, cameras(server), [
        {"id": "rec", "platform": "recorder", "path": str(tmp_path / "rec"),
         "segment_seconds": 600},
    ])
    with running_appliance(config) as appliance:
        sources = appliance.program.sources
        appliance.program.state.take("camera:1")
        wait_for(lambda: output_states(appliance)["rec"] == "live", 30, "recorder live")
        wait_for(lambda: (h := sources.health("camera:1")) is not None and h.usable, 30,
                 "camera 1 online")
        time.sleep(2)
        ingest = child_pids(appliance, "sources/camera-1")[0]
        os.kill(ingest, signal.SIGKILL)
        wait_for(lambda: not sources.health("camera:1").usable, 10,  # type: ignore[union-attr]
                 "camera 1 noticed as offline")
        wait_for(lambda: sources.health("camera:1").usable, 30,  # type: ignore[union-attr]
                 "camera 1 back online")
        assert child_pids(appliance, "sources/camera-1") != [ingest]
        sources_node = appliance.tree()["children"][1]
        camera = next(c for c in sources_node["children"] if c["id"] == "camera-1")
        assert camera["restarts"] == 0, "an offline camera is a state, not a crash"
        time.sleep(2)
    recorded = receive(recordings(tmp_path / "rec")[0])
    recorded.assert_every_frame("recorder")
    assert recorded.span >= 5.0
