"""The hand-over of the encoded MPEG-TS stream from the encoder to the fanout.

The encoder's reader thread must never wait for the fanout, or ffmpeg's stdout fills up
and the encode stalls. A :class:`TsPipe` holds chunks up to a byte budget; when a chunk
does not fit, the oldest chunks are dropped and counted, and the next chunk the fanout
gets is flagged as following a gap, so that it re-aligns and every destination resumes at
the next keyframe. The pipe outlives both actors: the encoder marks where each of its
incarnations begins with :meth:`TsPipe.begin_stream`.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

DEFAULT_CAPACITY_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class TsChunk:
    """Bytes of the encoder's stream, as read from its stdout (cut anywhere).

    ``discontinuity`` is True when these bytes do not continue the previous chunk: the
    first chunk of a new encoder incarnation, or the first after chunks were dropped.
    """

    data: bytes
    discontinuity: bool = False


@dataclass(frozen=True, slots=True)
class TsPipeStats:
    queued_bytes: int
    chunks_in: int
    bytes_in: int
    dropped_chunks: int
    dropped_bytes: int
    streams: int

    def to_dict(self) -> dict[str, int]:
        return {
            "queued_bytes": self.queued_bytes,
            "chunks_in": self.chunks_in,
            "bytes_in": self.bytes_in,
            "dropped_chunks": self.dropped_chunks,
            "dropped_bytes": self.dropped_bytes,
            "streams": self.streams,
        }


class TsPipe:
    """Bounded (by bytes), drop-oldest queue of TS chunks. Thread-safe.

    The encoder's reader thread calls :meth:`put` (never blocks); the fanout's thread calls
    :meth:`get` (blocks up to a timeout). Both only hold a lock for a deque operation.
    """

    def __init__(self, capacity_bytes: int = DEFAULT_CAPACITY_BYTES) -> None:
        if capacity_bytes < 1:
            raise ValueError("a TS pipe needs a capacity of at least one byte")
        self.capacity_bytes = capacity_bytes
        self._chunks: deque[TsChunk] = deque()
        self._cond = threading.Condition()
        self._queued = 0
        self._gap = False
        self._chunks_in = 0
        self._bytes_in = 0
        self._dropped_chunks = 0
        self._dropped_bytes = 0
        self._streams = 0

    def begin_stream(self) -> None:
        """Mark that the next chunk starts a new stream (a new encoder process).

        Called by the encoder actor in its ``setup``, before its ffmpeg writes anything.
        """
        with self._cond:
            self._gap = True
            self._streams += 1

    def put(self, data: bytes) -> None:
        """Append a chunk; drop the oldest chunks when it does not fit. Never blocks."""
        if not data:
            return
        with self._cond:
            self._chunks_in += 1
            self._bytes_in += len(data)
            dropped = False
            while self._chunks and self._queued + len(data) > self.capacity_bytes:
                oldest = self._chunks.popleft()
                self._queued -= len(oldest.data)
                self._dropped_chunks += 1
                self._dropped_bytes += len(oldest.data)
                dropped = True
            if dropped:
                if self._chunks:  # what is left now follows a hole
                    head = self._chunks[0]
                    self._chunks[0] = TsChunk(head.data, True)
                else:  # nothing left: the new chunk follows the hole
                    self._gap = True
            self._chunks.append(TsChunk(data, self._gap))
            self._gap = False
            self._queued += len(data)
            self._cond.notify()

    def get(self, timeout: float) -> TsChunk | None:
        """The oldest chunk, or None after ``timeout`` seconds (real time) without one."""
        with self._cond:
            if not self._chunks:
                self._cond.wait(timeout)
            if not self._chunks:
                return None
            chunk = self._chunks.popleft()
            self._queued -= len(chunk.data)
            return chunk

    def clear(self) -> None:
        """Drop everything queued (counted); the next chunk is flagged as a discontinuity."""
        with self._cond:
            for chunk in self._chunks:
                self._dropped_chunks += 1
                self._dropped_bytes += len(chunk.data)
            self._chunks.clear()
            self._queued = 0
            self._gap = True

    def stats(self) -> TsPipeStats:
        with self._cond:
            return TsPipeStats(
                self._queued,
                self._chunks_in,
                self._bytes_in,
                self._dropped_chunks,
                self._dropped_bytes,
                self._streams,
            )

    def __len__(self) -> int:
        with self._cond:
            return len(self._chunks)
