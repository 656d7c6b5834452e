"""Lock-step render sources: exactly one new frame per program frame, in order, bounded waits.

Real ffmpeg (lavfi test sources, a real video file, a real RTSP camera) and the real virtual
ProgramMixer. Reference frames come from running the same ingest command line on its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pykka
import pytest
from PIL import Image

from chaos.realparts import RtspCameraServer
from vistter.actors.program.blend import Blender
from vistter.actors.program.frame_plan import ramp
from vistter.actors.program.frame_queue import ProgramFrame
from vistter.actors.program.mixer import ProgramMixer
from vistter.actors.program.state import ProgramState
from vistter.actors.sources.ingest import camera_ingest_command
from vistter.actors.sources.table import SourceState, SourceTable
from vistter.clock import MonotonicClock
from vistter.media.ffmpeg import FfmpegBinary, find_ffmpeg
from vistter.media.frames import Frame, FrameFormat, new_frame, read_frame_into
from vistter.models.cameras import CameraConfig
from vistter.render import (
    Delivery,
    IngestRenderSource,
    LockStep,
    LosslessFrameQueue,
    SourceEndedError,
    SourceStalledError,
    StaticRenderSource,
    camera_render_source,
    still_render_source,
    video_file_render_source,
)
from vistter.supervisors.link import Link
from vistter.supervisors.processes import ProcessSet

FMT = FrameFormat(160, 120, 30)
CAM1 = CameraConfig(id=1, url="lavfi:testsrc2=size=160x120:rate=30")
CAM2 = CameraConfig(id=2, url="lavfi:testsrc=size=160x120:rate=30")


# -- helpers (also used by test_render_writer.py) -----------------------------------------------


def bundled_ffmpeg() -> FfmpegBinary:
    return find_ffmpeg()


def reference_frames(ffmpeg: FfmpegBinary, camera: CameraConfig, count: int) -> list[Frame]:
    """The first ``count`` frames of ``camera``'s ingest, read on their own (no lock-step)."""
    command = camera_ingest_command(ffmpeg.path, camera, FMT, realtime=False)
    processes = ProcessSet()
    process = processes.spawn("reference", command.argv, stdout=subprocess.PIPE)
    try:
        frames = []
        for _ in range(count):
            buffer = new_frame(FMT)
            assert read_frame_into(process.popen.stdout, buffer)  # type: ignore[arg-type]
            frames.append(buffer)
        return frames
    finally:
        processes.end_all(grace=1.0)


def write_still(path: Path) -> Path:
    image = Image.new("RGB", (80, 60), (200, 30, 40))
    image.paste((20, 200, 60), (10, 10, 40, 30))
    image.save(path)
    return path


def scripted_state() -> ProgramState:
    """Camera 1 from 0, cut to camera 2 at 30, dissolve back to camera 1 over 45..59, cut to
    the still at 75."""
    state = ProgramState(FMT)
    state.take("camera:1", at_frame=0)
    state.take("camera:2", at_frame=30)
    state.take("camera:1", at_frame=45, transition="dissolve", duration_frames=15)
    return state


def lockstep_rig(
    ffmpeg: FfmpegBinary, still: Path, *, processes: ProcessSet | None = None
) -> tuple[SourceTable, ProgramState, LockStep]:
    sources = SourceTable(FMT, MonotonicClock())
    state = scripted_state()
    still_source = still_render_source(still, FMT, sources)
    state.take(still_source.source_id, at_frame=75)
    lockstep = LockStep([
        camera_render_source(CAM1, FMT, sources, ffmpeg=ffmpeg, processes=processes),
        camera_render_source(CAM2, FMT, sources, ffmpeg=ffmpeg, processes=processes),
        still_source,
    ], timeout=10.0)
    return sources, state, lockstep


def expected_program(
    cam1: list[Frame], cam2: list[Frame], still: Frame, count: int
) -> list[Frame]:
    """What the scripted program must show, frame by frame, if every source advances one
    frame per program frame (on air or not)."""
    blender = Blender(FMT)
    out: list[Frame] = []
    for n in range(count):
        if n < 30:
            out.append(cam1[n])
        elif n < 45:
            out.append(cam2[n])
        elif n < 60:
            out.append(blender.dissolve(cam2[n], cam1[n], ramp(n - 45, 15), new_frame(FMT)))
        elif n < 75:
            out.append(cam1[n])
        else:
            out.append(still)
    return out


def run_until_error(lockstep: LockStep, frames: range) -> BaseException:
    """Call the barrier for ``frames`` in order (as the mixer would) until it raises."""
    for n in frames:
        try:
            lockstep(n)
        except Exception as exc:
            return exc
    raise AssertionError(f"the barrier delivered frames {frames.start}..{frames.stop - 1}")


def resume(source: IngestRenderSource) -> None:
    """SIGCONT a source's ffmpeg that this test stopped, if it has not been ended yet."""
    process = source._process
    if process is not None and process.alive():
        os.kill(process.pid, signal.SIGCONT)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill 0: read its state
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def ffmpeg_binary() -> FfmpegBinary:
    return bundled_ffmpeg()


@pytest.fixture
def closing() -> Iterator[list[Any]]:
    """Things with a close() to call at teardown (lock-steps, sources), then stop all actors."""
    things: list[Any] = []
    yield things
    for thing in reversed(things):
        thing.close()
    pykka.ActorRegistry.stop_all(timeout=10)


def deliver(source: Any, frame: int, timeout: float = 10.0) -> Delivery:
    result: Delivery = source.advance_to(frame, deadline=time.monotonic() + timeout,
                                         cancelled=threading.Event())
    return result


# -- tests ---------------------------------------------------------------------------------------


def test_render_ingest_commands_have_no_realtime_pacing(tmp_path: Path) -> None:
    lavfi = camera_ingest_command("/x/ffmpeg", CAM1, FMT, realtime=False)
    assert "-re" not in lavfi.argv
    assert "-re" in camera_ingest_command("/x/ffmpeg", CAM1, FMT).argv  # live stays paced
    source = video_file_render_source(write_still(tmp_path / "a.png"), FMT,
                                      SourceTable(FMT, MonotonicClock()), ffmpeg=bundled_ffmpeg())
    assert "-re" not in source._command.argv
    assert "-stream_loop" in source._command.argv


@pytest.mark.timeout(60)
def test_virtual_mixer_in_lockstep_shows_each_sources_nth_frame(
    ffmpeg_binary: FfmpegBinary, tmp_path: Path, closing: list[Any]
) -> None:
    count = 90
    cam1 = reference_frames(ffmpeg_binary, CAM1, count)
    cam2 = reference_frames(ffmpeg_binary, CAM2, count)
    assert not np.array_equal(cam1[0], cam1[1])  # moving pictures, so lock-step shows
    assert not np.array_equal(cam2[0], cam2[1])
    processes = ProcessSet()
    sources, state, lockstep = lockstep_rig(ffmpeg_binary, write_still(tmp_path / "s.png"),
                                            processes=processes)
    closing.append(lockstep)
    lockstep.end_frame = count
    queue = LosslessFrameQueue(3)
    lockstep.start()
    assert len(processes.pids()) == 2
    ProgramMixer.start(Link("render/mixer"), FMT, sources, state, queue, virtual=True,
                       source_barrier=lockstep, start_index=0)
    got: list[ProgramFrame] = []
    for _ in range(count):
        item = queue.get(timeout=10)
        assert item is not None, f"only {len(got)} program frames arrived"
        got.append(item)
    assert [f.index for f in got] == list(range(count))
    still = next(s for s in lockstep._sources if isinstance(s, StaticRenderSource)).frame
    expected = expected_program(cam1, cam2, still, count)
    mismatched = [n for n in range(count) if not np.array_equal(got[n].pixels(), expected[n])]
    assert mismatched == []
    assert queue.dropped == 0
    status = lockstep.status()
    assert status["last_frame"] == count - 1
    assert [s["published"] for s in status["sources"]] == [count, count, count]
    assert sources.health("camera:2") is not None
    assert sources.health("camera:2").state is SourceState.ONLINE  # type: ignore[union-attr]
    pids = processes.pids()
    lockstep.close()
    assert processes.pids() == []
    assert not any(alive(pid) for pid in pids)


@pytest.mark.timeout(30)
def test_source_skips_ahead_and_never_repeats_a_publication(
    ffmpeg_binary: FfmpegBinary, closing: list[Any]
) -> None:
    cam1 = reference_frames(ffmpeg_binary, CAM1, 8)
    sources = SourceTable(FMT, MonotonicClock())
    source = camera_render_source(CAM1, FMT, sources, ffmpeg=ffmpeg_binary, read_ahead=1)
    closing.append(source)
    source.start()
    slot = sources.slot("camera:1")
    assert deliver(source, 0) is Delivery.DELIVERED
    first = slot.latest()
    assert first is not None
    assert np.array_equal(first.frame, cam1[0])
    assert deliver(source, 0) is Delivery.DELIVERED  # already there: not published again
    assert slot.latest() is first
    assert deliver(source, 5) is Delivery.DELIVERED  # frames 1..4 are skipped, not shown
    fifth = slot.latest()
    assert fifth is not None
    assert np.array_equal(fifth.frame, cam1[5])
    assert fifth.seq == first.seq + 1
    assert source.status()["skipped"] == 4


@pytest.mark.timeout(60)
def test_video_file_is_read_without_pacing_and_loops(
    ffmpeg_binary: FfmpegBinary, tmp_path: Path, closing: list[Any]
) -> None:
    clip = tmp_path / "clip.mp4"
    subprocess.run(
        [ffmpeg_binary.path, "-hide_banner", "-loglevel", "error", "-nostdin", "-f", "lavfi",
         "-i", "testsrc2=size=160x120:rate=30", "-frames:v", "12", "-c:v", "libx264",
         "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p", str(clip)],
        check=True, timeout=30,
    )
    sources = SourceTable(FMT, MonotonicClock())
    source = video_file_render_source(clip, FMT, sources, ffmpeg=ffmpeg_binary)
    closing.append(source)
    source.start()
    slot = sources.slot(source.source_id)
    frames: list[Frame] = []
    started = time.monotonic()
    for k in range(36):  # three times through the 12-frame (0.4 s) file
        assert deliver(source, k) is Delivery.DELIVERED
        latest = slot.latest()
        assert latest is not None
        frames.append(latest.frame)
    elapsed = time.monotonic() - started
    assert elapsed < 1.2, f"36 frames (1.2 s of video) took {elapsed:.2f} s: paced like live?"
    assert not np.array_equal(frames[0], frames[1])
    for k in range(12):
        assert np.array_equal(frames[k], frames[k + 12]), f"loop differs at frame {k}"
        assert np.array_equal(frames[k], frames[k + 24]), f"second loop differs at frame {k}"


def test_still_source_publishes_the_same_frame_for_every_program_frame(tmp_path: Path) -> None:
    sources = SourceTable(FMT, MonotonicClock())
    source = still_render_source(write_still(tmp_path / "s.png"), FMT, sources)
    source.start()
    slot = sources.slot(source.source_id)
    seqs = []
    for k in range(3):
        assert deliver(source, k) is Delivery.DELIVERED
        latest = slot.latest()
        assert latest is not None
        assert latest.frame is source.frame
        seqs.append(latest.seq)
    assert seqs == [1, 2, 3]
    y = source.frame[: FMT.y_bytes].reshape(FMT.height, FMT.width)
    assert len(np.unique(y)) > 2  # letterboxed picture, not a flat frame
    source.close()
    assert sources.health(source.source_id).state is SourceState.OFFLINE  # type: ignore[union-attr]


@pytest.mark.timeout(30)
def test_barrier_names_a_source_whose_ffmpeg_died(
    ffmpeg_binary: FfmpegBinary, tmp_path: Path, closing: list[Any]
) -> None:
    processes = ProcessSet()
    sources, _, lockstep = lockstep_rig(ffmpeg_binary, write_still(tmp_path / "s.png"),
                                        processes=processes)
    closing.append(lockstep)
    lockstep.start()
    for n in range(3):
        lockstep(n)
    victim = next(s for s in lockstep._sources if s.source_id == "camera:2")
    assert isinstance(victim, IngestRenderSource) and victim.pid is not None
    os.kill(victim.pid, signal.SIGKILL)  # a process this test started, by PID
    started = time.monotonic()
    error = run_until_error(lockstep, range(3, 200))
    assert time.monotonic() - started < 5.0  # at once, not after the barrier's timeout
    assert isinstance(error, SourceEndedError)
    assert error.source_id == "camera:2"
    assert "render source camera:2" in str(error)
    assert "exited with code -9" in str(error)
    assert error.hint
    assert lockstep.failure is error and lockstep.failed.is_set()
    with pytest.raises(SourceEndedError):  # the render is over: every later frame says so
        lockstep(1000)
    assert sources.health("camera:2").state is SourceState.OFFLINE  # type: ignore[union-attr]
    lockstep.close()
    assert processes.pids() == []


@pytest.mark.timeout(30)
def test_barrier_times_out_on_a_stalled_source_and_close_wakes_it(
    ffmpeg_binary: FfmpegBinary, tmp_path: Path, closing: list[Any]
) -> None:
    processes = ProcessSet()
    _, _, lockstep = lockstep_rig(ffmpeg_binary, write_still(tmp_path / "s.png"),
                                  processes=processes)
    lockstep.timeout = 1.0
    closing.append(lockstep)
    lockstep.start()
    lockstep(0)
    stalled = next(s for s in lockstep._sources if s.source_id == "camera:1")
    assert isinstance(stalled, IngestRenderSource) and stalled.pid is not None
    pid = stalled.pid
    os.kill(pid, signal.SIGSTOP)  # alive, socket open, no frames: a stalled camera
    try:
        started = time.monotonic()
        error = run_until_error(lockstep, range(1, 100))
        waited = time.monotonic() - started
        assert isinstance(error, SourceStalledError)
        assert 1.0 <= waited < 4.0
        assert error.source_id == "camera:1"
        assert "did not deliver its frame" in str(error)
        assert "within 1 s" in str(error)
    finally:
        resume(stalled)
    lockstep.close()
    assert processes.pids() == []
    assert not alive(pid)


@pytest.mark.timeout(30)
def test_close_releases_a_waiting_barrier_and_end_frame_parks(
    ffmpeg_binary: FfmpegBinary, closing: list[Any]
) -> None:
    sources = SourceTable(FMT, MonotonicClock())
    source = camera_render_source(CAM1, FMT, sources, ffmpeg=ffmpeg_binary)
    seen: list[int] = []
    lockstep = LockStep([source], timeout=60.0, end_frame=500, hooks=[seen.append])
    closing.append(lockstep)
    lockstep.start()
    lockstep(0)
    assert seen == [0]
    started = time.monotonic()
    lockstep(500)  # past the end: parks briefly, asks no source for anything
    assert 0.2 <= time.monotonic() - started < 2.0
    assert seen == [0]
    assert source.status()["published"] == 1
    assert source.pid is not None
    os.kill(source.pid, signal.SIGSTOP)
    try:
        returned = threading.Event()

        def barrier() -> None:
            lockstep(400)  # more frames than the pipe and the read-ahead can hold
            returned.set()

        waiter = threading.Thread(target=barrier, daemon=True)
        waiter.start()
        assert not returned.wait(0.5)  # the frames in flight run out: it waits
        lockstep.close()  # ends the stopped ffmpeg too (SIGTERM, then SIGKILL after 1 s)
        assert returned.wait(5)  # released without an error
        assert lockstep.failure is None
    finally:
        resume(source)


@pytest.mark.timeout(60)
def test_rtsp_camera_works_in_lockstep(
    rtsp_camera: RtspCameraServer, ffmpeg_binary: FfmpegBinary, closing: list[Any]
) -> None:
    camera = CameraConfig(id=7, url=rtsp_camera.url("cam1"))
    sources = SourceTable(FMT, MonotonicClock())
    source = camera_render_source(camera, FMT, sources, ffmpeg=ffmpeg_binary)
    assert "-re" not in source._command.argv
    lockstep = LockStep([source], timeout=20.0)
    closing.append(lockstep)
    lockstep.start()
    for n in range(10):
        lockstep(n)
    assert source.status()["published"] == 10
    latest = sources.slot("camera:7").latest()
    assert latest is not None and latest.seq == 10
    pid = source.pid
    lockstep.close()
    assert pid is not None and not alive(pid)
