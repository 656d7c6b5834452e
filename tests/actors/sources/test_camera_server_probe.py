"""A camera whose server comes back does not wait out its reconnect backoff.

Seen on the loopback rig: up to ~13 s before a camera was on air again after its RTSP
server returned (a 10 s backoff step). A cheap ``OPTIONS`` probe every second during the
wait ends it as soon as a server that was seen down answers again: target <= 3 s.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pykka
import pytest
from test_camera_actor import FMT, HealthLog, camera_tree

from chaos.realparts import RtspCameraServer
from vistter.actors.outputs.reachability import ProbeResult
from vistter.actors.sources.camera import CameraActor
from vistter.actors.sources.rtsp_probe import (
    RtspTarget,
    ServerComeback,
    rtsp_options_probe,
    rtsp_target,
)
from vistter.actors.sources.table import SourceState, SourceTable
from vistter.clock import FakeClock, MonotonicClock
from vistter.media.ffmpeg import find_ffmpeg
from vistter.models.cameras import CameraConfig
from vistter.supervisors import Backoff
from vistter.supervisors.link import Link

TEN_SECONDS = Backoff(initial=10.0, factor=1.0, maximum=10.0, reset_after=30.0)


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all(timeout=15)


class _FakeRtspServer:
    """A TCP server on 127.0.0.1 that answers one RTSP request (or stays silent)."""

    def __init__(self, answer: bytes | None) -> None:
        self.requests: list[bytes] = []
        self._answer = answer
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        conn, _ = self._sock.accept()
        with conn:
            conn.settimeout(2.0)
            self.requests.append(conn.recv(4096))
            if self._answer is not None:
                conn.sendall(self._answer)
            else:
                time.sleep(1.0)

    def close(self) -> None:
        self._thread.join(3.0)
        self._sock.close()


def test_target_drops_credentials_and_knows_only_plain_rtsp() -> None:
    target = rtsp_target("rtsp://admin:s3cret@127.0.0.1:8554/cam1?x=1")
    assert target == RtspTarget("127.0.0.1", 8554, "rtsp://127.0.0.1:8554/cam1?x=1")
    assert rtsp_target("rtsp://camera.local/live") == RtspTarget(
        "camera.local", 554, "rtsp://camera.local:554/live")
    assert rtsp_target("rtsps://camera.local/live") is None
    assert rtsp_target("lavfi:testsrc2") is None
    assert rtsp_target("rtsp://:99999/x") is None


@pytest.mark.timeout(10)
def test_options_probe_counts_any_rtsp_answer_and_nothing_else() -> None:
    server = _FakeRtspServer(b"RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\n\r\n")
    target = rtsp_target(f"rtsp://admin:s3cret@127.0.0.1:{server.port}/cam1")
    assert target is not None
    assert target.check("127.0.0.1", server.port, 1.0).reachable
    server.close()
    assert server.requests[0].startswith(
        f"OPTIONS rtsp://127.0.0.1:{server.port}/cam1 RTSP/1.0\r\n".encode())
    assert b"s3cret" not in server.requests[0] and b"admin" not in server.requests[0]

    silent = _FakeRtspServer(None)  # a stopped server: the connect succeeds, no answer
    started = time.monotonic()
    result = rtsp_options_probe("127.0.0.1", silent.port, 0.3, url="rtsp://127.0.0.1/x")
    assert (result.reachable, result.detail) == (False, "no RTSP answer")
    assert time.monotonic() - started < 1.0
    silent.close()

    http = _FakeRtspServer(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    assert rtsp_options_probe("127.0.0.1", http.port, 1.0, url="rtsp://x/").detail == (
        "not an RTSP answer")
    http.close()
    closed = socket.create_server(("127.0.0.1", 0))
    port = int(closed.getsockname()[1])
    closed.close()
    assert not rtsp_options_probe("127.0.0.1", port, 1.0, url="rtsp://x/").reachable


def test_only_a_return_ends_the_wait_once_per_attempt() -> None:
    comeback = ServerComeback(RtspTarget("127.0.0.1", 1, "rtsp://127.0.0.1:1/"),
                              on_error=lambda worker, exc: None, name="t")
    up, down = ProbeResult("h", 1, True), ProbeResult("h", 1, False, "refused")
    assert not comeback.came_back(up)  # up all along (a wrong path): the backoff's pace
    assert not comeback.came_back(down)
    assert comeback.came_back(up)  # back
    comeback.attempted()
    assert not comeback.came_back(up)  # the attempt failed anyway: no hammering
    assert not comeback.came_back(down)
    assert comeback.came_back(up)


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_a_camera_is_back_within_3_s_of_its_server_not_after_its_10_s_backoff(
    rtsp_camera: RtspCameraServer,
) -> None:
    sources = SourceTable(FMT, MonotonicClock())
    health = HealthLog(sources, "camera:1")
    camera = CameraConfig(id=1, name="Marina", url=rtsp_camera.url("cam1"))
    root = camera_tree(camera, sources, find_ffmpeg(), reconnect=TEN_SECONDS, socket_timeout=2.0)
    try:
        online = health.wait_for(SourceState.ONLINE, timeout=20)
        rtsp_camera.stop()
        dead = health.wait_for(SourceState.OFFLINE, after=online, timeout=15)
        assert "reconnecting in 10 s" in health.entries[dead].detail
        time.sleep(2.5)  # the probes see it down
        rtsp_camera.start()
        returned = time.monotonic()
        back = health.wait_for(SourceState.ONLINE, after=dead, timeout=15)
        took = time.monotonic() - returned
        assert took <= 3.0, f"on air {took:.2f} s after its server returned"
        status = root.handle.child("camera-1").proxy().status().get(timeout=5)
        assert status["restarts"] == 1 and health.entries[back].state is SourceState.ONLINE
    finally:
        root.stop()


class _AnsweringServer:
    """An RTSP server on ``port`` that answers every request ``200 OK`` and hangs up: enough
    for the OPTIONS probe (an ingest pulling from it fails)."""

    def __init__(self, port: int) -> None:
        self._sock = socket.create_server(("127.0.0.1", port))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self._sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(1.0)
                try:
                    conn.recv(4096)
                    conn.sendall(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n")
                except OSError:
                    continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join(3.0)
        self._sock.close()


@pytest.mark.timeout(40)
def test_a_server_back_before_the_first_periodic_probe_still_ends_the_wait() -> None:
    """Seen in chaos scenario 1: an attempt failed (connection refused) at 19.26, the server
    returned at ~19.7, the first probe at 20.26 found it up but had never *seen* it down, so
    the 8 s wait ran to its end (camera back 11.6 s after its server). The first probe is now
    made at once, when the wait starts."""
    closed = socket.create_server(("127.0.0.1", 0))
    port = int(closed.getsockname()[1])
    closed.close()  # nothing listens: every attempt is refused at once
    clock = FakeClock()
    sources = SourceTable(FMT, clock)
    health = HealthLog(sources, "camera:1")
    camera = CameraConfig(id=1, url=f"rtsp://127.0.0.1:{port}/cam1")
    ref = CameraActor.start(Link("sources/camera-1", clock=clock), camera, FMT, sources,
                            find_ffmpeg(), reconnect=TEN_SECONDS)
    server: _AnsweringServer | None = None
    try:
        dead = health.wait_for(SourceState.OFFLINE, timeout=15)
        assert health.entries[dead].detail.endswith("reconnecting in 10 s")
        threading.Event().wait(0.5)  # the probe made at once finds nothing listening
        server = _AnsweringServer(port)  # back well before the first periodic probe
        clock.advance(1.0)  # the periodic probe: up, and seen down before
        health.wait_for(SourceState.CONNECTING, after=dead, timeout=5)
        assert clock.monotonic() - health.entries[dead].since < 10.0
    finally:
        ref.stop(timeout=10)
        if server is not None:
            server.close()
