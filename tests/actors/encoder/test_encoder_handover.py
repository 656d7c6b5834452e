"""No program frame lost across encoder runs, with real ffmpeg: a SIGKILLed encoder's frames
are encoded again by the next one, and a planned handover (new settings, a keyframe on a
given frame) joins two encodes into one stream. Every program frame carries its index in
its brightness, so the decoded stream shows any frame lost, repeated or out of place."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import pykka
import pytest
from support.fanout_reader import FanoutReader

from vistter.actors.encoder.encoder import EncoderActor
from vistter.actors.encoder.hwaccel import EncoderChoice, detect_encoder
from vistter.actors.encoder.overrides import EncodeOverrides
from vistter.actors.encoder.run import TS_BASE_SECONDS
from vistter.actors.encoder.ts_pipe import TsPipe
from vistter.actors.fanout.fanout import FanoutActor
from vistter.actors.fanout.table import FanoutTable
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

FMT = FrameFormat(320, 240, 30)
ENCODING = EncodingConfig(preset="veryfast")
LEVELS = 40  # brightness steps: frame n is luma 20 + 5 * (n % LEVELS)


def luma(index: int) -> int:
    return 20 + 5 * (index % LEVELS)


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


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


class Mixer:
    """Puts numbered program frames into the queue at the program rate, like the mixer."""

    def __init__(self, frames: FrameQueue) -> None:
        self.frames = frames
        self.stop = threading.Event()
        self.index = 0
        self._pictures = [solid_frame(FMT, luma(n), 128, 128) for n in range(LEVELS)]
        self.thread = threading.Thread(target=self._run, name="test-mixer", daemon=True)

    def _run(self) -> None:
        started = time.monotonic()
        while not self.stop.is_set():
            self.frames.put(ProgramFrame(self.index, self._pictures[self.index % LEVELS]))
            self.index += 1
            self.stop.wait(max(0.0, started + self.index / FMT.fps - time.monotonic()))

    def __enter__(self) -> Mixer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)


class Picture:
    def __init__(self, index: int, y: float, height: int, keyframe: bool) -> None:
        self.index, self.y, self.height, self.keyframe = index, y, height, keyframe


def decode(data: bytes, path: Path) -> list[Picture]:
    """Every decoded picture with its program frame index (from its PTS), in PTS order."""
    path.write_bytes(data)
    pictures: list[Picture] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            for frame in packet.decode():
                assert frame.time is not None
                index = round((frame.time - TS_BASE_SECONDS) * FMT.fps)
                flat = frame.to_ndarray(format="yuv420p").reshape(-1)
                y = flat[: frame.width * frame.height]
                pictures.append(Picture(index, float(y.mean()), frame.height,
                                        frame.key_frame))  # fmt: skip
    return sorted(pictures, key=lambda p: p.index)


def assert_every_frame_once(pictures: list[Picture], dropped: int) -> None:
    """Every program frame exactly once, at its own time, showing itself; except that a frame
    the queue dropped (``dropped``, counted: an encoder slower than the program for a moment)
    is stood in for by the frame before it, as the writer does."""
    indices = [p.index for p in pictures]
    missing = sorted(set(range(indices[0], indices[-1] + 1)) - set(indices))
    assert indices == list(range(indices[0], indices[0] + len(indices))), (
        f"frames missing {missing[:20]} or repeated ({len(indices) - len(set(indices))})"
    )
    stand_ins = 0
    for before, picture in zip([None, *pictures], pictures, strict=False):
        if picture.y == pytest.approx(luma(picture.index), abs=3.0):
            continue
        assert before is not None and picture.y == pytest.approx(before.y, abs=3.0), (
            f"program frame {picture.index} shows luma {picture.y:.1f}, not "
            f"{luma(picture.index)} nor the frame before it: a frame out of place"
        )
        stand_ins += 1
    assert stand_ins <= dropped, f"{stand_ins} stand-ins for {dropped} dropped frames"


def program_tree(frames: FrameQueue, pipe: TsPipe, table: FanoutTable, binary: FfmpegBinary,
                 x264: EncoderChoice) -> RootSupervisor:
    """The program subtree as vistter.tree builds it: the fanout before the encoder."""
    encoder = ChildSpec(
        "encoder",
        start_function_for(EncoderActor, FMT, ENCODING, x264, binary, frames, pipe,
                           metrics_interval=0.5),
        shutdown=10,
    )  # fmt: skip
    fanout = ChildSpec("fanout", start_function_for(FanoutActor, pipe, table))
    flags = SupervisorFlags(Strategy.REST_FOR_ONE, intensity=3, period=60)
    return RootSupervisor(flags, [fanout, encoder], name="program")


@pytest.mark.timeout(120)
def test_a_sigkilled_encoder_loses_no_program_frame_and_the_destination_goes_on(
    binary: FfmpegBinary, x264: EncoderChoice, tmp_path: Path
) -> None:
    frames = FrameQueue(4, restart_capacity=2 * FMT.fps)
    pipe = TsPipe()
    table = FanoutTable()
    destination = FanoutReader(table)
    with Mixer(frames):
        root = program_tree(frames, pipe, table, binary, x264)
        try:
            wait_until(lambda: destination.size() > 1_000_000, 20, "the destination to receive")
            old_pid = {c.id: c for c in root.handle.which_children()}["encoder"].pids[0]
            os.kill(old_pid, signal.SIGKILL)

            def restarted() -> bool:
                now = {c.id: c for c in root.handle.which_children()}
                return now["encoder"].restarts == 1 and now["encoder"].state == "running"

            wait_until(restarted, 20, "the supervisor to restart the encoder")
            children = {c.id: c for c in root.handle.which_children()}
            assert children["fanout"].restarts == 0  # the fanout and its queues go on
            status = root.handle.child("encoder").proxy().status().get(timeout=5)
            assert status["frames_rewound"] > 0  # the dead encode's frames, encoded again
            at_restart = destination.size()
            wait_until(lambda: destination.size() > at_restart + 1_000_000, 20,
                       "the restarted encoder's stream at the destination")
        finally:
            root.stop()
    received = destination.close()
    assert pipe.stats().streams == 2
    assert table.get("platform") is not None
    assert table.stats()["platform"].resyncs == 0  # one connection, never resynced
    pictures = decode(received, tmp_path / "killed.ts")
    assert_every_frame_once(pictures, frames.dropped)
    assert len(pictures) > 3 * FMT.fps


@pytest.mark.timeout(120)
def test_reconfigure_hands_over_on_a_keyframe_with_the_new_size_and_no_frame_lost(
    binary: FfmpegBinary, x264: EncoderChoice, tmp_path: Path
) -> None:
    frames = FrameQueue(4, restart_capacity=2 * FMT.fps)
    pipe = TsPipe()
    table = FanoutTable()
    destination = FanoutReader(table)
    with Mixer(frames):
        root = program_tree(frames, pipe, table, binary, x264)
        try:
            wait_until(lambda: destination.size() > 600_000, 20, "the destination to receive")
            encoder = root.handle.child("encoder").proxy()
            changes = EncodeOverrides(bitrate_kbps=300, height=120)
            switched = encoder.reconfigure(changes).get(timeout=10)
            wait_until(lambda: encoder.status().get(timeout=5)["handovers"] == 1, 10,
                       "the handover")
            keyframe = encoder.new_keyframe_at(switched + 45).get(timeout=10)
            assert keyframe == switched + 45
            wait_until(lambda: encoder.status().get(timeout=5)["handovers"] == 2, 10,
                       "the second handover")
            status = encoder.status().get(timeout=5)
            assert status["overrides"] == {"bitrate_kbps": 300, "height": 120, "fps": None}
            assert status["first_frame"] == keyframe
            at = destination.size()
            wait_until(lambda: destination.size() > at + 60_000, 20, "the new encode's stream")
            assert {c.id: c.restarts for c in root.handle.which_children()} == {
                "fanout": 0, "encoder": 0}
        finally:
            root.stop()
    received = destination.close()
    assert pipe.stats().streams == 3
    assert table.stats()["platform"].resyncs == 0
    pictures = decode(received, tmp_path / "handover.ts")
    assert_every_frame_once(pictures, frames.dropped)
    by_index = {p.index: p for p in pictures}
    assert by_index[switched - 1].height == 240 and by_index[switched].height == 120
    assert by_index[switched].keyframe and by_index[keyframe].keyframe
    assert all(p.height == 120 for p in pictures if p.index >= switched)
