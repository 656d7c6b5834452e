"""Frames, plane views, pipe reading and the latest-frame slot."""

from __future__ import annotations

import io
import os
import threading

import numpy as np
import pytest

from vistter.clock import FakeClock, MonotonicClock
from vistter.errors import ConfigError
from vistter.media.frames import (
    FrameFormat,
    FrameSlot,
    SlotFrame,
    black_frame,
    new_frame,
    planes,
    read_frame_into,
    solid_frame,
)

SMALL = FrameFormat(64, 36, 30)


def test_frame_format_sizes() -> None:
    fmt = FrameFormat(1920, 1080, 30)
    assert fmt.frame_bytes == 1920 * 1080 * 3 // 2 == 3_110_400
    assert fmt.y_bytes == 2_073_600
    assert fmt.chroma_bytes == 518_400
    assert (fmt.chroma_width, fmt.chroma_height) == (960, 540)
    assert fmt.size == "1920x1080"
    assert fmt.frame_duration == pytest.approx(1 / 30)


@pytest.mark.parametrize(("width", "height", "fps"), [(641, 360, 30), (640, 0, 30), (640, 361, 30)])
def test_frame_format_rejects_odd_or_empty_sizes(width: int, height: int, fps: int) -> None:
    with pytest.raises(ConfigError, match="even") as caught:
        FrameFormat(width, height, fps)
    assert "1280x720" in caught.value.hint


def test_frame_format_rejects_bad_rate() -> None:
    with pytest.raises(ConfigError, match="frame rate"):
        FrameFormat(640, 360, 0)


def test_planes_are_views_in_yuv420p_order() -> None:
    frame = np.arange(SMALL.frame_bytes, dtype=np.uint32).astype(np.uint8)
    y, u, v = planes(frame, SMALL)
    assert y.shape == (36, 64)
    assert u.shape == v.shape == (18, 32)
    assert np.shares_memory(y, frame)
    assert np.shares_memory(u, frame)
    assert np.shares_memory(v, frame)
    u[0, 0] = 7
    assert frame[SMALL.y_bytes] == 7
    v[-1, -1] = 9
    assert frame[-1] == 9
    y[1, 0] = 5
    assert frame[64] == 5


def test_planes_rejects_wrong_size() -> None:
    with pytest.raises(ValueError, match="expected"):
        planes(np.zeros(10, dtype=np.uint8), SMALL)


def test_solid_and_black_frames() -> None:
    black = black_frame(SMALL)
    y, u, v = planes(black, SMALL)
    assert (y == 16).all()
    assert (u == 128).all()
    assert (v == 128).all()
    red = solid_frame(SMALL, 81, 90, 240)
    y, u, v = planes(red, SMALL)
    assert (y == 81).all()
    assert (u == 90).all()
    assert (v == 240).all()
    with pytest.raises(ValueError, match="outside"):
        solid_frame(SMALL, 300, 0, 0)


class _Trickle(io.RawIOBase):
    """A stream that hands out at most ``chunk`` bytes per read, like a pipe under load."""

    def __init__(self, data: bytes, chunk: int) -> None:
        self._data = data
        self._pos = 0
        self._chunk = chunk
        self.reads = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        self.reads += 1
        count = min(self._chunk, len(buffer), len(self._data) - self._pos)
        buffer[:count] = self._data[self._pos : self._pos + count]
        self._pos += count
        return count


def test_read_frame_into_loops_over_short_reads() -> None:
    first = solid_frame(SMALL, 20, 30, 40).tobytes()
    second = solid_frame(SMALL, 50, 60, 70).tobytes()
    stream = _Trickle(first + second + second[:100], chunk=1000)
    buf = new_frame(SMALL)
    assert read_frame_into(stream, buf)
    assert buf.tobytes() == first
    assert read_frame_into(stream, buf)
    assert buf.tobytes() == second
    assert stream.reads >= 2 * SMALL.frame_bytes // 1000
    assert not read_frame_into(stream, buf), "a truncated last frame is not a frame"
    assert not read_frame_into(stream, buf)


@pytest.mark.timeout(20)
def test_read_frame_into_from_a_real_pipe() -> None:
    frames = [solid_frame(SMALL, 16 + i, 128, 128 - i).tobytes() for i in range(5)]
    read_fd, write_fd = os.pipe()

    def writer() -> None:
        with os.fdopen(write_fd, "wb", buffering=0) as pipe:
            for data in frames:
                for start in range(0, len(data), 777):
                    pipe.write(data[start : start + 777])

    thread = threading.Thread(target=writer, name="test-pipe-writer")
    thread.start()
    got: list[bytes] = []
    with os.fdopen(read_fd, "rb", buffering=0) as pipe:
        buf = new_frame(SMALL)
        while read_frame_into(pipe, buf):
            got.append(buf.tobytes())
    thread.join(10)
    assert not thread.is_alive()
    assert got == frames


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(start=500.0)


def test_slot_latest_seq_and_age(fake_clock: FakeClock) -> None:
    slot = FrameSlot(SMALL, fake_clock)
    assert slot.latest() is None
    assert slot.age(fake_clock.monotonic()) is None
    first = black_frame(SMALL)
    assert slot.publish(first) == 1
    fake_clock.advance(0.25)
    assert slot.publish(solid_frame(SMALL, 100, 128, 128)) == 2
    fake_clock.advance(0.5)
    latest = slot.latest()
    assert latest is not None
    assert latest.seq == 2
    assert latest.arrived == 500.25
    assert latest.frame[0] == 100
    assert slot.age(fake_clock.monotonic()) == pytest.approx(0.5)


def test_slot_makes_published_frames_read_only(fake_clock: FakeClock) -> None:
    slot = FrameSlot(SMALL, fake_clock)
    frame = black_frame(SMALL)
    slot.publish(frame)
    with pytest.raises(ValueError, match="read-only"):
        frame[0] = 1
    with pytest.raises(ValueError, match="does not fit"):
        slot.publish(np.zeros(10, dtype=np.uint8))


@pytest.mark.timeout(20)
def test_wait_newer_returns_when_a_frame_arrives() -> None:
    slot = FrameSlot(SMALL, MonotonicClock())
    slot.publish(black_frame(SMALL))
    waiting = threading.Event()
    result: list[SlotFrame | None] = []

    def mixer() -> None:
        waiting.set()
        result.append(slot.wait_newer(1, timeout=10.0))

    thread = threading.Thread(target=mixer, name="test-mixer")
    thread.start()
    assert waiting.wait(5)
    slot.publish(solid_frame(SMALL, 200, 128, 128))
    thread.join(10)
    assert not thread.is_alive()
    assert result[0] is not None
    assert result[0].seq == 2
    assert result[0].frame[0] == 200
    # Something newer than 0 is already there: no wait at all.
    immediate = slot.wait_newer(0, timeout=0.0)
    assert immediate is not None
    assert immediate.seq == 2


@pytest.mark.timeout(20)
def test_wait_newer_times_out_on_the_injected_clock(fake_clock: FakeClock) -> None:
    slot = FrameSlot(SMALL, fake_clock)
    done = threading.Event()
    result: list[SlotFrame | None] = []

    def mixer() -> None:
        result.append(slot.wait_newer(0, timeout=2.0))
        done.set()

    thread = threading.Thread(target=mixer, name="test-mixer")
    thread.start()
    assert not done.wait(0.1), "must wait for fake time, not real time"
    fake_clock.advance(2.0)
    assert done.wait(5)
    thread.join(5)
    assert result == [None]


@pytest.mark.timeout(20)
def test_close_wakes_waiters(fake_clock: FakeClock) -> None:
    slot = FrameSlot(SMALL, fake_clock)
    done = threading.Event()
    result: list[SlotFrame | None] = []

    def mixer() -> None:
        result.append(slot.wait_newer(0, timeout=60.0))
        done.set()

    thread = threading.Thread(target=mixer, name="test-mixer")
    thread.start()
    slot.close()
    assert done.wait(5)
    thread.join(5)
    assert result == [None]
    assert slot.closed


@pytest.mark.timeout(60)
def test_slot_concurrent_writer_and_reader_never_torn() -> None:
    slot = FrameSlot(SMALL, MonotonicClock())
    total = 3000
    stop = threading.Event()
    errors: list[BaseException] = []

    def reader_thread() -> None:
        # The camera reader: a fresh buffer per frame, every byte tagged with its sequence.
        try:
            for seq in range(1, total + 1):
                frame = new_frame(SMALL)
                frame.fill(seq % 256)
                assert slot.publish(frame) == seq
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            stop.set()

    writer = threading.Thread(target=reader_thread, name="test-camera-reader")
    writer.start()
    last_seq = 0
    observations = 0
    while not stop.is_set() or observations == 0:
        got = slot.latest()
        if got is None:
            continue
        observations += 1
        assert got.seq >= last_seq, "sequence numbers never go backwards"
        last_seq = got.seq
        value = got.seq % 256
        assert got.frame[0] == value
        assert got.frame[-1] == value
        assert (got.frame == value).all(), "a frame is never torn"
    writer.join(10)
    assert not writer.is_alive()
    assert errors == []
    final = slot.latest()
    assert final is not None
    assert final.seq == total
    assert observations > 0
