"""The hand-over of the encoded MPEG-TS stream from the encoder to the fanout.

The encoder's reader thread must never wait for the fanout, or ffmpeg's stdout fills up
and the encode stalls. A :class:`TsPipe` holds chunks up to a byte budget; when a chunk
does not fit, the oldest chunks are dropped and counted, and the next chunk the fanout
gets is flagged as following a gap, so that it re-aligns and every destination resumes at
the next keyframe. The pipe outlives both actors: the encoder marks where each of its runs
begins with :meth:`TsPipe.begin_stream`, naming the program frame the run starts at (its
first keyframe); the fanout hands that on, so a destination can wait for a given run.

A run whose predecessor is still draining (a planned handover) also sends its output
*ahead* (:meth:`TsPipe.put_ahead`): interleaved with the old run's tail, for the queues that
wait for that very run (platforms gated on the show's first frame, which never took the
old run) and so need not wait for the tail. When the old run has ended, the same bytes come
again in their turn, flagged ``replay`` (the queues that took them ahead skip them).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, replace

DEFAULT_CAPACITY_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class TsChunk:
    """Bytes of the encoder's stream, as read from its stdout (cut anywhere).

    ``discontinuity`` is True when these bytes do not continue the previous chunk: the
    first chunk of a new encoder run, or the first after chunks were dropped.
    ``first_frame`` is set on the first chunk of a run: the program frame it starts at.

    ``ahead``: bytes of the run starting at ``first_frame`` sent before their turn (see the
    module doc); these form a stream of their own, whose ``discontinuity`` says that it
    starts or follows a gap. ``replay``: bytes already sent ahead, now in their turn.
    """

    data: bytes
    discontinuity: bool = False
    first_frame: int | None = None
    ahead: bool = False
    replay: bool = False


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
        self._first_frame: int | None = None
        self._ahead_gap = False
        self._ahead_run: int | None = None

    def begin_stream(self, first_frame: int | None = None) -> None:
        """Mark that the next chunk starts a new stream (a new encoder run), whose first
        frame is program frame ``first_frame`` (None: not known).

        Called by the encoder's reader thread right before the run's first bytes.
        """
        with self._cond:
            self._gap = True
            self._first_frame = first_frame
            self._streams += 1

    def put(self, data: bytes, *, replay: bool = False) -> None:
        """Append a chunk of the stream in its turn (``replay``: bytes that went ahead
        before); drop the oldest chunks when it does not fit. Never blocks."""
        self._append(data, None, replay=replay)

    def put_ahead(self, first_frame: int, data: bytes) -> None:
        """Send bytes of the run starting at program frame ``first_frame`` ahead of their
        turn (the run before it still drains). The encoder's reader thread; never blocks."""
        self._append(data, first_frame, replay=False)

    def _append(self, data: bytes, ahead: int | None, *, replay: bool) -> None:
        if not data:
            return
        with self._cond:
            self._chunks_in += 1
            self._bytes_in += len(data)
            self._make_room(len(data))
            if ahead is not None:
                gap = self._ahead_gap or ahead != self._ahead_run
                chunk = TsChunk(data, gap, ahead, ahead=True)
                self._ahead_gap, self._ahead_run = False, ahead
            else:
                chunk = TsChunk(data, self._gap, self._first_frame, replay=replay)
                self._gap, self._first_frame = False, None
            self._chunks.append(chunk)
            self._queued += len(data)
            self._cond.notify()

    def _make_room(self, size: int) -> None:
        """Drop the oldest chunks until ``size`` bytes fit; flag what follows a hole in
        each stream (in turn, ahead). Lock held."""
        dropped_main = dropped_ahead = False
        first_frame = None  # a run's start dropped with its chunk still names the run
        while self._chunks and self._queued + size > self.capacity_bytes:
            oldest = self._chunks.popleft()
            self._queued -= len(oldest.data)
            self._dropped_chunks += 1
            self._dropped_bytes += len(oldest.data)
            if oldest.ahead:
                dropped_ahead = True
                continue
            dropped_main = True
            first_frame = oldest.first_frame if oldest.first_frame is not None else first_frame
        if dropped_main:
            at = next((i for i, c in enumerate(self._chunks) if not c.ahead), None)
            if at is not None:  # what is left now follows a hole
                head = self._chunks[at]
                named = head.first_frame if head.first_frame is not None else first_frame
                self._chunks[at] = replace(head, discontinuity=True, first_frame=named)
            else:  # nothing left: the next chunk follows the hole
                self._gap = True
                if self._first_frame is None:
                    self._first_frame = first_frame
        if dropped_ahead:
            at = next((i for i, c in enumerate(self._chunks) if c.ahead), None)
            if at is not None:
                self._chunks[at] = replace(self._chunks[at], discontinuity=True)
            else:
                self._ahead_gap = True

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
            self._ahead_gap = True

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
