"""The render output: a lossless queue, an exact MP4, and whole renders that are identical.

Decoded with PyAV. The full renders use real ffmpeg sources in lock-step and the real virtual
ProgramMixer (helpers from test_render_sources.py).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pykka
import pytest
from test_render_sources import (
    CAM1,
    CAM2,
    FMT,
    alive,
    bundled_ffmpeg,
    expected_program,
    lockstep_rig,
    reference_frames,
    write_still,
)

from vistter.actors.program.frame_queue import ProgramFrame
from vistter.actors.program.state import ProgramState
from vistter.actors.sources.table import SourceTable
from vistter.clock import MonotonicClock
from vistter.media.ffmpeg import FfmpegBinary
from vistter.media.frames import Frame, solid_frame
from vistter.models.cameras import CameraConfig
from vistter.render import (
    LockStep,
    LosslessFrameQueue,
    Mp4Writer,
    RenderWriteError,
    SourceEndedError,
    camera_render_source,
    render_program,
    still_render_source,
)
from vistter.supervisors.processes import ProcessSet


@pytest.fixture
def ffmpeg_binary() -> FfmpegBinary:
    return bundled_ffmpeg()


@pytest.fixture(autouse=True)
def stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all(timeout=10)


def decode(path: Path) -> tuple[list[Any], Any]:
    """Every video frame of ``path`` (PyAV frames) and the video stream."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        return frames, stream


def yuv_bytes(frame: Any) -> bytes:
    """A decoded yuv420p frame as packed program bytes (no line padding)."""
    array: np.ndarray[Any, np.dtype[np.uint8]] = frame.to_ndarray(format="yuv420p")
    return array.tobytes()


def frame_hashes(path: Path) -> list[str]:
    frames, _ = decode(path)
    return [hashlib.sha256(yuv_bytes(f)).hexdigest() for f in frames]


def luma_of(frame: Any) -> np.ndarray[Any, np.dtype[np.int16]]:
    array: np.ndarray[Any, np.dtype[np.uint8]] = frame.to_ndarray(format="yuv420p")
    return array[: FMT.height].astype(np.int16)


def program_luma(frame: Frame) -> np.ndarray[Any, np.dtype[np.int16]]:
    return frame[: FMT.y_bytes].reshape(FMT.height, FMT.width).astype(np.int16)


# -- the lossless queue ---------------------------------------------------------------------------


@pytest.mark.timeout(10)
def test_lossless_queue_waits_for_room_instead_of_dropping() -> None:
    queue = LosslessFrameQueue(2)
    frame = solid_frame(FMT, 100, 128, 128)
    queue.put(ProgramFrame(0, frame))
    queue.put(ProgramFrame(1, frame))
    third_in = threading.Event()

    def producer() -> None:
        queue.put(ProgramFrame(2, frame))
        third_in.set()

    thread = threading.Thread(target=producer, daemon=True)
    thread.start()
    assert not third_in.wait(0.3)  # full: put waits
    first = queue.get(timeout=1)
    assert first is not None and first.index == 0
    assert third_in.wait(5)
    indices = []
    while (item := queue.get(timeout=0.05)) is not None:
        indices.append(item.index)
    assert indices == [1, 2]
    assert queue.dropped == 0 and queue.frames_put == 3


@pytest.mark.timeout(10)
def test_lossless_queue_close_releases_a_waiting_put() -> None:
    queue = LosslessFrameQueue(1)
    frame = solid_frame(FMT, 100, 128, 128)
    queue.put(ProgramFrame(0, frame))
    released = threading.Event()
    def producer() -> None:
        queue.put(ProgramFrame(1, frame))
        released.set()

    thread = threading.Thread(target=producer, daemon=True)
    thread.start()
    assert not released.wait(0.2)
    queue.close()
    assert released.wait(5)
    assert queue.discarded == 1
    queue.put(ProgramFrame(2, frame))
    assert queue.discarded == 2
    assert len(queue) == 1  # what was queued before close can still be read
    assert queue.get(timeout=0.1) is not None
    assert queue.get(timeout=0.1) is None


# -- the MP4 writer -------------------------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("audio", [False, True])
def test_writer_makes_exactly_n_frames_at_exact_timestamps(
    ffmpeg_binary: FfmpegBinary, tmp_path: Path, audio: bool
) -> None:
    out = tmp_path / "render.mp4"
    processes = ProcessSet()
    writer = Mp4Writer(out, FMT, 45, ffmpeg=ffmpeg_binary, processes=processes, audio=audio)
    writer.open()
    levels = [40 + 4 * i for i in range(45)]
    for index, level in enumerate(levels):
        writer.write(ProgramFrame(index, solid_frame(FMT, level, 128, 128)))
        if index == 10:
            assert writer.partial_path.exists() and not out.exists()
    result = writer.finish()
    assert result.frames == 45 and result.fps == 30 and result.duration == 1.5
    assert result.path == out and out.exists() and not writer.partial_path.exists()
    assert processes.pids() == []
    frames, stream = decode(out)
    assert len(frames) == 45
    assert stream.average_rate == 30
    assert (stream.codec_context.width, stream.codec_context.height) == (160, 120)
    assert [f.pts * f.time_base for f in frames] == [Fraction(i, 30) for i in range(45)]
    means = [float(luma_of(f).mean()) for f in frames]
    assert all(abs(m - level) < 1.5 for m, level in zip(means, levels, strict=True)), means
    with av.open(str(out)) as container:
        assert len(container.streams.audio) == (1 if audio else 0)
        if audio:
            audio_stream = container.streams.audio[0]
            assert audio_stream.codec_context.name == "aac"
            assert audio_stream.duration is not None and audio_stream.time_base is not None
            assert audio_stream.duration * audio_stream.time_base == pytest.approx(1.5, abs=0.05)


@pytest.mark.timeout(30)
def test_writer_refuses_a_gap_and_leaves_no_file(
    ffmpeg_binary: FfmpegBinary, tmp_path: Path
) -> None:
    out = tmp_path / "gap.mp4"
    processes = ProcessSet()
    writer = Mp4Writer(out, FMT, 10, ffmpeg=ffmpeg_binary, processes=processes)
    writer.open()
    frame = solid_frame(FMT, 90, 128, 128)
    writer.write(ProgramFrame(0, frame))
    with pytest.raises(RenderWriteError, match="expected program frame 1 but got 2"):
        writer.write(ProgramFrame(2, frame))
    with pytest.raises(RenderWriteError, match="stopped after 1 of 10 frames"):
        writer.finish()
    assert not out.exists() and not writer.partial_path.exists()
    assert processes.pids() == []


def test_writer_names_a_missing_output_folder(ffmpeg_binary: FfmpegBinary, tmp_path: Path) -> None:
    writer = Mp4Writer(tmp_path / "nope" / "x.mp4", FMT, 5, ffmpeg=ffmpeg_binary)
    with pytest.raises(RenderWriteError) as caught:
        writer.open()
    assert "does not exist" in caught.value.problem and caught.value.hint


# -- whole renders --------------------------------------------------------------------------------


def render_once(ffmpeg: FfmpegBinary, still: Path, out: Path, frames: int) -> list[int]:
    """One render of the scripted program; returns the PIDs its processes had."""
    processes = ProcessSet()
    sources, state, lockstep = lockstep_rig(ffmpeg, still, processes=processes)
    pids: list[int] = []
    lockstep.add_hook(lambda n: pids.extend(processes.pids()) if n == 0 else None)
    written: list[int] = []
    result = render_program(state, sources, lockstep, out=out, frames=frames, ffmpeg=ffmpeg,
                            progress=written.append, processes=processes)
    assert result.frames == frames and result.path == out
    assert written == list(range(1, frames + 1))
    assert processes.pids() == []
    assert len(pids) == 3  # two ingest ffmpegs and the encoder
    return pids


@pytest.mark.timeout(120)
def test_two_renders_of_the_same_program_are_identical_frame_for_frame(
    ffmpeg_binary: FfmpegBinary, tmp_path: Path
) -> None:
    count = 90
    still = write_still(tmp_path / "still.png")
    first, second = tmp_path / "first.mp4", tmp_path / "second.mp4"
    pids = render_once(ffmpeg_binary, still, first, count)
    pids += render_once(ffmpeg_binary, still, second, count)
    assert not any(alive(pid) for pid in pids)
    assert pykka.ActorRegistry.get_all() == []  # the render stopped its mixer

    hashes = frame_hashes(first)
    assert len(hashes) == count
    assert frame_hashes(second) == hashes
    assert len(set(hashes)) > count - 15  # moving sources; only the still repeats
    frames, stream = decode(first)
    assert stream.average_rate == 30
    assert [f.pts * f.time_base for f in frames] == [Fraction(i, 30) for i in range(count)]

    # Frame accuracy: every decoded frame is closest to the program frame of its own index.
    still_frame = still_render_source(still, FMT, SourceTable(FMT, MonotonicClock())).frame
    expected = expected_program(reference_frames(ffmpeg_binary, CAM1, count),
                                reference_frames(ffmpeg_binary, CAM2, count), still_frame, count)
    for n in (0, 29, 30, 44, 45, 52, 59, 60, 74, 75, 89):
        decoded = luma_of(frames[n])
        errors = {k: float(np.abs(decoded - program_luma(expected[k])).mean())
                  for k in range(max(0, n - 2), min(count, n + 3))}
        assert min(errors, key=errors.__getitem__) == n or errors[n] < 1.0, (n, errors)
        assert errors[n] < 3.0, (n, errors)


@pytest.mark.timeout(60)
def test_render_stops_with_the_source_that_ended_and_leaves_nothing_behind(
    ffmpeg_binary: FfmpegBinary, tmp_path: Path
) -> None:
    processes = ProcessSet()
    sources = SourceTable(FMT, MonotonicClock())
    state = ProgramState(FMT)
    state.take("camera:1", at_frame=0)
    short = CameraConfig(id=2, url="lavfi:testsrc=size=160x120:rate=30:duration=1")
    lockstep = LockStep([
        camera_render_source(CAM1, FMT, sources, ffmpeg=ffmpeg_binary, processes=processes),
        camera_render_source(short, FMT, sources, ffmpeg=ffmpeg_binary, processes=processes),
    ], timeout=10.0)
    out = tmp_path / "broken.mp4"
    with pytest.raises(SourceEndedError) as caught:
        render_program(state, sources, lockstep, out=out, frames=90, ffmpeg=ffmpeg_binary,
                       processes=processes)
    assert caught.value.source_id == "camera:2"  # off air, but it ended: the render stops
    assert "ended after 30 frames" in str(caught.value)
    assert not out.exists()
    assert not (tmp_path / "broken.mp4.partial").exists()
    assert processes.pids() == []
    assert pykka.ActorRegistry.get_all() == []
