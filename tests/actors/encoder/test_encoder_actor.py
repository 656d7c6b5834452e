"""The encoder actor end to end with real ffmpeg: frames in, decodable MPEG-TS out,
metrics on the bus, and a killed ffmpeg restarted by its supervisor."""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import psutil
import pykka
import pytest
from support.eventsink import RecordingSink as BaseSink
from support.fanout_reader import FanoutReader

from vistter.actors.encoder.encoder import EncoderActor
from vistter.actors.encoder.hwaccel import EncoderChoice, detect_encoder
from vistter.actors.encoder.ts_pipe import TsPipe
from vistter.actors.fanout.fanout import FanoutActor
from vistter.actors.fanout.table import FanoutTable
from vistter.actors.program.band import FrameBand
from vistter.actors.program.frame_queue import FrameQueue, ProgramFrame
from vistter.media.ffmpeg import FfmpegBinary, find_ffmpeg
from vistter.media.frames import FrameFormat, solid_frame
from vistter.models.settings import EncodingConfig
from vistter.supervisors import (
    ChildSpec,
    RootSupervisor,
    Strategy,
    SupervisorFlags,
    start_function_for,
)
from vistter.supervisors.link import ExitReason, Link

FMT = FrameFormat(320, 240, 30)
ENCODING = EncodingConfig(preset="veryfast")
RED = (81, 90, 240)  # limited-range BT.601 YUV of a strong red
BLUE = (41, 240, 110)  # limited-range BT.601 YUV of a strong blue


@pytest.fixture(autouse=True)
def stop_all_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()


@pytest.fixture(scope="module")
def binary() -> FfmpegBinary:
    return find_ffmpeg()


@pytest.fixture(scope="module")
def x264(binary: FfmpegBinary) -> EncoderChoice:
    return detect_encoder(binary, "libx264")


class RecordingSink(BaseSink):
    def matching(self, topic: str, component: str) -> list[dict[str, Any]]:
        return [p for p in self.of(topic) if p.get("component") == component]

def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def plane_means(picture: av.VideoFrame) -> tuple[float, float, float]:
    """Mean Y, U and V of a decoded picture."""
    flat = picture.to_ndarray(format="yuv420p").reshape(-1)
    y_end = FMT.y_bytes
    u_end = y_end + FMT.chroma_bytes
    return (
        float(flat[:y_end].mean()),
        float(flat[y_end:u_end].mean()),
        float(flat[u_end:].mean()),
    )


def drain_pipe(pipe: TsPipe) -> bytes:
    out = bytearray()
    while (chunk := pipe.get(0)) is not None:
        out += chunk.data
    return bytes(out)


class Feeder:
    """Puts program frames into a FrameQueue at the program rate, like the mixer does."""

    def __init__(self, frames: FrameQueue, fmt: FrameFormat) -> None:
        self.frames = frames
        self.fmt = fmt
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="test-feeder", daemon=True)

    def _run(self) -> None:
        frame = solid_frame(self.fmt, *RED)
        started = time.monotonic()
        index = 0
        while not self.stop.is_set():
            self.frames.put(ProgramFrame(index, frame))
            index += 1
            self.stop.wait(max(0.0, started + index / self.fmt.fps - time.monotonic()))

    def __enter__(self) -> Feeder:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)


@pytest.mark.timeout(90)
def test_frames_in_decodable_ts_out(
    binary: FfmpegBinary, x264: EncoderChoice, tmp_path: Path
) -> None:
    count = 150  # 5 s
    frames = FrameQueue(count + 10)
    pipe = TsPipe(64 * 1024 * 1024)
    sink = RecordingSink()
    link = Link("program/encoder", events=sink)
    ref = EncoderActor.start(
        link, FMT, ENCODING, x264, binary, frames, pipe, metrics_interval=0.2
    )
    status = ref.proxy().status().get(timeout=5)
    assert status["encoder"] == "libx264"
    assert status["encoder_reason"] == x264.describe()
    assert psutil.pid_exists(status["pid"])

    frame = solid_frame(FMT, *RED)
    for index in range(count):
        frames.put(ProgramFrame(index, frame))
    wait_until(
        lambda: ref.proxy().status().get(timeout=5)["frames_written"] == count,
        30,
        "every frame written to ffmpeg",
    )
    wait_until(
        lambda: any(p.get("frame") for p in sink.matching("metrics.stream", "encoder")),
        10,
        "an encoder metrics.stream message with progress",
    )
    ref.stop(timeout=15)
    assert link.exit is not None
    assert link.exit.reason is ExitReason.NORMAL
    assert not psutil.pid_exists(status["pid"]) or (
        psutil.Process(status["pid"]).status() == psutil.STATUS_ZOMBIE
    )

    metrics = sink.matching("metrics.stream", "encoder")[-1]
    assert metrics["encoder"] == "libx264"
    assert metrics["fps"] is not None
    assert metrics["bitrate_kbps"] is not None
    assert metrics["speed"] is not None

    data = drain_pipe(pipe)
    assert data[0] == 0x47  # the stream starts on a packet boundary (ffmpeg's SDT first)
    path = tmp_path / "program.ts"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        assert container.streams.audio, "no audio track"
        assert container.streams.audio[0].codec_context.name == "aac"
        video = container.streams.video[0]
        keys: list[float] = []
        decoded = 0
        means: list[tuple[float, float, float]] = []
        for packet in container.demux(video):
            if packet.is_keyframe and packet.pts is not None:
                keys.append(float(packet.pts * packet.time_base))
            for picture in packet.decode():
                decoded += 1
                assert (picture.width, picture.height) == (FMT.width, FMT.height)
                means.append(plane_means(picture))
    assert abs(decoded - count) <= 1, f"decoded {decoded} of {count} frames"
    assert [round(k - keys[0], 2) for k in keys] == [0.0, 2.0, 4.0]
    for y, u, v in means:
        assert (y, u, v) == pytest.approx(RED, abs=2.0)


@pytest.mark.timeout(90)
def test_missing_program_frames_are_filled_so_later_frames_keep_their_time(
    binary: FfmpegBinary, x264: EncoderChoice, tmp_path: Path
) -> None:
    """Frames the queue dropped (here 10-14 never come) must not pull frame 15 five frames
    early: ffmpeg times raw frames by their count, so the last frame stands in for each."""
    frames = FrameQueue(64)
    pipe = TsPipe(64 * 1024 * 1024)
    ref = EncoderActor.start(Link("program/encoder"), FMT, ENCODING, x264, binary, frames,
                             pipe, metrics_interval=0.2)  # fmt: skip
    red, blue = solid_frame(FMT, *RED), solid_frame(FMT, *BLUE)
    for index in [*range(10), *range(15, 30)]:
        frames.put(ProgramFrame(index, red if index < 15 else blue))
    wait_until(lambda: ref.proxy().status().get(timeout=5)["frames_written"] == 30, 30,
               "30 frames written: 25 given, 5 filled in")
    status = ref.proxy().status().get(timeout=5)
    assert status["frames_repeated"] == 5
    ref.stop(timeout=15)
    path = tmp_path / "program.ts"
    path.write_bytes(drain_pipe(pipe))
    with av.open(str(path)) as container:
        colours = [plane_means(picture) for picture in container.decode(video=0)]
    assert len(colours) == 30
    first_blue = next(n for n, means in enumerate(colours)
                      if means == pytest.approx(BLUE, abs=4.0))
    assert first_blue == 15, f"frame 15 came out as frame {first_blue}"
    assert all(means == pytest.approx(RED, abs=4.0) for means in colours[:15])


@pytest.mark.timeout(90)
def test_banded_frames_are_written_with_their_band(
    binary: FfmpegBinary, x264: EncoderChoice, tmp_path: Path
) -> None:
    count = 60
    grey = (120, 128, 128)
    base = solid_frame(FMT, *grey)
    base.flags.writeable = False
    band = FrameBand.copy_of(base, FMT, 96, 144)
    band.y[...], band.u[...], band.v[...] = RED  # a red stripe over rows 96..143
    frames = FrameQueue(count + 10)
    pipe = TsPipe(64 * 1024 * 1024)
    link = Link("program/encoder")
    ref = EncoderActor.start(link, FMT, ENCODING, x264, binary, frames, pipe)
    for index in range(count):
        frames.put(ProgramFrame(index, base, band))
    wait_until(
        lambda: ref.proxy().status().get(timeout=5)["frames_written"] == count,
        30,
        "every banded frame written to ffmpeg",
    )
    ref.stop(timeout=15)
    assert link.exit is not None and link.exit.reason is ExitReason.NORMAL
    assert (base == solid_frame(FMT, *grey)).all()  # the base was only read
    path = tmp_path / "banded.ts"
    path.write_bytes(drain_pipe(pipe))
    decoded = 0
    with av.open(str(path)) as container:
        for picture in container.decode(container.streams.video[0]):
            decoded += 1
            flat = picture.to_ndarray(format="yuv420p").reshape(-1)
            y = flat[: FMT.y_bytes].reshape(FMT.height, FMT.width).astype(float)
            u_end = FMT.y_bytes + FMT.chroma_bytes
            u = flat[FMT.y_bytes : u_end].reshape(FMT.chroma_height, FMT.chroma_width)
            v = flat[u_end:].reshape(FMT.chroma_height, FMT.chroma_width)
            inside = (y[100:140].mean(), u[50:70].mean(), v[50:70].mean())
            above = (y[:90].mean(), u[:45].mean(), v[:45].mean())
            below = (y[150:].mean(), u[75:].mean(), v[75:].mean())
            assert inside == pytest.approx(RED, abs=3.0)
            assert above == pytest.approx(grey, abs=3.0)
            assert below == pytest.approx(grey, abs=3.0)
    assert abs(decoded - count) <= 1, f"decoded {decoded} of {count} frames"


@pytest.mark.timeout(120)
def test_a_killed_encoder_is_restarted_and_the_program_continues(
    binary: FfmpegBinary, x264: EncoderChoice, tmp_path: Path
) -> None:
    frames = FrameQueue(4)
    pipe = TsPipe()
    table = FanoutTable()
    destination = FanoutReader(table, "recorder")
    encoder = ChildSpec(
        "encoder",
        start_function_for(
            EncoderActor, FMT, ENCODING, x264, binary, frames, pipe, metrics_interval=0.5
        ),
        shutdown=10,
    )
    fanout = ChildSpec("fanout", start_function_for(FanoutActor, pipe, table))
    flags = SupervisorFlags(Strategy.REST_FOR_ONE, intensity=3, period=60)
    with Feeder(frames, FMT):
        root = RootSupervisor(flags, [fanout, encoder], name="program")  # as vistter.tree
        try:
            wait_until(lambda: destination.size() > 600_000, 20, "the destination to receive")
            children = {c.id: c for c in root.handle.which_children()}
            old_pid = children["encoder"].pids[0]
            os.kill(old_pid, signal.SIGKILL)  # the encoder ffmpeg dies under the actor

            def restarted() -> bool:
                now = {c.id: c for c in root.handle.which_children()}
                return (
                    now["encoder"].restarts == 1
                    and now["encoder"].state == "running"
                    and bool(now["encoder"].pids)
                )

            wait_until(restarted, 20, "the supervisor to restart the encoder")
            children = {c.id: c for c in root.handle.which_children()}
            assert children["encoder"].pids[0] != old_pid
            crash = children["encoder"].history[-1]
            assert crash.reason == "crash"
            assert crash.error is not None
            assert "exited with code" in crash.error
            assert children["fanout"].restarts == 0  # before the encoder: it goes on
            status = root.handle.child("encoder").proxy().status().get(timeout=5)
            assert status["ts_offset"] > 0  # continues the program timeline
            at_restart = destination.size()
            wait_until(
                lambda: destination.size() > at_restart + 1_200_000,
                20,
                "the restarted encoder's stream to reach the destination",
            )
        finally:
            root.stop()
    received = destination.close()
    assert pipe.stats().streams == 2

    # The destination got one file that decodes end to end, whose video timestamps only
    # move forward across the restart, and that resumed on a keyframe.
    path = tmp_path / "destination.ts"
    path.write_bytes(received)
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        times: list[float] = []
        keyframe: list[bool] = []
        keys: list[float] = []
        for packet in container.demux(video):
            if packet.pts is None:
                continue
            if packet.is_keyframe:
                keys.append(float(packet.pts * packet.time_base))
            for picture in packet.decode():
                assert picture.time is not None
                times.append(picture.time)
                keyframe.append(picture.key_frame)
    assert times == sorted(times), "timestamps went backward across the restart"
    gaps = [b - a for a, b in itertools.pairwise(times)]
    restart = gaps.index(max(gaps))
    assert max(gaps) < 10.0
    # Before the kill the stream is whole but for its last frames (those in x264's
    # lookahead die with ffmpeg); after the restart it is whole again.
    assert all(gap < 0.05 for gap in gaps[: max(0, restart - 5)])
    assert all(gap < 0.05 for gap in gaps[restart + 1 :])
    assert keyframe[restart + 1], "the stream did not resume on a keyframe"
    assert len(times) - restart > 30
    assert len(keys) >= 3
    assert destination.queue.stats().dropped_bytes < destination.queue.stats().bytes_out
