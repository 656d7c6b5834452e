"""CameraActor against real ffmpeg ingest processes (lavfi test sources and a local RTSP peer).

States connecting -> online, offline on any exit (also code 0) with reconnects inside the
same actor, stalled -> killed -> restarted, credentials kept out of logs, status and events,
and a dying reader thread crashing the actor so that its supervisor restarts it.
"""

from __future__ import annotations

import base64
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pykka
import pytest
from support.eventsink import RecordingSink as EventLog

from vistter.actors.sources.camera import CameraActor
from vistter.actors.sources.table import SourceHealth, SourceState, SourceTable, camera_source_id
from vistter.clock import FakeClock, MonotonicClock
from vistter.media.ffmpeg import FfmpegBinary
from vistter.media.frames import FrameFormat, planes
from vistter.media.yuv import rgb_to_yuv
from vistter.models.cameras import CameraConfig
from vistter.supervisors import (
    Backoff,
    ChildSpec,
    RootSupervisor,
    SupervisorFlags,
    start_function_for,
)
from vistter.supervisors.link import Link

FAST_RECONNECT = Backoff(initial=0.2, factor=2.0, maximum=1.0, reset_after=5.0)
FMT = FrameFormat(160, 120, 15)


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all(timeout=15)



class HealthLog:
    """Every health change of one source, in order; waits with timeouts."""

    def __init__(self, sources: SourceTable, source_id: str) -> None:
        self.source_id = source_id
        self.entries: list[SourceHealth] = []
        self._cond = threading.Condition()
        sources.add_listener(self._on_health)

    def _on_health(self, source_id: str, health: SourceHealth) -> None:
        if source_id == self.source_id:
            with self._cond:
                self.entries.append(health)
                self._cond.notify_all()

    def states(self) -> list[SourceState]:
        with self._cond:
            return [entry.state for entry in self.entries]

    def wait_for(
        self, state: SourceState, *, after: int = 0, timeout: float = 10.0,
        detail: str | None = None,
    ) -> int:
        """Index of the first entry at or after ``after`` in ``state``; fails on timeout."""

        def found() -> int | None:
            for index in range(after, len(self.entries)):
                entry = self.entries[index]
                if entry.state is state and (detail is None or detail in entry.detail):
                    return index
            return None

        with self._cond:
            ok = self._cond.wait_for(lambda: found() is not None, timeout)
            if not ok:
                pytest.fail(
                    f"{self.source_id} never went {state} (after #{after}) within {timeout} s; "
                    f"history: {[(e.state.value, e.detail) for e in self.entries]}"
                )
            index = found()
            assert index is not None
            return index



def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    event = threading.Event()
    clock = MonotonicClock()
    deadline = clock.monotonic() + timeout
    while clock.monotonic() < deadline:
        if predicate():
            return True
        event.wait(0.02)
    return predicate()


def pid_running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def lavfi_camera(graph: str = "testsrc2=size=320x240:rate=15", **kwargs: Any) -> CameraConfig:
    return CameraConfig(id=kwargs.pop("id", 1), url=f"lavfi:{graph}", **kwargs)


def camera_tree(
    camera: CameraConfig,
    sources: SourceTable,
    ffmpeg_binary: FfmpegBinary,
    events: EventLog | None = None,
    **kwargs: Any,
) -> RootSupervisor:
    kwargs.setdefault("reconnect", FAST_RECONNECT)
    spec = ChildSpec(
        id=f"camera-{camera.id}",
        start=start_function_for(CameraActor, camera, FMT, sources, ffmpeg_binary, **kwargs),
    )
    return RootSupervisor(
        SupervisorFlags(intensity=3, period=10.0), [spec], name="sources", events=events
    )


@pytest.mark.timeout(30)
def test_frames_arrive_with_program_size_and_state_goes_connecting_then_online(
    ffmpeg_binary: FfmpegBinary,
) -> None:
    # A red 4:3 camera into a 16:9 program: scaled to 160x120... then pillarboxed black.
    fmt = FrameFormat(320, 180, 15)
    sources = SourceTable(fmt, MonotonicClock())
    health = HealthLog(sources, "camera:1")
    camera = lavfi_camera("color=c=red:size=320x240:rate=15", name="Red")
    ref = CameraActor.start(None, camera, fmt, sources, ffmpeg_binary)

    online = health.wait_for(SourceState.ONLINE)
    assert health.states()[:online + 1] == [SourceState.CONNECTING, SourceState.ONLINE]

    slot = sources.slot(camera_source_id(1))
    first = slot.latest()
    assert first is not None
    assert first.frame.shape == (fmt.frame_bytes,)
    newer = slot.wait_newer(first.seq, timeout=2.0)
    assert newer is not None and newer.frame is not first.frame

    y, u, v = planes(newer.frame, fmt)
    red = rgb_to_yuv(255, 0, 0)
    # 320x240 fits the 180-high program as 240x180, centred: 40 black columns each side.
    assert abs(int(y[90, 160]) - red[0]) <= 2
    assert abs(int(u[45, 80]) - red[1]) <= 2
    assert abs(int(v[45, 80]) - red[2]) <= 2
    assert np.all(y[:, :38] == 16) and np.all(y[:, -38:] == 16)
    assert np.all(np.abs(u[:, :19].astype(int) - 128) <= 1)

    # ffmpeg -re sends its first 0.5 s at once; measure the rate once that left the window.
    assert wait_until(lambda: ref.proxy().status().get(timeout=5)["frames_received"] >= 45, 10)
    status = ref.proxy().status().get(timeout=5)
    assert status["id"] == 1 and status["name"] == "Red" and status["state"] == "online"
    assert status["restarts"] == 0 and status["pid"] is not None
    assert 12.0 <= status["fps"] <= 18.0, status
    assert status["url"].startswith("lavfi:")
    ref.stop(timeout=10)
    assert not pid_running(status["pid"])
    assert sources.health("camera:1") is not None
    assert sources.health("camera:1").state is SourceState.OFFLINE  # type: ignore[union-attr]


@pytest.mark.timeout(40)
def test_killed_ingest_goes_offline_and_reconnects_inside_the_same_actor(
    ffmpeg_binary: FfmpegBinary,
) -> None:
    sources = SourceTable(FMT, MonotonicClock())
    health = HealthLog(sources, "camera:1")
    events = EventLog()
    root = camera_tree(lavfi_camera(), sources, ffmpeg_binary, events)
    try:
        child = root.handle.child("camera-1")
        ref_before = child.ref()
        health.wait_for(SourceState.ONLINE)
        pid = child.proxy().status().get(timeout=5)["pid"]
        os.kill(pid, signal.SIGKILL)

        offline = health.wait_for(SourceState.OFFLINE, detail="exited")
        health.wait_for(SourceState.CONNECTING, after=offline)
        health.wait_for(SourceState.ONLINE, after=offline)

        status = child.proxy().status().get(timeout=5)
        assert status["restarts"] == 1
        assert status["pid"] not in (None, pid)
        assert child.ref() == ref_before  # the same actor: not restarted by its supervisor
        [info] = root.handle.which_children()
        assert info.restarts == 0 and info.state == "running"
        states = [e["state"] for e in events.of("event.camera")]
        assert states[:2] == ["connecting", "online"]
        assert "offline" in states and states[-1] == "online"
        assert all(e["camera_id"] == 1 and e["source_id"] == "camera:1"
                   for e in events.of("event.camera"))
    finally:
        root.stop()


@pytest.mark.timeout(40)
def test_ingest_exiting_with_code_zero_is_offline_and_retried_with_growing_delays(
    ffmpeg_binary: FfmpegBinary,
) -> None:
    # A finite lavfi source ends with exit code 0, like an RTSP ingest whose camera died.
    sources = SourceTable(FMT, MonotonicClock())
    health = HealthLog(sources, "camera:1")
    camera = lavfi_camera("testsrc2=size=160x120:rate=15:duration=0.5")
    root = camera_tree(camera, sources, ffmpeg_binary)
    try:
        first = health.wait_for(SourceState.OFFLINE, detail="code 0")
        assert "reconnecting in 0.2 s" in health.entries[first].detail
        second = health.wait_for(SourceState.OFFLINE, after=first + 1)
        # It came online in between and was online for less than reset_after: delay grows.
        assert "reconnecting in 0.4 s" in health.entries[second].detail
        assert SourceState.ONLINE in health.states()[first:second]
        [info] = root.handle.which_children()
        assert info.restarts == 0
    finally:
        root.stop()


@pytest.mark.timeout(40)
def test_stalled_ingest_is_killed_and_restarted_after_stall_restart_after(
    ffmpeg_binary: FfmpegBinary,
) -> None:
    sources = SourceTable(FMT, MonotonicClock())
    health = HealthLog(sources, "camera:1")
    root = camera_tree(
        lavfi_camera(stall_timeout=0.4), sources, ffmpeg_binary, stall_restart_after=1.0
    )
    try:
        child = root.handle.child("camera-1")
        online = health.wait_for(SourceState.ONLINE)
        pid = child.proxy().status().get(timeout=5)["pid"]
        os.kill(pid, signal.SIGSTOP)  # alive, pipe open, no frames: only the watchdog sees it
        try:
            stalled = health.wait_for(SourceState.STALLED, after=online, timeout=5)
            killed = health.wait_for(SourceState.OFFLINE, after=stalled, detail="stalled")
            stalled_for = health.entries[killed].since - health.entries[stalled].since
            assert 0.9 <= stalled_for <= 2.0, stalled_for
            assert wait_until(lambda: not pid_running(pid), 5), "the stalled ffmpeg still runs"
        finally:
            if pid_running(pid):
                os.kill(pid, signal.SIGCONT)
        health.wait_for(SourceState.ONLINE, after=killed)
        status = child.proxy().status().get(timeout=5)
        assert status["restarts"] == 1 and status["pid"] != pid
        assert root.handle.which_children()[0].restarts == 0
    finally:
        root.stop()


class FakeRtspCamera:
    """A TCP peer on 127.0.0.1 that asks for Basic auth, records what ffmpeg sends, then
    answers 404: enough to see the credentials reach ffmpeg and nothing else."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.authorizations: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fake-rtsp", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2.0)
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        data = b""
        try:
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                head, data = data.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                fields = dict(
                    line.split(":", 1) for line in lines[1:] if ":" in line
                )
                fields = {k.strip().lower(): v.strip() for k, v in fields.items()}
                cseq = fields.get("cseq", "1")
                if "authorization" in fields:
                    self.authorizations.append(fields["authorization"])
                    conn.sendall(f"RTSP/1.0 404 Not Found\r\nCSeq: {cseq}\r\n\r\n".encode())
                    return
                conn.sendall(
                    f"RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\n"
                    'WWW-Authenticate: Basic realm="camera"\r\n\r\n'.encode()
                )
        except OSError:
            return

    def close(self) -> None:
        self._stop.set()
        self.server.close()
        self._thread.join(5)


@pytest.mark.timeout(40)
def test_credentials_reach_ffmpeg_but_never_logs_status_or_events(
    ffmpeg_binary: FfmpegBinary, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    password = "s3cr3t-P@ss/word"
    peer = FakeRtspCamera()
    sources = SourceTable(FMT, MonotonicClock())
    health = HealthLog(sources, "camera:7")
    events = EventLog()
    camera = CameraConfig(
        id=7,
        name="Gate",
        url=f"rtsp://127.0.0.1:{peer.port}/stream1",
        username="admin",
        password=password,
    )
    root = camera_tree(camera, sources, ffmpeg_binary, events, socket_timeout=2.0)
    try:
        first = health.wait_for(SourceState.OFFLINE, timeout=15)
        health.wait_for(SourceState.OFFLINE, after=first + 1, timeout=15)  # retried
        status = root.handle.child("camera-7").proxy().status().get(timeout=5)
    finally:
        root.stop()
        peer.close()

    expected = base64.b64encode(f"admin:{password}".encode()).decode()
    assert f"Basic {expected}" in peer.authorizations, peer.authorizations

    assert status["state"] == "offline" and status["url"].endswith("/stream1")
    assert status["last_error"], "ffmpeg's error line should be reported"
    secret_forms = [password, "s3cr3t", "P%40ss", expected]
    texts = {
        "log": caplog.text,
        "status": repr(status),
        "events": repr(events.events),
        "health": repr(health.entries),
    }
    for where, text in texts.items():
        for secret in secret_forms:
            assert secret not in text, f"{secret!r} leaked into the {where}"
    # the log did show the redacted command line and the failure
    assert "rtsp://127.0.0.1" in caplog.text
    assert any("Gate is offline" in r.getMessage() for r in caplog.records)


@pytest.mark.timeout(40)
def test_reader_thread_dying_crashes_the_actor_and_its_supervisor_restarts_it(
    ffmpeg_binary: FfmpegBinary,
) -> None:
    sources = SourceTable(FMT, MonotonicClock())
    health = HealthLog(sources, "camera:1")
    slot = sources.slot("camera:1")
    real_publish = slot.publish
    armed = threading.Event()
    fired = threading.Event()

    def publish_failing_once(frame: Any) -> int:
        if armed.is_set() and not fired.is_set():
            fired.set()
            raise RuntimeError("injected bug in the frame path")
        return real_publish(frame)

    slot.publish = publish_failing_once  # type: ignore[method-assign]
    root = camera_tree(lavfi_camera(), sources, ffmpeg_binary)
    try:
        child = root.handle.child("camera-1")
        first_ref = child.ref()
        first_online = health.wait_for(SourceState.ONLINE)
        first_pid = first_ref.proxy().status().get(timeout=5)["pid"]
        armed.set()  # the next frame's publish fails: the reader thread dies
        assert wait_until(lambda: root.handle.which_children()[0].restarts == 1, 10)
        [info] = root.handle.which_children()
        assert info.history and info.history[-1].reason == "crash"
        assert "injected bug" in (info.history[-1].error or "")
        assert child.ref() != first_ref
        health.wait_for(SourceState.ONLINE, after=first_online + 1)
        assert wait_until(lambda: not pid_running(first_pid), 5)
        assert child.proxy().status().get(timeout=5)["pid"] != first_pid
    finally:
        root.stop()


@pytest.mark.timeout(40)
def test_unreachable_camera_retries_forever_on_the_default_backoff(
    ffmpeg_binary: FfmpegBinary,
) -> None:
    # Nothing listens on the port: every ingest fails at once. With a fake clock the delays
    # between attempts are exact: 0.5, 1, 2, 4, 8, then 10 s for as long as it takes.
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    clock = FakeClock()
    sources = SourceTable(FMT, clock)
    health = HealthLog(sources, "camera:2")
    camera = CameraConfig(id=2, url=f"rtsp://127.0.0.1:{port}/live")
    ref = CameraActor.start(Link("sources/camera-2", clock=clock), camera, FMT, sources,
                            ffmpeg_binary)
    delays: list[str] = []
    after = 0
    for expected in ["0.5", "1", "2", "4", "8", "10", "10"]:
        index = health.wait_for(SourceState.OFFLINE, after=after, timeout=10)
        detail = health.entries[index].detail
        assert "Connection refused" in detail or "exited" in detail, detail
        delays.append(detail.rsplit("reconnecting in ", 1)[-1])
        assert delays[-1] == f"{expected} s", delays
        clock.advance(float(expected) - 0.05)
        assert health.states()[-1] is SourceState.OFFLINE  # not yet
        clock.advance(0.1)
        after = health.wait_for(SourceState.CONNECTING, after=index, timeout=10) + 1
    assert ref.is_alive()
    assert ref.proxy().status().get(timeout=5)["restarts"] == 7
    ref.stop(timeout=10)
