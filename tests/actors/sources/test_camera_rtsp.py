"""CameraActor against a real GStreamer RTSP camera: online, stalled (SIGSTOP), killed and
reconnected once it resumes; dead (server ended, ffmpeg exits 0) and back on the same port."""

from __future__ import annotations

from collections.abc import Iterator

import pykka
import pytest
from test_camera_actor import FMT, HealthLog, camera_tree, pid_running, wait_until

from chaos.realparts import RtspCameraServer
from vistter.actors.sources.table import SourceState, SourceTable
from vistter.clock import MonotonicClock
from vistter.media.ffmpeg import find_ffmpeg
from vistter.media.frames import planes
from vistter.models.cameras import CameraConfig


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all(timeout=15)


@pytest.mark.timeout(90)
def test_rtsp_camera_stall_and_death_are_states_and_it_comes_back(
    rtsp_camera: RtspCameraServer,
) -> None:
    sources = SourceTable(FMT, MonotonicClock())
    health = HealthLog(sources, "camera:1")
    camera = CameraConfig(id=1, name="Marina", url=rtsp_camera.url("cam1"))
    root = camera_tree(
        camera, sources, find_ffmpeg(), stall_restart_after=1.0, socket_timeout=2.0
    )
    try:
        child = root.handle.child("camera-1")
        online = health.wait_for(SourceState.ONLINE, timeout=20)
        slot = sources.slot("camera:1")
        latest = slot.latest()
        assert latest is not None
        newer = slot.wait_newer(latest.seq, timeout=2.0)
        assert newer is not None
        y, _, _ = planes(newer.frame, FMT)
        assert y.shape == (120, 160) and int(y.max()) - int(y.min()) > 100  # SMPTE bars
        pid = child.proxy().status().get(timeout=5)["pid"]

        # Stalled camera: sockets open, nothing flows. The watchdog kills the ingest.
        rtsp_camera.pause()
        try:
            stalled = health.wait_for(SourceState.STALLED, after=online, timeout=5)
            health.wait_for(SourceState.OFFLINE, after=stalled, detail="stalled", timeout=5)
            assert wait_until(lambda: not pid_running(pid), 5)
        finally:
            rtsp_camera.resume()
        back = health.wait_for(SourceState.ONLINE, after=stalled, timeout=30)

        # Dead camera: the ingest exits (code 0, DESIGN.md 6): offline, retried, back.
        rtsp_camera.stop()
        dead = health.wait_for(SourceState.OFFLINE, after=back, timeout=15)
        rtsp_camera.start()
        health.wait_for(SourceState.ONLINE, after=dead, timeout=30)

        status = child.proxy().status().get(timeout=5)
        assert status["state"] == "online" and status["restarts"] >= 2
        assert status["url"] == rtsp_camera.url("cam1")
        [info] = root.handle.which_children()
        assert info.restarts == 0  # every fault was a state inside the same actor
        assert wait_until(
            lambda: child.proxy().status().get(timeout=5)["frames_received"] > 0, 5
        )
    finally:
        root.stop()
