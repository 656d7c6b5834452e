"""The clean cut of an encode's output, and the frame queue across an encoder restart.

The cut is checked on a real x264 stream with B-frames (frames come out of order), fed in
odd-sized chunks: whatever it has released at any moment decodes to exactly the first
``complete`` frames, whole, none missing; the frame queue with fakes: frames taken and not
confirmed come back for the next encoder, frames made while none takes them are kept."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from chaos.realparts import ffmpeg_exe
from vistter.actors.encoder.cut import OutputCut
from vistter.actors.program.frame_queue import FrameQueue, ProgramFrame

FPS = 30
FRAMES = 120
OFFSET = 1.0  # -output_ts_offset: frame 0 at 90 000


@pytest.fixture(scope="module")
def bframes_ts(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("cut") / "bframes.ts"
    subprocess.run(
        [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
            "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={FPS}",
            "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo",
            "-frames:v", str(FRAMES), "-map", "0:v", "-map", "1:a", "-shortest",
            "-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-g", "60",
            "-c:a", "aac", "-output_ts_offset", f"{OFFSET}", "-f", "mpegts",
            "-muxdelay", "0", "-muxpreload", "0", "-y", str(path),
        ],
        check=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    return path.read_bytes()


def decoded_indices(data: bytes, path: Path) -> list[int]:
    path.write_bytes(data)
    with av.open(str(path)) as container:
        return sorted(
            round((frame.time - OFFSET) * FPS)
            for frame in container.decode(video=0)
            if frame.time is not None
        )


def test_what_is_released_is_always_the_first_frames_whole(
    bframes_ts: bytes, tmp_path: Path
) -> None:
    cut = OutputCut(round(OFFSET * 90_000), FPS)
    chunks = random.Random(7)
    released = bytearray()
    at, checks = 0, 0
    while at < len(bframes_ts):
        size = chunks.randrange(100, 20_000)
        released += cut.feed(bframes_ts[at : at + size])
        at += size
        if cut.complete > 0 and chunks.random() < 0.15:  # as if ffmpeg died right here
            got = decoded_indices(bytes(released), tmp_path / f"at-{at}.ts")
            assert got == list(range(cut.complete)), f"released {got[-5:]} at byte {at}"
            checks += 1
    assert checks >= 3
    assert 0 < len(released) < len(bframes_ts)  # the tail is held until the end
    released += cut.finish()
    assert bytes(released) == bframes_ts  # a clean end passes every byte on
    assert cut.complete == FRAMES
    assert decoded_indices(bytes(released), tmp_path / "all.ts") == list(range(FRAMES))


def test_a_dead_encode_throws_away_only_the_unfinished_tail(bframes_ts: bytes) -> None:
    cut = OutputCut(round(OFFSET * 90_000), FPS)
    half = len(bframes_ts) // 2 // 188 * 188  # a whole number of packets
    released = cut.feed(bframes_ts[:half])
    held = cut.held_bytes
    assert 0 < held < 200_000
    assert cut.discard() == held and cut.held_bytes == 0
    assert len(released) + held == half
    assert 0 < cut.complete < FRAMES


def frame(index: int) -> ProgramFrame:
    return ProgramFrame(index, np.zeros(8, dtype=np.uint8))


def test_the_next_encoder_gets_every_frame_the_dead_one_did_not_deliver() -> None:
    queue = FrameQueue(4, restart_capacity=60)
    queue.rewind()  # the first encoder starts: it confirms what it delivers
    queue.release()
    for index in range(10):
        queue.put(frame(index))
        taken = queue.get(0)
        assert taken is not None and taken.index == index
    queue.confirm(5)  # frames 0..5 are encoded and passed on; 6..9 died inside ffmpeg
    queue.hold()  # the encoder's ffmpeg died: frames made now are kept
    for index in range(10, 40):
        queue.put(frame(index))
    assert len(queue) == 30 and queue.dropped == 0  # not the normal 4
    assert queue.rewind() == 4  # the next encoder: 6..9 go back in front
    assert queue.next_index() == 6
    queue.release()  # its ffmpeg produces output
    got = [queue.get(0) for _ in range(34)]
    assert [f.index for f in got if f is not None] == list(range(6, 40))
    for index in range(40, 50):  # caught up: back to the normal bound
        queue.put(frame(index))
    assert len(queue) == 4 and queue.dropped == 6


def test_a_backlog_never_caught_up_is_dropped_to_the_normal_bound() -> None:
    queue = FrameQueue(4, restart_capacity=60, catch_up_seconds=0.0)
    queue.rewind()
    for index in range(30):
        queue.put(frame(index))
    assert len(queue) == 30
    queue.release()
    queue.put(frame(30))  # the encoder did not catch up in time: the few frames again
    assert len(queue) == 4 and queue.dropped == 27


def test_a_queue_without_an_encoder_that_confirms_remembers_nothing() -> None:
    queue = FrameQueue(2)  # e.g. a test consumer or the render: no rewind, no confirm
    for index in range(5):
        queue.put(frame(index))
        queue.get(0)
    assert queue.rewind() == 0
