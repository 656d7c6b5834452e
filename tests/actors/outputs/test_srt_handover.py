"""Planned encoder handovers seen through the SRT output path, with real parts: numbered
program frames, the real encoder (one ffmpeg per run, each handing over to the next at a
frame boundary), the fanout, :class:`SrtDestinationActor` (``ffmpeg -c copy -f mpegts
srt://``) and an SRT listener on 127.0.0.1. The listener's recording must show one continuous
stream: no frame missing at a seam, where each new run's MPEG-TS starts over (PAT/PMT,
continuity counters from 0) with timestamps that go on."""

from __future__ import annotations

import itertools
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import pykka
import pytest
from test_destination_feed import EventLog

from chaos.realparts import SrtListener
from chaos.realparts.procs import end_process
from vistter.actors.encoder.encoder import EncoderActor
from vistter.actors.encoder.hwaccel import detect_encoder
from vistter.actors.encoder.overrides import EncodeOverrides
from vistter.actors.encoder.ts_pipe import TsPipe
from vistter.actors.fanout.fanout import FanoutActor
from vistter.actors.fanout.table import FanoutTable
from vistter.actors.outputs.command import copy_argv
from vistter.actors.outputs.srt import SrtDestinationActor, srt_output
from vistter.actors.program.frame_queue import FrameQueue, ProgramFrame
from vistter.media.ffmpeg import FfmpegBinary
from vistter.media.frames import FrameFormat, solid_frame
from vistter.models.destinations import SrtDestination
from vistter.models.settings import EncodingConfig
from vistter.supervisors import (
    ChildSpec,
    RootSupervisor,
    Strategy,
    SupervisorFlags,
    start_function_for,
)
from vistter.supervisors.link import Link

FMT = FrameFormat(320, 240, 30)
LEVELS = 40  # frame n shows luma 20 + 5 * (n % LEVELS): the picture says which frame it is
TAIL_FRAMES = FMT.fps  # the last second is not judged: the stream's end is cut by the stop


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()


def _wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class _Mixer:
    """Numbered program frames into the queue at the program rate, like the mixer."""

    def __init__(self, frames: FrameQueue) -> None:
        self.frames = frames
        self.stop = threading.Event()
        self._pictures = [solid_frame(FMT, 20 + 5 * n, 128, 128) for n in range(LEVELS)]
        self.thread = threading.Thread(target=self._run, name="test-mixer", daemon=True)

    def _run(self) -> None:
        started, index = time.monotonic(), 0
        while not self.stop.is_set():
            self.frames.put(ProgramFrame(index, self._pictures[index % LEVELS]))
            index += 1
            self.stop.wait(max(0.0, started + index / FMT.fps - time.monotonic()))

    def __enter__(self) -> _Mixer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join(5)


def _program(frames: FrameQueue, table: FanoutTable, binary: FfmpegBinary) -> RootSupervisor:
    """The program subtree as vistter.tree builds it: the fanout before the encoder."""
    pipe = TsPipe()
    encoder = ChildSpec(
        "encoder",
        start_function_for(EncoderActor, FMT, EncodingConfig(preset="veryfast"),
                           detect_encoder(binary, "libx264"), binary, frames, pipe,
                           metrics_interval=0.5),
        shutdown=10,
    )  # fmt: skip
    fanout = ChildSpec("fanout", start_function_for(FanoutActor, pipe, table))
    flags = SupervisorFlags(Strategy.REST_FOR_ONE, intensity=3, period=60)
    return RootSupervisor(flags, [fanout, encoder], name="program")


def _received(path: Path) -> list[tuple[int, int]]:
    """Every decoded picture of the recording: (its frame number from its PTS, the program
    frame number modulo LEVELS its brightness shows), in PTS order."""
    pictures: list[tuple[int, int]] = []
    with av.open(str(path)) as container:
        for packet in container.demux(container.streams.video[0]):
            for frame in packet.decode():
                assert frame.time is not None
                luma = frame.to_ndarray(format="yuv420p")[: FMT.height].mean()
                pictures.append((round(frame.time * FMT.fps), round((luma - 20) / 5) % LEVELS))
    return sorted(pictures)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_handovers_reach_an_srt_listener_as_one_stream_without_a_missing_frame(
    ffmpeg_binary: FfmpegBinary, tmp_path: Path
) -> None:
    frames = FrameQueue(4, restart_capacity=2 * FMT.fps)
    table = FanoutTable()
    events = EventLog()
    link = Link("outputs/srt-contrib", events=events)
    with SrtListener(tmp_path) as listener, _Mixer(frames):
        root = _program(frames, table, ffmpeg_binary)
        destination = SrtDestination(id="contrib", platform="srt", url=listener.url)
        ref = SrtDestinationActor.start(link, destination, table.attach("contrib"),
                                        ffmpeg_binary)  # fmt: skip
        try:
            assert events.wait_state("live", 20), events.of("event.destination")
            _wait(lambda: listener.received_bytes() > 300_000, 20, "the listener to receive")
            encoder = root.handle.child("encoder").proxy()

            def handovers() -> int:
                done: int = encoder.status().get(timeout=5)["handovers"]
                return done

            for count, kbps in enumerate((1500, 900, 500), start=1):
                encoder.reconfigure(EncodeOverrides(bitrate_kbps=kbps)).get(timeout=10)
                _wait(lambda: handovers() >= count, 10, f"handover {count}")  # noqa: B023
                time.sleep(1.0)
            time.sleep(1.5)  # the last run's first second on its way
            status = ref.proxy().status().get(timeout=5)
        finally:
            ref.stop(timeout=10)
            root.stop()
    assert status["state"] == "live" and status["attempt"] == 0, status  # never reconnected
    assert table.stats()["contrib"].resyncs == 0
    pictures = _received(listener.recording())
    judged = pictures[: len(pictures) - TAIL_FRAMES]
    assert len(judged) > 4 * FMT.fps, listener.log()
    steps = [(b[0] - a[0], a[0]) for a, b in itertools.pairwise(judged)]
    missing = [(at, step - 1) for step, at in steps if step != 1]
    assert missing == [], f"(frame, frames missing after it) at the seams: {missing}"
    shift = {(number - shown) % LEVELS for number, shown in judged}
    assert len(shift) == 1, f"frames out of place: {len(shift)} different offsets"


def _run_ts(binary: FfmpegBinary, first_frame: int, frames: int, audio_extra: float) -> bytes:
    """One encoder run's MPEG-TS as the encoder makes it (H.264 and AAC, frame ``n`` of the
    program at ``1 + n / fps`` s), whose audio goes on ``audio_extra`` s past its last video
    frame, as a drained run's tail does."""
    seconds = frames / FMT.fps
    argv = [
        binary.path, "-hide_banner", "-loglevel", "error",
        "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={FMT.fps}:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=r=48000:d={seconds + audio_extra}",
        "-c:v", "libx264", "-preset", "veryfast", "-g", str(FMT.fps), "-c:a", "aac",
        "-output_ts_offset", f"{1 + first_frame / FMT.fps:.6f}",
        "-f", "mpegts", "-muxdelay", "0", "-muxpreload", "0", "pipe:1",
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, check=True, timeout=60).stdout


@pytest.mark.timeout(60)
def test_a_seam_whose_audio_overlaps_by_more_than_a_tenth_of_a_second_keeps_its_timestamps(
    ffmpeg_binary: FfmpegBinary, tmp_path: Path
) -> None:
    """Measured in chaos scenario 13: the drained run's audio ran up to 0.18 s past the next
    run's start; ffmpeg then shifted the whole stream by that much (a video jump)."""
    program = _run_ts(ffmpeg_binary, 0, 90, 0.15) + _run_ts(ffmpeg_binary, 90, 90, 0.0)
    with SrtListener(tmp_path) as listener:
        argv = copy_argv(ffmpeg_binary.path, srt_output(listener.url, None))
        publisher = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            assert publisher.stdin is not None
            step = len(program) // 60  # about real time: 6 s of program in 3 s
            for at in range(0, len(program), step):
                publisher.stdin.write(program[at : at + step])
                publisher.stdin.flush()
                time.sleep(0.05)
            publisher.stdin.close()
            assert publisher.wait(20) == 0
        finally:
            end_process(publisher, 3.0)
        _wait(lambda: listener.received_bytes() > 0, 5, "the recording")
        time.sleep(1.0)  # the listener writes what SRT still delivers
    with av.open(str(listener.recording())) as container:
        video = sorted(p.pts for p in container.demux(container.streams.video[0])
                       if p.pts is not None)  # fmt: skip
    assert len(video) >= 170, len(video)
    steps = [b - a for a, b in itertools.pairwise(video[:-TAIL_FRAMES])]  # the seam: frame 90
    frame = 90_000 // FMT.fps
    assert [s for s in steps if s != frame] == [], "the stream jumped at the seam"
    with av.open(str(listener.recording())) as container:
        audio = [p.dts for p in container.demux(container.streams.audio[0])
                 if p.dts is not None]  # fmt: skip
    assert all(b > a for a, b in itertools.pairwise(audio)), "audio went back in time"
