"""The encoder -> fanout pipe: bounded by bytes, drop-oldest, flags every discontinuity."""

from __future__ import annotations

import threading
import time

import pytest

from vistter.actors.encoder.ts_pipe import TsChunk, TsPipe


def drain(pipe: TsPipe) -> list[TsChunk]:
    chunks = []
    while (chunk := pipe.get(0)) is not None:
        chunks.append(chunk)
    return chunks


def test_chunks_come_out_in_order() -> None:
    pipe = TsPipe(1000)
    for i in range(5):
        pipe.put(bytes([i]) * 10)
    assert [c.data for c in drain(pipe)] == [bytes([i]) * 10 for i in range(5)]
    stats = pipe.stats()
    assert (stats.chunks_in, stats.bytes_in, stats.dropped_bytes, stats.queued_bytes) == (
        5, 50, 0, 0
    )


def test_overflow_drops_the_oldest_and_flags_the_gap() -> None:
    pipe = TsPipe(100)
    for i in range(6):
        pipe.put(bytes([i]) * 30)  # room for three
    chunks = drain(pipe)
    assert [c.data[0] for c in chunks] == [3, 4, 5]
    assert [c.discontinuity for c in chunks] == [True, False, False]
    stats = pipe.stats()
    assert stats.dropped_chunks == 3
    assert stats.dropped_bytes == 90


def test_a_chunk_after_everything_was_dropped_is_flagged() -> None:
    pipe = TsPipe(100)
    pipe.put(b"a" * 60)
    pipe.put(b"b" * 90)  # does not fit with the first: the first goes
    assert drain(pipe) == [TsChunk(b"b" * 90, True)]


def test_begin_stream_flags_the_first_chunk_of_a_new_encoder() -> None:
    pipe = TsPipe()
    pipe.put(b"old")
    pipe.begin_stream()
    pipe.put(b"new1")
    pipe.put(b"new2")
    assert drain(pipe) == [
        TsChunk(b"old", False),
        TsChunk(b"new1", True),
        TsChunk(b"new2", False),
    ]
    assert pipe.stats().streams == 1


def test_clear_counts_and_flags() -> None:
    pipe = TsPipe()
    pipe.put(b"x" * 10)
    pipe.clear()
    pipe.put(b"y")
    assert drain(pipe) == [TsChunk(b"y", True)]
    assert pipe.stats().dropped_bytes == 10


def test_put_never_blocks_and_get_waits_with_a_timeout() -> None:
    pipe = TsPipe(10_000)
    started = time.monotonic()
    for _ in range(10_000):
        pipe.put(b"z" * 188)
    assert time.monotonic() - started < 2.0
    assert pipe.stats().queued_bytes <= 10_000
    drain(pipe)
    started = time.monotonic()
    assert pipe.get(0.1) is None
    assert time.monotonic() - started >= 0.09

    got: list[TsChunk | None] = []
    reader = threading.Thread(target=lambda: got.append(pipe.get(10)), daemon=True)
    reader.start()
    pipe.put(b"late")
    reader.join(5)
    assert got == [TsChunk(b"late", False)]


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity"):
        TsPipe(0)
