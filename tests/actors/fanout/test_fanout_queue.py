"""Destination queues: drop-oldest, resync at a keyframe with PAT/PMT first, and isolation."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from test_ts_parse import make_ts

from vistter.actors.fanout.table import (
    MIN_CAPACITY_BYTES,
    DestinationQueue,
    FanoutTable,
)
from vistter.actors.fanout.ts import (
    PACKET_SIZE,
    PAT_PID,
    TsBatch,
    TsScanner,
    packet_pid,
    random_access,
)
from vistter.errors import ConfigError

CHUNK = 16 * 1024


@pytest.fixture(scope="module")
def stream_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 s of 320x240 H.264 at ~1 Mbit/s with a keyframe every second, and AAC."""
    from chaos.realparts import ffmpeg_exe

    path = tmp_path_factory.mktemp("fanout") / "ten-seconds.ts"
    return make_ts(ffmpeg_exe(), path, seconds=10, gop=30, bitrate="1000k")


def batches(data: bytes, chunk: int = CHUNK) -> Iterator[TsBatch]:
    """What the fanout would hand on for ``data`` read in ``chunk``-byte pieces."""
    scanner = TsScanner()
    for at in range(0, len(data), chunk):
        batch = scanner.feed(data[at : at + chunk])
        if batch is not None:
            yield batch


def drain(queue: DestinationQueue) -> bytes:
    out = bytearray()
    while (part := queue.get(0)) is not None:
        out += part
    return bytes(out)


def frame_hashes(path: Path) -> list[tuple[int, bool, str]]:
    """(pts, keyframe, hash of the picture) of every decodable video frame, tolerantly."""
    frames: list[tuple[int, bool, str]] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        try:
            for packet in container.demux(stream):
                for frame in packet.decode():
                    assert frame.pts is not None
                    picture = frame.to_ndarray(format="yuv420p").tobytes()
                    frames.append(
                        (frame.pts, frame.key_frame, hashlib.md5(picture).hexdigest())
                    )
        except av.error.InvalidDataError:
            pass
    return frames


def test_a_new_queue_starts_at_a_keyframe_with_pat_and_pmt_first(stream_file: Path) -> None:
    data = stream_file.read_bytes()
    queue = DestinationQueue("youtube")
    items = list(batches(data))
    # Join in the middle of the first GOP: the queue skips to the second keyframe.
    first_keyframe = next(b for b in items if b.keyframes)
    index = items.index(first_keyframe)
    for batch in items[index + 1 :]:
        queue.put(batch)
    out = drain(queue)

    resumed_on = next(b for b in items[index + 1 :] if b.keyframes)
    start = resumed_on.keyframes[0]
    assert out[: 2 * PACKET_SIZE] == resumed_on.psi  # the PAT and PMT, as of that keyframe
    assert packet_pid(out) == PAT_PID
    assert random_access(out, 2 * PACKET_SIZE)
    assert out[2 * PACKET_SIZE : 2 * PACKET_SIZE + len(resumed_on.data) - start] == (
        resumed_on.data[start:]
    )
    stats = queue.stats()
    assert stats.skipped_bytes > 0
    assert stats.dropped_bytes == 0
    assert stats.resyncs == 0
    assert stats.bytes_out == len(out)
    assert not stats.waiting_for_keyframe


def test_overflow_drops_the_backlog_and_resumes_cleanly_at_a_keyframe(
    stream_file: Path, tmp_path: Path
) -> None:
    data = stream_file.read_bytes()
    original = {pts: (key, digest) for pts, key, digest in frame_hashes(stream_file)}
    capacity = 256 * 1024
    queue = DestinationQueue("stuck-for-a-while", capacity)
    received = bytearray()
    resumed_at: int | None = None
    fed = 0
    for batch in batches(data):
        queue.put(batch)
        fed += len(batch.data)
        stuck = len(data) // 3 <= fed and queue.stats().overflows == 0
        if stuck:
            continue  # the destination stops taking data until its queue overflows
        if resumed_at is None and queue.stats().overflows:
            resumed_at = len(received)
        received += drain(queue)
    assert resumed_at is not None, "the queue never overflowed"

    stats = queue.stats()
    assert stats.overflows == 1
    assert stats.resyncs == 1
    assert stats.dropped_bytes >= capacity - CHUNK
    assert stats.queued_bytes == 0
    assert stats.bytes_out == len(received)

    # What came after the drop: PAT, PMT, then the first packet of a keyframe.
    after = bytes(received[resumed_at:])
    assert packet_pid(after) == PAT_PID
    assert random_access(after, 2 * PACKET_SIZE)

    # The file a destination would have written decodes; from the resume point on every
    # picture is exactly the original one, starting with a keyframe.
    path = tmp_path / "received.ts"
    path.write_bytes(received)
    resumed_file = tmp_path / "after.ts"
    resumed_file.write_bytes(after)
    after_frames = frame_hashes(resumed_file)
    assert after_frames, "nothing decodable after the resync"
    assert after_frames[0][1], "the first picture after the resync is not a keyframe"
    assert original[after_frames[0][0]][0]
    for pts, _, digest in after_frames:
        assert original[pts][1] == digest, f"picture at pts {pts} differs from the original"
    whole = frame_hashes(path)
    resume_pts = after_frames[0][0]
    assert [f for f in whole if f[0] >= resume_pts] == after_frames
    before = [f for f in whole if f[0] < resume_pts]
    assert len(before) > 60  # the first third (over 3 s) came through too
    expected_after = [pts for pts in sorted(original) if pts >= resume_pts]
    assert [pts for pts, _, _ in sorted(after_frames)] == expected_after


def test_a_stuck_destination_does_not_slow_the_others(stream_file: Path) -> None:
    data = stream_file.read_bytes()
    items = list(batches(data)) * 5  # ~6 MB through the table
    table = FanoutTable()
    stuck = table.attach("stuck", MIN_CAPACITY_BYTES * 4)  # nobody ever calls get()
    live = table.attach("live")
    received = bytearray()
    done = threading.Event()

    def consume() -> None:
        while not done.is_set() or live.queued_bytes:
            part = live.get(0.05)
            if part is not None:
                received.extend(part)

    consumer = threading.Thread(target=consume, name="test-live-destination", daemon=True)
    consumer.start()
    started = time.monotonic()
    for batch in items:
        table.publish(batch)
    publish_seconds = time.monotonic() - started
    done.set()
    consumer.join(10)
    assert not consumer.is_alive()

    assert publish_seconds < 2.0, f"publishing took {publish_seconds:.2f} s"
    total = sum(len(batch.data) for batch in items)
    first_key = items[0].keyframes[0]
    live_stats = live.stats()
    assert live_stats.dropped_bytes == 0
    assert live_stats.resyncs == 0
    assert bytes(received) == items[0].psi + b"".join(b.data for b in items)[first_key:]
    stuck_stats = stuck.stats()
    assert stuck_stats.bytes_in == total
    assert stuck_stats.bytes_out == 0
    assert stuck_stats.overflows >= 3
    assert stuck_stats.dropped_bytes > total // 2
    assert stuck_stats.queued_bytes <= stuck.capacity_bytes


def test_get_returns_whole_packets_up_to_the_chunk_limit(stream_file: Path) -> None:
    data = stream_file.read_bytes()[: 2 * 1024 * 1024]
    queue = DestinationQueue("d", max_chunk_bytes=10_000)
    for batch in batches(data, 200_000):  # batches far larger than one get
        queue.put(batch)
    sizes = []
    while (part := queue.get(0)) is not None:
        assert len(part) % PACKET_SIZE == 0
        assert part[0] == 0x47
        sizes.append(len(part))
    assert max(sizes) <= 10_000 - 10_000 % PACKET_SIZE
    assert len(sizes) > 10


def test_get_times_out_and_close_wakes_a_waiting_reader() -> None:
    queue = DestinationQueue("d")
    started = time.monotonic()
    assert queue.get(0.1) is None
    assert time.monotonic() - started >= 0.09
    result: list[bytes | None] = []
    reader = threading.Thread(target=lambda: result.append(queue.get(30)), daemon=True)
    reader.start()
    time.sleep(0.05)  # let the reader block; close must wake it long before 30 s
    queue.close()
    reader.join(5)
    assert not reader.is_alive()
    assert result == [None]
    assert queue.closed


def test_resync_drops_the_backlog_and_waits_for_the_next_keyframe(stream_file: Path) -> None:
    data = stream_file.read_bytes()
    items = list(batches(data))
    queue = DestinationQueue("d")
    for batch in items[:40]:
        queue.put(batch)
    assert queue.queued_bytes > 0
    backlog = queue.queued_bytes
    queue.resync()
    assert queue.queued_bytes == 0
    assert queue.waiting_for_keyframe
    assert queue.resyncs == 1
    assert queue.dropped_bytes == backlog
    for batch in items[40:]:
        queue.put(batch)
    out = drain(queue)
    assert packet_pid(out) == PAT_PID
    assert random_access(out, 2 * PACKET_SIZE)


def test_a_discontinuity_keeps_the_backlog(stream_file: Path) -> None:
    items = list(batches(stream_file.read_bytes()))
    queue = DestinationQueue("d")
    for batch in items[:40]:
        queue.put(batch)
    backlog = queue.queued_bytes
    queue.mark_discontinuity()
    assert queue.queued_bytes == backlog
    batch_without_keyframe = next(b for b in items[40:] if not b.keyframes)
    queue.put(batch_without_keyframe)
    assert queue.queued_bytes == backlog  # waiting: nothing new until a keyframe
    assert queue.dropped_bytes == len(batch_without_keyframe.data)


def test_table_attach_detach_and_reattach() -> None:
    table = FanoutTable()
    first = table.attach("twitch")
    assert table.attach("twitch") is first  # a restarted destination finds its queue
    assert [q.destination_id for q in table.queues()] == ["twitch"]
    assert set(table.stats()) == {"twitch"}
    table.detach("twitch")
    assert first.closed
    assert table.queues() == []
    assert table.get("twitch") is None
    table.detach("twitch")  # no-op
    assert table.attach("twitch") is not first


def test_too_small_a_queue_is_refused_with_a_hint() -> None:
    with pytest.raises(ConfigError, match="at least"):
        DestinationQueue("tiny", 1000)
