"""How the encoder actor fails: a stalled ffmpeg, a broken encoder, a missing binary."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pykka
import pytest

from vistter.actors.encoder.encoder import EncoderActor
from vistter.actors.encoder.hwaccel import CANDIDATES, EncoderChoice, detect_encoder
from vistter.actors.encoder.ts_pipe import TsPipe
from vistter.actors.program.frame_queue import FrameQueue, ProgramFrame
from vistter.media.ffmpeg import FfmpegBinary, find_ffmpeg
from vistter.media.frames import FrameFormat, solid_frame
from vistter.models.settings import EncodingConfig
from vistter.supervisors.link import ExitReason, Link

FMT = FrameFormat(320, 240, 30)


@pytest.fixture(autouse=True)
def stop_all_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()


@pytest.fixture(scope="module")
def binary() -> FfmpegBinary:
    return find_ffmpeg()


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.timeout(60)
def test_an_ffmpeg_that_stops_taking_frames_crashes_the_actor(binary: FfmpegBinary) -> None:
    frames = FrameQueue(4)
    link = Link("program/encoder")
    ref = EncoderActor.start(
        link, FMT, EncodingConfig(preset="veryfast"), detect_encoder(binary, "libx264"),
        binary, frames, TsPipe(), metrics_interval=0.1, stall_timeout=1.0,
    )
    pid = ref.proxy().status().get(timeout=5)["pid"]
    os.kill(pid, signal.SIGSTOP)  # alive, but takes nothing any more
    try:
        frame = solid_frame(FMT, 16, 128, 128)
        for index in range(8):  # more than the stdin pipe holds
            frames.put(ProgramFrame(index, frame))
        assert link.exited.wait(30), "a stalled encoder was not noticed"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    assert link.exit is not None
    assert link.exit.reason is ExitReason.CRASH
    assert link.exit.error is not None
    assert "has not taken a frame" in link.exit.error
    assert link.processes.pids() == []


@pytest.mark.timeout(60)
def test_an_encoder_that_cannot_open_crashes_with_ffmpegs_reason(
    binary: FfmpegBinary,
) -> None:
    # NVENC is built into the bundled ffmpeg but there is no NVIDIA GPU here.
    nvenc = next(c for c in CANDIDATES if c.encoder == "h264_nvenc")
    link = Link("program/encoder")
    frames = FrameQueue(4)
    frames.put(ProgramFrame(0, solid_frame(FMT, 16, 128, 128)))  # the encoder opens on it
    EncoderActor.start(
        link, FMT, EncodingConfig(), EncoderChoice(nvenc, "forced for the test"),
        binary, frames, TsPipe(), metrics_interval=0.2, stall_timeout=2.0,
    )
    # ffmpeg 9 stays alive after its video encoder failed to open: only the output watchdog
    # notices that it was given a frame and never wrote anything.
    assert link.exited.wait(30), "the encoder did not notice that its ffmpeg is useless"
    assert link.exit is not None
    assert link.exit.reason is ExitReason.CRASH
    error = link.exit.error or ""
    assert "has written nothing" in error
    assert "libcuda" in error  # ffmpeg's own reason is in the report


def test_a_missing_ffmpeg_fails_the_start_without_leaking(tmp_path: Path) -> None:
    missing = FfmpegBinary(str(tmp_path / "no-ffmpeg"), "0", "configured")
    choice = EncoderChoice(CANDIDATES[-1], "test")
    before = open_fds()
    link = Link("program/encoder")
    EncoderActor.start(link, FMT, EncodingConfig(), choice, missing, FrameQueue(4), TsPipe())
    assert link.exited.wait(10)
    assert link.exit is not None
    assert link.exit.reason is ExitReason.START_FAILED
    assert "no-ffmpeg" in (link.exit.error or "")
    assert open_fds() == before  # the progress pipe was closed again
